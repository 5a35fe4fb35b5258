"""What the installed post-checkout hook does on each git event, with real git."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.gitrepo import (
    FAKE_KEY,
    GLM_JSON,
    LLM_YAML,
    SEED_LLM_YAML,
    SETTINGS,
    make_repo,
    moai,
    settings,
    write,
)
from tests.hooks_support import hook_path, install, moai_lines, run_git

HAND_WRITTEN = '{\n  "permissions": {"allow": ["Bash(ls)"]}\n}\n'


def is_glm(root: Path) -> bool:
    token: object = settings(root).get("env", {}).get("ANTHROPIC_AUTH_TOKEN")
    return token == FAKE_KEY


def test_checkout_switches_backend_and_back(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / SETTINGS, HAND_WRITTEN)
    install(repo, env)
    r = run_git(repo, "checkout", "-b", "feature/SPEC-1", env=env)
    assert is_glm(repo)
    assert moai_lines(r.stderr) == [
        "moai: this worktree now uses GLM (mode mashup + 'feature/SPEC-*' branch -> glm)"
    ]
    assert FAKE_KEY not in r.stdout + r.stderr
    r = run_git(repo, "checkout", "main", env=env)
    assert (repo / SETTINGS).read_text() == HAND_WRITTEN
    assert len(moai_lines(r.stderr)) == 1


def test_switch_c_and_same_commit_branches(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """`<sha> <sha> 1`: the shas cannot tell the branches apart; HEAD can."""
    install(repo, env)
    run_git(repo, "switch", "-c", "feature/SPEC-2", env=env)
    assert is_glm(repo)
    run_git(repo, "switch", "-c", "topic", env=env)
    assert settings(repo) == {}
    run_git(repo, "switch", "feature/SPEC-2", env=env)
    assert is_glm(repo)


def test_worktree_add_existing_branch_is_post_worktree(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    write(repo / SETTINGS, HAND_WRITTEN)
    install(repo, env)
    run_git(repo, "branch", "feature/SPEC-3", env=env)
    wt = tmp_path / "wt3"
    r = run_git(repo, "worktree", "add", str(wt), "feature/SPEC-3", env=env)
    assert is_glm(wt)
    assert any("post-worktree" in line for line in moai_lines(r.stderr)), r.stderr
    assert (repo / SETTINGS).read_text() == HAND_WRITTEN  # the main worktree is untouched
    # Idempotent with `moai worktree create` firing the event itself afterwards.
    r = run_git(wt, "checkout", "feature/SPEC-3", env=env)
    assert moai_lines(r.stderr) == []


def test_worktree_add_b_new_branch(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    install(repo, env)
    wt = tmp_path / "wt4"
    run_git(repo, "worktree", "add", "-b", "feature/SPEC-4", str(wt), env=env)
    assert is_glm(wt)
    other = tmp_path / "wt5"
    run_git(repo, "worktree", "add", "-b", "topic", str(other), env=env)
    assert not (other / SETTINGS).exists()
    assert not (repo / SETTINGS).exists()


def test_hook_in_linked_worktree_touches_only_that_worktree(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    write(repo / SETTINGS, HAND_WRITTEN)
    install(repo, env)
    wt = tmp_path / "wt"
    run_git(repo, "worktree", "add", "-b", "topic", str(wt), env=env)
    main_state = sorted(p.name for p in (repo / ".git" / "moai").glob("*"))
    run_git(wt, "checkout", "-b", "feature/SPEC-6", env=env)
    assert is_glm(wt)
    assert (repo / SETTINGS).read_text() == HAND_WRITTEN
    assert sorted(p.name for p in (repo / ".git" / "moai").glob("*")) == main_state
    run_git(wt, "checkout", "topic", env=env)
    assert settings(wt) == {}
    assert (repo / SETTINGS).read_text() == HAND_WRITTEN


def test_clone_is_a_normal_checkout(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    """A clone gives 40 zeros too, but in a main worktree: the backend is applied."""
    install(repo, env)
    run_git(repo, "branch", "feature/SPEC-7", env=env)
    template = tmp_path / "template"
    (template / "hooks").mkdir(parents=True)
    shutil.copy2(hook_path(repo), template / "hooks" / "post-checkout")
    clone = tmp_path / "clone"
    r = run_git(
        tmp_path,
        "clone",
        "-q",
        f"--template={template}",
        "-b",
        "feature/SPEC-7",
        str(repo),
        str(clone),
        env=env,
    )
    assert is_glm(clone)
    assert not any("post-worktree" in line for line in moai_lines(r.stderr))


def test_leaving_an_orphan_branch_is_a_normal_checkout(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    run_git(repo, "branch", "feature/SPEC-8", env=env)
    run_git(repo, "checkout", "--orphan", "scratch", env=env)
    run_git(repo, "rm", "-rfq", ".", env=env)
    r = run_git(repo, "checkout", "feature/SPEC-8", env=env)  # old HEAD: 40 zeros
    assert is_glm(repo)
    assert not any("post-worktree" in line for line in moai_lines(r.stderr))


def test_file_checkout_changes_nothing(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    install(repo, env)
    assert moai(repo, "glm", env=env).returncode == 0  # by hand, against the table
    before = (repo / SETTINGS).read_text()
    write(repo / "README.md", "changed\n")
    r = run_git(repo, "checkout", "--", "README.md", env=env)  # flag 0
    assert (repo / SETTINGS).read_text() == before
    assert moai_lines(r.stderr) == []
    run_git(repo, "checkout", "main", env=env)  # flag 1: the table wins again
    assert settings(repo) == {}


def _commits(repo: Path, env: dict[str, str], n: int, prefix: str) -> None:
    for i in range(n):
        write(repo / f"{prefix}{i}.txt", f"{i}\n")
        run_git(repo, "add", "-A", env=env)
        run_git(repo, "commit", "-qm", f"{prefix} {i}", env=env)


def test_bisect_leaves_backend_alone(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    install(repo, env)
    run_git(repo, "checkout", "-b", "feature/SPEC-9", env=env)
    _commits(repo, env, 4, "b")
    assert moai(repo, "claude", env=env).returncode == 0  # against the table, on purpose
    before = (repo / SETTINGS).read_bytes() if (repo / SETTINGS).exists() else None
    r = run_git(repo, "bisect", "start", "HEAD", "HEAD~4", env=env)
    run_git(repo, "bisect", "good", env=env)
    after = (repo / SETTINGS).read_bytes() if (repo / SETTINGS).exists() else None
    assert after == before  # detached HEAD: unchanged
    assert moai_lines(r.stderr) == []
    run_git(repo, "bisect", "reset", env=env)  # back on feature/SPEC-9: the table applies
    assert is_glm(repo)


def test_rebase_leaves_backend_alone(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    install(repo, env)
    run_git(repo, "checkout", "-b", "feature/SPEC-10", env=env)
    _commits(repo, env, 2, "r")
    run_git(repo, "checkout", "main", env=env)
    _commits(repo, env, 1, "m")
    run_git(repo, "checkout", "feature/SPEC-10", env=env)
    before = (repo / SETTINGS).read_bytes()
    r = run_git(repo, "rebase", "main", env=env)
    assert (repo / SETTINGS).read_bytes() == before
    assert moai_lines(r.stderr) == []
    assert is_glm(repo)


def test_unconfigured_repo_is_left_alone(
    tmp_path: Path, env: dict[str, str], keyed_home: str
) -> None:
    repo = make_repo(tmp_path / "plain", env, llm_yaml=None, glm_json=None)
    install(repo, env)
    r = run_git(repo, "checkout", "-b", "feature/SPEC-11", env=env)
    assert r.stderr.strip() == "Switched to a new branch 'feature/SPEC-11'"
    assert not (repo / SETTINGS).exists()
    assert not (repo / ".git" / "moai").exists()


def test_untrusted_url_stays_on_claude_with_one_line(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(
        repo / GLM_JSON,
        '{"env": {"ANTHROPIC_AUTH_TOKEN": "${GLM_API_KEY}", '
        '"ANTHROPIC_BASE_URL": "https://proxy.example.invalid/anthropic"}}\n',
    )
    run_git(repo, "commit", "-qam", "custom endpoint", env=env)
    install(repo, env)
    r = run_git(repo, "checkout", "-b", "feature/SPEC-12", env=env)
    assert settings(repo) == {}
    lines = moai_lines(r.stderr)
    assert len(lines) == 1 and "left this worktree on Claude" in lines[0]
    assert "moai trust" in lines[0]
    assert FAKE_KEY not in r.stderr


def test_missing_key_is_one_line_and_git_succeeds(repo: Path, env: dict[str, str]) -> None:
    install(repo, env)
    r = run_git(repo, "checkout", "-b", "feature/SPEC-13", env=env)
    lines = moai_lines(r.stderr)
    assert len(lines) == 1 and "no GLM key" in lines[0], r.stderr
    assert settings(repo) == {}


def test_strict_policy_makes_the_hook_fail(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + "  policy:\n    strict: true\n")
    run_git(repo, "commit", "-qam", "strict", env=env)
    install(repo, env)
    r = run_git(repo, "checkout", "-b", "feature/SPEC-14", env=env, check=False)
    assert r.returncode == 1
    assert len(moai_lines(r.stderr)) == 1
    assert run_git(repo, "branch", "--show-current", env=env).stdout.strip() == "feature/SPEC-14"


def test_bad_config_is_one_line_and_git_succeeds(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    write(repo / LLM_YAML, "llm:\n  mode: sometimes\n")
    r = run_git(repo, "checkout", "-b", "feature/SPEC-15", env=env)
    lines = moai_lines(r.stderr)
    assert len(lines) == 1 and "llm.yaml" in lines[0] and "mode" in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_demo_goes_through_the_installed_hook(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    before = sorted(p.name for p in home.rglob("*"))
    r = moai(tmp_path, "demo", env=env)
    assert r.returncode == 0, r.stderr
    assert "moai hooks install: post-checkout: installed" in r.stdout
    assert "moai: this worktree now uses GLM" in r.stdout  # said by the hook, not by moai apply
    assert "moai: post-worktree:" in r.stdout
    assert "byte for byte what you wrote: yes" in r.stdout
    assert "demo0000fake0000key0000not0real" not in r.stdout
    assert sorted(p.name for p in home.rglob("*")) == before  # the user's HOME untouched


# typing and hashlib: ~5 ms each, kept off the hook path (lean.py, settings_plan.py)
# pathlib, json, re (with enum), urllib.parse: ~12 ms CPU of a switch the engine decides
# (benchmarks/bench_checkout.py); jsontext and os.path do the same without them.
HEAVY: tuple[str, ...] = ("click", "pydantic", "pygit2", "yaml", "subprocess", "typing", "hashlib")
HEAVY += ("pathlib", "json", "re", "enum", "urllib", "shlex", "fnmatch", "collections")


def test_hook_path_imports_no_heavy_module(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """The engine, run as the shim runs it, with the config cache warm."""
    import subprocess
    import sys

    from moai_mashup.githooks.install import engine_sys_path

    install(repo, env)
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-16", env=env)  # warms the cache
    run_git(repo, "checkout", "-q", "main", env=env)
    probe = (
        "import sys\n"
        "sys.path.extend(sys.argv[1].split('\\n'))\n"
        "from moai_mashup.githooks.engine import main\n"
        "rc = main(sys.argv[2:])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}), rc)\n"
    )
    for branch in ("feature/SPEC-16", "main"):  # a GLM switch, then a Claude one
        run_git(repo, "symbolic-ref", "HEAD", f"refs/heads/{branch}", env=env)
        (repo / ".git" / "moai" / "hook-stamp").unlink(missing_ok=True)
        hook_args = ["post-checkout", "0" * 40, "1" * 40, "1"]
        proc = subprocess.run(
            [sys.executable, "-I", "-S", "-c", probe, "\n".join(engine_sys_path()), *hook_args],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.stdout.strip() == "[] 0", proc.stdout + proc.stderr
        assert "this worktree now uses" in proc.stderr
