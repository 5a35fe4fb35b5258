"""Workers forked from `moai cost`'s process (Linux): they hand back what a spawned
worker hands back, fail into the parent's hands, and leave nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moai_mashup import spawn
from moai_mashup.cost import scan
from tests.costkit import install_fixtures, repo_with_worktree

pytestmark = pytest.mark.skipif(not scan.FORK, reason="workers are forked on Linux only")


def _frames(worker: scan.Worker) -> list[tuple[object, ...]] | None:
    try:
        frames = worker.result()
        return None if frames is None else list(frames)
    finally:
        worker.stop()


def test_a_forked_worker_hands_back_what_a_spawned_one_does(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    install_fixtures(home, main, wt)
    paths = sorted(home.rglob("*.jsonl"))
    part: list[scan.Part] = [(str(p), 0, None) for p in paths]
    forked = _frames(scan.Forked(part))
    assert forked is not None and forked == _frames(scan.Worker.over(part))
    assert [f[0] for f in forked].count(1) == len(paths)


def test_a_forked_worker_stopped_or_failing_leaves_its_part_to_the_parent(
    tmp_path: Path,
) -> None:
    stopped = scan.Forked([(str(tmp_path / "x.jsonl"), 0, None)])
    stopped.stop()
    assert stopped.result() is None
    (tmp_path / "s.jsonl").write_text("{}\n")
    bad: list[scan.Part] = [(str(tmp_path / "s.jsonl"), "x", None)]  # type: ignore[list-item]
    assert _frames(scan.Forked(bad)) is None  # it raised: exit 1


def test_fork_exits_with_the_functions_code_and_writes_nothing_twice(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "from moai_mashup import spawn\n"
        "sys.stdout.write('once')\n"  # buffered, not flushed: the copy must not write it
        "def boom() -> int:\n"
        "    raise KeyboardInterrupt\n"
        "codes = [os.waitstatus_to_exitcode(os.waitpid(spawn.fork(f), 0)[1])\n"
        "         for f in (lambda: 7, boom, lambda: 0)]\n"
        "sys.stderr.write(repr(codes))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "once", "[7, 1, 0]")


def test_fork_is_spawn_pys() -> None:
    assert spawn.fork.__module__ == "moai_mashup.spawn"


def test_no_fork_while_another_thread_runs(tmp_path: Path) -> None:
    """A copy would hold only the calling thread: with another one running the worker is
    not forked, and the parent reads its part itself."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with pytest.raises(OSError):
            spawn.fork(lambda: 0)
        worker = scan.Forked([(str(tmp_path / "x.jsonl"), 0, None)])
        assert worker.pid == -1 and worker.result() is None
        worker.stop()
    finally:
        stop.set()
        other.join()
