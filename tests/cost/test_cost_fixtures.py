"""`moai cost` on transcripts the real Claude Code 2.1.112 wrote (tests/fixtures/transcripts).

The fixtures: on main, a tool-using session (two lines for one response),
then `--resume` with `--model haiku` and `--model opus`, and a session whose
Task tool ran a subagent (its own file); in the SPEC worktree against a
GLM stand-in (haiku -> glm-4.5-air, sonnet/opus -> glm-4.7), a tool-using
session resumed with `--model haiku`, a `/moai:3-sync SPEC-AUTH-001` session
and a `--fork-session` copy of the first (every earlier record again).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.costkit import SPEC, cost_json, install_fixtures, repo_with_worktree, row
from tests.gitrepo import git, moai, write

# List prices of 2026-11-30, restated: USD per million tokens (input, output, 5-minute
# cache write, cache read). Anthropic: write 1.25x, read 0.1x input; Z.ai lists cache reads.
PRICE = {
    "claude-sonnet-4-6": (3.0, 15.0, 3.75, 0.3),
    "claude-haiku-4-5": (1.0, 5.0, 1.25, 0.1),
    "glm-4.7": (0.6, 2.2, 0.6, 0.11),
    "glm-4.5-air": (0.2, 1.1, 0.2, 0.03),
    # all on Claude: what Claude Code 2.1.332's aliases ask for today
    "claude-opus-5-5": (4.0, 20.0, 5.0, 0.4),
    "claude-sonnet-5-5": (2.0, 10.0, 2.5, 0.2),
    "claude-opus-4-1": (15.0, 75.0, 18.75, 1.5),
}
TIER_MODEL = {"opus": "claude-opus-5-5", "sonnet": "claude-sonnet-5-5"}
# Every distinct response in the fixtures: (model, priced as, phase, tokens in/out/cw/cr).
RESPONSES = [
    ("claude-sonnet-4-6", "claude-sonnet-4-6", "plan", (1009, 59, 1800, 900)),
    ("claude-sonnet-4-6", "claude-sonnet-4-6", "plan", (1010, 60, 2000, 1000)),
    ("claude-haiku-4-5-20251001", "claude-haiku-4-5", "plan", (1014, 64, 2800, 1400)),
    ("claude-opus-4-7", "claude-opus-5-5", "plan", (1015, 65, 3000, 1500)),  # a guess
    ("claude-sonnet-4-6", "claude-sonnet-4-6", "plan", (1011, 61, 2200, 1100)),
    ("claude-sonnet-4-6", "claude-sonnet-4-6", "plan", (1013, 63, 2600, 1300)),
    ("claude-sonnet-4-6", "claude-sonnet-4-6", "plan", (1012, 62, 2400, 1200)),  # subagent's
    ("glm-4.7", "glm-4.7", "run", (1001, 51, 200, 100)),
    ("glm-4.7", "glm-4.7", "run", (1002, 52, 400, 200)),
    ("glm-4.5-air", "glm-4.5-air", "run", (1003, 53, 600, 300)),
    ("glm-4.7", "glm-4.7", "run", (1005, 55, 1000, 500)),  # only in the forked session
    ("glm-4.7", "glm-4.7", "sync", (1004, 54, 800, 400)),
]
LINES_WITH_USAGE = 18  # assistant lines in the fixture files, copies included


def usd(model: str, tokens: tuple[int, int, int, int]) -> float:
    return sum(t * p for t, p in zip(tokens, PRICE[model], strict=True)) / 1e6


def expected(phase: str, tier_of: dict[str, str]) -> tuple[int, float, float]:
    """tier_of: a non-Claude model -> the Claude model its tokens are compared with."""
    n, actual, claude = 0, 0.0, 0.0
    for model, priced_as, ph, tokens in RESPONSES:
        if ph != phase:
            continue
        n += 1
        actual += usd(priced_as, tokens)
        claude += usd(tier_of.get(model, priced_as), tokens)
    return n, actual, claude


def test_real_transcripts_attributed_deduplicated_priced(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    install_fixtures(home, main, wt)
    data = cost_json(moai(main, "cost", "--json", env=env))

    assert data["total"]["responses"] == len(RESPONSES)
    assert data["duplicates"] == LINES_WITH_USAGE - len(RESPONSES)
    assert data["transcripts"]["skipped"] == 0
    assert data["transcripts"]["files"] == 6  # 5 sessions + 1 subagent file
    # The seed's template maps glm-4.7 to opus AND sonnet, and glm-4.5-air to no tier:
    # both fall back to sonnet (the tier Claude Code asks for with no model chosen).
    tiers = {"glm-4.7": TIER_MODEL["sonnet"], "glm-4.5-air": TIER_MODEL["sonnet"]}
    for phase in ("plan", "run", "sync"):
        n, actual, claude = expected(phase, tiers)
        got = row(data, phase)
        assert got["responses"] == n, phase
        assert abs(got["actual_usd"] - actual) < 1e-6, phase
        assert abs(got["all_claude_usd"] - claude) < 1e-6, phase
        assert abs(got["saved_usd"] - (claude - actual)) < 1e-6, phase
    assert row(data, "plan")["saved_usd"] == 0  # Claude served every plan response
    assert data["counterfactual_tier_rule"] == {"default": 5}
    assert data["counterfactual_models"] == {"sonnet": "claude-sonnet-5-5"}
    assert data["guessed_prices"] == {"claude-opus-4-7": "claude-opus-5-5"}
    assert data["prices"]["table_date"] == "2026-11-30"


def test_template_ties_a_glm_model_to_one_tier(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """The worktree's settings say haiku -> glm-4.5-air: that response is compared with Haiku."""
    main, wt = repo_with_worktree(tmp_path, env)
    install_fixtures(home, main, wt)
    write(
        wt / ".claude/settings.local.json",
        json.dumps({"env": {"ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air"}}),
    )
    data = cost_json(moai(main, "cost", "--json", "--by", "model", env=env))
    air = row(data, "glm-4.5-air")
    tokens = (1003, 53, 600, 300)
    # Haiku's alias asks for claude-haiku-5-5, not listed: priced as claude-haiku-4-5 (a guess)
    assert abs(air["all_claude_usd"] - usd("claude-haiku-4-5", tokens)) < 1e-6
    assert data["guessed_prices"]["claude-haiku-5-5"] == "claude-haiku-4-5"
    assert data["counterfactual_tier_rule"] == {"default": 4, "template": 1}

    opus = cost_json(moai(main, "cost", "--json", "--claude-tier", "opus", env=env))
    _n, _actual, claude = expected("sync", {"glm-4.7": TIER_MODEL["opus"]})
    assert abs(row(opus, "sync")["all_claude_usd"] - claude) < 1e-6
    # --claude-model says which Claude model a tier stands for.
    older = cost_json(
        moai(
            main,
            "cost",
            "--json",
            "--claude-tier",
            "opus",
            "--claude-model",
            "opus=claude-opus-4-1",
            env=env,
        )
    )
    _n, _actual, claude = expected("sync", {"glm-4.7": "claude-opus-4-1"})
    assert abs(row(older, "sync")["all_claude_usd"] - claude) < 1e-6


