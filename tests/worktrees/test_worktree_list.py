"""`moai worktree list`, `path` and `go` on real repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moai_mashup import git as git_mod
from moai_mashup.worktrees.entries import WorktreeEntry, parse_porcelain
from tests.gitrepo import git, moai, write
from tests.worktree_support import commit_file, created, listing, squash_merge


def test_list_json_shows_state_of_every_worktree(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    ahead = created(repo, env, "SPEC-A1")
    commit_file(ahead, env, "a.txt", "a\n", "work on A")
    commit_file(ahead, env, "a2.txt", "a\n", "more work on A")
    dirty = created(repo, env, "SPEC-D1")
    write(dirty / "scratch.txt", "wip\n")
    write(dirty / "README.md", "changed\n")
    drifted = created(repo, env, "SPEC-X1")
    assert moai(drifted, "claude", env=env).returncode == 0
    commit_file(repo, env, "main.txt", "m\n", "main moves on")

    rows = listing(repo, env)
    main = rows["main"]
    assert main["is_main"] is True and main["path"] == str(repo)
    assert main["backend_active"] == "claude" and main["backend_expected"] == "claude"
    a = rows["feature/SPEC-A1"]
    assert a["spec_id"] == "SPEC-A1" and a["path"] == str(ahead)
    assert (a["ahead"], a["behind"]) == (2, 1)
    assert a["merged"] is None and a["dirty"] == [] and a["empty"] is False
    assert a["backend_active"] == "glm" and a["drift"] is False
    d = rows["feature/SPEC-D1"]
    assert sorted(d["dirty"]) == [" M README.md", "?? scratch.txt"]
    assert d["empty"] is True, "no commits on the branch yet"
    x = rows["feature/SPEC-X1"]
    assert x["backend_active"] == "claude" and x["backend_expected"] == "glm"
    assert x["drift"] is True


def test_list_sees_squash_and_rebase_merges(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    sq = created(repo, env, "SPEC-S1")
    commit_file(sq, env, "s1.txt", "1\n", "s one")
    commit_file(sq, env, "s2.txt", "2\n", "s two")
    squash_merge(repo, env, "feature/SPEC-S1")
    rb = created(repo, env, "SPEC-R1")
    commit_file(rb, env, "r.txt", "r\n", "r one")
    commit_file(repo, env, "other.txt", "o\n", "main moves first")
    git(repo, "cherry-pick", "feature/SPEC-R1", env=env)  # a rebase merge of one commit
    commit_file(repo, env, "r.txt", "changed later\n", "main edits the same file")
    ff = created(repo, env, "SPEC-F1")
    commit_file(ff, env, "f.txt", "f\n", "f one")
    git(repo, "merge", "-q", "--ff-only", "feature/SPEC-F1", env=env)
    rows = listing(repo, env)
    assert rows["feature/SPEC-S1"]["merged"] == "squashed"
    assert rows["feature/SPEC-R1"]["merged"] == "rebased"
    assert rows["feature/SPEC-F1"]["merged"] == "merged"


def test_list_table_and_missing_worktree(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    gone = created(repo, env, "SPEC-G1")
    created(repo, env, "SPEC-G2")
    shutil.rmtree(gone)
    r = moai(repo, "worktree", "list", env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["SPEC", "BRANCH", "BACKEND"]
    g1 = next(line for line in lines if "SPEC-G1" in line)
    assert "missing" in g1
    g2 = next(line for line in lines if "SPEC-G2" in line)
    assert "glm" in g2 and "~/worktrees/project/SPEC-G2" in g2
    assert listing(repo, env)["feature/SPEC-G1"]["missing"] is True


def test_path_and_go(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    wt = created(repo, env, "SPEC-P1")
    sub = repo / "README.md"
    assert sub.exists()
    r = moai(wt, "worktree", "path", "SPEC-P1", env=env)
    assert r.stdout.strip() == str(wt), "works from inside any worktree"
    r = moai(repo, "worktree", "go", "SPEC-P1", env=env)
    assert r.returncode == 0 and r.stdout.strip() == str(wt)
    assert "shell-init" in r.stderr
    r = moai(repo, "worktree", "path", "SPEC-NOPE", env=env)
    assert r.returncode == 2 and "moai worktree create SPEC-NOPE" in r.stderr
    r = moai(repo, "worktree", "path", "../etc", env=env)
    assert r.returncode == 2 and "SPEC-AUTH-001" in r.stderr


paths = st.text(st.characters(blacklist_characters="\0\n", blacklist_categories=["Cs"]), min_size=1)


@given(
    st.lists(
        st.tuples(
            paths,
            st.one_of(st.none(), st.text("abcdef/-_", min_size=1)),
            st.one_of(st.none(), st.text(st.characters(blacklist_characters="\0"))),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_parse_porcelain_round_trip(items: list[tuple[str, str | None, str | None]]) -> None:
    text = ""
    expected = []
    for path, branch, lock in items:
        text += f"worktree {path}\0HEAD {'1' * 40}\0"
        text += f"branch refs/heads/{branch}\0" if branch else "detached\0"
        if lock is not None:
            text += f"locked {lock}\0" if lock else "locked\0"
        text += "\0"
        locked = None if lock is None else lock
        expected.append(WorktreeEntry(Path(path), "1" * 40, branch, False, locked, None))
    assert parse_porcelain(text) == expected


def test_list_survives_a_broken_worktree(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    broken = created(repo, env, "SPEC-BAD")
    write(broken / ".claude/settings.local.json", '{"env": {')
    created(repo, env, "SPEC-OK")
    r = moai(repo, "worktree", "list", env=env)
    assert r.returncode == 0, r.stderr
    assert "SPEC-OK" in r.stdout and "SPEC-BAD" in r.stdout
    assert "invalid JSON" in r.stderr and str(broken) in r.stderr
    rows = listing(repo, env)
    assert rows["feature/SPEC-BAD"]["backend_active"] is None
    assert rows["feature/SPEC-BAD"]["errors"]


def test_create_from_a_linked_worktree_uses_the_main_one(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    write(repo / ".gitignore", (repo / ".gitignore").read_text() + ".env\n")
    write(repo / ".worktreeinclude", ".env\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "include", env=env)
    write(repo / ".env", "FROM=main\n")
    first = created(repo, env, "SPEC-M1")
    second = created(first, env, "SPEC-M2")
    assert second == home / "worktrees" / "project" / "SPEC-M2"
    assert (second / ".env").read_text() == "FROM=main\n"


def test_parallel_git_keeps_order_outputs_and_failures(
    repo: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """git.Parallel: more commands than slots, a big output, a failure, and work between polls."""
    for key in [k for k in os.environ if k.startswith("GIT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", env["HOME"])
    big = "".join(f"line {i:06d} of a blob larger than a pipe's buffer\n" for i in range(4000))
    commit_file(repo, env, "big.txt", big, "a big file")
    head = git(repo, "rev-parse", "HEAD", env=env).strip()
    sub = repo / "sub"
    sub.mkdir()
    jobs: list[tuple[list[str], Path, dict[str, str] | None]] = [
        (["cat-file", "-p", "HEAD:big.txt"], repo, None),
        (["rev-parse", "--verify", "-q", "refs/heads/no-such-branch"], repo, None),
        (["cat-file", "-p", "HEAD:no-such-file.txt"], repo, None),
        (["var", "GIT_EDITOR"], repo, {"GIT_EDITOR": "an-editor-of-this-job"}),
        *[(["rev-parse", "--show-prefix", "HEAD"], sub if i % 2 else repo, None) for i in range(9)],
    ]
    runs = git_mod.Parallel(iter(jobs), limit=3)
    runs.poll()
    done = runs.results()
    assert len(done) == len(jobs)
    assert done[0] == git_mod.Finished(0, big, "")
    assert done[1].returncode == 1 and done[1].stdout == ""
    assert done[2].returncode == 128 and "no-such-file.txt" in done[2].stderr
    assert done[3].stdout == "an-editor-of-this-job\n"
    for i, one in enumerate(done[4:]):
        assert one.returncode == 0, one.stderr
        assert one.stdout == ("sub/\n" if i % 2 else "\n") + head + "\n"
    assert git_mod.Parallel([], limit=2).results() == []


def _status_copies(wt: Path) -> list[Path]:
    gitdir = Path((wt / ".git").read_text().split("gitdir: ", 1)[1].strip())
    return sorted((gitdir / "moai").glob("status-index-*"))


def _dirty(repo: Path, env: dict[str, str], branch: str) -> list[str]:
    return sorted(listing(repo, env)[branch]["dirty"])


def test_list_status_follows_work_through_its_index_copy(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """`list` asks git about a copy of each index (git's untracked cache lives there):
    every kind of work still shows, and the worktree's own index is never written."""
    wt = created(repo, env, "SPEC-C1")
    branch = "feature/SPEC-C1"
    gitdir = Path((wt / ".git").read_text().split("gitdir: ", 1)[1].strip())
    git(wt, "status", "--porcelain", env=env)  # settle the index: no racy entries left
    index = gitdir / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    assert _dirty(repo, env, branch) == []
    assert _dirty(repo, env, branch) == []  # the second time from git's caches
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before, "the real index untouched"
    assert len(_status_copies(wt)) == 1 and not (gitdir / "index.lock").exists()

    write(wt / "new.txt", "untracked\n")
    assert _dirty(repo, env, branch) == ["?? new.txt"]
    write(wt / "deep/er/file.txt", "untracked in a new directory\n")
    assert _dirty(repo, env, branch) == ["?? deep/", "?? new.txt"]
    write(wt / "deep/er/more.txt", "in a directory already seen\n")
    (wt / "new.txt").unlink()
    assert _dirty(repo, env, branch) == ["?? deep/"]
    shutil.rmtree(wt / "deep")
    write(wt / "README.md", "edited\n")
    assert _dirty(repo, env, branch) == [" M README.md"]
    git(wt, "add", "README.md", env=env)  # a new index: a new copy replaces the old one
    assert _dirty(repo, env, branch) == ["M  README.md"]
    assert len(_status_copies(wt)) == 1
    git(wt, "commit", "-qm", "edit", env=env)
    write(wt / ".gitignore", (wt / ".gitignore").read_text() + "*.log\n")
    write(wt / "run.log", "ignored\n")
    assert _dirty(repo, env, branch) == [" M .gitignore"]
    git(wt, "commit", "-qam", "ignore logs", env=env)
    assert _dirty(repo, env, branch) == []
    # what `list` says is what git says of the worktree itself
    assert git(wt, "status", "--porcelain", env=env) == ""


def test_list_survives_a_broken_index_copy_and_a_broken_index(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-I1")
    other = created(repo, env, "SPEC-I2")
    write(wt / "wip.txt", "work\n")
    assert _dirty(repo, env, "feature/SPEC-I1") == ["?? wip.txt"]
    (copy,) = _status_copies(wt)
    copy.write_bytes(b"not an index")  # git fails on it: the worktree's own index answers
    r = moai(repo, "worktree", "list", "--json", env=env)
    assert r.returncode == 0 and r.stderr == ""
    assert _dirty(repo, env, "feature/SPEC-I1") == ["?? wip.txt"]

    gitdir = Path((wt / ".git").read_text().split("gitdir: ", 1)[1].strip())
    (gitdir / "index").write_bytes(b"DIRC broken")
    write(other / "wip.txt", "work\n")
    r = moai(repo, "worktree", "list", env=env)
    assert r.returncode == 0, r.stderr
    assert f"{wt}: status: git" in r.stderr, "git's own error, on the worktree it concerns"
    assert str(other) not in r.stderr
    rows = listing(repo, env)
    assert rows["feature/SPEC-I1"]["errors"] and rows["feature/SPEC-I1"]["dirty"] == []
    assert rows["feature/SPEC-I2"]["dirty"] == ["?? wip.txt"]


def _run_python(cwd: Path, env: dict[str, str], code: str, *argv: str) -> list[str | int]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return [proc.returncode, proc.stdout, proc.stderr]


CLICK_PATH = "import sys; from moai_mashup.cli import main; sys.argv[0] = 'moai'; main()"
ENTRY_PROBE = (
    "import atexit, sys; from moai_mashup.entry import main; sys.argv[0] = 'moai'\n"
    "atexit.register(lambda: sys.stderr.write(f'click imported: {\"click\" in sys.modules}'))\n"
    "main()"
)


def test_list_without_click_says_what_the_click_command_says(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    """`moai worktree list [--json]` skips click (moai_mashup.entry); the output is the same."""
    broken = created(repo, env, "SPEC-E1")
    write(broken / ".claude/settings.local.json", '{"env": {')
    write(created(repo, env, "SPEC-E2") / "wip.txt", "work\n")
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    for cwd, args in [
        (repo, ["worktree", "list"]),
        (repo, ["worktree", "list", "--json"]),
        (outside, ["worktree", "list"]),
    ]:
        code, out, err = _run_python(cwd, env, ENTRY_PROBE, *args)
        assert isinstance(err, str) and err.endswith("click imported: False"), err
        fast = [code, out, err.removesuffix("click imported: False")]
        assert fast == _run_python(cwd, env, CLICK_PATH, *args), args
        r = moai(cwd, *args, env=env)  # the installed script goes the same way
        assert [r.returncode, r.stdout, r.stderr] == fast
    assert fast[0] == 2 and "not inside a git worktree" in str(fast[2])
    code, out, err = _run_python(repo, env, ENTRY_PROBE, "worktree", "list")
    assert "SPEC-E2" in str(out) and f"{broken}: " in str(err) and "invalid JSON" in str(err)
    # anything else, --help included, is click's
    code, out, err = _run_python(repo, env, ENTRY_PROBE, "worktree", "list", "--help")
    assert code == 0 and "--json" in str(out) and str(err).endswith("click imported: True")


def test_list_reads_committed_config_only_inside_each_worktree(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    """Each worktree's committed files are read through files.py's rule: a folder
    link inside the worktree is followed, one leading out of it is refused in one
    line that never quotes the file, and a plain path costs no realpath."""
    inside = created(repo, env, "SPEC-IN1")
    moved = inside / ".moai-real"
    (inside / ".moai").rename(moved)
    (inside / ".moai").symlink_to(".moai-real")  # a link that stays in the worktree
    outside = created(repo, env, "SPEC-OUT1")
    secret = tmp_path / "elsewhere" / "config"
    shutil.copytree(outside / ".moai" / "config", secret)
    (secret / "sections" / "llm.yaml").write_text("llm:\n  mode: glm-only  # sk-leak\n")
    shutil.rmtree(outside / ".moai" / "config")
    (outside / ".moai" / "config").symlink_to(secret)  # a folder link leading out
    plain = created(repo, env, "SPEC-PLAIN1")

    r = moai(repo, "worktree", "list", env=env)
    assert r.returncode == 0, r.stderr
    rows = listing(repo, env)
    for path, branch in ((inside, "feature/SPEC-IN1"), (plain, "feature/SPEC-PLAIN1")):
        assert rows[branch]["errors"] == [] and rows[branch]["backend_expected"] == "glm"
        assert f"{path}: " not in r.stderr
    assert rows["feature/SPEC-OUT1"]["errors"], rows["feature/SPEC-OUT1"]
    assert f"{outside}: " in r.stderr and "symbolic link leading outside" in r.stderr
    assert "sk-leak" not in r.stderr and "sk-leak" not in r.stdout
