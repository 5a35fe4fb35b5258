"""`moai`'s entry point: the command lines that run often skip click; the rest go to cli.

Without click: `moai worktree list [--json]`, `moai telemetry settings` (before
every Claude Code start through the `claude()` launcher in docs/cost.md), and Claude Code's own
hooks and status line (`moai hook-impl claude-code ...`, `moai statusline`, run
on every prompt and status refresh). Through click the same command lines
cost 53-99 ms CPU more, 34-63% of each (benchmarks/bench_devices.py). `moai
cost` in its common forms (cost_run.py's fast_options) skips click too:
29-32 ms CPU less, 40-43% of a run over no transcripts. Any other command line
(--help included) goes to click, whose commands call the same functions.
"""

from __future__ import annotations

import os
import sys

from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from moai_mashup.cost_run import Options

FAST_LIST = {("worktree", "list"): False, ("worktree", "list", "--json"): True}


def main() -> Any:
    # Shell completion (`moai shell-init`) calls moai with _MOAI_COMPLETE set: click's job.
    completing = "_MOAI_COMPLETE" in os.environ
    if not completing and sys.argv[1:] == ["telemetry", "settings"]:  # every Claude Code start
        from moai_mashup.cost.otel_env import settings_main

        return settings_main()
    if not completing and (
        sys.argv[1:3] == ["hook-impl", "claude-code"] or sys.argv[1:2] == ["statusline"]
    ):
        # Claude Code runs these on every prompt and status refresh: no click either.
        from moai_mashup.claude_code.run import main as claude_code_main

        sys.exit(claude_code_main(sys.argv[1:]))
    if not completing and sys.argv[1:2] == ["cost"]:
        from moai_mashup.cost_run import fast_options

        options = fast_options(sys.argv[2:])
        if options is not None:
            return _cost(options)
    as_json = None if completing else FAST_LIST.get(tuple(sys.argv[1:]))
    if as_json is None:
        from moai_mashup.cli import main as cli_main

        return cli_main()
    # The list is a short run whose objects form almost no cycles (100 worktrees: 23
    # collections found 140, ~2 ms): no collections while it runs, and the
    # interpreter's last ones skip what it made (gc.freeze below): 10-12 ms wall
    # less at its end (ARCHITECTURE.md, "No collections in `worktree list`").
    import gc

    gc.disable()
    from moai_mashup.errors import MoaiError, unexpected
    from moai_mashup.git import WORKTREE_LIST_ARGS, Parallel

    # git's worktree list runs while the list's modules load (pathlib among them).
    listing = Parallel([(WORKTREE_LIST_ARGS, os.getcwd(), None)], limit=1)
    from moai_mashup.worktrees.listing import list_report

    try:
        out, warnings = list_report(as_json=as_json, listing=listing)
    except MoaiError as exc:  # as cli.main reports it
        sys.stderr.write(f"moai: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("moai: aborted\n")
        sys.exit(1)
    except Exception as exc:  # as cli.main: one line, never a traceback
        sys.exit(unexpected(exc))
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
    for line in warnings:
        sys.stderr.write(line + "\n")
    gc.freeze()  # the interpreter's last collections skip what the list made
    return None


def _cost(options: Options) -> None:
    """`moai cost` without click: what cli.main would print and exit with."""
    from moai_mashup.cost_run import echo, run
    from moai_mashup.errors import MoaiError, unexpected

    try:
        run(options)
    except MoaiError as exc:
        echo(f"moai: {exc}\n", err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\nmoai: aborted\n")  # click closes the terminal's ^C echo first
        sys.exit(1)
    except BrokenPipeError:
        # As click: exit 1 without a word, and nothing left for the flush at exit to fail on.
        import contextlib

        with contextlib.suppress(OSError):
            sys.stdout.close()
        sys.exit(1)
    except Exception as exc:  # as cli.main: one line, never a traceback
        sys.exit(unexpected(exc))
