"""The recorder of scripts/mutation_lines.py in the processes a traced test starts.

mutation.sh puts this file beside the scratch copy's `moai_mashup` package as
`_mutation_trace.py` and, for the traced run only, appends a call of `start()`
to the package's `__init__`: each process that imports moai from the copy then
records which lines of the target module it runs, and writes them when it exits
(`<pid>-<ns>.lines`: the test's name, then one line number a line) next to the
`.start` file it writes at once (a `.start` alone: the process never finished).

Imports only what a bare Python has loaded anyway (os, sys) and atexit and
threading, so the tests that check what moai's fast paths import still pass.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from types import FrameType


def start() -> None:
    out_dir = os.environ.get("MUTATION_LINES_SUBDIR")
    target = os.environ.get("MUTATION_LINES_TARGET")
    # Not in the traced pytest itself (its plugin records it; a conftest may import
    # moai before the plugin is configured): moai's processes never import pytest.
    if not out_dir or not target or "_pytest" in sys.modules:
        return
    targets = {target, os.path.realpath(target)}
    test = os.environ.get("MUTATION_LINES_TEST", "")
    lines: set[int] = set()
    base = os.path.join(out_dir, f"{os.getpid()}-{time.monotonic_ns()}")
    with open(base + ".start", "w", encoding="utf-8") as fh:
        fh.write(test)

    def local(frame: FrameType, event: str, arg: object) -> object:
        if event == "line":
            lines.add(frame.f_lineno)
        return local

    def trace(frame: FrameType, event: str, arg: object) -> object:
        if event == "call" and frame.f_code.co_filename in targets:
            lines.add(frame.f_lineno)
            return local
        return None

    def finish() -> None:
        sys.settrace(None)
        with open(base + ".lines", "w", encoding="utf-8") as fh:
            fh.write("\n".join([test, *map(str, sorted(lines))]) + "\n")

    atexit.register(finish)
    threading.settrace(trace)  # type: ignore[arg-type]
    sys.settrace(trace)  # type: ignore[arg-type]
