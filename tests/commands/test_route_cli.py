"""`moai route` and the slash commands, on real repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from moai_mashup.cost.phase_record import read_phases
from tests.gitrepo import (
    GLM_JSON,
    LLM_YAML,
    SEED_GLM_JSON,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    moai,
    settings,
    write,
)


def route_json(repo: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    r = moai(repo, "route", *args, "--json", env=env)
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(r.stdout)
    return data


def set_mode(repo: Path, env: dict[str, str], mode: str) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML.replace("mode: mashup", f"mode: {mode}"))
    git(repo, "commit", "-qam", mode, env=env)


def test_plan_in_mashup_on_main_is_here_on_claude(repo: Path, env: dict[str, str]) -> None:
    r = moai(repo, "route", "plan", env=env)
    assert r.returncode == 0, r.stderr
    assert "location: default branch 'main'" in r.stdout
    assert "backend:  claude" in r.stdout and "(there)" in r.stdout
    info = route_json(repo, env, "plan")
    assert info["at_location"] is True and info["location"] == "default-branch"


def test_run_and_sync_need_a_valid_spec_id(repo: Path, env: dict[str, str]) -> None:
    for args in (["run"], ["sync"], ["run", "../../x"], ["sync", "spec-lower"]):
        r = moai(repo, "route", *args, "--apply", env=env)
        assert r.returncode == 2, args
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (repo / ".git/moai/phase").exists()
    assert git(repo, "worktree", "list", env=env).count("\n") == 1


def test_run_in_mashup_points_at_the_spec_worktree(repo: Path, env: dict[str, str]) -> None:
    info = route_json(repo, env, "run", "SPEC-AUTH-001")
    assert info["location"] == "spec-worktree"
    assert info["branch"] == "feature/SPEC-AUTH-001" and info["backend"] == "glm"
    assert info["worktree"] is None and info["at_location"] is False
    assert info["commands"] == ["moai route run SPEC-AUTH-001 --apply"]
    assert info["planned_worktree"].endswith("/project/SPEC-AUTH-001")

    wt = repo.parent / "wt-auth"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "feature/SPEC-AUTH-001", env=env)
    info = route_json(repo, env, "sync", "SPEC-AUTH-001")
    assert info["worktree"] == str(wt.resolve()) and info["planned_worktree"] is None
    assert info["commands"][0] == f"cd {wt.resolve()}"
    assert "moai apply" in info["commands"]  # its settings are not on GLM yet
    # From inside that worktree, it is here.
    assert route_json(wt, env, "run", "SPEC-AUTH-001")["at_location"] is True


def test_plan_apply_off_default_branch_tells_and_never_switches(
    repo: Path, env: dict[str, str]
) -> None:
    git(repo, "switch", "-qc", "feature/SPEC-A", env=env)
    write(repo / "dirty.txt", "work in progress\n")
    r = moai(repo, "route", "plan", "--apply", env=env)
    assert r.returncode == 1
    assert "plan belongs on 'main'" in r.stderr and "git switch main" in r.stderr
    assert git(repo, "branch", "--show-current", env=env).strip() == "feature/SPEC-A"
    assert (repo / "dirty.txt").exists()
    assert not (repo / ".git/moai/phase").exists()


def test_plan_apply_from_a_linked_worktree_names_mains_worktree(
    repo: Path, env: dict[str, str]
) -> None:
    wt = repo.parent / "side"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "feature/SPEC-B", env=env)
    r = moai(wt, "route", "plan", "--apply", env=env)
    assert r.returncode == 1 and f"cd {repo.resolve()}" in r.stderr


def test_run_apply_reuses_the_spec_worktree_on_glm_and_records_the_phase(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    wt = (repo.parent / "wt-a").resolve()
    git(repo, "worktree", "add", "-q", str(wt), "-b", "feature/SPEC-A", env=env)
    info = json.loads(moai(repo, "route", "run", "SPEC-A", "--apply", "--json", env=env).stdout)
    assert info["worktree"] == str(wt) and info["commands"] == [f"cd {wt}", "claude"]
    assert settings(wt)["env"]["ANTHROPIC_AUTH_TOKEN"] == keyed_home
    assert not (repo / SETTINGS).exists(), "the plan worktree stays on Claude"
    git_dir = Path(git(wt, "rev-parse", "--path-format=absolute", "--git-dir", env=env).strip())
    marks = read_phases(git_dir / "moai")
    assert [(m.phase, m.spec) for m in marks] == [("run", "SPEC-A")] and marks[0].at
    assert keyed_home not in json.dumps(info)

    r = moai(repo, "route", "sync", "SPEC-A", "--apply", env=env)
    assert r.returncode == 0, r.stderr
    assert f"next: cd {wt} && claude" in r.stdout
    marks = read_phases(git_dir / "moai")
    assert [(m.phase, m.spec) for m in marks] == [("run", "SPEC-A"), ("sync", "SPEC-A")]


def test_glm_only_run_applies_here_and_asks_for_a_restart(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    set_mode(repo, env, "glm-only")
    git(repo, "switch", "-qc", "topic", env=env)
    info = route_json(repo, env, "run", "SPEC-A", "--apply")
    assert info["location"] == "current-branch" and info["backend"] == "glm"
    assert info["commands"] and info["commands"][0].startswith("claude")
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == keyed_home
    assert [m.phase for m in read_phases(repo / ".git/moai")] == ["run"]
    # Again: already there, nothing to do.
    assert route_json(repo, env, "run", "SPEC-A", "--apply")["commands"] == []


def test_claude_only_keeps_everything_on_the_current_branch(
    repo: Path, env: dict[str, str]
) -> None:
    set_mode(repo, env, "claude-only")
    git(repo, "switch", "-qc", "anything", env=env)
    for phase in (["plan"], ["run", "SPEC-A"], ["sync", "SPEC-A"]):
        info = route_json(repo, env, *phase)
        assert info["location"] == "current-branch" and info["backend"] == "claude"
        assert info["at_location"] is True and info["commands"] == []


def test_untrusted_url_leaves_claude_until_trusted(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    set_mode(repo, env, "glm-only")
    proxy = "https://glm-proxy.example.invalid/anthropic"
    write(repo / GLM_JSON, SEED_GLM_JSON.replace("https://api.z.ai/api/anthropic", proxy))
    git(repo, "commit", "-qam", "proxy", env=env)
    r = moai(repo, "route", "run", "SPEC-A", "--apply", env=env)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "moai trust" in r.stderr
    assert not (repo / SETTINGS).exists()
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    assert moai(repo, "route", "run", "SPEC-A", "--apply", env=env).returncode == 0
    assert settings(repo)["env"]["ANTHROPIC_BASE_URL"] == proxy


def test_init_claude_commands_call_moai_route(repo: Path, env: dict[str, str]) -> None:
    r = moai(repo, "init", "--claude-commands", env=env)
    assert r.returncode == 0, r.stderr
    base = repo / ".claude/commands/moai"
    calls = {
        "1-plan.md": "moai route plan --apply",
        "2-run.md": "moai route run $ARGUMENTS --apply",
        "3-sync.md": "moai route sync $ARGUMENTS --apply",
    }
    for name, call in calls.items():
        text = (base / name).read_text()
        assert text.startswith("---\n") and "allowed-tools: Bash(moai route:*)" in text
        assert call in text
        # The route call comes before any instruction to do the phase's work.
        assert text.index(call) < text.index("Otherwise")
    write(base / "2-run.md", "my own\n")
    r = moai(repo, "init", "--claude-commands", env=env)
    assert "up to date .claude/commands/moai/1-plan.md" in r.stdout
    assert "kept .claude/commands/moai/2-run.md" in r.stdout
    assert (base / "2-run.md").read_text() == "my own\n"


def test_run_apply_creates_the_spec_worktree_on_glm(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    root = tmp_path / "worktrees"
    write(repo / LLM_YAML, SEED_LLM_YAML + f"  worktree:\n    root: {root}/{{project}}\n")
    git(repo, "commit", "-qam", "worktree root", env=env)
    planned = route_json(repo, env, "run", "SPEC-NEW-1")["planned_worktree"]
    assert planned == str(root / "project" / "SPEC-NEW-1")

    r = moai(repo, "route", "run", "SPEC-NEW-1", "--apply", env=env)
    assert r.returncode == 0, r.stderr
    wt = Path(planned)
    assert f"next: cd {wt} && claude" in r.stdout
    assert git(wt, "branch", "--show-current", env=env).strip() == "feature/SPEC-NEW-1"
    assert settings(wt)["env"]["ANTHROPIC_AUTH_TOKEN"] == keyed_home
    assert not (repo / SETTINGS).exists()
    git_dir = Path(git(wt, "rev-parse", "--path-format=absolute", "--git-dir", env=env).strip())
    assert [(m.phase, m.spec) for m in read_phases(git_dir / "moai")] == [("run", "SPEC-NEW-1")]
    # Again: reused, not created twice.
    info = route_json(repo, env, "sync", "SPEC-NEW-1", "--apply")
    assert info["worktree"] == str(wt) and not any("created" in n for n in info["notes"])
