"""The workflow phase a worktree is in, recorded by `moai route ... --apply`.

Stored as `<per-worktree git dir>/moai/phase` (never tracked), a small JSON
object: {"phase": "sync", "spec": "SPEC-X", "at": "2026-01-01T00:00:00+00:00"}.
`moai cost` reads it to attribute a session's tokens to plan, run or sync.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from moai_mashup import git
from moai_mashup.core.routing import PHASES

PHASE_NAME = "phase"


class PhaseRecord(NamedTuple):
    phase: str  # plan | run | sync
    spec: str | None
    at: str  # ISO 8601, UTC

    def to_json(self) -> dict[str, Any]:
        return {"phase": self.phase, "spec": self.spec, "at": self.at}


def record_phase(wt: git.Worktree, phase: str, spec: str | None) -> PhaseRecord:
    from moai_mashup.atomic import atomic_write_text

    record = PhaseRecord(phase, spec, datetime.now(UTC).isoformat(timespec="seconds"))
    atomic_write_text(wt.state_dir / PHASE_NAME, json.dumps(record.to_json()) + "\n", mode=0o600)
    return record


def read_phase(wt: git.Worktree) -> PhaseRecord | None:
    """The recorded phase, or None when absent or unreadable (it is only a hint)."""
    try:
        data = json.loads((wt.state_dir / PHASE_NAME).read_text(encoding="utf-8"))
        phase, spec, at = data["phase"], data.get("spec"), data["at"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if phase not in PHASES or not isinstance(at, str) or not isinstance(spec, str | None):
        return None
    return PhaseRecord(phase, spec, at)
