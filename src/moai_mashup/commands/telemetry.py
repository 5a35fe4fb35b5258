"""`moai telemetry settings|env`: Claude Code's OpenTelemetry variables for this worktree.

Start Claude Code through it so its metrics and events reach the team's
collector labelled with this worktree's mode, backend, phase and SPEC:

    claude() { command claude --settings "$(moai telemetry settings)" "$@"; }

`settings` prints `{}` (and exits 0) where there is nothing to export: outside
a git repository, with no `llm.telemetry.otlp_endpoint`, with telemetry turned
off in `llm.local.yaml`, or (with one line on stderr) while the endpoint is not
trusted. Why `--settings` and not the settings files: see cost/telemetry.py.
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import click

from moai_mashup.errors import MoaiError
from moai_mashup.workspace import Workspace


def worktree_env() -> tuple[dict[str, str], str | None]:
    """(variables, why there are none) for the worktree of the current directory."""
    from moai_mashup import git, trust
    from moai_mashup.cost import telemetry as tm
    from moai_mashup.workspace import open_workspace

    try:
        git.discover(Path.cwd())
    except MoaiError:
        return {}, None  # not in a repository: nothing to say
    ws = open_workspace()
    tel = ws.cfg.telemetry
    if not tel.enabled or not tel.otlp_endpoint:
        return {}, None
    repo = ws.wt.main_root
    if not trust.is_trusted(repo, tm.TRUST_KIND, tel.otlp_endpoint):
        return {}, (
            f"llm.telemetry.otlp_endpoint {tel.otlp_endpoint} is not trusted here; "
            "review it, then run: moai trust"
        )
    ours = tm.labels(
        mode=ws.cfg.mode,
        backend=_backend(ws),
        phase=_phase(ws),
        spec=_spec(ws),
        repository=repo.name,
    )
    user = tm.user_attributes(dict(os.environ), Path(os.environ.get("HOME") or Path.home()))
    attrs = tm.merged_attributes(user, tel.resource_attributes, ours)
    return tm.telemetry_env(tel.otlp_endpoint, tel.protocol, attrs), None


def _spec(ws: Workspace) -> str | None:
    from moai_mashup.core.routing import spec_id_from_branch

    branch = ws.wt.branch
    return spec_id_from_branch(branch, ws.cfg.spec_branch_pattern) if branch else None


def _phase(ws: Workspace) -> str:
    """`moai route`'s phase record when it names this worktree's SPEC, else the location's."""
    from moai_mashup.cost.phase_record import read_phases

    kind = ws.kind
    if kind == "spec":
        marks = read_phases(ws.wt.state_dir)
        if marks and marks[-1].spec in (None, _spec(ws)):
            return marks[-1].phase
    return {"default": "plan", "spec": "run"}.get(kind, "other")


def _backend(ws: Workspace) -> str:
    """What this worktree's settings route to (moai's record), else the table's backend."""
    from moai_mashup.apply import read_state

    try:
        active = read_state(ws.wt).active
    except MoaiError:
        active = "mixed"
    if active == "mixed":
        return ws.expected or "claude"
    return active


@click.group("telemetry")
def command() -> None:
    """Claude Code's OpenTelemetry variables for this worktree (llm.telemetry)."""


@command.command("settings")
def settings_cmd() -> None:
    """Print `--settings` JSON for Claude Code: {"env": {...}} or {}."""
    try:
        env, why = worktree_env()
    except MoaiError:
        click.echo("{}")  # Claude Code still starts, without telemetry; the error follows
        raise
    if why:
        click.echo(f"moai: {why}", err=True)
    click.echo(json.dumps({"env": env}, sort_keys=True) if env else "{}")


@command.command("env")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of shell lines.")
def env_cmd(as_json: bool) -> None:
    """Print the variables as `export NAME=value` lines (or JSON)."""
    env, why = worktree_env()
    if why:
        click.echo(f"moai: {why}", err=True)
    if as_json:
        click.echo(json.dumps(env, indent=2, sort_keys=True))
        return
    for name, value in sorted(env.items()):
        click.echo(f"export {name}={shlex.quote(value)}")
