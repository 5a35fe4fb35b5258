"""The phase record: `<per-worktree git dir>/moai/phase`, which phase a worktree is in, over time.

Claude Code's transcripts say where a response happened (cwd, gitBranch) but
not which workflow phase it served: a SPEC worktree does both `run` and `sync`.
A tool that knows (e.g. `moai route`, when it sends you to a phase) appends a
line here; `moai cost` attributes each response in that worktree to the
latest record at or before the response's time.

Format: UTF-8 text, one JSON object per line, appended, never rewritten:

    {"at": "2026-11-25T17:36:07Z", "phase": "sync", "spec": "SPEC-AUTH-001"}

- `at`: UTC, ISO 8601 with a trailing `Z` (as Claude Code writes timestamps,
  so the two compare as strings);
- `phase`: `plan`, `run` or `sync`;
- `spec`: the SPEC id, or null.
Lines that do not parse or carry another phase are ignored (the file is ours,
inside `.git`, but a crash mid-append may leave half a line). It is read and
appended through moai_mashup.files: a link at its place leading out of the git
dir, a FIFO, or a file past MAX_PHASE_RECORD_BYTES is refused with one line.
"""

from __future__ import annotations

from pathlib import Path

from moai_mashup import files, jsontext
from moai_mashup.lean import NamedTuple
from moai_mashup.limits import MAX_PHASE_RECORD_BYTES

PHASE_FILE = "phase"
PHASES = ("plan", "run", "sync")


class PhaseMark(NamedTuple):
    at: str
    phase: str
    spec: str | None


def now_utc() -> str:
    from datetime import UTC, datetime  # a writer's; `moai cost` only reads

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def append_phase(state_dir: Path, phase: str, spec: str | None, at: str | None = None) -> Path:
    """Append one record to `<state_dir>/phase` (state_dir = git.Worktree.state_dir).

    BadInput, nothing written, when a link there leads out of the git dir."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    path = state_dir / PHASE_FILE
    line = jsontext.dumps({"at": at or now_utc(), "phase": phase, "spec": spec}) + "\n"
    # O_APPEND: concurrent writers (two terminals) each add a whole line.
    files.append_bytes(path, line.encode("utf-8"), 0o600, within=state_dir.parent)
    return path


def read_phases(state_dir: Path) -> list[PhaseMark]:
    """Every valid record, oldest first. BadInput (one line) when the record is not a
    regular file inside the git dir, or past MAX_PHASE_RECORD_BYTES."""
    data = files.read_bytes(state_dir / PHASE_FILE, MAX_PHASE_RECORD_BYTES, within=state_dir.parent)
    if data is None:
        return []
    text = data.decode("utf-8", errors="replace")
    marks: list[PhaseMark] = []
    for line in text.splitlines():
        try:
            obj = jsontext.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(obj, dict):
            continue
        at, phase, spec = obj.get("at"), obj.get("phase"), obj.get("spec")
        if isinstance(at, str) and phase in PHASES:
            marks.append(PhaseMark(at, phase, spec if isinstance(spec, str) else None))
    marks.sort(key=lambda m: m.at)
    return marks


def phase_at(marks: list[PhaseMark], timestamp: str) -> PhaseMark | None:
    """The latest record at or before `timestamp` (ISO strings compare in time order)."""
    # Seconds resolution: "...:07Z" and "...:07.913Z" must compare as the same second.
    when = timestamp[:19]
    found = None
    for mark in marks:
        if mark.at[:19] <= when:
            found = mark
        else:
            break
    return found
