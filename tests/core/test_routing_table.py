"""Table 2 with `llm.routes` (core/routing.table): first match wins, claude-only puts
every branch on Claude, a last line for the branches the routes miss; and what the
commands and the git hook make of it (workspace.expected and why)."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moai_mashup.config import RouteLine
from moai_mashup.core.routing import (
    MODES,
    PHASES,
    BranchRoute,
    branch_backend,
    branch_routes,
    covers,
    glob_matches,
    route_branch,
    route_for_phase,
    table,
)
from tests.core_fixtures import status_json
from tests.gitrepo import LLM_LOCAL_YAML, LLM_YAML, SEED_LLM_YAML, SETTINGS, git, moai, write
from tests.hooks_support import install, moai_lines, run_git

BACKENDS = ("claude", "glm", "kimi", "lab")
chars = st.sampled_from(list("ab/-"))
parts = st.lists(chars, max_size=4).map("".join)
globs = st.one_of(
    st.just("*"),
    parts.filter(bool),
    st.builds(lambda p, s: f"{p}*{s}", parts, parts),
)
route_lists = st.lists(
    st.builds(lambda g, b: RouteLine(g, b, LLM_YAML), globs, st.sampled_from(BACKENDS)),
    max_size=5,
)
branches = st.lists(chars, min_size=1, max_size=6).map("".join)
modes = st.sampled_from(MODES)


@given(mode=modes, routes=route_lists, branch=branches)
def test_first_matching_route_wins(mode: str, routes: list[RouteLine], branch: str) -> None:
    lines = table(mode, "main", "feature/SPEC-*", routes)  # type: ignore[arg-type]
    got = route_branch(lines, branch)
    assert got is not None  # the last line matches every branch
    if mode == "claude-only" or not routes:
        return
    first = next((r for r in routes if glob_matches(branch, r.branch)), None)
    if first is None:
        assert got == BranchRoute("*", "claude", "unrouted")
    else:
        assert (got.glob, got.backend, got.kind) == (first.branch, first.backend, "route")


@given(routes=route_lists, branch=branches, default=branches, spec=parts)
def test_claude_only_puts_every_branch_on_claude(
    routes: list[RouteLine], branch: str, default: str, spec: str
) -> None:
    pattern = f"{spec}*"
    lines = table("claude-only", default, pattern, routes)
    assert lines == branch_routes("claude-only", default, pattern)  # routes ignored
    assert branch_backend(lines, branch) == "claude"
    assert branch_backend(lines, None) is None  # a detached HEAD is left alone


@given(mode=modes, routes=route_lists)
def test_unrouted_line_iff_no_glob_is_star(mode: str, routes: list[RouteLine]) -> None:
    lines = table(mode, "main", "feature/SPEC-*", routes)  # type: ignore[arg-type]
    if mode == "claude-only" or not routes:
        assert lines == branch_routes(mode, "main", "feature/SPEC-*")  # type: ignore[arg-type]
        return
    routed = [BranchRoute(r.branch, r.backend, "route") for r in routes]
    # a `*` anywhere (a local route before the team's) already takes every branch
    if any(r.branch == "*" for r in routes):
        assert list(lines) == routed
    else:
        assert list(lines) == [*routed, BranchRoute("*", "claude", "unrouted")]
    assert any(line.glob == "*" for line in lines)


@given(earlier=globs, later=globs)
def test_covers_is_exactly_every_branch_matched_before(earlier: str, later: str) -> None:
    """`covers(a, b)`: a route with glob `b` after one with `a` never decides a branch
    (config refuses it in one file). Checked on every branch `later` matches with its
    `*` standing for text up to one character longer than `earlier` (longer text
    cannot change the answer)."""
    prefix, star, suffix = later.partition("*")
    if not star:
        shadowed = glob_matches(later, earlier)
    else:
        fillers = (
            "".join(t)
            for n in range(1, len(earlier) + 2)
            for t in itertools.product("ab", repeat=n)
        )
        shadowed = all(glob_matches(prefix + x + suffix, earlier) for x in fillers)
    assert covers(earlier, later) == shadowed


@given(glob=globs, branch=st.text(alphabet="ab/-*?[", min_size=0, max_size=6))
def test_glob_semantics_unchanged(glob: str, branch: str) -> None:
    """One `*`, one or more characters; everything else literal (no fnmatch)."""
    prefix, star, suffix = glob.partition("*")
    if star:
        expected = re.fullmatch(re.escape(prefix) + ".+" + re.escape(suffix), branch, re.S)
        assert glob_matches(branch, glob) == (expected is not None)
    else:
        assert glob_matches(branch, glob) == (branch == glob)


@pytest.mark.parametrize("mode", MODES)
def test_without_routes_the_table_is_the_modes(mode: str) -> None:
    for default, pattern in (("main", "feature/SPEC-*"), ("trunk", "spec/*")):
        assert table(mode, default, pattern) == branch_routes(mode, default, pattern)  # type: ignore[arg-type]
        assert table(mode, default, pattern, ()) == branch_routes(mode, default, pattern)  # type: ignore[arg-type]


ROUTES = (
    RouteLine("feature/SPEC-*", "kimi", LLM_YAML),
    RouteLine("main", "lab", LLM_YAML),
)


@pytest.mark.parametrize(("mode", "phase"), list(itertools.product(MODES, PHASES)))
def test_phase_backend_is_the_tables_for_its_branch(mode: str, phase: str) -> None:
    plain = route_for_phase(mode, phase, "SPEC-X1")  # type: ignore[arg-type]
    routed = route_for_phase(mode, phase, "SPEC-X1", "main", "feature/SPEC-*", ROUTES)  # type: ignore[arg-type]
    assert (routed.location, routed.branch) == (plain.location, plain.branch)  # by mode
    lines = table(mode, "main", "feature/SPEC-*", ROUTES)  # type: ignore[arg-type]
    if routed.branch is not None:
        assert routed.backend == branch_backend(lines, routed.branch)
    else:
        assert routed.backend == plain.backend
    if mode == "mashup" and phase != "plan":
        assert routed.backend == "kimi"
    if mode == "claude-only":
        assert routed.backend == "claude"
    # a phase on the current branch: that branch's line (none for a detached HEAD)
    here = route_for_phase(mode, phase, "SPEC-X1", "main", "feature/SPEC-*", ROUTES, "exp/x")  # type: ignore[arg-type]
    if mode == "glm-only" and phase != "plan":
        assert (here.location, here.backend) == ("current-branch", "claude")  # unrouted
    if mode == "claude-only":
        assert here.backend == "claude"


# --- what the commands and the hook make of it ------------------------------------------

ROUTED = SEED_LLM_YAML + "  routes:\n    - {branch: 'exp/*', backend: glm}\n"


def test_status_explains_a_route_and_the_unrouted_case(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, ROUTED)
    info = status_json(repo, env)
    assert info["expected_backend"] == "claude"
    assert info["why"] == (
        "no route in llm.yaml matches 'main' -> claude; add a route such as "
        '{branch: "*", backend: claude}'
    )
    git(repo, "switch", "-q", "-c", "exp/one", env=env)
    info = status_json(repo, env)
    assert (info["expected_backend"], info["why"]) == ("glm", "route 'exp/*' (llm.yaml) -> glm")
    # the SPEC branch of mashup's table is no longer GLM: the routes decide
    git(repo, "switch", "-q", "-c", "feature/SPEC-1", env=env)
    assert status_json(repo, env)["expected_backend"] == "claude"
    # the local file's routes go first, and say where they come from
    write(repo / LLM_LOCAL_YAML, "llm:\n  routes:\n    - {branch: 'feature/*', backend: glm}\n")
    info = status_json(repo, env)
    assert (info["expected_backend"], info["why"]) == (
        "glm",
        "route 'feature/*' (llm.local.yaml) -> glm",
    )
    git(repo, "switch", "-q", "main", env=env)
    assert status_json(repo, env)["why"].startswith(
        "no route in llm.local.yaml or llm.yaml matches 'main' -> claude"
    )
    # the escape hatch: every branch on Claude, whatever the routes say
    git(repo, "switch", "-q", "exp/one", env=env)
    info = status_json(repo, {**env, "MOAI_LLM_MODE": "claude-only"})
    assert info["expected_backend"] == "claude"
    assert (
        info["why"] == "mode claude-only (llm.routes ignored: claude-only) + other branch -> claude"
    )


def test_route_command_follows_the_routes(repo: Path, env: dict[str, str]) -> None:
    write(
        repo / LLM_YAML, SEED_LLM_YAML + "  routes:\n    - {branch: 'feature/*', backend: claude}\n"
    )
    r = moai(repo, "route", "run", "SPEC-1", "--json", env=env)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert (info["location"], info["branch"], info["backend"]) == (
        "spec-worktree",
        "feature/SPEC-1",
        "claude",
    )
    r = moai(repo, "route", "plan", "--json", env=env)
    assert json.loads(r.stdout)["backend"] == "claude"
    # glm-only runs a phase where you are: on the backend the routes give this branch
    write(
        repo / LLM_YAML,
        SEED_LLM_YAML.replace("mode: mashup", "mode: glm-only")
        + "  routes:\n    - {branch: 'exp/*', backend: glm}\n",
    )
    r = moai(repo, "route", "run", "SPEC-1", "--json", env=env)
    info = json.loads(r.stdout)
    assert (info["location"], info["backend"]) == ("current-branch", "claude")
    git(repo, "switch", "-q", "-c", "exp/a", env=env)
    r = moai(repo, "route", "run", "SPEC-1", "--json", env=env)
    assert json.loads(r.stdout)["backend"] == "glm"


def test_checkout_follows_the_routes(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    install(repo, env)
    write(repo / LLM_YAML, ROUTED)
    git(repo, "commit", "-qam", "routes", env=env)
    r = run_git(repo, "checkout", "-q", "-b", "exp/one", env=env)
    assert moai_lines(r.stderr) == [
        "moai: this worktree now uses GLM (route 'exp/*' (llm.yaml) -> glm)"
    ], r.stderr
    assert "ANTHROPIC_BASE_URL" in json.loads((repo / SETTINGS).read_text())["env"]
    r = run_git(repo, "checkout", "-q", "-b", "feature/SPEC-2", env=env)
    lines = moai_lines(r.stderr)
    assert len(lines) == 1 and lines[0].startswith("moai: this worktree now uses Claude (no route")
    assert "matches 'feature/SPEC-2' -> claude" in lines[0] or "matches this branch" in lines[0]
    settings = json.loads((repo / SETTINGS).read_text()) if (repo / SETTINGS).exists() else {}
    assert "ANTHROPIC_BASE_URL" not in settings.get("env", {})
    r = run_git(repo, "checkout", "-q", "exp/one", env=env)  # back: GLM again
    assert "ANTHROPIC_BASE_URL" in json.loads((repo / SETTINGS).read_text())["env"]
    assert keyed_home not in r.stdout + r.stderr
