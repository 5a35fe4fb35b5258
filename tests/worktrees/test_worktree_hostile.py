"""A cloned repository is hostile input: what it commits (a `.worktreeinclude`, a
worktree root's claim file, a settings file) may be a link to /dev/zero, a FIFO,
a link loop or link leading outside. `moai worktree create` and the git hook's
setup of a new worktree must neither hang, nor read such a file whole, nor write
through it; they say what they skipped in one line and go on."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

import pytest

from tests.gitrepo import LLM_YAML, MOAI, SEED_LLM_YAML, git, settings, write
from tests.worktree_support import worktree_paths

# Far more than moai and git need; far less than reading /dev/zero or a huge file whole.
MEMORY = 1 << 30
TIMEOUT = 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A command with bounded memory and time: a hang or a whole read fails the test."""
    started = time.monotonic()
    proc = subprocess.run(
        list(args),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limited,
        check=False,
    )
    assert time.monotonic() - started < TIMEOUT
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr
    return proc


def commit_all(repo: Path, env: dict[str, str], msg: str) -> None:
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", msg, env=env)


def hostile(path: Path, kind: str, outside: Path) -> None:
    """Make `path` the kind of thing a hostile checkout can leave there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "dev-zero":
        os.symlink("/dev/zero", path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        os.symlink(path.name, path)
    elif kind == "huge-outside":  # sparse: takes no disk, but 3 GiB to read whole
        with open(outside, "wb") as fh:
            fh.truncate(3 << 30)
        os.symlink(outside, path)
    elif kind == "dangling-outside":
        os.symlink(outside, path)
    elif kind == "file-outside":
        outside.write_text("a file of yours\n")
        os.symlink(outside, path)
    else:
        raise AssertionError(kind)


# --- .worktreeinclude ---------------------------------------------------------------


def include_repo(repo: Path, env: dict[str, str], kind: str, tmp_path: Path) -> None:
    write(repo / ".gitignore", (repo / ".gitignore").read_text() + ".env\nfifo-target\n")
    if kind == "fifo":  # git commits no FIFO: a committed link to one the checkout has
        hostile(repo / "fifo-target", "fifo", tmp_path / "unused")
        os.symlink("fifo-target", repo / ".worktreeinclude")
    else:
        hostile(repo / ".worktreeinclude", kind, tmp_path / "outside")
    commit_all(repo, env, "a hostile .worktreeinclude")
    write(repo / ".env", "A=1\n")


KINDS = ["dev-zero", "fifo", "loop", "huge-outside"]


@pytest.mark.parametrize("kind", KINDS)
def test_create_with_a_hostile_worktreeinclude_skips_it_in_one_line(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path, kind: str
) -> None:
    include_repo(repo, env, kind, tmp_path)
    r = run(repo, env, MOAI, "worktree", "create", "SPEC-INC")
    assert r.returncode == 0, r.stderr
    wt = Path(worktree_paths(repo, env)[1])
    assert not (wt / ".env").exists()
    said = [line for line in r.stderr.splitlines() if ".worktreeinclude" in line]
    assert len(said) == 1 and said[0].startswith("moai: "), r.stderr
    assert settings(wt)["env"]["ANTHROPIC_BASE_URL"]  # set up all the same


@pytest.mark.parametrize("kind", KINDS)
def test_git_worktree_add_with_a_hostile_worktreeinclude_sets_up_all_the_same(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path, kind: str
) -> None:
    assert run(repo, env, MOAI, "hooks", "install").returncode == 0
    include_repo(repo, env, kind, tmp_path)
    wt = tmp_path / "wt"
    r = run(repo, env, "git", "worktree", "add", "-q", "-b", "feature/SPEC-INC", str(wt))
    assert r.returncode == 0, r.stderr
    assert "hook failed" not in r.stderr, r.stderr
    assert not (wt / ".env").exists()
    assert settings(wt)["env"]["ANTHROPIC_BASE_URL"]


def test_worktreeinclude_linked_to_a_file_inside_the_repository_still_works(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / ".gitignore", (repo / ".gitignore").read_text() + ".env\n")
    write(repo / "config" / "include.txt", ".env\n")
    os.symlink("config/include.txt", repo / ".worktreeinclude")
    commit_all(repo, env, "include through a link")
    write(repo / ".env", "A=1\n")
    r = run(repo, env, MOAI, "worktree", "create", "SPEC-INC")
    assert r.returncode == 0, r.stderr
    wt = Path(worktree_paths(repo, env)[1])
    assert (wt / ".env").read_text() == "A=1\n"


# --- the worktree root's claim file ---------------------------------------------------


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "dangling-outside", "file-outside"])
def test_a_hostile_claim_file_in_the_worktree_root_is_neither_read_whole_nor_written(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path, kind: str
) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + '  worktree:\n    root: "trees"\n')
    outside = tmp_path / "victim"
    hostile(repo / "trees" / ".moai-repository", kind, outside)
    if kind != "fifo":
        commit_all(repo, env, "a root claimed by a link")
    else:
        commit_all(repo, env, "a root in the repository")
    r = run(repo, env, MOAI, "worktree", "create", "SPEC-CLAIM")
    assert r.returncode == 0, r.stderr
    (made,) = worktree_paths(repo, env)[1:]
    # not ours to use: the repository's own root beside it
    assert Path(made).parent.name.startswith("trees-") and Path(made).name == "SPEC-CLAIM"
    if kind == "dangling-outside":
        assert not outside.exists() and not os.path.lexists(outside)
    if kind == "file-outside":
        assert outside.read_text() == "a file of yours\n"


# --- the main checkout's settings file -------------------------------------------------


def test_main_checkout_settings_linked_to_dev_zero_is_not_read_whole(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    # The main checkout is on a branch (a pull request under review) that commits
    # .claude/settings.local.json as a link to /dev/zero; the SPEC worktree starts
    # from main, which does not have it, and its setup looks at the main checkout's.
    git(repo, "switch", "-qc", "pr", env=env)
    hostile(repo / ".claude" / "settings.local.json", "dev-zero", repo / "unused")
    git(repo, "add", "-f", ".claude/settings.local.json", env=env)
    git(repo, "commit", "-qm", "hostile settings", env=env)
    r = run(repo, env, MOAI, "worktree", "create", "SPEC-SET")
    assert r.returncode == 0, r.stderr
    wt = Path(worktree_paths(repo, env)[1])
    assert settings(wt)["env"]["ANTHROPIC_BASE_URL"]
    assert os.readlink(repo / ".claude" / "settings.local.json") == "/dev/zero"


def test_a_committed_root_naming_someones_folder_is_not_claimed(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    """`worktree.root: ~/.ssh` (any folder already holding files of someone else's):
    no claim file there and no worktree, and so no key, inside it."""
    ssh = home / ".ssh"
    write(ssh / "id_ed25519", "not a real key\n")
    write(repo / LLM_YAML, SEED_LLM_YAML + '  worktree:\n    root: "~/.ssh"\n')
    commit_all(repo, env, "root")
    before = sorted(p.name for p in ssh.iterdir())
    proc = run(repo, env, MOAI, "worktree", "create", "SPEC-Y")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in ssh.iterdir()) == before
    made = [Path(p) for p in worktree_paths(repo, env) if Path(p).name == "SPEC-Y"]
    assert made and ssh not in made[0].parents, made


def test_a_committed_claude_worktrees_link_out_gets_no_worktree(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Without llm.yaml, `claude -w NAME` goes to `.claude/worktrees/NAME`; a committed
    link there leading out would make git create the worktree outside."""
    repo = tmp_path / "plain"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main", env=env)
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / ".claude").mkdir()
    os.symlink(outside, repo / ".claude" / "worktrees")
    write(repo / "README.md", "x\n")
    commit_all(repo, env, "link")
    payload = f'{{"name": "fix-q", "cwd": "{repo}"}}'
    proc = subprocess.run(
        [MOAI, "hook-impl", "claude-code", "worktree-create"],
        cwd=repo,
        env=env,
        input=payload,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode != 0
    assert "symbolic link leading outside" in proc.stderr and "Traceback" not in proc.stderr
    assert list(outside.iterdir()) == []
