"""The routing tables (README, "The routing table") as pure functions.

Table 1 (phase -> location + backend) and table 2 (branch -> backend). Table 2
is an ordered list of `branch glob -> backend` lines, first match wins
(`table`): `llm.routes` when the config has them (with a last line sending any
other branch to Claude), else the mode's lines (`branch_routes`). The git
hook's stamp carries it, so the shim and the prepared switch only match what
this module decided. A backend is a name: `claude`, `glm` or one of
`llm.backends` (core/backends.py).

The glob, everywhere: `*` is the only special character and stands for one or
more characters; a glob has at most one special `*` (a second one, `?`, `[`,
`]` and `\\` are literal: git refuses them in branch names, so they can never
match a branch). A glob without `*` is the exact branch name.

Lean (no `re` until a SPEC id is checked): the hook's prepared switch matches
branches with `glob_matches`.
"""

from __future__ import annotations

from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Literal, Protocol

    Mode = Literal["claude-only", "mashup", "glm-only"]
    Backend = str  # "claude", "glm" or a name of llm.backends
    Phase = Literal["plan", "run", "sync"]
    Location = Literal["default-branch", "spec-worktree", "current-branch"]
    BranchKind = Literal["default", "spec", "other", "detached"]
    TableKind = Literal["default", "spec", "other"]  # a kind of branch with a line
    # What put a line into table 2: a kind of branch (the mode's lines), an entry
    # of llm.routes, or the line after the routes for any branch they miss.
    LineKind = Literal["default", "spec", "other", "route", "unrouted"]

    class RouteEntry(Protocol):
        """An entry of llm.routes (config.RouteLine)."""

        @property
        def branch(self) -> str: ...
        @property
        def backend(self) -> str: ...

else:  # names for importers; annotations are never evaluated (see lean.py)
    Mode = Backend = Phase = Location = BranchKind = TableKind = LineKind = str

MODES: tuple[Mode, ...] = ("claude-only", "mashup", "glm-only")
PHASES: tuple[Phase, ...] = ("plan", "run", "sync")

SPEC_ID_PATTERN = r"SPEC-[A-Z0-9]+(?:-[A-Z0-9]+)*"
SPEC_ID_SHAPE = "SPEC-<A-Z0-9>[-<A-Z0-9>...], e.g. SPEC-AUTH-001"


_SPEC_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def is_valid_spec_id(spec_id: str) -> bool:
    """SPEC_ID_PATTERN matches all of `spec_id`, checked without `re` (~5 ms of the
    status line's and prompt hook's CPU to import; tests/core hold it to the pattern)."""
    if not spec_id.startswith("SPEC-"):
        return False
    return all(part and set(part) <= _SPEC_ID_CHARS for part in spec_id[5:].split("-"))


def glob_matches(branch: str, branch_glob: str) -> bool:
    """The branch glob (module docstring): the first `*` stands for one or more
    characters, everything else is literal.

    Not fnmatch: `?` and `[` are literal (git refuses them in branch names
    anyway, so a glob reading could never match), and `*` must stand for
    something (`feature/SPEC-` alone is not a SPEC branch).
    """
    prefix, star, suffix = branch_glob.partition("*")
    if not star:
        return branch == branch_glob
    return (
        len(branch) > len(prefix) + len(suffix)
        and branch.startswith(prefix)
        and branch.endswith(suffix)
    )


def covers(earlier: str, later: str) -> bool:
    """Every branch glob `later` matches, glob `earlier` matches too: a route with
    `later` placed after one with `earlier` never decides a branch.

    With one `*` (one or more characters) each: an exact name is covered when
    `earlier` matches it; a glob `p*s` when `earlier` is a glob `pe*se` with `p`
    starting with `pe` and `s` ending with `se` (the `*` of `later` can be any
    text, so nothing else guarantees a match)."""
    prefix, star, suffix = later.partition("*")
    if not star:
        return glob_matches(later, earlier)
    e_prefix, e_star, e_suffix = earlier.partition("*")
    return bool(e_star) and prefix.startswith(e_prefix) and suffix.endswith(e_suffix)


