"""`moai cost` split across worker processes gives what one process gives, field for field.

MOAI_COST_WORKERS=1 keeps one process, 2 or 3 force the split however small the
input, so the fixtures and small generated transcripts take the parallel path:
duplicates across files (a forked session), across a part boundary inside one
file (a streamed copy with more output tokens after the cut), a phase command
before the cut and its responses after it, and every kind of bad line.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from moai_mashup.cost import scan
from moai_mashup.cost.attribution import Attributor, Bucket, Filters, Place
from moai_mashup.cost.transcripts import CHUNK, ScanStats, scan_file
from tests.costkit import (
    BRANCH,
    assistant,
    cost_json,
    install_fixtures,
    projects,
    repo_with_worktree,
    user_command,
    write_session,
)
from tests.gitrepo import moai

MIB = 1 << 20


def cost_with(main: Path, env: dict[str, str], workers: int, *args: str) -> dict[str, Any]:
    run_env = {**env, scan.WORKERS_ENV: str(workers)}
    return cost_json(moai(main, "cost", "--json", *args, env=run_env))


def same_both_ways(main: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    one = cost_with(main, env, 1, *args)
    for workers in (2, 3):
        assert cost_with(main, env, workers, *args) == one, f"{workers} parts differ"
    return one


def test_the_fixtures_give_the_same_report_split_or_not(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    install_fixtures(home, main, wt)
    data = same_both_ways(main, env)
    assert data["total"]["responses"] == 12
    assert data["duplicates"] == 6
    for by in ("spec", "model", "day"):
        same_both_ways(main, env, "--by", by)


def compact(rec: dict[str, Any]) -> str:
    """As Claude Code writes a record: its quick ids are read without parsing."""
    return json.dumps(rec, separators=(",", ":")) + "\n"


def _turns(cwd: Path, branch: str, session: str, first: int, n: int, pad: int) -> list[Any]:
    return [
        assistant(
            cwd=cwd,
            branch=branch,
            msg_id=f"msg_{session}_{i}",
            session=session,
            ts=f"2026-11-{1 + i % 28:02d}T10:00:00.000Z",
            tokens=(100 + i, 10 + i % 7, i % 5, i % 3),
        )
        | {"pad": "p" * pad}
        for i in range(first, first + n)
    ]


def test_generated_transcripts_with_copies_everywhere(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    # One long session: a phase command, 300 responses, then a copy of each (as a
    # second content block, and as a streamed update with more output tokens):
    # whatever the cut, copies fall on both sides of it. Most lines compact, as
    # Claude Code writes them; every seventh as json.dumps writes (no quick ids).
    turns = _turns(wt, BRANCH, "long", 0, 300, 2000)
    command = user_command(
        cwd=wt, branch=BRANCH, name="/moai:3-sync", args="SPEC-AUTH-001", session="long"
    )
    more = []
    for rec in turns[::3]:
        copy = json.loads(json.dumps(rec))
        copy["message"]["usage"]["output_tokens"] += 50
        more.append(copy)
    bad = [
        '{"type": "assistant", "usage": {oops\n',
        '[1, 2, "usage"]\n',
        json.dumps({"type": "brand-new-kind", "usage": {}}) + "\n",
        json.dumps({"type": [], "usage": {}}) + "\n",
    ]
    bad_usage = assistant(cwd=wt, branch=BRANCH, msg_id="msg_bad", session="long")
    bad_usage["message"]["usage"]["input_tokens"] = "many"
    synthetic = assistant(cwd=wt, branch=BRANCH, msg_id="msg_syn", model="<synthetic>")
    no_ids = assistant(cwd=wt, branch=BRANCH, msg_id="x", session="long")
    del no_ids["message"]["id"], no_ids["requestId"]
    records = [command, *turns[:150], *bad, bad_usage, synthetic, no_ids, no_ids]
    records += [*turns[150:], *turns, *more, *bad, synthetic]
    lines = [r if isinstance(r, str) else compact(r) if i % 7 else r for i, r in enumerate(records)]
    write_session(home, wt, "long", lines)
    # A forked copy of the whole session in another file, and sessions on main.
    write_session(home, wt, "long-fork", [compact(dict(r, sessionId="fork")) for r in turns[:200]])
    for s in range(4):
        write_session(home, main, f"main-{s}", _turns(main, "main", f"m{s}", 0, 40, 500))
    # First of all, a response; last of all, a line whose quick ids are that response's
    # (a stray "id" before the message) but whose own are another's, then that other
    # response: the stray line is a copy of the first, and the other one counts.
    first = assistant(cwd=main, branch="main", msg_id="msg_first", request_id="req_x")
    write_session(home, main, "0-first", [compact(first)])
    other = assistant(cwd=wt, branch=BRANCH, msg_id="msg_other", request_id="req_x")
    stray = {"parentUuid": None, "stray": {"id": "msg_first"}} | other
    # And a stray line whose quick ids are those of a response that comes after it.
    third = assistant(cwd=wt, branch=BRANCH, msg_id="msg_third", request_id="req_y")
    fourth = assistant(cwd=wt, branch=BRANCH, msg_id="msg_fourth", request_id="req_y")
    stray2 = {"parentUuid": None, "stray": {"id": "msg_third"}} | fourth
    last = [stray, other, other, stray2, third, fourth]
    write_session(home, wt, "zz-last", [compact(r) for r in last])
    # Outside the repository: another folder, never read.
    write_session(home, tmp_path, "elsewhere", _turns(tmp_path, "main", "e", 0, 5, 10) * 2)

    data = same_both_ways(main, env)
    t = data["transcripts"]
    assert data["total"]["responses"] == 300 + 160 + 2 + 4
    assert (t["malformed"], t["unknown_type"], t["bad_usage"]) == (4, 4, 1)
    assert data["synthetic"] == 2
    assert data["outside_repository"] == 0
    assert sum(r["output_tokens"] for r in data["rows"]) == (
        sum(10 + i % 7 for i in range(300)) + 50 * 100 + 4 * sum(10 + i % 7 for i in range(40)) + 60
    )
    # A duplicate is every usage line past the first of its response: 300 copies and
    # 100 updates in the session, 200 in the fork, the first stray line and two copies.
    assert data["duplicates"] == 300 + 100 + 200 + 3
    same_both_ways(main, env, "--by", "phase", "--since", "2026-11-10")
    same_both_ways(main, env, "--spec", "SPEC-AUTH-001", "--by", "day")


def test_a_line_past_the_bound_and_the_line_after_it_split_or_not(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    path = write_session(home, main, "s-1", _turns(main, "main", "a", 0, 3, 10))
    with path.open("ab") as fh:
        block = b'"usage" ' + b"x" * (MIB - 8)
        for _ in range(17):
            fh.write(block)
        fh.write(b"\n")
        for rec in _turns(main, "main", "a", 1, 5, 10):
            fh.write(json.dumps(rec).encode() + b"\n")
    data = same_both_ways(main, env)
    assert data["total"]["responses"] == 6
    assert data["transcripts"]["malformed"] == 1
    assert data["transcripts"]["samples"][0]["line"] == 4


def _lines_of(path: Path, parts: list[tuple[int, int | None]]) -> tuple[list[str], int]:
    stats = ScanStats()
    ids = []
    for start, stop in parts:
        ids += [f.record["message"]["id"] for f in scan_file(path, stats, None, start, stop)]
    return ids, stats.bytes


def test_parts_of_a_file_hold_each_line_once_wherever_the_cuts_fall(tmp_path: Path) -> None:
    """Cuts at, before and after newlines and chunk boundaries, inside a line longer
    than a chunk, and past the end: the parts' lines are the file's, in order."""
    path = tmp_path / "s.jsonl"
    lines = []
    for i in range(400):
        pad = "p" * ((i * 7919) % 9000 if i != 200 else 3 * MIB)
        rec = {"type": "assistant", "message": {"id": f"m{i}", "model": "m", "usage": {}}}
        lines.append(json.dumps({**rec, "pad": pad}, separators=(",", ":")))
    data = "\n".join(lines).encode()  # the last line without a newline
    path.write_bytes(data)
    whole, size = _lines_of(path, [(0, None)])
    assert len(whole) == 400 and size == len(data)
    newlines = [i for i, b in enumerate(data) if b == 10]
    cuts = {1, 2, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, len(data) - 1, len(data), len(data) + 5}
    for n in newlines[::37] + newlines[195:205]:
        cuts |= {n - 1, n, n + 1, n + 2}
    for cut in sorted(cuts):
        assert _lines_of(path, [(0, cut), (cut, None)]) == (whole, size), cut
    for a, b in [(5, 9), (CHUNK, CHUNK + 3), (newlines[10], newlines[300]), (10, len(data))]:
        assert _lines_of(path, [(0, a), (a, b), (b, None)]) == (whole, size), (a, b)


def test_the_plan_covers_every_byte_once_in_order(tmp_path: Path) -> None:
    paths = [tmp_path / f"{i}.jsonl" for i in range(6)]
    sizes = [0, 100 * MIB, 3, 40 * MIB, 0, 7 * MIB]
    for n in (2, 3, 5):
        parts = scan.plan(paths, sizes, n)
        assert len(parts) == n
        flat = [p for part in parts for p in part]
        assert [p[0] for p in flat if p[1] == 0] == [str(p) for p in paths]
        for (path_a, _start_a, stop_a), (path_b, start_b, _stop_b) in itertools.pairwise(flat):
            if path_a == path_b:
                assert stop_a == start_b
            else:
                assert stop_a is None and start_b == 0
        head = sum((stop or sizes[paths.index(Path(p))]) - start for p, start, stop in parts[0])
        share = scan.PARENT_WEIGHT / (scan.PARENT_WEIGHT + n - 1)
        assert abs(head - sum(sizes) * share) <= 1


def test_a_worker_hands_back_what_the_parent_would_have_read(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """The worker process itself runs (no silent fallback to one process)."""
    main, wt = repo_with_worktree(tmp_path, env)
    install_fixtures(home, main, wt)
    paths = sorted(home.rglob("*.jsonl"))
    part: list[scan.Part] = [(str(p), 0, None) for p in paths]
    worker = scan.Worker.over(part)
    try:
        frames = worker.result()
        assert frames is not None
        tags = [frame[0] for frame in frames]
    finally:
        worker.stop()
    assert tags.count(1) == len(paths) and tags[-1] == 2


@pytest.mark.parametrize("value", ["1", "2", "3", "0", "x", ""])
def test_the_workers_variable(value: str) -> None:
    env = {scan.WORKERS_ENV: value}
    wanted = scan.parts_wanted(0, env)
    if value in ("1", "2", "3"):
        assert wanted == int(value)
    else:  # automatic: nothing to split
        assert wanted == 1
    cores = len(os.sched_getaffinity(0))
    auto = scan.parts_wanted(10 * scan.MIN_PART_BYTES, {})
    assert 1 <= auto <= min(cores, scan.MAX_PARTS, 10)  # fewer while other work runs


def test_a_worker_that_fails_leaves_its_part_to_the_parent(tmp_path: Path) -> None:
    """No part, or a part in another format: it exits non-zero, result() says so, and
    scan reads that part itself (nothing of it replayed yet)."""
    worker = scan.Worker()
    try:
        worker.send_raw(b"not marshal")
        assert worker.result() is None
    finally:
        worker.stop()
    worker = scan.Worker()
    try:
        worker.stop()  # killed before its part: a worker that never answers
        assert worker.result() is None
    finally:
        worker.stop()


def _scan_in_process(
    home: Path, main: Path, ahead: list[scan.Worker]
) -> tuple[dict[Bucket, int], list[list[int]], int, int, dict[str, Any]]:
    places = [Place(str(main), "main", ())]
    attributor = Attributor(
        places, "main", "feature/{SPEC}", {}, "sonnet", Filters(None, None, None)
    )
    stats = ScanStats()
    folders = [p for p in sorted(projects(home).iterdir()) if p.is_dir()]
    scan.scan(folders, attributor, stats, ahead)
    return (
        attributor.buckets,
        attributor.sums,
        attributor.duplicates,
        attributor.synthetic,
        stats.as_dict(),
    )


def test_the_parent_takes_back_what_a_worker_does_not_do(
    tmp_path: Path, env: dict[str, str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that never starts: the parent takes every piece of its part back, from
    the last one, and the result is the one process's; so with a live worker."""
    main, _wt = repo_with_worktree(tmp_path, env)
    # ~12 MB of a session that a phase command starts, half of it again, and a fork
    # without the command: which copy counts first decides the phase.
    turns = _turns(main, "main", "s", 0, 450, 30_000)
    command = user_command(cwd=main, branch="main", name="/moai:3-sync", args="", session="s")
    copies = [compact(r) for r in turns[:400:2]]
    lines = [compact(r) for r in turns[:400]] + copies + [compact(r) for r in turns[400:]]
    write_session(home, main, "a", [compact(command), *lines])
    write_session(home, main, "b", [compact(dict(r, sessionId="fork")) for r in turns[100:]])
    monkeypatch.setenv(scan.WORKERS_ENV, "1")
    alone = _scan_in_process(home, main, [])
    assert {b.phase for b in alone[0]} == {"sync"}
    monkeypatch.setenv(scan.WORKERS_ENV, "2")
    dead = scan.Worker()
    dead.stop()
    assert _scan_in_process(home, main, [dead]) == alone
    assert _scan_in_process(home, main, scan.start_ahead()) == alone
