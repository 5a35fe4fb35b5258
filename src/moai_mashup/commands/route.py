"""`moai route plan|run|sync [SPEC-ID] [--json] [--apply]`: where a phase belongs.

Prints the README's phase table for this repository: the location (default
branch, the SPEC's worktree, or the current branch), the backend, where you
are, and the commands that get you there. `--apply` goes there as far as it
safely can: it creates or reuses the SPEC worktree (mashup run/sync), puts the
location on its backend, and appends the phase to `<git dir>/moai/phase` for
`moai cost`; it never switches the branch of a worktree you are in (plan off
the default branch tells you how instead).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any, NamedTuple, cast

import click

from moai_mashup import git, jsontext
from moai_mashup.core.routing import (
    PHASES,
    SPEC_ID_SHAPE,
    BranchRoute,
    Phase,
    Route,
    is_valid_spec_id,
    route_branch,
    route_for_phase,
)
from moai_mashup.cost.phase_record import append_phase
from moai_mashup.errors import BadInput, MoaiError, Refused
from moai_mashup.settings.apply import apply_backend, read_state
from moai_mashup.status import line_info, routing_table
from moai_mashup.workspace import Workspace, open_workspace
from moai_mashup.worktrees.create import create
from moai_mashup.worktrees.entries import claimed_root, list_entries, worktree_root


class RouteView(NamedTuple):
    route: Route
    spec: str | None
    here: Path  # the worktree the command runs in
    here_branch: str | None
    at_location: bool
    target: Path | None  # the worktree where the phase belongs, when it exists
    target_active: str | None  # its active backend now
    commands: list[str]
    planned: Path | None = None  # where a SPEC worktree not created yet would go
    table: tuple[BranchRoute, ...] = ()  # the routing table (table 2), in order
    matched: int | None = None  # the line that gives the phase's branch its backend


def worktrees_by_branch(root: Path) -> dict[str, Path]:
    """Branch -> worktree path (worktrees whose directory is gone are skipped)."""

    return {
        e.branch: e.path
        for e in list_entries(root)
        if e.branch and not e.prunable and e.path.is_dir()
    }


def _active(root: Path) -> str | None:
    try:
        return read_state(git.discover(root)).active
    except MoaiError:
        return None


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def plan_route(ws: Workspace, phase: str, spec: str | None) -> RouteView:
    cfg = ws.cfg
    if phase != "plan" and spec is None:
        raise BadInput(f"moai route {phase}: a SPEC id is required, e.g. moai route {phase} SPEC-1")
    if spec is not None and not is_valid_spec_id(spec):
        raise BadInput(f"SPEC id {spec!r}: expected {SPEC_ID_SHAPE}")
    route = route_for_phase(
        cfg.mode,
        cast(Phase, phase),
        spec,
        cfg.default_branch,
        cfg.spec_branch_pattern,
        cfg.routes,
        ws.wt.branch,
    )
    here = Path(ws.wt.root)
    target: Path | None
    if route.location == "current-branch":
        at, target = True, here
    else:
        at = ws.wt.branch == route.branch
        target = here if at else worktrees_by_branch(here).get(route.branch or "")
    target_active = _active(target) if target is not None else None
    commands: list[str] = []
    if not at:
        if target is not None:
            commands.append(f"cd {_q(target)}")
        elif route.location == "default-branch":
            commands.append(f"git switch {shlex.quote(route.branch or '')}")
        else:  # creates the worktree, applies its backend, prints where it is
            commands.append(f"moai route {phase} {spec} --apply")
    if target is not None and target_active != route.backend:
        commands.append("moai apply")
    if not at and target is not None:
        commands.append("claude  # Claude Code started there reads that worktree's settings")
    planned = None
    if route.location == "spec-worktree" and target is None and spec is not None:
        planned = planned_worktree_path(ws, spec)
    lines = routing_table(cfg)
    branch = ws.wt.branch if route.location == "current-branch" else route.branch
    found = route_branch(lines, branch)
    matched = None if found is None else lines.index(found)
    return RouteView(
        route,
        spec,
        here,
        ws.wt.branch,
        at,
        target,
        target_active,
        commands,
        planned,
        lines,
        matched,
    )


def _location_text(view: RouteView) -> str:
    r = view.route
    if r.location == "current-branch":
        return f"current branch ({view.here_branch or 'detached HEAD'})"
    if r.location == "default-branch":
        return f"default branch '{r.branch}'"
    where = str(view.target) if view.target else "not created yet"
    if view.planned:
        where += f"; will be {view.planned}"
    return f"worktree on '{r.branch}' ({where})"


def to_json(view: RouteView, ws: Workspace) -> dict[str, Any]:
    r = view.route
    return {
        "phase": r.phase,
        "spec": view.spec,
        "mode": r.mode,
        "mode_source": ws.cfg.mode_source,
        "location": r.location,
        "branch": r.branch,
        "backend": r.backend,
        "worktree": str(view.target) if view.target else None,
        "planned_worktree": str(view.planned) if view.planned else None,
        "worktree_active_backend": view.target_active,
        "here": {"worktree": str(view.here), "branch": view.here_branch},
        "at_location": view.at_location,
        "commands": view.commands,
        # the routing table, first match wins: llm.routes (llm.local.yaml's first) or
        # the mode's lines; `matches` marks the one that decided the backend
        "table": [
            line_info(ws.cfg, line) | {"matches": i == view.matched}
            for i, line in enumerate(view.table)
        ],
    }


def print_view(view: RouteView, ws: Workspace) -> None:
    r = view.route
    title = f"{r.phase} {view.spec}" if view.spec else r.phase
    lines = [
        f"phase:    {title}  (mode {r.mode}, from {ws.cfg.mode_source})",
        f"location: {_location_text(view)}",
        f"backend:  {r.backend}",
        f"you are:  {view.here_branch or 'detached HEAD'} in {view.here}"
        + ("  (there)" if view.at_location else "  (not there)"),
    ]
    lines += table_lines(view, ws)
    if view.commands:
        lines.append("next:     " + view.commands[0])
        lines += [f"          {c}" for c in view.commands[1:]]
    click.echo("\n".join(lines))


def table_lines(view: RouteView, ws: Workspace) -> list[str]:
    """The routing table, one line each, the one that decided marked."""
    infos = [line_info(ws.cfg, line) for line in view.table]
    width = max((len(i["branch"]) for i in infos), default=0)
    bwidth = max((len(i["backend"]) for i in infos), default=0)
    out = []
    for n, info in enumerate(infos):
        where = os.path.basename(info["source"]) if info["source"] else _LINE_KINDS[info["kind"]]
        mark = "  <- this one" if n == view.matched else ""
        label = "table:    " if n == 0 else "          "
        out.append(
            f"{label}{info['branch']:<{width}}  -> {info['backend']:<{bwidth}}  ({where}){mark}"
        )
    return out


# What put a line of the table there, when no file did.
_LINE_KINDS = {
    "default": "mode: the default branch",
    "spec": "mode: SPEC branches",
    "other": "mode: any other branch",
    "unrouted": "no route matched",
}


def _spec_worktree(ws: Workspace, spec: str) -> tuple[Path, list[str]]:
    """Create the SPEC worktree with `moai worktree create`'s own function."""

    created = create(ws, spec)
    return created.path, [f"created worktree {created.path} on {created.branch}", *created.lines]


