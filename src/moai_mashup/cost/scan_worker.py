"""A worker process of `moai cost`: scans its parts of the transcripts (scan.py plans
them) with `transcripts.scan_events` and hands the events back for the parent to replay.

Started by scan.py as `python -I -c BOOT <package folder>`: stdin is the task,
`marshal.dumps((FORMAT, [(path, start, stop), ...]))`, in an anonymous file;
stdout is another anonymous file the parent reads once the worker has exited
0. It holds frames, each a 4-byte little-endian length and a marshal payload:
`(FRAME_EVENTS, [event, ...])` in file order, `(FRAME_END_PART,)` after each
part, and last `(FRAME_DONE, (files, bytes, usage lines, malformed), copies'
count, copies' most)`. Output goes out every FLUSH_BYTES of lines behind the
events (or BATCH events), so the worker holds little whatever the input, and
it never waits on its parent: the file takes what it writes.

Parts are taken in order, each claimed first in the file at fd 3 (files.claim):
the parent, done with its own part, claims the worker's parts from the last
one back (scan.py), so the worker stops at the first part it cannot claim and
both end together however busy either core is.

It imports what transcripts.py imports and marshal: ~15 ms on top of Python's start.
On Linux the parent forks its workers instead (scan.py's Forked), which run
scan_parts with their part, their files and nothing to import.
"""

from __future__ import annotations

import marshal
import os
import sys

from moai_mashup import files
from moai_mashup.cost.transcripts import Copies, Event, ScanStats, scan_events
from moai_mashup.errors import MoaiError
from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

FORMAT = 1  # what the parent and the worker agree on; a mismatch: the parent scans alone
FRAME_EVENTS = 0
FRAME_END_PART = 1
FRAME_DONE = 2
BATCH = 1024
FLUSH_BYTES = 1 << 20
MAX_TASK_BYTES = 64 << 20  # the parent's own list of paths: ~500,000 of them
CLAIMS_FD = 3  # one byte per part, shared with the parent (files.claim)
BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from moai_mashup.cost.scan_worker import main; raise SystemExit(main())"
)


def frame(payload: tuple[Any, ...]) -> bytes:
    data = marshal.dumps(payload)
    return len(data).to_bytes(4, "little") + data


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main() -> int:
    try:
        fmt, parts = marshal.loads(files.read_stdin(MAX_TASK_BYTES, "the task"))
    except (MoaiError, OSError, ValueError, EOFError, TypeError):
        return 2
    if fmt != FORMAT:
        return 3
    return scan_parts(parts, 1, CLAIMS_FD)


def scan_parts(parts: list[tuple[str, int, int | None]], out: int, claims: int) -> int:
    """Each part in order, claimed first in `claims`; the frames to `out`."""
    stats = ScanStats()
    copies = Copies()
    for index, (path, start, stop) in enumerate(parts):
        if not files.claim(claims, index):
            break  # the parent took it, and every part after it
        batch: list[Event] = []
        for event in scan_events(path, stats, copies, start, stop):
            batch.append(event)
            if len(batch) >= BATCH or copies.held > FLUSH_BYTES:
                _write(out, frame((FRAME_EVENTS, batch)))
                batch = []
                copies.held = 0
        _write(out, frame((FRAME_EVENTS, batch)) + frame((FRAME_END_PART,)))
        copies.held = 0
    totals = (stats.files, stats.bytes, stats.usage_lines, stats.malformed)
    _write(out, frame((FRAME_DONE, totals, copies.count, copies.most)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
