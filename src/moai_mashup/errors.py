"""Errors are values with one message: the user sees one line, never a traceback."""

from __future__ import annotations

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
