"""A merge or pull that brings a new glm.json into a worktree already on GLM.

git runs post-merge after a merge it completes (`git merge`, `git pull`), on
the branch it merged into; no post-checkout runs. With moai's post-merge hook
the settings follow the merged template; without it (an install older than
the hook, a merge stopped by a conflict) `moai status`, `moai doctor`, `moai
worktree list` and the status line report the settings as drift, with the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitrepo import FAKE_KEY, GLM_JSON, SEED_GLM_JSON, moai, settings
from tests.hooks_support import (
    age_inputs,
    break_engine,
    hook_path,
    install,
    moai_lines,
    run_git,
    took_slow_path,
)
from tests.worktree_support import commit_file, listing

OLD_URL = "https://api.z.ai/api/anthropic"
NEW_URL = "https://open.bigmodel.cn/api/anthropic"  # a built-in endpoint: trusted as is
SPEC = "feature/SPEC-MERGE-1"


def _spec_worktree(repo: Path, env: dict[str, str]) -> Path:
    """A linked SPEC worktree on GLM, then main's glm.json moves to another endpoint."""
    spec = repo.parent / "spec-wt"
    run_git(repo, "worktree", "add", "-q", "-b", SPEC, str(spec), "main", env=env)
    assert settings(spec)["env"]["ANTHROPIC_BASE_URL"] == OLD_URL
    commit_file(repo, env, GLM_JSON, SEED_GLM_JSON.replace(OLD_URL, NEW_URL), "new endpoint")
    return spec


@pytest.mark.parametrize(
    "how", [("merge", "-q", "main"), ("pull", "-q", "--no-rebase", ".", "main")]
)
def test_a_merge_or_pull_that_changes_glm_json_rewrites_the_settings(
    repo: Path, env: dict[str, str], keyed_home: str, how: tuple[str, ...]
) -> None:
    install(repo, env)
    assert hook_path(repo, "post-merge").exists()
    spec = _spec_worktree(repo, env)
    proc = run_git(spec, *how, env=env)
    assert settings(spec)["env"]["ANTHROPIC_BASE_URL"] == NEW_URL
    assert settings(spec)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert moai_lines(proc.stderr) == [
        f"moai: this worktree's GLM settings now follow the current {GLM_JSON}"
    ]
    info = json.loads(moai(spec, "status", "--json", env=env).stdout)
    assert (info["active_backend"], info["drift"], info["stale_keys"]) == ("glm", False, [])


def test_without_post_merge_every_report_says_drift_with_the_fix(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env, "post-checkout")  # what `moai hooks install` wrote before post-merge
    spec = _spec_worktree(repo, env)
    run_git(spec, "merge", "-q", "main", env=env)
    assert settings(spec)["env"]["ANTHROPIC_BASE_URL"] == OLD_URL  # no hook ran

    info = json.loads(moai(spec, "status", "--json", env=env).stdout)
    assert (info["expected_backend"], info["active_backend"]) == ("glm", "glm")
    assert info["drift"] is True and info["stale_keys"] == ["env.ANTHROPIC_BASE_URL"]
    assert info["fix"] == "moai apply && moai hooks install"
    text = moai(spec, "status", env=env).stdout
    assert "drift:       yes; fix: moai apply && moai hooks install" in text

    doctor = moai(spec, "doctor", "--json", env=env)
    assert doctor.returncode == 1
    checks = {(c["name"], c["status"]): c for c in json.loads(doctor.stdout)["checks"]}
    assert "env.ANTHROPIC_BASE_URL" in checks[("drift", "fail")]["message"]
    assert checks[("drift", "fail")]["fix"] == "moai apply"
    assert checks[("hooks", "warn")]["fix"] == "moai hooks install"
    assert "post-merge not" in checks[("hooks", "warn")]["message"]

    row = listing(repo, env)[SPEC]
    assert row["drift"] is True and row["stale_keys"] == ["env.ANTHROPIC_BASE_URL"]
    table = moai(repo, "worktree", "list", env=env).stdout
    assert "glm (stale: moai apply)" in table

    payload = {"model": {"id": "glm-4.7"}, "workspace": {"current_dir": str(spec)}}
    line = moai(spec, "statusline", env=env, input=json.dumps(payload)).stdout
    assert line.rstrip("\n").endswith("· ⚠ settings older than glm.json: moai apply"), line

    assert moai(spec, "apply", env=env).returncode == 0
    assert settings(spec)["env"]["ANTHROPIC_BASE_URL"] == NEW_URL
    assert json.loads(moai(spec, "status", "--json", env=env).stdout)["drift"] is False
    assert install(repo, env).count("post-merge: installed") == 1  # doctor's one command
    doctor = moai(spec, "doctor", "--json", env=env)
    assert doctor.returncode == 0, doctor.stdout
    line = moai(spec, "statusline", env=env, input=json.dumps(payload)).stdout
    assert "⚠" not in line


def test_a_merge_that_changes_none_of_moais_inputs_is_decided_in_the_shim(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    install(repo, env)
    run_git(repo, "checkout", "-q", "-b", SPEC, env=env)
    run_git(repo, "checkout", "-q", "main", env=env)
    commit_file(repo, env, "notes.txt", "n\n", "unrelated")
    run_git(repo, "checkout", "-q", SPEC, env=env)
    age_inputs(repo, home)
    (repo / ".git" / "moai" / "hook-stamp").unlink()
    run_git(repo, "checkout", "-q", SPEC, env=env)  # the engine decides, writes the stamp
    break_engine(hook_path(repo, "post-merge"))  # from here, a slow path says "hook skipped"
    proc = run_git(repo, "merge", "-q", "main", env=env)
    assert not took_slow_path(proc) and moai_lines(proc.stderr) == []


def test_doctor_tells_an_install_without_post_merge_the_one_command_that_adds_it(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env, "post-checkout", "pre-commit")  # an install from before post-merge
    doctor = json.loads(moai(repo, "doctor", "--json", env=env).stdout)
    hooks = [c for c in doctor["checks"] if c["name"] == "hooks"]
    assert [(c["status"], c["fix"]) for c in hooks] == [("warn", "moai hooks install")]
    assert "post-merge" in hooks[0]["message"]
    out = install(repo, env)
    assert "post-merge: installed" in out and "post-checkout: already installed" in out
    doctor = json.loads(moai(repo, "doctor", "--json", env=env).stdout)
    assert [c["status"] for c in doctor["checks"] if c["name"] == "hooks"] == ["ok"]
