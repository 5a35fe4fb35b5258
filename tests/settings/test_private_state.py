"""What moai keeps that holds the settings file's values lives in ~/.moai, never in git's dirs.

The rule (docs/security.md, "What is kept where"): no copy of a key, nor of
any value of the user's settings file, anywhere but the settings file itself
and `~/.moai` (the user's private folder), whatever checkouts, worktree
creations and switches happen. moai's record of what it wrote (the values it
replaced, the file as it was) and the prepared switch's files are kept in
`~/.moai/worktrees/<id>/`; the git dir keeps only the pointer `private-id`.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.core_fixtures import private_folder, record_path
from tests.gitrepo import FAKE_KEY, SETTINGS, git, moai, write
from tests.hooks_support import install, moai_lines, run_git
from tests.worktree_support import created

USER_TOKEN = "user0000own0000token0000TESTONLYnotreal3"
OTHER_TOKEN = "user1111other1111token1111TESTONLYnotreal4"
USER_SETTINGS = (
    '{\n  "model": "opus",\n  "env": {"ANTHROPIC_AUTH_TOKEN": "'
    + USER_TOKEN
    + '", "MY_OTHER_TOKEN": "'
    + OTHER_TOKEN
    + '"},\n  "permissions": {"allow": ["Bash(ls:*)"]}\n}\n'
)
SECRETS = (FAKE_KEY, USER_TOKEN, OTHER_TOKEN)


def holding_a_secret(top: Path) -> list[str]:
    """Every file under `top` (links not followed) holding one of SECRETS."""
    found = []
    for dirpath, _dirs, names in os.walk(top):
        for name in names:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            found += [f"{path}: {s[:8]}" for s in SECRETS if s.encode() in data]
    return found


def test_no_value_of_the_settings_file_is_kept_in_the_git_dirs(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    write(repo / SETTINGS, USER_SETTINGS)
    install(repo, env)
    for branch in ("feature/SPEC-X", "other"):
        run_git(repo, "branch", branch, env=env)
    for branch in ("feature/SPEC-X", "main", "feature/SPEC-X", "other", "feature/SPEC-X"):
        run_git(repo, "checkout", "-q", branch, env=env)
    assert FAKE_KEY in (repo / SETTINGS).read_text()
    wt = created(repo, env, "SPEC-Y")
    write(wt / SETTINGS, USER_SETTINGS.replace('"opus"', '"sonnet"'))
    run_git(wt, "checkout", "-q", "-b", "plain", env=env)  # Claude: the user's file as is
    for branch in ("feature/SPEC-Y", "plain", "feature/SPEC-Y"):
        run_git(wt, "checkout", "-q", branch, env=env)
    assert FAKE_KEY in (wt / SETTINGS).read_text()
    run_git(repo, "checkout", "-q", "main", env=env)
    run_git(repo, "checkout", "-q", "feature/SPEC-X", env=env)

    assert holding_a_secret(repo / ".git") == []
    # ...and what moai keeps is in ~/.moai, one private folder a worktree.
    assert private_folder(repo, env).parent == home / ".moai" / "worktrees"
    assert private_folder(wt, env) != private_folder(repo, env)
    assert holding_a_secret(home / ".moai" / "worktrees") != []

    # Back on Claude, the user's file comes back byte for byte.
    run_git(repo, "checkout", "-q", "main", env=env)
    run_git(wt, "checkout", "-q", "plain", env=env)
    assert (repo / SETTINGS).read_text() == USER_SETTINGS
    assert (wt / SETTINGS).read_text() == USER_SETTINGS.replace('"opus"', '"sonnet"')
    assert git(repo, "status", "--porcelain", env=env) == ""
    assert holding_a_secret(repo / ".git") == []


# --- an earlier moai's record, copies and moves ---------------------------------------


def _on_glm_with_user_settings(repo: Path, env: dict[str, str]) -> None:
    write(repo / SETTINGS, USER_SETTINGS)
    git(repo, "switch", "-qc", "feature/SPEC-X", env=env)
    r = moai(repo, "apply", env=env)
    assert r.returncode == 0, r.stderr
    assert FAKE_KEY in (repo / SETTINGS).read_text()


def test_an_earlier_moais_record_is_read_then_moved_on_the_next_write(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    """As an earlier moai left it: the record and ready/ in the git dir, no private-id."""
    _on_glm_with_user_settings(repo, env)
    state = repo / ".git" / "moai"
    record = record_path(repo, env).read_bytes()
    (state / "ownership.json").write_bytes(record)
    write(state / "ready" / "claude.settings", USER_SETTINGS)
    shutil.rmtree(private_folder(repo, env))
    (state / "private-id").unlink()
    r = moai(repo, "status", "--json", env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["active_backend"] == "glm", r.stderr
    # The next write (a key of ours deleted by hand, written again) moves it.
    doc = json.loads((repo / SETTINGS).read_text())
    del doc["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"]
    (repo / SETTINGS).write_text(json.dumps(doc))
    r = moai(repo, "apply", env=env)
    assert r.returncode == 0, r.stderr
    assert not (state / "ownership.json").exists() and not (state / "ready").exists()
    assert record_path(repo, env).read_bytes() == record
    assert holding_a_secret(repo / ".git") == []
    git(repo, "switch", "-q", "main", env=env)
    assert moai(repo, "apply", env=env).returncode == 0
    assert (repo / SETTINGS).read_text() == USER_SETTINGS


def test_an_earlier_moais_record_is_moved_by_a_checkout(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    _on_glm_with_user_settings(repo, env)
    install(repo, env)
    state = repo / ".git" / "moai"
    shutil.move(record_path(repo, env), state / "ownership.json")
    shutil.rmtree(private_folder(repo, env))
    (state / "private-id").unlink()
    (state / "hook-stamp").unlink(missing_ok=True)
    run_git(repo, "checkout", "-q", "main", env=env)
    assert (repo / SETTINGS).read_text() == USER_SETTINGS
    assert not (state / "ownership.json").exists()
    assert holding_a_secret(repo / ".git") == []


def test_a_copied_repository_gets_its_own_private_folder(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path
) -> None:
    _on_glm_with_user_settings(repo, env)
    original = record_path(repo, env).read_bytes()
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, symlinks=True)
    r = moai(copy, "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert private_folder(copy, env) != private_folder(repo, env)
    assert record_path(repo, env).read_bytes() == original  # the original's, untouched
    r = moai(copy, "glm", env=env)
    assert r.returncode == 0, r.stderr
    assert private_folder(copy, env) != private_folder(repo, env)
    assert record_path(repo, env).read_bytes() == original
    r = moai(repo, "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert (repo / SETTINGS).read_text() == USER_SETTINGS


def test_a_moved_repository_keeps_its_record(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path
) -> None:
    _on_glm_with_user_settings(repo, env)
    folder = private_folder(repo, env)
    moved = tmp_path / "moved"
    shutil.move(repo, moved)
    # Before any write: not reported as gone (its folder still names where it was).
    assert _private_checks(moved, env) == []
    r = moai(moved, "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert (moved / SETTINGS).read_text() == USER_SETTINGS
    assert private_folder(moved, env) == folder
    gitdir = (folder / "gitdir").read_text()
    assert gitdir == os.path.realpath(moved / ".git" / "moai") + "\n"


# --- hostile and damaged inputs --------------------------------------------------------


def _pointer(repo: Path) -> Path:
    return repo / ".git" / "moai" / "private-id"


@pytest.mark.parametrize("kind", ["path", "long", "fifo", "link", "upper"])
def test_a_private_id_that_is_not_one_is_one_line_and_a_new_folder(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path, kind: str
) -> None:
    write(repo / SETTINGS, USER_SETTINGS)
    pointer = _pointer(repo)
    pointer.parent.mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "id"
    target.write_text("0123456789abcdef0123456789abcdef\n")
    if kind == "path":
        pointer.write_text("../../../outside/x\n")
    elif kind == "long":
        pointer.write_text("a" * 100_000)
    elif kind == "fifo":
        os.mkfifo(pointer)
    elif kind == "link":
        pointer.symlink_to(target)
    else:
        pointer.write_text("0123456789ABCDEF0123456789ABCDEF")
    git(repo, "switch", "-qc", "feature/SPEC-X", env=env)
    r = moai(repo, "apply", env=env)
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stderr.splitlines() if str(pointer) in line]
    assert len(lines) == 1 and "not a private-id moai wrote" in lines[0], r.stderr
    assert pointer.is_file() and not pointer.is_symlink()
    assert len(pointer.read_text().strip()) == 32
    assert FAKE_KEY in (repo / SETTINGS).read_text()
    assert record_path(repo, env).is_file()
    assert sorted(p.name for p in outside.iterdir()) == ["id"]
    assert target.read_text() == "0123456789abcdef0123456789abcdef\n"
    assert holding_a_secret(repo / ".git") == []
    assert moai(repo, "claude", env=env).returncode == 0
    assert (repo / SETTINGS).read_text() == USER_SETTINGS


@pytest.mark.parametrize("link", ["worktrees", "id"])
def test_a_link_out_of_moai_home_is_refused_and_no_key_written(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path, link: str
) -> None:
    write(repo / SETTINGS, USER_SETTINGS)
    outside = tmp_path / "outside"
    outside.mkdir()
    ident = "0123456789abcdef0123456789abcdef"
    if link == "worktrees":
        (home / ".moai" / "worktrees").symlink_to(outside)
    else:
        write(_pointer(repo), ident + "\n")
        (home / ".moai" / "worktrees").mkdir()
        (home / ".moai" / "worktrees" / ident).symlink_to(outside)
    git(repo, "switch", "-qc", "feature/SPEC-X", env=env)
    r = moai(repo, "apply", env=env)
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "cannot write there" in r.stderr and str(home / ".moai" / "worktrees") in r.stderr
    assert list(outside.iterdir()) == []
    assert (repo / SETTINGS).read_text() == USER_SETTINGS


@pytest.mark.parametrize("kind", ["huge", "fifo", "device"])
def test_a_gitdir_moai_cannot_read_is_one_line_and_a_new_folder(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, kind: str
) -> None:
    _on_glm_with_user_settings(repo, env)
    folder = private_folder(repo, env)
    gitdir = folder / "gitdir"
    gitdir.unlink()
    if kind == "huge":
        gitdir.write_text("/x" * 1_000_000)
    elif kind == "fifo":
        os.mkfifo(gitdir)
    elif os.geteuid() == 0:
        os.mknod(gitdir, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero's numbers
    else:
        gitdir.symlink_to("/dev/zero")
    # Read-only readers: no record (the keys look like no record's), nothing made.
    r = moai(repo, "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert private_folder(repo, env) == folder
    doc = json.loads((repo / SETTINGS).read_text())
    del doc["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"]
    (repo / SETTINGS).write_text(json.dumps(doc))
    r = moai(repo, "apply", env=env)
    lines = [line for line in r.stderr.splitlines() if str(gitdir) in line]
    assert len(lines) == 1, r.stderr
    assert private_folder(repo, env) != folder


# --- ~/.moai that cannot hold it ------------------------------------------------------


def test_no_private_folder_means_no_key_written_and_git_succeeds(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    """~/.moai/worktrees cannot be made (a file there; as root a read-only folder would
    not refuse): the engine writes no key it could not take out again."""
    write(repo / SETTINGS, USER_SETTINGS)
    (home / ".moai" / "worktrees").write_text("not a folder\n")
    install(repo, env)
    run_git(repo, "branch", "feature/SPEC-X", env=env)
    proc = run_git(repo, "checkout", "-q", "feature/SPEC-X", env=env)
    assert proc.returncode == 0
    lines = moai_lines(proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert str(home / ".moai" / "worktrees") in lines[0] and "make it a folder" in lines[0]
    assert (repo / SETTINGS).read_text() == USER_SETTINGS
    assert holding_a_secret(repo / ".git") == []
    run_git(repo, "checkout", "-q", "main", env=env)
    assert (repo / SETTINGS).read_text() == USER_SETTINGS


# --- cleanup -------------------------------------------------------------------------


def _private_checks(cwd: Path, env: dict[str, str]) -> list[dict[str, str]]:
    r = moai(cwd, "doctor", "--json", env=env)
    checks: list[dict[str, str]] = json.loads(r.stdout)["checks"]
    return [c for c in checks if c["name"] == "private"]


def test_doctor_reports_folders_of_gone_worktrees_and_clean_removes_them(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    _on_glm_with_user_settings(repo, env)
    git(repo, "switch", "-q", "main", env=env)
    wt = created(repo, env, "SPEC-G1")
    gone = private_folder(wt, env)
    ours = private_folder(repo, env)
    assert _private_checks(repo, env) == []
    git(repo, "worktree", "remove", "--force", str(wt), env=env)  # plain git: moai not asked
    assert gone.is_dir()
    checks = _private_checks(repo, env)
    assert len(checks) == 1 and checks[0]["status"] == "warn", checks
    assert checks[0]["fix"] == "moai worktree clean"
    assert "worktrees/SPEC-G1/moai" in checks[0]["message"]
    r = moai(repo, "worktree", "clean", "--dry-run", env=env)
    assert f"would remove {gone}" in r.stdout and gone.is_dir()
    r = moai(repo, "worktree", "clean", env=env)
    assert r.returncode == 0, r.stderr
    assert f"removed {gone}" in r.stdout
    assert not gone.exists() and ours.is_dir()
    assert _private_checks(repo, env) == []


def test_clean_takes_the_folder_of_a_worktree_whose_directory_was_deleted(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    wt = created(repo, env, "SPEC-G2")
    gone = private_folder(wt, env)
    shutil.rmtree(wt)  # git still has its record until pruned
    r = moai(repo, "worktree", "clean", env=env)
    assert r.returncode == 0, r.stderr
    assert "pruned" in r.stdout and not gone.exists()


def test_a_damaged_private_id_is_reported_by_doctor(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(_pointer(repo), "../../x\n")
    checks = _private_checks(repo, env)
    assert len(checks) == 1 and checks[0]["fix"] == f"rm {_pointer(repo)}", checks


def test_a_private_folder_made_a_link_since_the_stamp_gets_nothing_written_through_it(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path
) -> None:
    """The prepared switch (githooks/fast.py) leaves it to the engine, which refuses."""
    write(repo / SETTINGS, USER_SETTINGS)
    install(repo, env)
    run_git(repo, "branch", "feature/SPEC-X", env=env)
    run_git(repo, "checkout", "-q", "-b", "other", env=env)
    run_git(repo, "checkout", "-q", "main", env=env)  # the engine stamps and prepares GLM
    folder = private_folder(repo, env)
    assert (folder / "ready" / "glm.settings").is_file()
    outside = tmp_path / "outside"
    shutil.move(folder, outside)
    folder.symlink_to(outside)
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    proc = run_git(repo, "checkout", "-q", "feature/SPEC-X", env=env)
    lines = moai_lines(proc.stderr)
    assert len(lines) == 1 and "symbolic link" in lines[0], proc.stderr
    assert (repo / SETTINGS).read_text() == USER_SETTINGS
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == before


def test_a_stamp_of_an_earlier_moai_goes_to_the_engine(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    """An earlier moai's stamp (same version, no `ready-dir`: its prepared files were in
    the git dir) is not taken by the prepared switch; the engine writes a new one."""
    write(repo / SETTINGS, USER_SETTINGS)
    install(repo, env)
    run_git(repo, "branch", "feature/SPEC-X", env=env)
    run_git(repo, "checkout", "-q", "-b", "other", env=env)
    run_git(repo, "checkout", "-q", "main", env=env)
    stamp = repo / ".git" / "moai" / "hook-stamp"
    text = stamp.read_text()
    assert "\nready-dir " in text
    before = stamp.stat()
    stamp.write_text("".join(ln for ln in text.splitlines(True) if not ln.startswith("ready-dir")))
    os.utime(stamp, ns=(before.st_atime_ns, before.st_mtime_ns))
    run_git(repo, "checkout", "-q", "feature/SPEC-X", env=env)
    assert FAKE_KEY in (repo / SETTINGS).read_text()
    assert "\nready-dir " in stamp.read_text()  # the engine's, not the old one switched
    run_git(repo, "checkout", "-q", "main", env=env)
    assert (repo / SETTINGS).read_text() == USER_SETTINGS


def test_readers_create_nothing(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    """status, doctor, worktree list and cost read the record through the same lookup,
    which never makes a folder or a pointer."""
    write(repo / SETTINGS, USER_SETTINGS)
    for args in (("status",), ("doctor",), ("worktree", "list"), ("cost",)):
        moai(repo, *args, env=env)
    assert not _pointer(repo).exists()
    assert not (home / ".moai" / "worktrees").exists()


def test_clean_in_another_repository_keeps_the_record_of_a_moved_one(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path
) -> None:
    """A repository moved (or on a drive not mounted now) looks gone from elsewhere until
    its next write; `moai worktree clean` run in another repository must not take its
    record, which holds the user's own values that moai replaced."""
    from tests.gitrepo import make_repo

    _on_glm_with_user_settings(repo, env)
    folder = private_folder(repo, env)
    moved = tmp_path / "moved"
    shutil.move(repo, moved)
    other = make_repo(tmp_path / "other", env)
    r = moai(other, "worktree", "clean", env=env)
    assert r.returncode == 0, r.stderr
    assert folder.is_dir(), r.stdout
    r = moai(moved, "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert (moved / SETTINGS).read_text() == USER_SETTINGS
