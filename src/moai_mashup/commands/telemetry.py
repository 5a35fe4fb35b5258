"""`moai telemetry settings|env`: Claude Code's OpenTelemetry variables for this worktree.

Start Claude Code through it so its metrics and events reach the team's
collector labelled with this worktree's mode, backend, phase and SPEC:

    claude() { command claude --settings "$(moai telemetry settings)" "$@"; }

`settings` prints `{}` (and exits 0) where there is nothing to export: outside
a git repository, with no `llm.telemetry.otlp_endpoint`, with telemetry turned
off in `llm.local.yaml`, or (with one line on stderr) while the endpoint is not
trusted. entry.py runs it without click (cost/otel_env.settings_main); this
click command is what `moai telemetry settings --help` and the group show.
Why `--settings` and not the settings files: see cost/telemetry.py.
"""

from __future__ import annotations

import shlex

import click

from moai_mashup import jsontext
from moai_mashup.cost.otel_env import settings_main, worktree_env


@click.group("telemetry")
def command() -> None:
    """Claude Code's OpenTelemetry variables for this worktree (llm.telemetry)."""


@command.command("settings")
def settings_cmd() -> None:
    """Print `--settings` JSON for Claude Code: {"env": {...}} or {}."""

    settings_main()


@command.command("env")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of shell lines.")
def env_cmd(as_json: bool) -> None:
    """Print the variables as `export NAME=value` lines (or JSON)."""

    env, why = worktree_env()
    if why:
        click.echo(f"moai: {why}", err=True)
    if as_json:
        click.echo(jsontext.dumps(env, indent=2, sort_keys=True))
        return
    for name, value in sorted(env.items()):
        click.echo(f"export {name}={shlex.quote(value)}")
