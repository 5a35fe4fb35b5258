"""`moai cost` on a `~/.claude/projects` that another tool (or an attacker) filled with
things that are not transcripts: it ends, stays small, and still counts the real ones."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import BinaryIO

from moai_mashup.cost.transcripts import encode_project_path
from tests.cost.bounded import run_moai
from tests.costkit import assistant, projects, repo_with_worktree, write_session

MIB = 1 << 20


def good(main: Path, n: int) -> str:
    return json.dumps(assistant(cwd=main, branch="main", msg_id=f"msg_{n}")) + "\n"


def cost(main: Path, env: dict[str, str], timeout: float = 60) -> dict[str, object]:
    r = run_moai(main, "cost", "--json", env=env, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.peak_mib < 100, f"moai cost peaked at {r.peak_mib:.0f} MiB"
    data: dict[str, object] = json.loads(r.stdout)
    return data


def responses(data: dict[str, object]) -> int:
    total = data["total"]
    assert isinstance(total, dict)
    return int(total["responses"])


def test_a_fifo_among_the_transcripts_is_skipped_not_waited_on(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    path = write_session(home, main, "s-1", [json.loads(good(main, 1))])
    os.mkfifo(path.parent / "fifo.jsonl")
    sub = path.parent / "s-1" / "subagents"
    sub.mkdir(parents=True)
    os.mkfifo(sub / "agent-fifo.jsonl")
    assert responses(cost(main, env, timeout=30)) == 1


def test_a_link_to_dev_zero_is_skipped_not_read_forever(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    path = write_session(home, main, "s-1", [json.loads(good(main, 1))])
    (path.parent / "zero.jsonl").symlink_to("/dev/zero")
    assert responses(cost(main, env, timeout=30)) == 1


def test_linked_and_looping_folders_are_not_followed(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    path = write_session(home, main, "s-1", [json.loads(good(main, 1))])
    folder = path.parent
    (folder / "loop").symlink_to("loop")  # a link loop inside a transcript folder
    (folder / "up").symlink_to("..")  # a folder linked to its own parent
    enc = encode_project_path(str(main))
    (projects(home) / f"{enc}-loop").symlink_to(f"{enc}-loop")  # a transcript folder that loops
    os.mkfifo(projects(home) / f"{enc}-fifo")  # one that is a FIFO
    # A transcript folder that is a link to a folder holding a FIFO: never entered.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.mkfifo(elsewhere / "trap.jsonl")
    (projects(home) / f"{enc}-linked").symlink_to(elsewhere)
    data = cost(main, env, timeout=30)
    assert responses(data) == 1
    transcripts = data["transcripts"]
    assert isinstance(transcripts, dict)
    assert transcripts["folders"] == [enc]


def _huge_line(fh: BinaryIO, size: int) -> None:
    block = b'"usage" ' + b"x" * (MIB - 8)
    for _ in range(size // MIB):
        fh.write(block)


def test_a_line_of_100_mb_is_skipped_as_malformed_and_never_held(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    folder = projects(home) / encode_project_path(str(main))
    folder.mkdir(parents=True)
    with (folder / "s-1.jsonl").open("wb") as fh:
        fh.write(good(main, 1).encode())
        _huge_line(fh, 100 * MIB)
        fh.write(b"\n")
        fh.write(good(main, 2).encode())  # the line after it is read as usual
    with (folder / "s-2.jsonl").open("wb") as fh:
        fh.write(good(main, 3).encode())
        _huge_line(fh, 40 * MIB)  # and a last line without a newline
    data = cost(main, env, timeout=120)
    assert responses(data) == 3
    transcripts = data["transcripts"]
    assert isinstance(transcripts, dict)
    assert transcripts["malformed"] == 2
    samples = transcripts["samples"]
    assert isinstance(samples, list)
    why = "line longer than 16 MiB"
    assert {"path": str(folder / "s-1.jsonl"), "line": 2, "why": why} in samples
