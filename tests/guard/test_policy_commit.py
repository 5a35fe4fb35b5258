"""Team policy at commit time, through real `git commit` with the hooks installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from moai_mashup.guard.policy import in_plan_paths, message_has_text
from tests.gitrepo import LLM_LOCAL_YAML, LLM_YAML, MOAI, SEED_LLM_YAML, git, moai, write
from tests.guard.test_guard_staged import ZAI_SHAPED, head, install_guard, install_hook


def policy_yaml(**fields: object) -> str:
    lines = [f"    {k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in fields.items()]
    return SEED_LLM_YAML + "  policy:\n" + "\n".join(lines) + "\n"


def set_policy(repo: Path, env: dict[str, str], **fields: object) -> None:
    write(repo / LLM_YAML, policy_yaml(**fields))
    git(repo, "commit", "-qam", "policy", env=env)


def commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )


def assert_the_guard_runs(repo: Path, env: dict[str, str]) -> None:
    """An allowed commit proves nothing by itself: the same hooks refuse a key here."""
    before = head(repo, env)
    write(repo / "leak.txt", f"token = {ZAI_SHAPED}\n")
    git(repo, "add", "leak.txt", env=env)
    r = commit(repo, env, "-m", "leak")
    assert r.returncode != 0 and "leak.txt:1: Z.ai API key" in r.stderr, r.stderr
    assert head(repo, env) == before


# --- enforce_locations -------------------------------------------------------------


def test_src_on_main_refused_under_enforce_locations(repo: Path, env: dict[str, str]) -> None:
    set_policy(repo, env, enforce_locations=True)
    install_guard(repo)
    before = head(repo, env)
    write(repo / "src/app.py", "print('hi')\n")
    git(repo, "add", "src/app.py", env=env)
    r = commit(repo, env, "-m", "impl on main")
    assert r.returncode != 0
    assert head(repo, env) == before
    assert "policy enforce_locations" in r.stderr and "src/app.py" in r.stderr
    assert "moai worktree create SPEC-<ID>" in r.stderr


def test_src_on_main_allowed_with_enforce_locations_off(repo: Path, env: dict[str, str]) -> None:
    set_policy(repo, env, enforce_locations=False)
    install_guard(repo)
    write(repo / "src/app.py", "print('hi')\n")
    git(repo, "add", "src/app.py", env=env)
    r = commit(repo, env, "-m", "impl on main")
    assert r.returncode == 0, r.stderr
    assert_the_guard_runs(repo, env)


def test_spec_file_on_main_allowed(repo: Path, env: dict[str, str]) -> None:
    set_policy(repo, env, enforce_locations=True)
    install_guard(repo)
    write(repo / ".moai/specs/SPEC-AUTH-001/spec.md", "# plan\n")
    git(repo, "add", "-A", env=env)
    r = commit(repo, env, "-m", "plan")
    assert r.returncode == 0, r.stderr
    assert_the_guard_runs(repo, env)


def test_src_on_spec_branch_allowed(repo: Path, env: dict[str, str]) -> None:
    set_policy(repo, env, enforce_locations=True)
    install_guard(repo)
    git(repo, "switch", "-qc", "feature/SPEC-AUTH-001", env=env)
    write(repo / "src/app.py", "print('hi')\n")
    git(repo, "add", "-A", env=env)
    assert commit(repo, env, "-m", "impl").returncode == 0
    assert_the_guard_runs(repo, env)


def test_deleting_src_on_main_refused(repo: Path, env: dict[str, str]) -> None:
    write(repo / "src/app.py", "x\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "app", env=env)
    set_policy(repo, env, enforce_locations=True)
    install_guard(repo)
    git(repo, "rm", "-q", "src/app.py", env=env)
    r = commit(repo, env, "-m", "rm")
    assert r.returncode != 0 and "src/app.py" in r.stderr


def test_concluding_a_conflicted_merge_on_main_allowed(repo: Path, env: dict[str, str]) -> None:
    write(repo / "src/app.py", "base\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "base", env=env)
    set_policy(repo, env, enforce_locations=True)
    git(repo, "switch", "-qc", "feature/SPEC-X", env=env)
    write(repo / "src/app.py", "feature\n")
    git(repo, "commit", "-qam", "feature", env=env)
    git(repo, "switch", "-q", "main", env=env)
    write(repo / "src/app.py", "main\n")
    git(repo, "commit", "-qam", "main side", "--no-verify", env=env)
    install_guard(repo)
    git(repo, "merge", "feature/SPEC-X", env=env, check=False)
    write(repo / "src/app.py", "resolved\n")
    git(repo, "add", "src/app.py", env=env)
    r = commit(repo, env, "--no-edit")
    assert r.returncode == 0, r.stderr


def test_enforce_locations_only_in_mashup(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, policy_yaml(enforce_locations=True).replace("mashup", "glm-only"))
    git(repo, "commit", "-qam", "glm-only", env=env)
    install_guard(repo)
    write(repo / "src/app.py", "x\n")
    git(repo, "add", "-A", env=env)
    assert commit(repo, env, "-m", "x").returncode == 0


def test_plan_path_globs() -> None:
    plan = (".moai/specs/**", ".moai/config/**", "docs/*.md")
    assert in_plan_paths(".moai/specs/SPEC-A/spec.md", plan)
    assert in_plan_paths("docs/x.md", plan)
    assert not in_plan_paths("docs/sub/x.md", plan)
    assert not in_plan_paths("src/.moai/specs/x", plan)
    assert not in_plan_paths(".moai/specsX/y", plan)


# --- require_backend_match ------------------------------------------------------


def test_backend_drift_refused_then_fixed_by_moai_apply(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    set_policy(repo, env, require_backend_match=True)
    install_guard(repo)
    assert moai(repo, "glm", env=env).returncode == 0  # main expects claude in mashup
    write(repo / "notes.md", "x\n")
    git(repo, "add", "notes.md", env=env)
    r = commit(repo, env, "-m", "drift")
    assert r.returncode != 0
    assert "policy require_backend_match" in r.stderr and "run: moai apply" in r.stderr
    assert moai(repo, "apply", env=env).returncode == 0
    assert commit(repo, env, "-m", "fixed").returncode == 0


def test_backend_drift_allowed_when_policy_off(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install_guard(repo)
    assert moai(repo, "glm", env=env).returncode == 0
    write(repo / "notes.md", "x\n")
    git(repo, "add", "notes.md", env=env)
    assert commit(repo, env, "-m", "drift ok").returncode == 0
    assert_the_guard_runs(repo, env)


# --- commit_trailer -------------------------------------------------------------


def install_trailer_hooks(repo: Path) -> None:
    install_hook(repo, "prepare-commit-msg", f'exec "{MOAI}" check --prepare-commit-msg "$@"')
    install_hook(repo, "commit-msg", f'exec "{MOAI}" check --commit-msg "$@"')


def last_message(repo: Path, env: dict[str, str]) -> str:
    return git(repo, "log", "-1", "--format=%B", env=env)


def test_trailer_names_the_active_backend(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    set_policy(repo, env, commit_trailer=True)
    install_trailer_hooks(repo)
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt", env=env)
    assert commit(repo, env, "-m", "on claude").returncode == 0
    assert last_message(repo, env).rstrip().endswith("\n\nLLM-Backend: claude")

    git(repo, "switch", "-qc", "feature/SPEC-A", env=env)
    assert moai(repo, "apply", env=env).returncode == 0
    write(repo / "b.txt", "b\n")
    git(repo, "add", "b.txt", env=env)
    assert commit(repo, env, "-m", "on glm").returncode == 0
    assert last_message(repo, env).rstrip().endswith("LLM-Backend: glm (glm-4.7)")

    # Amending keeps exactly one trailer.
    assert commit(repo, env, "--amend", "--no-edit").returncode == 0
    assert (
        commit(repo, env, "--amend", "-m", "on glm\n\nLLM-Backend: glm (glm-4.7)").returncode == 0
    )
    assert last_message(repo, env).count("LLM-Backend:") == 1
    # Amended on another backend: both are recorded.
    assert moai(repo, "claude", env=env).returncode == 0
    assert commit(repo, env, "--amend", "--no-edit").returncode == 0
    assert (
        last_message(repo, env).rstrip().endswith("LLM-Backend: glm (glm-4.7)\nLLM-Backend: claude")
    )


def test_no_trailer_when_policy_off(repo: Path, env: dict[str, str]) -> None:
    install_trailer_hooks(repo)
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt", env=env)
    assert commit(repo, env, "-m", "plain").returncode == 0
    assert "LLM-Backend" not in last_message(repo, env)


def test_no_trailer_on_merge_commits(repo: Path, env: dict[str, str]) -> None:
    set_policy(repo, env, commit_trailer=True)
    git(repo, "switch", "-qc", "topic", env=env)
    write(repo / "t.txt", "t\n")
    git(repo, "add", "t.txt", env=env)
    git(repo, "commit", "-qm", "topic", env=env)
    git(repo, "switch", "-q", "main", env=env)
    write(repo / "m.txt", "m\n")
    git(repo, "add", "m.txt", env=env)
    git(repo, "commit", "-qm", "main", env=env)
    install_trailer_hooks(repo)
    git(repo, "merge", "-q", "--no-edit", "topic", env=env)
    assert "LLM-Backend" not in last_message(repo, env)


def test_editor_commit_gets_trailer_and_empty_message_still_aborts(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    set_policy(repo, env, commit_trailer=True)
    install_trailer_hooks(repo)
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt", env=env)
    before = head(repo, env)
    # An editor that writes nothing: git must still abort on the empty message.
    r = commit(repo, env | {"GIT_EDITOR": "true"})
    assert r.returncode != 0 and head(repo, env) == before
    editor = write(tmp_path / "editor.sh", '#!/bin/sh\nprintf "typed in editor\\n" > "$1"\n')
    editor.chmod(0o755)
    r = commit(repo, env | {"GIT_EDITOR": str(editor)})
    assert r.returncode == 0, r.stderr
    assert last_message(repo, env).rstrip("\n") == "typed in editor\n\nLLM-Backend: claude"


def test_message_has_text() -> None:
    assert not message_has_text("\n# Please enter\n#\n")
    assert message_has_text("fix\n# comment\n")
    assert not message_has_text(
        "\n# ------------------------ >8 ------------------------\ndiff --git a b\n"
    )


# --- locked ----------------------------------------------------------------------


@pytest.mark.parametrize("command", [["status"], ["apply"], ["route", "plan"]])
def test_locked_mode_local_override_refused(
    repo: Path, env: dict[str, str], command: list[str]
) -> None:
    set_policy(repo, env, locked="[mode]")
    write(repo / LLM_LOCAL_YAML, "llm:\n  mode: glm-only\n")
    r = moai(repo, *command, env=env)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"moai: {LLM_LOCAL_YAML}: llm.mode: locked by the team in {LLM_YAML} "
        f"(llm.policy.locked); remove it from {LLM_LOCAL_YAML}"
    ]


def test_locked_mode_env_override_refused(repo: Path, env: dict[str, str]) -> None:
    set_policy(repo, env, locked="[mode]")
    r = moai(repo, "status", env=env | {"MOAI_LLM_MODE": "glm-only"})
    assert r.returncode == 2
    assert "MOAI_LLM_MODE=glm-only: mode is locked by the team in" in r.stderr
    assert "unset MOAI_LLM_MODE" in r.stderr


def test_unlocked_mode_overrides_allowed(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_LOCAL_YAML, "llm:\n  mode: glm-only\n")
    r = moai(repo, "status", "--json", env=env)
    assert r.returncode == 0 and '"mode": "glm-only"' in r.stdout
    r = moai(repo, "status", "--json", env=env | {"MOAI_LLM_MODE": "claude-only"})
    assert r.returncode == 0 and '"mode": "claude-only"' in r.stdout


def test_locked_override_in_hook_does_not_disable_the_guard(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    set_policy(repo, env, locked="[mode]", enforce_locations=True)
    install_guard(repo)
    write(repo / "src/app.py", f"KEY = '{keyed_home}'\n")
    git(repo, "add", "src/app.py", env=env)
    r = commit(repo, env | {"MOAI_LLM_MODE": "glm-only"}, "-m", "sneak")
    assert r.returncode != 0
    assert "locked by the team" in r.stderr and "src/app.py:1" in r.stderr


def test_first_commit_checked_for_keys_and_exempt_from_locations(
    tmp_path: Path, env: dict[str, str]
) -> None:
    from tests.guard.test_guard_staged import ZAI_SHAPED

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", "-b", "main", env=env)
    install_guard(fresh)
    write(fresh / LLM_YAML, policy_yaml(enforce_locations=True))
    write(fresh / "src/app.py", f"KEY = '{ZAI_SHAPED}'\n")
    git(fresh, "add", "-A", env=env)
    r = commit(fresh, env, "-m", "first")
    assert r.returncode != 0 and "src/app.py:1: Z.ai API key" in r.stderr
    assert "enforce_locations" not in r.stderr
    write(fresh / "src/app.py", "KEY = None\n")
    git(fresh, "add", "-A", env=env)
    assert commit(fresh, env, "-m", "first").returncode == 0


def test_spec_worktree_on_glm_commits_under_require_backend_match(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    set_policy(repo, env, require_backend_match=True, enforce_locations=True)
    install_guard(repo)  # hooks live in the common git dir: every worktree runs them
    wt = repo.parent / "wt-spec"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "feature/SPEC-A", env=env)
    write(wt / "src/app.py", "x\n")
    git(wt, "add", "-A", env=env)
    r = commit(wt, env, "-m", "on claude in a glm worktree")
    assert r.returncode != 0 and "expects glm" in r.stderr
    assert moai(wt, "apply", env=env).returncode == 0
    r = commit(wt, env, "-m", "impl")
    assert r.returncode == 0, r.stderr