def matches_spec_pattern(branch: str, pattern: str) -> bool:
    """The spec branch pattern is a branch glob (`glob_matches`)."""
    return glob_matches(branch, pattern)


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
    for glob, kind in _kind_globs(default_branch, pattern):
        if glob_matches(branch, glob):
            return kind
    return "other"  # the empty name, which no branch has


def _kind_globs(default_branch: str, pattern: str) -> list[tuple[str, TableKind]]:
    """The kinds of branch in the order they are tried, each as a branch glob. The
    default branch is an exact name: one with a `*` (which git refuses in branch
    names) matches no branch, so it has no line."""
    globs: list[tuple[str, TableKind]] = []
    if "*" not in default_branch:
        globs.append((default_branch, "default"))
    return [*globs, (pattern, "spec"), ("*", "other")]


def backend_for_kind(mode: Mode, kind: BranchKind) -> Backend | None:
    """Table 2. None means "leave the worktree as it is" (detached HEAD)."""
    if kind == "detached":
        return None
    if mode == "claude-only":
        return "claude"
    if mode == "glm-only":
        return "glm"
    return "glm" if kind == "spec" else "claude"


class BranchRoute(NamedTuple):
    """One line of table 2: branches matching `glob` go to `backend`."""

    glob: str
    backend: Backend
    kind: LineKind  # for messages (workspace.why)


def branch_routes(
    mode: Mode, default_branch: str = "main", pattern: str = "feature/SPEC-*"
) -> tuple[BranchRoute, ...]:
    """Table 2 as ordered `glob -> backend` lines, first match wins; the last
    line (`*`) matches every branch. A detached HEAD matches none (no change)."""
    routes = []
    for glob, kind in _kind_globs(default_branch, pattern):
        backend = backend_for_kind(mode, kind)
        assert backend is not None
        routes.append(BranchRoute(glob, backend, kind))
    return tuple(routes)


def table(
    mode: Mode,
    default_branch: str = "main",
    pattern: str = "feature/SPEC-*",
    routes: Iterable[RouteEntry] = (),
) -> tuple[BranchRoute, ...]:
    """Table 2, the one routing decision every caller takes (the hook, its stamp,
    status, worktree list, `moai route`): ordered `glob -> backend` lines, first
    match wins, the last one matching every branch.

    `claude-only` puts every branch on Claude whatever the routes say (the
    MOAI_LLM_MODE=claude-only escape hatch). Else `routes` (llm.routes, the local
    file's first), when there are any, in order, and when no glob is `*`, a last
    line sending the branches they miss to Claude ("unrouted"). Else the mode's
    lines (`branch_routes`).
    """
    lines = (
        [] if mode == "claude-only" else [BranchRoute(r.branch, r.backend, "route") for r in routes]
    )
    if not lines:
        return branch_routes(mode, default_branch, pattern)
    if all(line.glob != "*" for line in lines):
        lines.append(BranchRoute("*", "claude", "unrouted"))
    return tuple(lines)


def route_branch(routes: tuple[BranchRoute, ...], branch: str | None) -> BranchRoute | None:
    """The first line of `routes` whose glob matches `branch`; None when none does."""
    if branch is None:
        return None
    for route in routes:
        if glob_matches(branch, route.glob):
            return route
    return None


def branch_backend(routes: tuple[BranchRoute, ...], branch: str | None) -> Backend | None:
    """The backend `routes` (a `table`) gives `branch`; None on a detached HEAD
    (the worktree is left as it is)."""
    line = route_branch(routes, branch)
    return None if line is None else line.backend


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
    routes: Iterable[RouteEntry] = (),
    current: str | None = None,
) -> Route:
    """Table 1: where `phase` belongs (by mode) and on which backend. The location
    is the mode's; with `routes`, the backend is what table 2 (`table`) gives the
    branch the phase runs on (the default branch, the SPEC's, or `current`, the
    branch checked out where the command runs), so the phase runs on what the
    hooks put there. Without routes table 1 and the mode's table 2 agree."""
    route = _phase_by_mode(mode, phase, spec_id, default_branch, pattern)
    lines = table(mode, default_branch, pattern, routes)
    if lines[0].kind != "route":
        return route
    backend = branch_backend(lines, route.branch or current)
    return route if backend is None else route._replace(backend=backend)


def _phase_by_mode(
    mode: Mode, phase: Phase, spec_id: str | None, default_branch: str, pattern: str
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
