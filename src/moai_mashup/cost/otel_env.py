"""The OpenTelemetry variables of this worktree, without click: `moai telemetry settings`
runs before every Claude Code start (the `claude()` function in docs/cost.md), so entry.py
dispatches it here directly (click alone costs ~45 ms, far more on a busy machine).
See moai_mashup/cost/telemetry.py for why `--settings` and what the labels are.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from moai_mashup import jsontext
from moai_mashup.errors import MoaiError
from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from moai_mashup.workspace import Workspace


def worktree_env() -> tuple[dict[str, str], str | None]:
    """(variables, why there are none) for the worktree of the current directory."""
    from moai_mashup import git
    from moai_mashup.cost import telemetry as tm
    from moai_mashup.settings import trust
    from moai_mashup.workspace import open_workspace

    try:
        cwd = Path.cwd()
    except OSError:
        return {}, "the current directory was removed; nothing to export from here"
    try:
        git.discover(cwd)
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
        repository=os.path.basename(repo),
    )
    note = None
    try:
        user = tm.user_attributes(dict(os.environ), Path.home())  # $HOME when it is set
    except MoaiError as exc:  # exported all the same, without the user's own attributes
        user = tm.parse_attributes(os.environ.get(tm.RESOURCE_VAR, ""))
        note = f"{exc} (its OTEL_RESOURCE_ATTRIBUTES left out)"
    attrs = tm.merged_attributes(user, tel.resource_attributes, ours)
    return tm.telemetry_env(tel.otlp_endpoint, tel.protocol, attrs), note


def _spec(ws: Workspace) -> str | None:
    from moai_mashup.core.routing import spec_id_from_branch

    branch = ws.wt.branch
    return spec_id_from_branch(branch, ws.cfg.spec_branch_pattern) if branch else None


def _phase(ws: Workspace) -> str:
    """`moai route`'s phase record when it names this worktree's SPEC, else the location's."""
    from moai_mashup.cost.phase_record import read_phases

    kind = ws.kind
    if kind == "spec":
        marks = read_phases(Path(ws.wt.state_dir))
        if marks and marks[-1].spec in (None, _spec(ws)):
            return marks[-1].phase
    return {"default": "plan", "spec": "run"}.get(kind, "other")


def _backend(ws: Workspace) -> str:
    """The NAME of the backend this worktree's settings route to (`kimi`, `ds`, `glm`:
    moai's ownership record names it, and the active backend is that name), else the
    table's backend (settings moai cannot read, or only partly its own), else `claude`."""
    from moai_mashup.settings.apply import read_state

    try:
        active = read_state(ws.wt).active
    except MoaiError:
        return ws.expected or "claude"
    return (ws.expected or "claude") if active == "mixed" else active


def settings_text() -> tuple[str, str | None]:
    """(the `--settings` JSON, a warning line or None)."""
    env, why = worktree_env()
    return (jsontext.dumps({"env": env}, sort_keys=True) if env else "{}"), why


def settings_main() -> None:
    """`moai telemetry settings`: always prints JSON Claude Code accepts, even on an error
    (`{}` at worst, with one line on stderr)."""
    try:
        text, why = settings_text()
    except MoaiError as exc:
        sys.stdout.write("{}\n")
        sys.stdout.flush()
        sys.stderr.write(f"moai: {exc}\n")
        sys.exit(exc.exit_code)
    except Exception as exc:  # one no check foresaw: Claude Code still starts, without it
        if os.environ.get("MOAI_DEBUG"):
            raise
        sys.stdout.write("{}\n")
        sys.stdout.flush()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        sys.stderr.write(f"moai: telemetry settings: {first}; nothing exported\n")
        return
    if why:
        sys.stderr.write(f"moai: {why}\n")
    sys.stdout.write(text + "\n")
