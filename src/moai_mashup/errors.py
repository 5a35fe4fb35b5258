"""Errors are values with one message: the user sees one line, never a traceback."""

from __future__ import annotations

import os
import sys

# Exit codes: 2 for bad input (config, key, arguments), 1 for a refused operation.
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 1


class MoaiError(Exception):
    """A problem the user can fix; `str(err)` is the one line they see."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(MoaiError):
    """Malformed or invalid input: a file, a field, an argument. Exit 2, nothing written."""

    exit_code = EXIT_BAD_INPUT


class Refused(MoaiError):
    """A valid request we refuse to carry out (dirty worktree, tracked key file...). Exit 1."""

    exit_code = EXIT_REFUSED


def unexpected(exc: BaseException) -> int:
    """One line for an error no check foresaw (a read-only git dir, a full disk, a bug).

    Every write moai makes is a temp file + rename, done last, so an error before
    it leaves every file as it was. `MOAI_DEBUG=1` shows the traceback.
    """
    if os.environ.get("MOAI_DEBUG"):
        raise exc
    if isinstance(exc, OSError) and exc.filename:
        what = f"{exc.filename}: {exc.strerror or exc.__class__.__name__}"
    else:
        what = f"{exc.__class__.__name__}: {exc}"
    sys.stderr.write(f"moai: {what}; stopped (MOAI_DEBUG=1 shows where)\n")
    return 1
