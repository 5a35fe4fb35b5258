"""`moai statusline`: listed for `moai --help`; the entry point runs it without click."""

from __future__ import annotations

import sys

import click

from moai_mashup.claude_code.statusline import main


@click.command("statusline")
def command() -> None:
    """Claude Code's status line: backend, model, SPEC, phase (reads its JSON on stdin).

    Set it with `moai hooks install --claude-code`, or in settings.json:
    "statusLine": {"type": "command", "command": "moai statusline"}
    """

    sys.exit(main([]))
