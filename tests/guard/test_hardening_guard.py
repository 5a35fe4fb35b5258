"""The guard sees a key outside file contents too: in a commit message, in a file
name, in a UTF-16 file (LE or BE, with or without a byte order mark), for the
commit being made (hooks, `moai check --staged`) and for a range (CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepo import FAKE_KEY, git, moai, write
from tests.hooks_support import install, run_git

# A Z.ai key's shape, built here so this file holds none: CI knows no real key.
SHAPED = "0123456789abcdef" * 2 + "." + "TESTONLYfake" + "0000"
ENCODINGS = {
    "utf-16-le": b"",
    "utf-16-be": b"",
    "utf-16-le-bom": b"\xff\xfe",
    "utf-16-be-bom": b"\xfe\xff",
}


def _utf16(text: str, name: str) -> bytes:
    codec = "utf-16-le" if "le" in name else "utf-16-be"
    return ENCODINGS[name] + text.encode(codec)


def _no_key_shown(output: str) -> None:
    assert FAKE_KEY not in output and SHAPED not in output, "a key was printed"


def test_commit_message_with_a_key_is_refused_by_the_hook(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    write(repo / "notes.txt", "hello\n")
    git(repo, "add", "notes.txt", env=env)
    for key in (FAKE_KEY, SHAPED):
        proc = run_git(repo, "commit", "-qm", f"wip\n\ndebug token {key}", env=env, check=False)
        assert proc.returncode != 0, "a key in the message was committed"
        assert "commit message:3" in proc.stderr and "refused" in proc.stderr, proc.stderr
        _no_key_shown(proc.stderr)
    assert git(repo, "rev-list", "--count", "HEAD", env=env).strip() == "1"
    proc = run_git(repo, "commit", "-qm", "a clean message", env=env)
    assert git(repo, "rev-list", "--count", "HEAD", env=env).strip() == "2"


def test_commit_msg_check_for_hook_managers(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    msg = write(tmp_path / "MSG", f"fix\n\n{FAKE_KEY}\n")
    r = moai(repo, "check", "--commit-msg", str(msg), env=env)
    assert r.returncode == 1 and "commit message:3" in r.stderr, r.stderr
    _no_key_shown(r.stderr + r.stdout)


def test_a_key_in_a_file_name_is_refused_and_shown_masked(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    # (the last: two keys in one name, the second before an extension)
    for name in (f"dump-{FAKE_KEY}.txt", f"dump-{SHAPED}.txt", f"{FAKE_KEY}+{SHAPED}.txt"):
        write(repo / "logs" / name, "nothing secret inside\n")
        git(repo, "add", "logs", env=env)
        proc = run_git(repo, "commit", "-qm", "logs", env=env, check=False)
        assert proc.returncode != 0 and "its name holds a" in proc.stderr, proc.stderr
        _no_key_shown(proc.stderr)
        # The hint's pathspec (the masked part as `*`) unstages exactly that file.
        hint = proc.stderr.split("git rm --cached -- ", 1)[1].split()[0].strip("'")
        git(repo, "rm", "-q", "--cached", "--", hint, env=env)
        assert git(repo, "diff", "--cached", "--name-only", env=env) == ""
        (repo / "logs" / name).unlink()


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_key_in_a_utf16_file_is_refused(
    repo: Path, env: dict[str, str], keyed_home: str, encoding: str
) -> None:
    (repo / "config.ini").write_bytes(_utf16(f"[api]\r\nline=2\r\ntoken={FAKE_KEY}\r\n", encoding))
    (repo / "other.ini").write_bytes(_utf16(f"token={SHAPED}\n", encoding))
    git(repo, "add", "config.ini", "other.ini", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1, r.stderr
    assert "config.ini:3: GLM key" in r.stderr and "other.ini:1: Z.ai API key" in r.stderr
    _no_key_shown(r.stderr)


def test_binary_files_without_keys_pass(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    (repo / "blob.bin").write_bytes(bytes(range(256)) * 64 + b"\x00" * 4096)
    (repo / "plain.txt").write_bytes(_utf16("just text, no key\n", "utf-16-le-bom"))
    git(repo, "add", "blob.bin", "plain.txt", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 0, r.stderr
    # The same check did look: a key staged beside them is refused, and only it.
    write(repo / "key.txt", f"token={FAKE_KEY}\n")
    git(repo, "add", "key.txt", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1
    assert "key.txt:1: GLM key" in r.stderr
    assert "blob.bin" not in r.stderr and "plain.txt" not in r.stderr
    _no_key_shown(r.stderr)


def test_a_range_check_sees_messages_names_and_utf16(repo: Path, env: dict[str, str]) -> None:
    """CI: none of the user's keys, only shapes; every commit in the range."""
    base = git(repo, "rev-parse", "HEAD", env=env).strip()
    write(repo / "a.txt", "a\n")
    git(repo, "add", "a.txt", env=env)
    git(repo, "commit", "-qm", f"message with {SHAPED}", env=env)
    write(repo / f"k-{SHAPED}", "x\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "a name", env=env)
    (repo / "w.txt").write_bytes(_utf16(f"k={SHAPED}\n", "utf-16-be"))
    git(repo, "add", "w.txt", env=env)
    git(repo, "commit", "-qm", "utf-16", env=env)
    head = git(repo, "rev-parse", "HEAD", env=env).strip()
    r = moai(repo, "check", "--from-ref", base, "--to-ref", head, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "commit message:1: Z.ai API key" in r.stderr
    assert "its name holds a Z.ai API key" in r.stderr
    assert "w.txt:1: Z.ai API key" in r.stderr
    _no_key_shown(r.stderr + r.stdout)