def planned_worktree_path(ws: Workspace, spec: str) -> Path:
    """Where `moai worktree create SPEC` would put it (nothing is written)."""

    root = claimed_root(worktree_root(ws), Path(ws.wt.common_dir), claim=False)
    return root / spec


class Applied(NamedTuple):
    worktree: Path
    switched: bool  # its backend changed: a Claude Code running there must restart
    lines: list[str]


def apply_route(view: RouteView, ws: Workspace) -> Applied:
    """Go where the phase belongs: the worktree, its backend, the phase record."""

    r = view.route
    lines: list[str] = []
    if not view.at_location and r.location == "default-branch":
        how = f"cd {_q(view.target)}" if view.target else f"git switch {r.branch}"
        raise Refused(
            f"{r.phase} belongs on '{r.branch}' ({r.backend}); you are on "
            f"{view.here_branch or 'a detached HEAD'}: run {how} (moai never switches "
            "your tree for you)"
        )
    target = view.target
    if target is None:
        assert view.spec is not None
        target, created_lines = _spec_worktree(ws, view.spec)
        lines += created_lines
    there = ws if target == view.here else open_workspace(target)
    result = apply_backend(there.wt, there.cfg, r.backend)
    if result.changed:
        lines.append(f"{target}: now on {r.backend} (was {result.before})")
    if result.held_line:
        lines.append(result.held_line)
    append_phase(Path(there.wt.state_dir), r.phase, view.spec)
    return Applied(target, result.changed, lines)


@click.command("route")
@click.argument("phase", type=click.Choice(PHASES))
@click.argument("spec_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--apply", "do_apply", is_flag=True, help="Go there: worktree, backend, phase.")
def command(phase: str, spec_id: str | None, as_json: bool, do_apply: bool) -> None:
    """Where PHASE (plan, run, sync) belongs, on which backend, and how to get there."""

    ws = open_workspace()
    view = plan_route(ws, phase, spec_id)
    if not do_apply:
        if as_json:
            click.echo(jsontext.dumps(to_json(view, ws), indent=2))
        else:
            print_view(view, ws)
        return
    done = apply_route(view, ws)
    # A running Claude Code keeps the backend it started with: it must start
    # (again) in the worktree whose settings now hold the right one.
    if done.worktree != view.here:
        commands = [f"cd {_q(done.worktree)}", "claude"]
    elif done.switched:
        commands = ["claude  # restart Claude Code here: this worktree's backend just changed"]
    else:
        commands = []
    if as_json:
        info = to_json(view, ws) | {"worktree": str(done.worktree), "applied": True}
        info |= {
            "worktree_active_backend": view.route.backend,
            "at_location": done.worktree == view.here,
        }
        click.echo(jsontext.dumps(info | {"commands": commands, "notes": done.lines}, indent=2))
        return
    for line in done.lines:
        click.echo(line)
    title = f"{phase} {spec_id}" if spec_id else phase
    click.echo(f"{title}: {view.route.backend} in {done.worktree}")
    if commands:
        click.echo("next: " + " && ".join(c.split("  #")[0] for c in commands))
