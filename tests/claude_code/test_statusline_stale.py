"""`moai statusline` on a worktree whose settings are older than the team's files (a
merge or pull that ran no post-merge hook, an edit of llm.yaml without `moai apply`):
the line ends with `⚠ settings older than <file>: moai apply`, and only then. Real
settings written by `moai`, real files edited after; the installed `moai` as Claude
Code runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.claude_code.test_claude_code_hooks import statusline
from tests.gitrepo import GLM_JSON, LLM_LOCAL_YAML, SETTINGS, git, moai, save_fake_key, write
from tests.names_support import DS_KEY, DS_URL, save_backend_key, with_backends
from tests.worktree_support import created

OLD_URL = "https://api.z.ai/api/anthropic"
NEW_URL = "https://open.bigmodel.cn/api/anthropic"


def data(cwd: Path, model: str) -> dict[str, Any]:
    return {"model": {"id": model, "display_name": model}, "workspace": {"current_dir": str(cwd)}}


def _edit_env(path: Path, **changes: object) -> None:
    """Set (or, for None, remove) keys of the JSON file's `env` object."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            doc["env"].pop(key, None)
        else:
            doc["env"][key] = value
    write(path, json.dumps(doc, indent=2) + "\n")


def test_glm_settings_older_than_glm_json_are_marked_and_only_they(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    save_fake_key(home)
    wt = created(repo, env, "SPEC-OLD-1")
    fresh = "GLM · glm-4.7 · SPEC-OLD-1 · run/sync"
    assert statusline(wt, env, data(wt, "glm-4.7")) == fresh
    glm_json = wt / GLM_JSON
    seed = glm_json.read_text(encoding="utf-8")
    assert OLD_URL in seed

    # glm.json moved to another endpoint; the settings still name the old one.
    write(glm_json, seed.replace(OLD_URL, NEW_URL))
    assert statusline(wt, env, data(wt, "glm-4.7")) == (
        f"{fresh} · ⚠ settings older than glm.json: moai apply"
    )
    # Nothing to compare with: a glm.json that is gone, not JSON, or has no env object.
    for text in (None, "{not json\n", '{"env": ["ANTHROPIC_BASE_URL"]}\n', "[1]\n"):
        glm_json.unlink(missing_ok=True)
        if text is not None:
            write(glm_json, text)
        assert statusline(wt, env, data(wt, "glm-4.7")) == fresh, text

    # Settings that set no base URL are not on GLM at all: nothing older to say,
    # even with a model key that glm.json no longer gives.
    write(glm_json, seed.replace(OLD_URL, NEW_URL))
    _edit_env(wt / SETTINGS, ANTHROPIC_BASE_URL=None)
    assert statusline(wt, env, data(wt, "glm-4.7")) == fresh
    # Settings that are not JSON, or hold no env object: the same.
    for text in ("{not json\n", '{"env": "x"}\n'):
        write(wt / SETTINGS, text)
        assert statusline(wt, env, data(wt, "glm-4.7")) == fresh, text

    # `moai apply` brings the settings up to date, and the mark goes.
    (wt / SETTINGS).unlink()
    assert moai(wt, "apply", env=env).returncode == 0
    assert statusline(wt, env, data(wt, "glm-4.7")) == fresh


def test_a_backends_settings_older_than_its_file_name_that_file(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    """A backend of llm.yaml, then one of the user's own llm.local.yaml: the line names
    the file that defines the backend."""
    with_backends(repo, env)
    save_backend_key(home, "ds", DS_KEY)
    git(repo, "checkout", "-q", "-b", "feature/SPEC-DS", env=env)
    assert moai(repo, "apply", env=env).returncode == 0
    fresh = "DeepSeek · deepseek-v4-pro · SPEC-DS · run/sync"
    assert statusline(repo, env, data(repo, "deepseek-v4-pro")) == fresh
    # The haiku model in the settings is not the one llm.yaml gives now.
    _edit_env(repo / SETTINGS, ANTHROPIC_DEFAULT_HAIKU_MODEL="deepseek-v3")
    assert statusline(repo, env, data(repo, "deepseek-v4-pro")) == (
        f"{fresh} · ⚠ settings older than llm.yaml: moai apply"
    )
    # Claude here (main): nothing to compare, whatever the settings hold.
    git(repo, "checkout", "-q", "main", env=env)
    assert statusline(repo, env, data(repo, "claude-opus-4-8")) == (
        "Claude · claude-opus-4-8 · main · plan"
    )

    # The user's own backend, in llm.local.yaml (git does not track it).
    write(
        repo / LLM_LOCAL_YAML,
        "llm:\n"
        "  backends:\n"
        "    mine:\n"
        "      preset: deepseek\n"
        "      display: Mine\n"
        "  routes:\n"
        '    - {branch: "mine/*", backend: mine}\n',
    )
    save_backend_key(home, "mine", DS_KEY, DS_URL)
    git(repo, "checkout", "-q", "-b", "mine/x", env=env)
    assert moai(repo, "apply", env=env).returncode == 0
    model = json.loads((repo / SETTINGS).read_text(encoding="utf-8"))["env"][
        "ANTHROPIC_DEFAULT_OPUS_MODEL"
    ]
    mine = f"Mine · {model} · mine/x"
    assert statusline(repo, env, data(repo, model)) == mine
    _edit_env(repo / SETTINGS, ANTHROPIC_BASE_URL="https://old.example.invalid/anthropic")
    assert statusline(repo, env, data(repo, model)) == (
        f"{mine} · ⚠ settings older than llm.local.yaml: moai apply"
    )