def test_spec_filter_and_by_spec(tmp_path: Path, env: dict[str, str], home: Path) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    install_fixtures(home, main, wt)
    only = cost_json(moai(wt, "cost", "--json", "--spec", SPEC, env=env))
    assert only["total"]["responses"] == 5
    assert {r["phase"] for r in only["rows"]} == {"run", "sync"}

    by_spec = cost_json(moai(main, "cost", "--json", "--by", "spec", env=env))
    assert row(by_spec, SPEC)["responses"] == 5
    assert row(by_spec, "-")["responses"] == 7  # plan work on main carries no SPEC


def test_removed_worktree_still_counts_and_other_repos_do_not(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """After `git worktree remove`, its sessions count through llm.worktree.root."""
    root = tmp_path / "worktrees" / "{project}"
    llm = f"llm:\n  mode: mashup\n  worktree:\n    root: {root}\n"
    main, wt = repo_with_worktree(tmp_path, env, llm_yaml=llm)
    install_fixtures(home, main, wt)
    # A sibling repository whose folder name starts with ours: never counted.
    sibling = tmp_path / "project-other"
    install_fixtures(home, sibling, tmp_path / "elsewhere" / SPEC, id_prefix="other")
    git(main, "worktree", "remove", "--force", str(wt), env=env)

    data = cost_json(moai(main, "cost", "--json", env=env))
    assert data["total"]["responses"] == len(RESPONSES)
    assert row(data, "sync")["responses"] == 1
    assert data["outside_repository"] == 7  # the sibling's main-branch responses, read and left


def test_table_is_the_default_output(tmp_path: Path, env: dict[str, str], home: Path) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    install_fixtures(home, main, wt)
    proc = moai(main, "cost", env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["phase", "responses", "input"]
    assert [ln.split()[0] for ln in lines[2:5]] == ["plan", "run", "sync"]
    total = next(ln for ln in lines if ln.startswith("total"))
    assert total.split()[1] == str(len(RESPONSES))
    assert "6 duplicate record(s) counted once" in proc.stdout
