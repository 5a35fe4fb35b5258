"""`moai cost --prometheus-rules` checked by `promtool` and agreeing with `moai cost`.

The same tokens go both ways: the real Claude Code transcripts of
tests/fixtures/transcripts through `moai cost --json --by model`, and the same
counts per model and type as Claude Code's `claude_code_token_usage_tokens_total`
counter through `promtool test rules`; spend and all-Claude per model must match.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from moai_mashup.cost.pricing import PriceTable, Tier, base_id, cost
from tests.costkit import cost_json, install_fixtures, repo_with_worktree
from tests.gitrepo import moai, write

LLM = (
    "llm:\n  mode: mashup\n  pricing:\n"
    "    glm-4.5-air: {input: 0.3, output: 1.5, cache_read: 0.05}\n"
)
# Claude Code's `type` attribute -> `moai cost`'s JSON field
TYPES = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cacheRead": "cache_read_tokens",
    "cacheCreation": "cache_write_tokens",
}


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        why = "promtool not found; bash scripts/test.sh installs Debian's prometheus package"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why + " (CI=true: not skipped)")
        pytest.skip(why)
    return found


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)


def test_rules_pass_promtool_check(tmp_path: Path, env: dict[str, str]) -> None:
    tool = promtool()
    # A committed llm.yaml is hostile input: a model name made to break out of the rules.
    hostile = LLM + '    "x\\"}\\n  - record: evil\\n{": {input: 1, output: 1}\n'
    main, _wt = repo_with_worktree(tmp_path, env, llm_yaml=hostile)
    proc = moai(main, "cost", "--prometheus-rules", env=env)
    assert proc.returncode == 0, proc.stderr
    rules = write(tmp_path / "rules.yml", proc.stdout)
    check = run(tool, "check", "rules", str(rules), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout
    assert "record: evil" not in proc.stdout.replace("\\n  - record: evil", "")
    # The configured price is the one in the rules (USD per token).
    assert 'expr: vector(3e-07)\n        labels: {model: "glm-4.5-air", type: "input"}' in (
        proc.stdout
    )
    dash = moai(main, "cost", "--grafana-dashboard", env=env)
    doc = json.loads(dash.stdout)
    exprs = [t["expr"] for p in doc["panels"] for t in p["targets"]]
    for label in ("moai_phase", "moai_spec", "moai_backend", "user_email"):
        assert any(label in e for e in exprs), label
    assert all("moai:" in e and "claude_code_" not in e for e in exprs)  # the rules' series


def test_rules_and_moai_cost_agree_on_the_same_tokens(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    tool = promtool()
    main, wt = repo_with_worktree(tmp_path, env, llm_yaml=LLM)
    install_fixtures(home, main, wt)
    data = cost_json(moai(main, "cost", "--json", "--by", "model", env=env))
    rules = moai(main, "cost", "--prometheus-rules", env=env)
    assert rules.returncode == 0, rules.stderr
    write(tmp_path / "rules.yml", rules.stdout)

    prices = PriceTable({"glm-4.5-air": {"input": 0.3, "output": 1.5, "cache_read": 0.05}})
    series: list[dict[str, str]] = []
    expect: list[dict[str, object]] = []
    for i, r in enumerate(data["rows"]):
        model = r["model"]
        # Claude Code's metric may carry the `[1m]` suffix of the alias it was asked for.
        shown = model + "[1m]" if model.startswith("glm-4.7") else model
        for kind, field in TYPES.items():
            labels = f'model="{shown}",type="{kind}",moai_phase="p{i}",user_id="u"'
            series.append(
                {
                    "series": f"claude_code_token_usage_tokens_total{{{labels}}}",
                    "values": f"0 {r[field]} {r[field]}",
                }
            )
        tokens = (
            r["input_tokens"],
            r["output_tokens"],
            r["cache_write_tokens"],
            r["cache_read_tokens"],
        )
        actual = cost(prices.price(model), *tokens)
        assert round(actual, 6) == r["actual_usd"], model  # what moai cost reports
        tier: Tier = "sonnet"  # the seed's template ties glm-4.7 to several tiers: the default
        claude = actual if model.startswith("claude") else cost(prices.tier_price(tier), *tokens)
        assert round(claude, 6) == r["all_claude_usd"], model
        where = f'model="{base_id(model)}",moai_phase="p{i}",user_id="u"'
        # In nano-dollars: the rules multiply per token, Python sums per million (the last
        # bits of a float differ; promtool compares exactly).
        for record, usd in (
            ("moai:spend_usd_total", actual),
            ("moai:all_claude_usd_total", claude),
        ):
            expect.append(
                {
                    "expr": f"round(1e9 * {record}{{{where}}})",
                    "eval_time": "2m",
                    "exp_samples": [{"labels": f"{{{where}}}", "value": round(usd * 1e9)}],
                }
            )
    # A model with no price at all: counted as unpriced tokens, never as $0 spend.
    series.append(
        {
            "series": "claude_code_token_usage_tokens_total"
            '{model="gpt-5",type="input",user_id="u"}',
            "values": "0 7 7",
        }
    )
    expect.append(
        {
            "expr": 'moai:unpriced_tokens_total{model="gpt-5"}',
            "eval_time": "2m",
            "exp_samples": [
                {"labels": 'moai:unpriced_tokens_total{model="gpt-5",user_id="u"}', "value": 7}
            ],
        }
    )
    expect.append({"expr": 'moai:spend_usd_total{model="gpt-5"}', "eval_time": "2m"})
    models = {r["model"] for r in data["rows"]}
    assert {"claude-opus-4-7", "claude-haiku-4-5-20251001", "glm-4.7"} <= models  # guess, date
    unit = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": expect}],
    }
    write(tmp_path / "test.yml", json.dumps(unit, indent=1))  # JSON is YAML
    proc = run(tool, "test", "rules", "test.yml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def _next_release(model: str) -> str:
    """A model one version past `model` (`kimi-k3` -> `kimi-k4`, `glm-4.5-air` ->
    `glm-5.5-air`): one the table does not list, priced by its family."""
    for i, ch in enumerate(model):
        if ch.isdigit():
            j = i
            while j < len(model) and model[j].isdigit():
                j += 1
            return model[:i] + str(int(model[i:j]) + 1) + model[j:]
    raise AssertionError(f"no version in {model}")


def test_every_family_and_spelling_priced_as_moai_cost_prices_it(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """The presets' models as their providers spell them (`MiniMax-M3`), and for every
    family with a listed model a release the table does not list yet (also in capitals
    when it has no variant: PromQL cannot lower-case a label): `moai cost` and the
    rules price the same tokens alike, all-Claude included; kimi and ds are configured
    backends, so their models' tiers come from their profiles."""
    from moai_mashup.core.backends import PRESETS
    from moai_mashup.cost.pricing import LISTED, TIERS, family_of, newest_listed
    from moai_mashup.cost.teamview import families
    from tests.costkit import assistant, write_session

    tool = promtool()
    llm = (
        "llm:\n  mode: mashup\n"
        "  backends:\n    kimi: {preset: moonshot}\n    ds: {preset: deepseek}\n"
        "  pricing:\n    qwen: {input: 0.4, output: 1.2}\n"
    )
    main, _wt = repo_with_worktree(tmp_path, env, llm_yaml=llm)
    models = sorted({m for p in PRESETS.values() for m in p.models.values()})
    # Every preset family with a listed model has a family price in the rules.
    keys = families()
    listed = {family_of(m) for m in LISTED}
    for family in {family_of(m) for m in models} & listed - set(TIERS):
        assert any(k == family or k.startswith(f"{family}-") for k in keys), (family, keys)
    for key in keys:
        newest = newest_listed(key)
        assert newest is not None
        guess = _next_release(newest.model)
        models.append(guess)
        if "-" not in key and key not in TIERS:
            models.append(guess.upper())
    write_session(
        home,
        main,
        "s",
        [
            assistant(
                cwd=main,
                branch="main",
                msg_id=f"msg_{i}",
                model=m,
                tokens=(1_000_000, 100_000, 40_000, 300_000),
            )
            for i, m in enumerate(models)
        ],
    )
    data = cost_json(moai(main, "cost", "--json", "--by", "model", env=env))
    rules = moai(main, "cost", "--prometheus-rules", env=env)
    assert rules.returncode == 0, rules.stderr
    write(tmp_path / "rules.yml", rules.stdout)
    series: list[dict[str, str]] = []
    expect: list[dict[str, object]] = []
    unpriced = set(data["unpriced_models"])
    for i, r in enumerate(data["rows"]):
        for kind, field in TYPES.items():
            labels = f'model="{r["model"]}",type="{kind}",user_id="u{i}"'
            series.append(
                {
                    "series": f"claude_code_token_usage_tokens_total{{{labels}}}",
                    "values": f"0 {r[field]} {r[field]}",
                }
            )
        where = f'user_id="u{i}"'
        if r["model"] in unpriced:
            expect.append({"expr": f"moai:spend_usd_total{{{where}}}", "eval_time": "2m"})
            continue
        for record, usd in (
            ("moai:spend_usd_total", r["actual_usd"]),
            ("moai:all_claude_usd_total", r["all_claude_usd"]),
        ):
            expect.append(
                {
                    "expr": f"round(1e6 * sum by (user_id) ({record}{{{where}}}))",
                    "eval_time": "2m",
                    "exp_samples": [{"labels": f"{{{where}}}", "value": round(usd * 1e6)}],
                }
            )
    unit = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": expect}],
    }
    write(tmp_path / "test.yml", json.dumps(unit, indent=1))
    proc = run(tool, "test", "rules", "test.yml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout
