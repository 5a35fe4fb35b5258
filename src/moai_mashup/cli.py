"""`moai`: wires subcommands to their modules (one module per command group).

Commands are imported only when invoked, so `moai status` does not pay for
`moai worktree`'s or `moai cost`'s imports. Every `--backend` option a command
declares completes backend names (key_entry.BACKEND_NAME), wired here once.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from moai_mashup import __version__
from moai_mashup.errors import MoaiError, unexpected

# name -> module under moai_mashup.commands exposing `command` (or `module:attribute`)
COMMANDS: dict[str, str] = {
    "init": "init",
    "glm": "switch:glm_command",
    "claude": "switch:claude_command",
    "use": "switch:use_command",
    "key": "key",
    "apply": "apply",
    "status": "status",
    "demo": "demo",
    "hooks": "hooks",
    "hook-impl": "hook_impl",
    "worktree": "worktree",
    "shell-init": "shell_init",
    "route": "route",
    "check": "check",
    "trust": "trust",
    "cost": "cost",
    "telemetry": "telemetry",
    "doctor": "doctor",
    "statusline": "statusline",
    "settings": "settings",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        mod, _, attr = target.partition(":")
        module = importlib.import_module(f"moai_mashup.commands.{mod}")
        command: click.Command = getattr(module, attr or "command")
        return complete_backend_options(command)


def complete_backend_options(command: click.Command) -> click.Command:
    """Give every plain-string `--backend` option of `command` (and of its subcommands)
    the backend-name type, so tab completion offers claude, glm and llm.backends."""
    for param in command.params:
        if (
            isinstance(param, click.Option)
            and "--backend" in param.opts
            and type(param.type) is click.types.StringParamType
        ):
            from moai_mashup.key_entry import BACKEND_NAME  # only a command that takes one

            param.type = BACKEND_NAME
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            complete_backend_options(sub)
    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="moai")
def cli() -> None:
    """Route Claude Code between Claude, GLM and other providers by git branch and worktree.

    The branch picks the backend (llm.routes, or the mode's table); `moai status`
    says which and why, `moai use NAME` switches by hand.
    """


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="moai", standalone_mode=False)
    except MoaiError as exc:
        click.echo(f"moai: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("moai: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        sys.exit(unexpected(exc))
