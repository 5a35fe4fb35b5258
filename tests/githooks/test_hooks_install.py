"""`moai hooks install | uninstall | status`, chaining, core.hooksPath, a missing engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import FAKE_KEY, SETTINGS, moai, settings, write
from tests.hooks_support import MISSING_PYTHON, break_engine, hook_path, install, run_git

FOREIGN = """#!/bin/sh
# a team's own post-checkout hook
echo "$@" >> "$(git rev-parse --git-common-dir)/foreign-ran"
exit 3
"""


def test_install_is_idempotent(repo: Path, env: dict[str, str]) -> None:
    out = install(repo, env)
    assert out.startswith("post-checkout: installed in ")
    hook = hook_path(repo)
    text = hook.read_text()
    assert "moai-mashup-hook" in text and os.access(hook, os.X_OK)
    out = install(repo, env)
    assert "already installed" in out
    assert hook.read_text() == text
    assert not hook.with_name("post-checkout.pre-moai").exists()


def test_shim_records_absolute_interpreter(repo: Path, env: dict[str, str]) -> None:
    install(repo, env)
    m = re.search(r"^MOAI_PYTHON='?([^'\n]+)'?$", hook_path(repo).read_text(), re.M)
    assert m and os.path.isabs(m.group(1)) and os.access(m.group(1), os.X_OK)
    assert "/shims/" not in m.group(1)


def test_foreign_hook_is_chained_and_restored_exactly(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    hook = hook_path(repo)
    hook.write_text(FOREIGN)
    hook.chmod(0o750)
    os.utime(hook, (1_000_000_000, 1_000_000_000))
    out = install(repo, env)
    assert "runs your existing hook first" in out
    legacy = hook.with_name("post-checkout.pre-moai")
    assert legacy.read_text() == FOREIGN

    r = run_git(repo, "checkout", "-b", "feature/SPEC-1", env=env, check=False)
    assert r.returncode == 1  # the chained hook failed, so git reports the hook's failure
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY  # ours ran too
    ran = (repo / ".git" / "foreign-ran").read_text().split()
    assert len(ran) == 3 and ran[2] == "1"  # same arguments as git gave

    # Run directly, the shim exits with the chained hook's own code.
    direct = run_git(repo, "checkout", "-q", "main", env=env, check=False)
    assert direct.returncode == 1
    zero = "0" * 40
    proc = subprocess.run(
        [str(hook), zero, zero, "0"], cwd=repo, env=env, capture_output=True, check=False
    )
    assert proc.returncode == 3

    assert "already installed" in install(repo, env)  # the shim is not chained to itself
    assert legacy.read_text() == FOREIGN

    r = moai(repo, "hooks", "uninstall", env=env)
    assert r.returncode == 0, r.stderr
    assert "restored" in r.stdout
    assert hook.read_text() == FOREIGN
    st = hook.stat()
    assert st.st_mode & 0o777 == 0o750 and int(st.st_mtime) == 1_000_000_000
    assert not legacy.exists()


def test_uninstall_without_legacy_removes_and_leaves_foreign_alone(
    repo: Path, env: dict[str, str]
) -> None:
    install(repo, env)
    r = moai(repo, "hooks", "uninstall", env=env)
    assert r.returncode == 0 and "removed" in r.stdout
    assert not hook_path(repo).exists()
    hook_path(repo).write_text(FOREIGN)
    r = moai(repo, "hooks", "uninstall", env=env)
    assert r.returncode == 0 and "not moai's" in r.stdout
    assert hook_path(repo).read_text() == FOREIGN


def test_refuses_when_hook_and_legacy_are_both_foreign(repo: Path, env: dict[str, str]) -> None:
    hook_path(repo).write_text(FOREIGN)
    hook_path(repo).with_name("post-checkout.pre-moai").write_text("#!/bin/sh\n")
    r = moai(repo, "hooks", "install", env=env)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "move one of them aside" in r.stderr
    assert hook_path(repo).read_text() == FOREIGN


def test_core_hooks_path_absolute_installs_where_git_looks(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    shared = tmp_path / "team-hooks"
    shared.mkdir()
    (shared / "post-checkout").write_text(FOREIGN)
    (shared / "post-checkout").chmod(0o755)
    run_git(repo, "config", "core.hooksPath", str(shared), env=env)
    out = install(repo, env)
    assert "core.hooksPath" in out and str(shared) in out
    assert not hook_path(repo).exists()
    assert (shared / "post-checkout.pre-moai").read_text() == FOREIGN
    run_git(repo, "checkout", "-b", "feature/SPEC-2", env=env, check=False)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    r = moai(repo, "status", "--json", env=env)
    assert json.loads(r.stdout)["hooks_installed"] is True
    assert moai(repo, "hooks", "uninstall", env=env).returncode == 0
    assert (shared / "post-checkout").read_text() == FOREIGN


def test_core_hooks_path_relative_is_refused(repo: Path, env: dict[str, str]) -> None:
    run_git(repo, "config", "core.hooksPath", ".githooks", env=env)
    r = moai(repo, "hooks", "install", env=env)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "core.hooksPath" in r.stderr and "moai hook-impl post-checkout" in r.stderr
    assert not (repo / ".githooks").exists() and not hook_path(repo).exists()
    r = moai(repo, "status", "--json", env=env)
    assert json.loads(r.stdout)["hooks_installed"] is False


def test_install_from_linked_worktree_goes_to_common_dir(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    wt = tmp_path / "wt"
    run_git(repo, "worktree", "add", "-b", "topic", str(wt), env=env)
    install(wt, env)
    assert "moai-mashup-hook" in hook_path(repo).read_text()


def test_status_reports_installed_chained_and_missing_engine(
    repo: Path, env: dict[str, str]
) -> None:
    r = moai(repo, "hooks", "status", env=env)
    assert "not installed" in r.stdout
    assert json.loads(moai(repo, "status", "--json", env=env).stdout)["hooks_installed"] is False
    hook_path(repo).write_text(FOREIGN)
    install(repo, env)
    r = moai(repo, "hooks", "status", env=env)
    assert "installed" in r.stdout and "chains post-checkout.pre-moai" in r.stdout
    assert json.loads(moai(repo, "status", "--json", env=env).stdout)["hooks_installed"] is True
    break_engine(hook_path(repo))
    r = moai(repo, "hooks", "status", env=env)
    assert "is gone" in r.stdout
    assert json.loads(moai(repo, "status", "--json", env=env).stdout)["hooks_installed"] is False


def test_missing_engine_is_one_line_and_exit_0(repo: Path, env: dict[str, str]) -> None:
    install(repo, env)
    break_engine(hook_path(repo))
    r = run_git(repo, "checkout", "-b", "feature/SPEC-3", env=env)
    lines = [line for line in r.stderr.splitlines() if line.startswith("moai:")]
    assert len(lines) == 1 and MISSING_PYTHON in lines[0] and "moai hooks install" in lines[0]


def test_uninstalled_package_is_one_line_and_exit_0(repo: Path, env: dict[str, str]) -> None:
    """The interpreter is there but moai-mashup no longer is."""
    install(repo, env)
    hook = hook_path(repo)
    text = re.sub(
        r"^MOAI_SYS_PATH=.*?'$", "MOAI_SYS_PATH=/nonexistent", hook.read_text(), flags=re.M | re.S
    )
    hook.write_text(text)
    r = run_git(repo, "checkout", "-b", "feature/SPEC-4", env=env)
    lines = [line for line in r.stderr.splitlines() if line.startswith("moai:")]
    assert len(lines) == 1 and "cannot import moai-mashup" in lines[0], r.stderr


def test_init_hooks_does_init_and_install(
    tmp_path: Path, env: dict[str, str], keyed_home: str
) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    run_git(repo, "init", "-q", "-b", "main", env=env)
    write(repo / "README.md", "x\n")
    r = moai(repo, "init", "--hooks", env=env)
    assert r.returncode == 0, r.stderr
    assert "post-checkout: installed" in r.stdout
    run_git(repo, "add", "-A", env=env)
    run_git(repo, "commit", "-qm", "init", env=env)
    run_git(repo, "checkout", "-b", "feature/SPEC-5", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert not (repo / SETTINGS).read_text().startswith("{}")


PROJECT = Path(__file__).resolve().parents[2]


def _with_moai_on_path(env: dict[str, str]) -> dict[str, str]:
    from tests.gitrepo import MOAI

    return dict(env, PATH=f"{Path(MOAI).parent}{os.pathsep}{env.get('PATH', '')}")


def test_portable_shim_in_a_relative_hooks_path(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """A team's `.githooks` (husky alike) calls `moai hook-impl` through git_hooks/."""
    env = _with_moai_on_path(env)
    hooks = repo / ".githooks"
    hooks.mkdir()
    shutil.copy2(PROJECT / "git_hooks" / "post-checkout", hooks / "post-checkout")
    run_git(repo, "add", "-A", env=env)
    run_git(repo, "commit", "-qm", "team hooks", env=env)
    run_git(repo, "config", "core.hooksPath", ".githooks", env=env)
    r = run_git(repo, "checkout", "-b", "feature/SPEC-6", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY, r.stderr
    run_git(repo, "checkout", "main", env=env)
    assert settings(repo) == {}
    gone = dict(env, PATH="/usr/bin:/bin")
    r = run_git(repo, "checkout", "feature/SPEC-6", env=gone)
    assert "moai is not on PATH" in r.stderr


def test_post_worktree_by_hand_where_git_ran_no_hook(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    env = _with_moai_on_path(env)
    install(repo, env)
    wt = tmp_path / "wt"
    run_git(repo, "worktree", "add", "--no-checkout", "-b", "feature/SPEC-7", str(wt), env=env)
    run_git(wt, "reset", "-q", "--hard", env=env)  # files, but still no hook ran
    assert not (wt / SETTINGS).exists()

    def fire() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(PROJECT / "git_hooks" / "post-worktree")],
            cwd=wt,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    proc = fire()
    assert proc.returncode == 0, proc.stderr
    assert settings(wt)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    before = (wt / SETTINGS).read_text()
    proc = fire()
    assert proc.returncode == 0 and proc.stderr == ""  # idempotent
    assert (wt / SETTINGS).read_text() == before


def test_standalone_pre_commit_guard(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    install(repo, env, "post-checkout", "pre-commit")
    run_git(repo, "checkout", "-b", "feature/SPEC-8", env=env)
    run_git(repo, "add", "-f", SETTINGS, env=env)
    r = run_git(repo, "commit", "-m", "oops", env=env, check=False)
    assert r.returncode != 0
    assert "git rm --cached -- .claude/settings.local.json" in r.stderr
    assert FAKE_KEY not in r.stdout + r.stderr
    run_git(repo, "reset", "-q", env=env)
    write(repo / "notes.txt", "fine\n")
    run_git(repo, "add", "notes.txt", env=env)
    run_git(repo, "commit", "-qm", "fine", env=env)
    out = moai(repo, "hooks", "uninstall", env=env).stdout
    assert "post-checkout: removed" in out and "pre-commit: removed" in out


def test_chained_by_a_later_pre_commit_install(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """`pre-commit install` after ours keeps ours as post-checkout.legacy and runs it."""
    install(repo, env)
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install", "-t", "post-checkout"],
        cwd=repo,
        env=dict(env, PRE_COMMIT_HOME=str(repo.parent / "pc-home")),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "moai-mashup-hook" in hook_path(repo).with_name("post-checkout.legacy").read_text()
    assert json.loads(moai(repo, "status", "--json", env=env).stdout)["hooks_installed"] is True


def test_status_counts_a_team_hook_that_calls_moai(repo: Path, env: dict[str, str]) -> None:
    """A relative core.hooksPath is refused for installing, but inspected where git looks."""
    run_git(repo, "config", "core.hooksPath", ".githooks", env=env)
    hook = repo / ".githooks" / "post-checkout"
    write(hook, '#!/bin/sh\nmoai hook-impl post-checkout "$@"\n').chmod(0o755)
    assert json.loads(moai(repo, "status", "--json", env=env).stdout)["hooks_installed"] is True
    write(hook, "#!/bin/sh\necho hi\n")
    assert json.loads(moai(repo, "status", "--json", env=env).stdout)["hooks_installed"] is False
    # .git/hooks is where git does not look now: ours there does not count
    run_git(repo, "config", "--unset", "core.hooksPath", env=env)
    install(repo, env)
    run_git(repo, "config", "core.hooksPath", ".githooks", env=env)
    assert json.loads(moai(repo, "status", "--json", env=env).stdout)["hooks_installed"] is False


def test_install_puts_the_current_worktree_on_the_table_backend(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """A SPEC branch already checked out is switched at install, not at the next checkout."""
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-NOW-1", env=env)
    assert settings(repo) == {}, "no hook yet: nothing switched the branch"
    out = install(repo, env)
    assert "now uses glm" in out
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_install_without_a_key_still_installs_and_says_why(repo: Path, env: dict[str, str]) -> None:
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-NOW-2", env=env)
    r = moai(repo, "hooks", "install", env=env)
    assert r.returncode == 0
    assert "not switched" in r.stderr and "moai glm --set-key" in r.stderr
    assert hook_path(repo).exists()


def test_init_hooks_in_glm_only_switches_now(tmp_path: Path, env: dict[str, str]) -> None:
    from tests.gitrepo import make_repo, save_fake_key

    save_fake_key(Path(env["HOME"]))
    repo = make_repo(tmp_path / "glmonly", env, llm_yaml=None, glm_json=None)
    r = moai(repo, "init", "--hooks", env=dict(env, MOAI_LLM_MODE="glm-only"))
    assert r.returncode == 0, r.stderr
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
