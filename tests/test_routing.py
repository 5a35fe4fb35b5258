"""The routing tables of DESIGN.md, exhaustively over modes x phases x branch kinds."""

from __future__ import annotations

import itertools

import pytest

from moai_mashup.core.routing import (
    MODES,
    PHASES,
    backend_for_branch,
    is_valid_spec_id,
    route_for_phase,
    spec_branch_name,
    spec_id_from_branch,
)

# DESIGN.md, "Backend by location": mode -> (default, spec, other, detached)
BRANCH_TABLE: dict[str, tuple[str | None, ...]] = {
    "claude-only": ("claude", "claude", "claude", None),
    "mashup": ("claude", "glm", "claude", None),
    "glm-only": ("glm", "glm", "glm", None),
}
BRANCHES = ("main", "feature/SPEC-AUTH-001", "bugfix/login", None)

# DESIGN.md, "The job": mode -> phase -> (location, backend)
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
