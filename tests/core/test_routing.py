"""The routing tables (README, "The routing table"), over modes x phases x branch kinds."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moai_mashup.core.routing import (
    MODES,
    PHASES,
    backend_for_branch,
    branch_kind,
    is_valid_spec_id,
    matches_spec_pattern,
    route_for_phase,
    spec_branch_name,
    spec_id_from_branch,
)

# README, "The routing table", backend by location: mode -> (default, spec, other, detached)
BRANCH_TABLE: dict[str, tuple[str | None, ...]] = {
    "claude-only": ("claude", "claude", "claude", None),
    "mashup": ("claude", "glm", "claude", None),
    "glm-only": ("glm", "glm", "glm", None),
}
BRANCHES = ("main", "feature/SPEC-AUTH-001", "bugfix/login", None)

# README, "The routing table", phase by mode: mode -> phase -> (location, backend)
PHASE_TABLE: dict[str, dict[str, tuple[str, str]]] = {
    "claude-only": {p: ("current-branch", "claude") for p in PHASES},
    "mashup": {
        "plan": ("default-branch", "claude"),
        "run": ("spec-worktree", "glm"),
        "sync": ("spec-worktree", "glm"),
    },
    "glm-only": {
        "plan": ("default-branch", "glm"),
        "run": ("current-branch", "glm"),
        "sync": ("current-branch", "glm"),
    },
}


@pytest.mark.parametrize(("mode", "index"), list(itertools.product(MODES, range(4))))
def test_branch_table(mode: str, index: int) -> None:
    assert backend_for_branch(mode, BRANCHES[index]) == BRANCH_TABLE[mode][index]  # type: ignore[arg-type]


@pytest.mark.parametrize(("mode", "phase"), list(itertools.product(MODES, PHASES)))
def test_phase_table(mode: str, phase: str) -> None:
    route = route_for_phase(mode, phase, "SPEC-X1")  # type: ignore[arg-type]
    assert (route.location, route.backend) == PHASE_TABLE[mode][phase]
    if route.location == "spec-worktree":
        assert route.branch == "feature/SPEC-X1"
    if route.location == "default-branch":
        assert route.branch == "main"


def test_configurable_default_branch_and_pattern() -> None:
    assert backend_for_branch("mashup", "trunk", "trunk", "spec/*") == "claude"
    assert backend_for_branch("mashup", "main", "trunk", "spec/*") == "claude"
    assert backend_for_branch("mashup", "spec/SPEC-1", "trunk", "spec/*") == "glm"
    assert backend_for_branch("mashup", "feature/SPEC-1", "trunk", "spec/*") == "claude"
    assert route_for_phase("mashup", "run", "SPEC-9", "trunk", "spec/*").branch == "spec/SPEC-9"
    assert route_for_phase("glm-only", "plan", None, "trunk").branch == "trunk"


@pytest.mark.parametrize("spec_id", ["SPEC-1", "SPEC-AUTH-001", "SPEC-A1-B2-C3", "SPEC-DEMO-001"])
def test_valid_spec_ids(spec_id: str) -> None:
    assert is_valid_spec_id(spec_id)
    assert spec_id_from_branch(spec_branch_name(spec_id)) == spec_id


@pytest.mark.parametrize(
    "spec_id",
    [
        "../x",
        "SPEC-../../x",
        "SPEC-a",
        "spec-1",
        "SPEC-",
        "SPEC-1-",
        "SPEC 1",
        "SPEC-1/2",
        "",
        "SPEC--1",
        "SPEC-1\n",
    ],
)
def test_invalid_spec_ids_refused(spec_id: str) -> None:
    assert not is_valid_spec_id(spec_id)
    with pytest.raises(ValueError):
        route_for_phase("mashup", "run", spec_id)


def test_run_and_sync_need_a_spec() -> None:
    for mode in MODES:
        for phase in ("run", "sync"):
            with pytest.raises(ValueError):
                route_for_phase(mode, phase, None)


# --- configurable default branch and SPEC pattern: edge cases --------------------------

KIND_INDEX = {"default": 0, "spec": 1, "other": 2, "detached": 3}


@pytest.mark.parametrize(
    ("pattern", "branch", "kind"),
    [
        ("feature/SPEC-*", "feature/SPEC-AUTH-001", "spec"),
        ("feature/SPEC-*", "feature/SPEC-", "other"),  # the * stands for something
        ("feature/SPEC-*", "feature/spec-auth", "other"),  # case matters, as in git
        ("feature/SPEC-*", "xfeature/SPEC-1", "other"),  # anchored at the start
        ("feature/SPEC-*", "feature/SPEC-1/wip", "spec"),  # * crosses '/', as fnmatch's
        ("spec/*", "spec/SPEC-9", "spec"),
        ("spec/*", "spec/", "other"),
        ("*-spec", "auth-spec", "spec"),  # suffix-only pattern
        ("*-spec", "-spec", "other"),
        ("SPEC-*", "SPEC-1", "spec"),
        ("SPEC-*", "feature/SPEC-1", "other"),
        ("feature/SPEC-*/wip", "feature/SPEC-1/wip", "spec"),
        ("feature/SPEC-*/wip", "feature/SPEC-1", "other"),
        ("a*a", "a", "other"),  # prefix and suffix may not overlap
        ("a*a", "aa", "other"),
        ("a*a", "aba", "spec"),
        ("feat?/SPEC-*", "feat?/SPEC-1", "spec"),  # ? and [ are literal, not glob
        ("feat?/SPEC-*", "featX/SPEC-1", "other"),
        ("[ab]/SPEC-*", "a/SPEC-1", "other"),
    ],
)
def test_spec_pattern_edge_cases(pattern: str, branch: str, kind: str) -> None:
    assert branch_kind(branch, "main", pattern) == kind
    assert matches_spec_pattern(branch, pattern) == (kind == "spec")


def test_default_branch_wins_over_the_pattern() -> None:
    assert branch_kind("release/SPEC-1", "release/SPEC-1", "release/SPEC-*") == "default"
    assert backend_for_branch("mashup", "release/SPEC-1", "release/SPEC-1", "release/*") == "claude"


@pytest.mark.parametrize(
    ("mode", "kind"), list(itertools.product(MODES, ("default", "spec", "other", "detached")))
)
def test_branch_table_with_custom_default_and_pattern(mode: str, kind: str) -> None:
    branch = {"default": "trunk", "spec": "work/SPEC-Z9", "other": "main", "detached": None}[kind]
    got = backend_for_branch(mode, branch, "trunk", "work/*")  # type: ignore[arg-type]
    assert got == BRANCH_TABLE[mode][KIND_INDEX[kind]]


@pytest.mark.parametrize(("mode", "phase"), list(itertools.product(MODES, PHASES)))
def test_phase_table_with_custom_default_and_pattern(mode: str, phase: str) -> None:
    route = route_for_phase(mode, phase, "SPEC-Z9", "trunk", "work/*")  # type: ignore[arg-type]
    assert (route.location, route.backend) == PHASE_TABLE[mode][phase]
    if route.location == "spec-worktree":
        assert route.branch == "work/SPEC-Z9"
        # the branch the phase goes to is one the hooks route the same way
        assert backend_for_branch(mode, route.branch, "trunk", "work/*") == route.backend  # type: ignore[arg-type]
    if route.location == "default-branch":
        assert route.branch == "trunk"
        assert backend_for_branch(mode, route.branch, "trunk", "work/*") == route.backend  # type: ignore[arg-type]


spec_ids = st.from_regex(r"SPEC-[A-Z0-9]{1,4}(-[A-Z0-9]{1,4}){0,3}", fullmatch=True)
pattern_parts = st.text(alphabet="abcxyz/-_.SPEC", max_size=10)


@given(spec_id=spec_ids, prefix=pattern_parts, suffix=pattern_parts)
def test_spec_branch_name_round_trips(spec_id: str, prefix: str, suffix: str) -> None:
    pattern = f"{prefix}*{suffix}"
    branch = spec_branch_name(spec_id, pattern)
    assert branch_kind(branch, "\0never", pattern) == "spec"
    assert spec_id_from_branch(branch, pattern) == spec_id


@given(spec_id=st.text(max_size=20))
def test_spec_id_validation_matches_the_documented_shape(spec_id: str) -> None:
    import re

    ok = re.fullmatch(r"SPEC-[A-Z0-9]+(-[A-Z0-9]+)*", spec_id) is not None
    assert is_valid_spec_id(spec_id) == ok
    if not ok:
        with pytest.raises(ValueError):
            route_for_phase("mashup", "run", spec_id)
