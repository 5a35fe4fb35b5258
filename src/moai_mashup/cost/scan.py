"""Feed every transcript to the attributor: in one process, or split across worker processes.

The work is finding the usage lines in the bytes and parsing them, about
equal per byte; attribution is a small share. So a large input is cut into
parts of about equal bytes, in the order one process reads it (files in
order, and a large file by byte ranges at line boundaries: transcripts'
`_blocks`). The parent starts a worker per part after the first, reads the
first itself with scan_file, takes back the last worker's pieces from its
end (read like a worker reads them) until the worker holds the next, then
replays each worker's events and its own taken-back pieces in order, asking
`known` where one process would have asked it: the same record counts
first, the same copies count once, each phase command holds for the
responses after it, whatever part a line fell in. The result is the one a
single process gets, field for field (tests/cost/test_cost_parallel.py).

A worker is forked from the parent with its part on Linux (Forked: it scans
at once with what the parent imported) and elsewhere started as `python -I
-S` running scan_worker.py (Worker: ~25 ms of a core to start and import,
so those start ahead, start_ahead, while the parent opens the workspace; a
small input stops them unused). A worker that cannot start or fails: the
parent reads that part itself, nothing of it replayed yet.

When: MOAI_COST_WORKERS=N asks for N parts (1: one process), for tests and
for users who want to pin it; otherwise one part per core, each of at least
MIN_PART_BYTES, as the parent replays a worker's events. The machine's load
is not asked: a forked worker costs little CPU (Forked), and on two cores
busy with other sessions' work (load 8-10) a split still ended sooner than
one process: 0.51 s against 0.57 for benchmarks/bench_cost.py's 159 MB of
long lines, 1.67 against 1.74 for its 295 MB of small turns (medians of 21
and 11). A worker on a core that turns busy costs the parent less, as it
takes back the pieces the worker has not reached.

Figures (benchmarks/bench_cost.py, 2 cores): see docs/cost.md, "Speed".
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import moai_mashup
from moai_mashup import files, spawn
from moai_mashup.cost.attribution import Attributor
from moai_mashup.cost.scan_worker import (
    BOOT,
    FORMAT,
    FRAME_DONE,
    FRAME_END_PART,
    FRAME_EVENTS,
    scan_parts,
)
from moai_mashup.cost.transcripts import (
    EV_COMMAND,
    EV_MALFORMED,
    EV_NOTE,
    EV_RESPONSE,
    EV_UNKNOWN,
    EV_UNREADABLE,
    Copies,
    Event,
    ScanStats,
    add_samples,
    scan_events,
    scan_file,
    session_files,
)

WORKERS_ENV = "MOAI_COST_WORKERS"
MIN_PART_BYTES = 24 << 20  # below it a worker's start and replay cost more than it saves
MAX_PARTS = 8
# The parent's own part against a worker's. Per byte of benchmarks/bench_cost.py's small
# turns, in one process, scan_file with the attributor takes 0.42 s CPU, scan_events 0.36
# and the replay 0.05 (159 MB of long lines: 0.107, 0.104, 0.002): the parts would end
# together at ~0.85. The parent takes less, then takes back the last worker's pieces
# from its end until the worker has the next (a busy core, a slow start: the parent
# reads more), so a worker never waits on the parent.
PARENT_WEIGHT = 0.6
PIECE_BYTES = 2 << 20  # what the parent takes back from a worker at a time: 1-4 ms of reading
MAX_FRAME_BYTES = 256 << 20  # far above a frame's 1 MiB of lines; a worker's own output
# Workers forked from the parent (Forked) where fork is plain; elsewhere (macOS, where a
# forked copy may not use some system libraries) started as `python -I -S` (Worker).
FORK = sys.platform == "linux" and hasattr(os, "fork")

Part = tuple[str, int, int | None]  # path, first byte, end (None: to the end of the file)


def parts_wanted(total: int, env: dict[str, str] | os._Environ[str] | None = None) -> int:
    """How many parts to cut `total` bytes of transcripts into (1: one process)."""
    env = os.environ if env is None else env
    asked = env.get(WORKERS_ENV, "").strip()
    if asked.isdigit() and int(asked) >= 1:
        return min(int(asked), MAX_PARTS)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PARTS, total // MIN_PART_BYTES))


def plan(paths: list[Path], sizes: list[int], n: int) -> list[list[Part]]:
    """`n` parts in reading order, the first (the parent's) PARENT_WEIGHT of the others,
    each a run of whole files and at most two files' ends."""
    total = sum(sizes)
    head = int(total * PARENT_WEIGHT / (PARENT_WEIGHT + n - 1))
    rest = (total - head) // max(n - 1, 1)
    bounds = [head + rest * i for i in range(n - 1)]  # where each later part begins
    parts: list[list[Part]] = [[] for _ in range(n)]
    at = 0  # bytes before the current file
    k = 0  # the part being filled
    for path, size in zip(paths, sizes, strict=True):
        start = 0
        while k < n - 1 and bounds[k] < at + size:
            cut = bounds[k] - at
            if cut > start:
                parts[k].append((str(path), start, cut))
                start = cut
            k += 1
        parts[k].append((str(path), start, None))
        at += size
    return [parts[0], *(_pieces(part, paths, sizes) for part in parts[1:])]


def _pieces(part: list[Part], paths: list[Path], sizes: list[int]) -> list[Part]:
    """`part` with every file (or file's part) over PIECE_BYTES cut into pieces of about
    that size: what the parent may take back from a worker, one at a time."""
    size_of = dict(zip(map(str, paths), sizes, strict=True))
    out: list[Part] = []
    for path, start, stop in part:
        end = size_of[path] if stop is None else stop
        while end - start > PIECE_BYTES * 3 // 2:
            out.append((path, start, start + PIECE_BYTES))
            start += PIECE_BYTES
        out.append((path, start, stop))
    return out


def scan(
    folders: list[Path],
    attributor: Attributor,
    stats: ScanStats,
    ahead: list[Worker] | None = None,
) -> None:
    """Every transcript in `folders`, in order, through `attributor`; `ahead`: workers
    started already (start_ahead), used or stopped here."""
    ahead = ahead or []
    paths = [path for folder in folders for path in session_files(folder)]
    sizes: list[int] = []
    n = 1
    if paths and os.environ.get(WORKERS_ENV, "").strip() != "1":
        sizes = [files.size_of(p) for p in paths]
        n = parts_wanted(sum(sizes))
    if n == 1:
        for worker in ahead:
            worker.stop()
        for path in paths:
            for found in scan_file(path, stats, attributor.known):
                attributor.feed(found, stats)
        return
    parts = plan(paths, sizes, n)
    ahead, extra = ahead[: n - 1], ahead[n - 1 :]
    for worker in extra:
        worker.stop()
    fresh = parts[1 + len(ahead) :]
    workers = ahead + [Forked(part) if FORK else Worker() for part in fresh]
    for worker, part in zip(workers, parts[1:], strict=True):
        worker.send(part)  # a forked one has it already
    try:
        failed: set[str] = set()
        _read(parts[0], attributor, stats, failed)
        # Then the last worker's pieces, from its last one back, until the worker has the
        # next: read here as a worker reads them, replayed after the worker's own.
        taken: list[tuple[Part, list[tuple[object, ...]]]] = []
        last, tail = workers[-1], parts[-1]
        while len(taken) < len(tail) and last.claim(len(tail) - 1 - len(taken)):
            piece = tail[len(tail) - 1 - len(taken)]
            taken.append((piece, _frames_of(piece)))
        for worker, part in zip(workers, parts[1:], strict=True):
            if worker is last:
                part = part[: len(part) - len(taken)]
            frames = worker.result()
            if frames is None:
                _read(part, attributor, stats, failed)
            else:
                _replay(frames, part, attributor, stats, failed)
        for piece, own in reversed(taken):
            _replay(iter(own), [piece], attributor, stats, failed)
    finally:
        for worker in workers:
            worker.stop()


def _frames_of(piece: Part) -> list[tuple[object, ...]]:
    """What a worker would hand back for `piece` alone."""
    path, start, stop = piece
    own = ScanStats()
    copies = Copies()
    events = list(scan_events(Path(path), own, copies, start, stop))
    totals = (own.files, own.bytes, own.usage_lines, own.malformed)
    return [
        (FRAME_EVENTS, events),
        (FRAME_END_PART,),
        (FRAME_DONE, totals, copies.count, copies.most),
    ]


def _read(part: list[Part], attributor: Attributor, stats: ScanStats, failed: set[str]) -> None:
    """Read `part` here, as the one process would."""
    for path, start, stop in part:
        before = stats.unreadable
        for found in scan_file(Path(path), stats, attributor.known, start, stop):
            attributor.feed(found, stats)
        if stats.unreadable > before:
            if path in failed:  # the part before, of the same file, failed already
                stats.unreadable = before
            failed.add(path)


def _replay(
    frames: Iterator[tuple[object, ...]],
    part: list[Part],
    attributor: Attributor,
    stats: ScanStats,
    failed: set[str],
) -> None:
    """A worker's events, in order, as the one process would have met their lines."""
    known = attributor.known
    keys: list[int] = []  # the parent's key of each response the worker saw whole
    problems: list[tuple[int, str]] = []
    files_in = iter(part)
    path = ""
    for frame in frames:
        tag = frame[0]
        if tag == FRAME_EVENTS:
            events = frame[1]
            assert isinstance(events, list)
            _events(events, attributor, stats, problems, keys)
        elif tag == FRAME_END_PART:
            path = next(files_in)[0]
            unreadable = [why for offset, why in problems if offset == -2]
            problems = [p for p in problems if p[0] != -2]
            if unreadable and path not in failed:
                stats.unreadable += 1
                problems.append((-1, unreadable[0]))
                failed.add(path)
            add_samples(Path(path), problems, stats)
            problems = []
        elif tag == FRAME_DONE:
            totals, count, most = frame[1], frame[2], frame[3]
            assert isinstance(totals, tuple) and isinstance(count, list)
            assert isinstance(most, list)
            stats.files += totals[0]
            stats.bytes += totals[1]
            stats.usage_lines += totals[2]
            stats.malformed += totals[3]
            for key, copies, out in zip(keys, count, most, strict=True):
                if copies:
                    known(key, out)  # counts one copy; adds the output above the most seen
                    attributor.duplicates += copies - 1


def _events(
    events: list[Event],
    attributor: Attributor,
    stats: ScanStats,
    problems: list[tuple[int, str]],
    keys: list[int],
) -> None:
    known = attributor.known
    for event in events:
        kind = event[0]
        if kind >= EV_NOTE:
            if kind == EV_NOTE:
                problems.append((event[1], event[2]))
            elif kind == EV_UNREADABLE:
                problems.append((-2, event[1]))  # counted at the part's end, once per file
            continue
        ids = event[1]
        key = None
        if ids is not None:
            key = hash(ids)
            if kind == EV_RESPONSE and event[4]:
                keys.append(key)
            if known(key, event[2]):
                continue
        if kind == EV_RESPONSE:
            attributor.add(event[3], stats, key)
        elif kind == EV_COMMAND:
            attributor.command(event[3], event[4])
        elif kind == EV_MALFORMED:
            stats.malformed += 1
            problems.append((event[3], event[4]))
        elif kind == EV_UNKNOWN:
            stats.unknown_type += 1
            problems.append((event[3], event[4]))


class Worker:
    """A scan_worker process, started ahead of its part (Python's start and the imports,
    ~35 ms, run while the parent opens the workspace); `send` gives it its part,
    `result()` waits for it."""

    def __init__(self) -> None:
        self.pid = -1
        self.out = -1
        self.task = -1
        self.claims = -1
        python = sys.executable
        if not python or not os.path.isabs(python):
            return
        home = os.path.dirname(os.path.dirname(os.path.abspath(moai_mashup.__file__)))
        read_end, self.task = os.pipe()
        try:
            self.out = files.memory_file("moai-cost-events")
            self.claims = files.memory_file("moai-cost-claims")
            argv = [python, "-I", "-S", "-c", BOOT, home]
            self.pid = spawn.start(argv, stdin=read_end, stdout=self.out, fd3=self.claims)
        except OSError:
            self.pid = -1
        finally:
            os.close(read_end)

    @classmethod
    def over(cls, part: list[Part]) -> Worker:
        worker = cls()
        worker.send(part)
        return worker

    def send(self, part: list[Part]) -> None:
        """Its part; the pipe closes after it (the worker reads to its end)."""
        self.send_raw(marshal.dumps((FORMAT, part)))

    def send_raw(self, task: bytes) -> None:
        if self.task < 0:
            return
        try:
            view = memoryview(task)
            while view:
                view = view[os.write(self.task, view) :]
        except OSError:  # it is gone: result() finds it failed
            pass
        finally:
            os.close(self.task)
            self.task = -1

    def result(self) -> Iterator[tuple[object, ...]] | None:
        """Its frames once it has exited 0 (None: it did not; the part is not read)."""
        if self.pid < 0:
            return None
        _, status = os.waitpid(self.pid, 0)
        self.pid = -1
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        os.lseek(self.out, 0, os.SEEK_SET)
        return self._frames()

    def _frames(self) -> Iterator[tuple[object, ...]]:
        while True:
            head = files.read_fd(self.out, 4)
            if not head:
                return
            size = int.from_bytes(head, "little")
            if len(head) < 4 or size > MAX_FRAME_BYTES:
                raise ValueError("a worker's output is cut short")
            data = files.read_fd(self.out, size)
            frame = marshal.loads(data)
            if not isinstance(frame, tuple) or not frame:
                raise ValueError("a worker's output is not what it writes")
            yield frame

    def stop(self) -> None:
        """Kill it if it still runs (not needed, or the parent failed); close its files."""
        if self.pid >= 0:
            spawn.kill(self.pid)
            self.pid = -1
        for fd in (self.out, self.task, self.claims):
            if fd >= 0:
                os.close(fd)
        self.out = self.task = self.claims = -1

    def claim(self, index: int) -> bool:
        """Take the worker's part `index` for the parent (False: the worker has it)."""
        return self.claims < 0 or files.claim(self.claims, index)


class Forked(Worker):
    """A worker forked from this process with its part (Linux: FORK), scanning at once
    with what this process imported: no Python start or imports first (a spawned
    worker's ~25 ms of a core), no head start needed. A split of benchmarks/bench_cost.py's
    159 MB of long lines in two costs 15-17 ms CPU more than one process where a
    spawned worker costs ~40 (its 295 MB of small turns: ~35 against ~55)."""

    def __init__(self, part: list[Part]) -> None:
        self.pid = self.out = self.task = self.claims = -1
        try:
            self.out = out = files.memory_file("moai-cost-events")
            self.claims = claims = files.memory_file("moai-cost-claims")
            self.pid = spawn.fork(lambda: scan_parts(part, out, claims))
        except OSError:  # no process to be had: result() says so, the parent reads it
            self.pid = -1


def start_ahead(env: dict[str, str] | os._Environ[str] | None = None) -> list[Worker]:
    """The workers a large input would use, started before the transcripts are even found
    (none on one core or with MOAI_COST_WORKERS=1): a small input kills them unused, which
    costs the parent ~1 ms and another core a Python start. None where workers are
    forked (FORK): those start with their part."""
    env = os.environ if env is None else env
    if FORK:
        return []
    most = parts_wanted(1 << 62, env) - 1
    return [Worker() for _ in range(most)]
