"""GLM state written back by another writer (an editor saving an old buffer) is drift.

Real git, the real installed hooks and `moai`: the "editor" reads the file
on the SPEC branch and writes its buffer back in place after `git checkout
main`, as editors do, with no hook to see it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import FAKE_KEY, SETTINGS, moai, settings, write
from tests.hooks_support import install, run_git
from tests.worktree_support import listing

USER = '{\n  "model": "opus",\n  "env": {"MY_FLAG": "1"}\n}\n'


def _editor_saves_glm_buffer_on_main(repo: Path, env: dict[str, str]) -> None:
    write(repo / SETTINGS, USER)
    install(repo, env)
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-W1", env=env)
    buffer = json.loads((repo / SETTINGS).read_text())  # the editor loads the file on GLM
    assert buffer["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    run_git(repo, "checkout", "-q", "main", env=env)
    assert (repo / SETTINGS).read_text() == USER, "the hook put Claude back"
    buffer["model"] = "sonnet"  # the user's own edit, made in the editor meanwhile
    with open(repo / SETTINGS, "w", encoding="utf-8") as fh:  # truncate + write, in place
        fh.write(json.dumps(buffer, indent=2) + "\n")


@pytest.mark.parametrize("fix", ["apply", "claude"])
def test_glm_state_saved_back_on_main_is_drift_and_is_removed(
    repo: Path, env: dict[str, str], keyed_home: str, fix: str
) -> None:
    _editor_saves_glm_buffer_on_main(repo, env)
    info = json.loads(moai(repo, "status", "--json", env=env).stdout)
    assert info["expected_backend"] == "claude"
    assert info["active_backend"] == "glm" and info["drift"] is True
    assert info["fix"] == "moai apply"
    assert "env.ANTHROPIC_AUTH_TOKEN" in info["stray_glm"]
    assert "env.CLAUDE_CODE_MAX_CONTEXT_TOKENS" in info["stray_glm"]  # GLM's window
    text = moai(repo, "status", env=env).stdout
    assert "drift:       yes; fix: moai apply" in text and "moai did not write" in text
    assert FAKE_KEY not in json.dumps(info) + text
    assert listing(repo, env)["main"]["drift"] is True

    r = moai(repo, fix, env=env)
    assert r.returncode == 0, r.stderr
    doc = settings(repo)
    assert doc == {"model": "sonnet", "env": {"MY_FLAG": "1"}}, "only GLM state removed"
    assert FAKE_KEY not in (repo / SETTINGS).read_text()
    info = json.loads(moai(repo, "status", "--json", env=env).stdout)
    assert info["active_backend"] == "claude" and not info["drift"] and not info["stray_glm"]


def test_stray_state_is_not_recorded_as_the_users_on_the_way_to_glm(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    _editor_saves_glm_buffer_on_main(repo, env)
    # the hook (engine: the file changed) switches to GLM from there, and back
    run_git(repo, "checkout", "-q", "feature/SPEC-W1", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    run_git(repo, "checkout", "-q", "main", env=env)
    assert settings(repo) == {"model": "sonnet", "env": {"MY_FLAG": "1"}}
    assert FAKE_KEY not in (repo / SETTINGS).read_text()


def test_a_hand_written_proxy_without_the_glm_key_is_the_users(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    own = (
        '{"env": {"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic", '
        '"ANTHROPIC_AUTH_TOKEN": "my-own-proxy-token", "ANTHROPIC_API_KEY": ""}}\n'
    )
    write(repo / SETTINGS, own)
    info = json.loads(moai(repo, "status", "--json", env=env).stdout)
    assert info["active_backend"] == "claude" and not info["drift"] and not info["stray_glm"]
    assert info["hand_set_base_url"] == "https://api.z.ai/api/anthropic"
    for fix in ("apply", "claude"):
        assert moai(repo, fix, env=env).returncode == 0
        assert (repo / SETTINGS).read_text() == own
