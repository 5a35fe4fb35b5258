"""The routing tables (README, "The routing table") as pure functions.

Table 1 (phase -> location + backend) and table 2 (branch -> backend), by mode.
"""

from __future__ import annotations

import re

from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Literal

    Mode = Literal["claude-only", "mashup", "glm-only"]
    Backend = Literal["claude", "glm"]
    Phase = Literal["plan", "run", "sync"]
    Location = Literal["default-branch", "spec-worktree", "current-branch"]
    BranchKind = Literal["default", "spec", "other", "detached"]
else:  # names for importers; annotations are never evaluated (see lean.py)
    Mode = Backend = Phase = Location = BranchKind = str

MODES: tuple[Mode, ...] = ("claude-only", "mashup", "glm-only")
PHASES: tuple[Phase, ...] = ("plan", "run", "sync")

SPEC_ID_RE = re.compile(r"SPEC-[A-Z0-9]+(?:-[A-Z0-9]+)*")
SPEC_ID_SHAPE = "SPEC-<A-Z0-9>[-<A-Z0-9>...], e.g. SPEC-AUTH-001"


def is_valid_spec_id(spec_id: str) -> bool:
    return SPEC_ID_RE.fullmatch(spec_id) is not None


def matches_spec_pattern(branch: str, pattern: str) -> bool:
    """`pattern` has exactly one `*`, standing for one or more characters.

    Not fnmatch: `?` and `[` are literal (git refuses them in branch names
    anyway, so a glob reading could never match), and `*` must stand for
    something (`feature/SPEC-` alone is not a SPEC branch).
    """
    prefix, star, suffix = pattern.partition("*")
    if not star:
        return branch == pattern
    return (
        len(branch) > len(prefix) + len(suffix)
        and branch.startswith(prefix)
        and branch.endswith(suffix)
    )


def spec_branch_name(spec_id: str, pattern: str = "feature/SPEC-*") -> str:
    """`feature/SPEC-*` + `SPEC-X` -> `feature/SPEC-X` (the `SPEC-` prefix is the pattern's)."""
    prefix, star, suffix = pattern.partition("*")
    if not star:
        raise ValueError(f"spec_branch_pattern {pattern!r} has no '*'")
    body = spec_id
    if prefix.endswith("SPEC-") and body.startswith("SPEC-"):
        body = body[len("SPEC-") :]
    return f"{prefix}{body}{suffix}"


def spec_id_from_branch(branch: str, pattern: str = "feature/SPEC-*") -> str | None:
    """The SPEC id a branch carries, or None when it is not a SPEC branch."""
    if not matches_spec_pattern(branch, pattern):
        return None
    prefix, _, suffix = pattern.partition("*")
    body = branch[len(prefix) : len(branch) - len(suffix)]
    spec_id = f"SPEC-{body}" if prefix.endswith("SPEC-") else body
    return spec_id if is_valid_spec_id(spec_id) else None


def branch_kind(
    branch: str | None, default_branch: str = "main", pattern: str = "feature/SPEC-*"
) -> BranchKind:
    if branch is None:
        return "detached"
    if branch == default_branch:
        return "default"
    if matches_spec_pattern(branch, pattern):
        return "spec"
    return "other"


def backend_for_kind(mode: Mode, kind: BranchKind) -> Backend | None:
    """Table 2. None means "leave the worktree as it is" (detached HEAD)."""
    if kind == "detached":
        return None
    if mode == "claude-only":
        return "claude"
    if mode == "glm-only":
        return "glm"
    return "glm" if kind == "spec" else "claude"


def backend_for_branch(
    mode: Mode, branch: str | None, default_branch: str = "main", pattern: str = "feature/SPEC-*"
) -> Backend | None:
    return backend_for_kind(mode, branch_kind(branch, default_branch, pattern))


class Route(NamedTuple):
    """Where a phase belongs and on which backend (table 1)."""

    phase: Phase
    mode: Mode
    location: Location
    backend: Backend
    branch: str | None  # the branch the phase runs on; None = whatever is current


def route_for_phase(
    mode: Mode,
    phase: Phase,
    spec_id: str | None = None,
    default_branch: str = "main",
    pattern: str = "feature/SPEC-*",
) -> Route:
    if phase != "plan" and spec_id is None:
        raise ValueError(f"phase {phase!r} needs a SPEC id")
    if spec_id is not None and not is_valid_spec_id(spec_id):
        raise ValueError(f"invalid SPEC id {spec_id!r}; expected {SPEC_ID_SHAPE}")
    if mode == "claude-only":
        return Route(phase, mode, "current-branch", "claude", None)
    if mode == "glm-only":
        if phase == "plan":
            return Route(phase, mode, "default-branch", "glm", default_branch)
        return Route(phase, mode, "current-branch", "glm", None)
    if phase == "plan":
        return Route(phase, mode, "default-branch", "claude", default_branch)
    assert spec_id is not None
    return Route(phase, mode, "spec-worktree", "glm", spec_branch_name(spec_id, pattern))
