"""Workers only for cores nothing else wants right now (scan.others_running)."""

from __future__ import annotations

import os

import pytest

from moai_mashup.cost import scan


def test_the_runnable_count_is_read_once_and_is_the_machines() -> None:
    others = scan.others_running()
    assert others >= 0 and scan.others_running() == others
    if os.path.exists("/proc/loadavg"):
        assert [others] == scan._RUNNING


@pytest.mark.parametrize("others", [0, 1, 2, 64])
def test_a_busy_machine_keeps_one_process(monkeypatch: pytest.MonkeyPatch, others: int) -> None:
    monkeypatch.setattr(scan, "_RUNNING", [others])
    cores = len(os.sched_getaffinity(0))
    idle = (os.cpu_count() or cores) - others
    wanted = scan.parts_wanted(100 * scan.MIN_PART_BYTES, {})
    assert wanted == max(1, min(cores, idle, scan.MAX_PARTS))
    assert scan.parts_wanted(100 * scan.MIN_PART_BYTES, {scan.WORKERS_ENV: "2"}) == 2
    ahead = scan.start_ahead({})
    try:
        assert len(ahead) == wanted - 1
    finally:
        for worker in ahead:
            worker.stop()
