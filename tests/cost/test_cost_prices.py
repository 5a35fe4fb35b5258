"""Prices per model on transcripts the real Claude Code 2.1.332 wrote.

The fixtures are in tests/fixtures/transcripts-2.1.332.

Recorded as tests/fixtures/transcripts/README.md says, with the native build
`@anthropic-ai/claude-code-linux-x64@2.1.332`; one fake server whose usage was
set before each run. On main: `--model opus` (the server's usage split 1000
5-minute + 2000 1-hour cache writes), `--model haiku` (all-zero breakdown
beside a flat 4000), `--model sonnet` (no breakdown from the server: Claude Code
wrote an all-zero one). In the SPEC worktree: `--model 'glm-4.7[1m]'`, and
`--model opus` with `ANTHROPIC_DEFAULT_OPUS_MODEL=glm-4.7[1m]` in the
worktree's settings (1-hour writes only). Claude Code sent `glm-4.7` both times
(it strips `[1m]`) and the aliases as claude-opus-5-5, claude-haiku-5-5,
claude-sonnet-5-5.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.costkit import (
    FIXTURE_MAIN,
    FIXTURE_WT,
    FIXTURES,
    SPEC,
    cost_json,
    projects,
    repo_with_worktree,
    row,
)
from tests.gitrepo import moai, write

FIXTURES_332 = FIXTURES.parent / "transcripts-2.1.332"

# USD per million tokens, restated from the price lists of 2026-11-30:
# (input, output, 5-minute cache write, 1-hour cache write, cache read)
PRICE = {
    "claude-opus-5-5": (4.0, 20.0, 5.0, 8.0, 0.4),
    "claude-sonnet-5-5": (2.0, 10.0, 2.5, 4.0, 0.2),
    "claude-haiku-4-5": (1.0, 5.0, 1.25, 2.0, 0.1),  # claude-haiku-5-5 is priced as this
    "glm-4.7": (0.6, 2.2, 0.6, 0.6, 0.11),  # Z.ai: no cache-write surcharge
}
# (model in the transcript, priced as, phase, tokens: in, out, 5m write, 1h write, read)
RESPONSES = [
    ("claude-opus-5-5", "claude-opus-5-5", "plan", (1000, 100, 1000, 2000, 2000)),
    ("claude-haiku-5-5", "claude-haiku-4-5", "plan", (1100, 110, 4000, 0, 2100)),
    ("claude-sonnet-5-5", "claude-sonnet-5-5", "plan", (1200, 120, 500, 0, 2200)),
    ("glm-4.7", "glm-4.7", "run", (1300, 130, 600, 0, 2300)),
    ("glm-4.7", "glm-4.7", "run", (1400, 140, 0, 800, 2400)),
]


def usd(model: str, tokens: tuple[int, ...]) -> float:
    return sum(t * p for t, p in zip(tokens, PRICE[model], strict=True)) / 1e6


def install_332(home: Path, main: Path, wt: Path) -> None:
    for src in sorted(FIXTURES_332.rglob("*.jsonl")):
        rel = src.relative_to(FIXTURES_332)
        folder = rel.parts[0].replace("-home-user-worktrees-project-SPEC-AUTH-001", "WT")
        folder = folder.replace("-home-user-project", "MAIN")
        from moai_mashup.cost.transcripts import encode_project_path

        folder = folder.replace("WT", encode_project_path(str(wt)))
        folder = folder.replace("MAIN", encode_project_path(str(main)))
        dest = projects(home) / folder / Path(*rel.parts[1:])
        dest.parent.mkdir(parents=True, exist_ok=True)
        text = src.read_text(encoding="utf-8")
        dest.write_text(text.replace(FIXTURE_WT, str(wt)).replace(FIXTURE_MAIN, str(main)))


GLM_JSON = json.dumps(
    {
        "env": {
            "ANTHROPIC_AUTH_TOKEN": "${GLM_API_KEY}",
            "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7[1m]",
            "ANTHROPIC_DEFAULT_SONNET_MODEL": "glm-4.6",
            "ANTHROPIC_DEFAULT_HAIKU_MODEL": "glm-4.5-air",
        }
    }
)


@pytest.fixture
def repo332(tmp_path: Path, env: dict[str, str], home: Path) -> tuple[Path, Path]:
    main, wt = repo_with_worktree(tmp_path, env)
    for root in (main, wt):  # the template as committed, seen from both checkouts
        write(root / ".moai/llm-configs/glm.json", GLM_JSON)
    # What the worktree's settings held when the fixture was recorded.
    write(
        wt / ".claude/settings.local.json",
        '{"env": {"ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7[1m]"}}',
    )
    install_332(home, main, wt)
    return main, wt


def test_each_model_at_its_list_price_with_cache_write_rules(
    repo332: tuple[Path, Path], env: dict[str, str]
) -> None:
    main, _wt = repo332
    data = cost_json(moai(main, "cost", "--json", "--by", "model", env=env))
    assert data["transcripts"]["skipped"] == 0 and data["duplicates"] == 0
    assert data["total"]["responses"] == len(RESPONSES)
    for model in ("claude-opus-5-5", "claude-haiku-5-5", "claude-sonnet-5-5", "glm-4.7"):
        mine = [r for r in RESPONSES if r[0] == model]
        got = row(data, model)
        assert got["responses"] == len(mine), model
        assert got["cache_write_tokens"] == sum(t[2] + t[3] for *_x, t in mine), model
        assert got["cache_write_1h_tokens"] == sum(t[3] for *_x, t in mine), model
        assert got["actual_usd"] == pytest.approx(sum(usd(p, t) for _m, p, _ph, t in mine)), model
    # The all-zero breakdown beside a flat count: the flat count, as 5-minute writes.
    assert row(data, "claude-haiku-5-5")["cache_write_tokens"] == 4000
    # Exact figures, computed by hand: opus 5.5 with 1000 5m + 2000 1h writes.
    assert row(data, "claude-opus-5-5")["actual_usd"] == pytest.approx(0.0278)
    # glm-4.7 is tied to opus alone by the template's `glm-4.7[1m]` (suffix ignored):
    # its tokens are compared with claude-opus-5-5, today's Opus alias.
    glm = row(data, "glm-4.7")
    want = sum(usd("claude-opus-5-5", t) for m, _p, _ph, t in RESPONSES if m == "glm-4.7")
    assert glm["all_claude_usd"] == pytest.approx(want)
    assert data["counterfactual_tier_rule"] == {"template": 2}
    assert data["counterfactual_models"] == {"opus": "claude-opus-5-5"}
    assert data["guessed_prices"] == {"claude-haiku-5-5": "claude-haiku-4-5"}
    assert data["prices"]["table_date"] == "2026-11-30"
    assert row(data, "claude-opus-5-5")["saved_usd"] == 0


def test_the_report_names_the_table_and_the_guesses(
    repo332: tuple[Path, Path], env: dict[str, str]
) -> None:
    main, _wt = repo332
    proc = moai(main, "cost", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "prices: moai's table of 2026-11-30" in proc.stdout
    assert "guessed prices (not in the table): claude-haiku-5-5 as claude-haiku-4-5" in proc.stdout
    assert "opus -> claude-opus-5-5" in proc.stdout


def test_llm_pricing_overrides_and_prices_listing(
    repo332: tuple[Path, Path], env: dict[str, str]
) -> None:
    main, _wt = repo332
    llm = (
        "llm:\n  mode: mashup\n  pricing:\n"
        "    claude-haiku-5-5: {input: 2.0, output: 10.0}\n"
        "    opus: {input: 10.0, output: 50.0, cache_write_1h: 30.0}\n"
    )
    write(main / ".moai/config/sections/llm.yaml", llm)
    data = cost_json(moai(main, "cost", "--json", "--by", "model", env=env))
    haiku = (1100, 110, 4000, 0, 2100)  # 2x the listed Haiku 4.5: 1.25x / 0.1x rules hold
    assert row(data, "claude-haiku-5-5")["actual_usd"] == pytest.approx(
        2 * usd("claude-haiku-4-5", haiku)
    )
    assert data["guessed_prices"] == {}
    # opus 10/50, 5-minute write 12.5 (1.25x), 1-hour 30 (configured), read 1.0
    want = (1000 * 10 + 100 * 50 + 1000 * 12.5 + 2000 * 30 + 2000 * 1.0) / 1e6
    assert row(data, "claude-opus-5-5")["actual_usd"] == pytest.approx(want)

    listing = moai(main, "cost", "--prices", env=env)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].startswith("USD per million tokens; moai's table of 2026-11-30")
    opus = next(ln.split() for ln in lines if ln.startswith("opus "))
    assert opus[:6] == ["opus", "10", "50", "12.5", "30", "1"] and opus[6] == "llm.pricing"
    glm = next(ln.split() for ln in lines if ln.startswith("glm-4.7 "))
    assert glm[1:6] == ["0.6", "2.2", "0.6", "0.6", "0.11"]
    assert glm[6] == "https://docs.z.ai/guides/overview/pricing" and glm[7] == "2026-11-30"
    as_json = json.loads(moai(main, "cost", "--prices", "--json", env=env).stdout)
    assert as_json["counterfactual_models"]["haiku"] == "claude-haiku-5-5"
    assert {m["model"] for m in as_json["models"]} >= {"claude-opus-5-5", "glm-5", "opus"}


def test_prices_outside_a_repository(tmp_path: Path, env: dict[str, str]) -> None:
    proc = moai(tmp_path, "cost", "--prices", "--claude-model", "opus=claude-opus-5", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "opus -> claude-opus-5," in proc.stdout
    assert any(ln.startswith("claude-haiku-4-5 ") for ln in proc.stdout.splitlines())


def test_bad_claude_model_is_one_line(repo332: tuple[Path, Path], env: dict[str, str]) -> None:
    main, _wt = repo332
    proc = moai(main, "cost", "--claude-model", "gpt=claude-x", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--claude-model 'gpt=claude-x'" in proc.stderr


def test_spec_worktree_fixture_is_the_run_phase(
    repo332: tuple[Path, Path], env: dict[str, str]
) -> None:
    main, _wt = repo332
    data = cost_json(moai(main, "cost", "--json", "--spec", SPEC, env=env))
    assert data["total"]["responses"] == 2 and [r["phase"] for r in data["rows"]] == ["run"]


def test_fixture_provenance_is_recorded() -> None:
    assert FIXTURES_332.is_dir() and shutil.which("git")
    versions = {
        json.loads(line).get("version")
        for p in FIXTURES_332.rglob("*.jsonl")
        for line in p.read_text(encoding="utf-8").splitlines()
        if '"usage"' in line
    }
    assert versions == {"2.1.332"}
