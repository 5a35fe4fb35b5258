"""The model in `moai statusline`, shown once: real payloads through the installed `moai`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.claude_code.test_claude_code_hooks import statusline
from tests.gitrepo import save_fake_key
from tests.worktree_support import created


def payload(cwd: Path, model_id: str | None, display_name: str | None) -> dict[str, Any]:
    model = {"id": model_id, "display_name": display_name}
    return {
        "model": {k: v for k, v in model.items() if v is not None},
        "cwd": str(cwd),
        "workspace": {"current_dir": str(cwd), "project_dir": str(cwd)},
    }


def test_a_display_name_that_is_the_backends_name_shows_the_id(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    """A gateway naming its model "GLM" made the line read "GLM · GLM · SPEC-…"."""
    save_fake_key(home)
    wt = created(repo, env, "SPEC-001")
    line = statusline(wt, env, payload(wt, "glm-4.7", "GLM"))
    assert line == "GLM · glm-4.7 · SPEC-001 · run/sync"
    assert statusline(wt, env, payload(wt, "glm-4.7[1m]", "glm")) == (
        "GLM · glm-4.7[1m] · SPEC-001 · run/sync"
    )
    # Nothing but the backend's name to show: said once.
    assert statusline(wt, env, payload(wt, None, "GLM")) == "GLM · SPEC-001 · run/sync"
    # On the wrong backend, the warning names the model by its id too.
    assert statusline(repo, env, payload(repo, "glm-4.7", "GLM")).startswith(
        "⚠ on glm-4.7, Claude here: /exit, then ANTHROPIC_MODEL=opus claude --continue"
    )
    assert statusline(home, env, payload(home, "glm-4.7", "GLM")) == "glm-4.7"  # no repository


def test_a_display_name_that_is_the_id_is_shown_once(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    save_fake_key(home)
    wt = created(repo, env, "SPEC-002")
    for model_id, name in (
        ("glm-4.7", "glm-4.7"),
        ("glm-4.7[1m]", "glm-4.7[1m]"),
        ("glm-4.7[1m]", "glm-4.7"),
    ):
        line = statusline(wt, env, payload(wt, model_id, name))
        assert line == f"GLM · {model_id} · SPEC-002 · run/sync", (model_id, name)
    # The `[1m]` aside on the name's side too: it says no more than the id.
    for name in ("glm-4.7[1m]", "glm-4.7 [1m]"):
        line = statusline(wt, env, payload(wt, "glm-4.7", name))
        assert line == "GLM · glm-4.7 · SPEC-002 · run/sync", name
    # A name that differs from the id (if only by case) is the name to show.
    assert statusline(wt, env, payload(wt, "glm-4.7", "GLM-4.7")) == (
        "GLM · GLM-4.7 · SPEC-002 · run/sync"
    )


def test_claude_and_unknown_models_keep_their_display_names(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    save_fake_key(home)
    sonnet = payload(repo, "claude-sonnet-4-5-20250929", "Sonnet 4.5")
    assert statusline(repo, env, sonnet) == "Claude · Sonnet 4.5 · main · plan"
    wide = payload(repo, "claude-sonnet-4-5-20250929[1m]", "Sonnet 4.5 (1M context)")
    assert statusline(repo, env, wide) == "Claude · Sonnet 4.5 (1M context) · main · plan"
    named_claude = payload(repo, "claude-opus-4-8", "Claude")
    assert statusline(repo, env, named_claude) == "Claude · claude-opus-4-8 · main · plan"
    unknown = payload(repo, "proxy-model-x", "proxy-model-x")
    assert statusline(repo, env, unknown) == "Claude · proxy-model-x · main · plan"
    assert statusline(repo, env, payload(repo, "proxy-model-x", None)) == (
        "Claude · proxy-model-x · main · plan"
    )
    assert statusline(repo, env, payload(repo, None, None)) == "Claude · ? · main · plan"
