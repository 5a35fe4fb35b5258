"""`moai cost --by backend`: each response under the backend NAME the repository gives it.

Real repositories and worktrees, real transcript files in a fake HOME, the
installed `moai`: `llm.backends` names kimi (Moonshot's models) and ds (DeepSeek's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from moai_mashup.core.backends import PRESETS
from moai_mashup.cost.attribution import BackendNames, Place
from moai_mashup.cost.pricing import PriceTable, claude_model, cost
from tests.costkit import (
    BRANCH,
    assistant,
    cost_json,
    put_on_backend,
    repo_with_worktree,
    row,
    write_session,
)
from tests.gitrepo import LLM_YAML, SEED_LLM_YAML, git, moai, write

# Prices of the preset models in llm.pricing (they beat moai's table, so the figures
# hold whatever the table lists), USD per million tokens.
PRICING: dict[str, dict[str, float | None]] = {
    "kimi-k3": {"input": 0.6, "output": 2.5, "cache_read": 0.15},
    "kimi-k2.5": {"input": 0.4, "output": 2.0, "cache_read": 0.1},
    "deepseek-v4-pro": {"input": 0.5, "output": 1.5, "cache_read": 0.05},
}
PRICING_YAML = "  pricing:\n" + "".join(
    f"    {m}: {{input: {p['input']}, output: {p['output']}, cache_read: {p['cache_read']}}}\n"
    for m, p in PRICING.items()
)
# ds with DeepSeek's models named, whatever the preset's default.
DS_MODELS = {"opus": "deepseek-v4-pro", "sonnet": "deepseek-v4-pro", "haiku": "deepseek-v4-flash"}
BACKENDS_YAML = (
    "  backends:\n    kimi: {preset: moonshot}\n"
    "    ds:\n      preset: deepseek\n"
    "      models: {opus: deepseek-v4-pro, sonnet: deepseek-v4-pro, haiku: deepseek-v4-flash}\n"
)
LLM = SEED_LLM_YAML + BACKENDS_YAML + PRICING_YAML


def sessions(home: Path, main: Path, wt: Path) -> None:
    """Plan on main with Claude; in the SPEC worktree GLM, Kimi and DeepSeek answered."""
    write_session(
        home,
        main,
        "plan",
        [
            assistant(cwd=main, branch="main", msg_id="msg_c1", tokens=(1000, 100, 0, 0)),
            assistant(cwd=main, branch="main", msg_id="msg_c2", tokens=(500, 50, 0, 0)),
        ],
    )
    answers = [
        ("msg_g1", "glm-4.7", (2000, 200, 0, 0)),
        ("msg_k1", "kimi-k3", (3000, 300, 0, 1000)),
        ("msg_k2", "kimi-k3[1m]", (10, 1, 0, 0)),
        ("msg_k3", "kimi-k2.5", (400, 40, 0, 0)),
        ("msg_d1", "deepseek-v4-pro", (4000, 400, 200, 0)),
    ]
    write_session(
        home,
        wt,
        "run",
        [assistant(cwd=wt, branch=BRANCH, msg_id=i, model=m, tokens=t) for i, m, t in answers],
    )


def by_backend(main: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    return cost_json(moai(main, "cost", "--json", "--by", "backend", *args, env=env))


def tokens(data: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    fields = ("responses", "input_tokens", "output_tokens", "cache_write_tokens")
    return {r["backend"]: (*(r[f] for f in fields), r["cache_read_tokens"]) for r in data["rows"]}


def test_by_backend_names_the_configured_backends(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env, llm_yaml=LLM)
    sessions(home, main, wt)
    data = by_backend(main, env)
    assert data["by"] == "backend"
    assert tokens(data) == {
        "claude": (2, 1500, 150, 0, 0),
        "ds": (1, 4000, 400, 200, 0),
        "glm": (1, 2000, 200, 0, 0),
        "kimi": (3, 3410, 341, 0, 1000),
    }
    prices = PriceTable(PRICING)
    kimi = cost(prices.price("kimi-k3"), 3010, 301, 0, 1000) + cost(
        prices.price("kimi-k2.5"), 400, 40, 0, 0
    )
    ds = cost(prices.price("deepseek-v4-pro"), 4000, 400, 200, 0)
    assert row(data, "kimi")["actual_usd"] == pytest.approx(kimi, abs=2e-6) and kimi > 0
    assert row(data, "ds")["actual_usd"] == pytest.approx(ds, abs=1e-6) and ds > 0
    # All on Claude, tier for tier: kimi-k3 serves opus and sonnet in kimi's models
    # (several: the default, sonnet), kimi-k2.5 only haiku; deepseek-v4-pro likewise
    # opus and sonnet.
    sonnet, haiku = prices.tier_price("sonnet"), prices.tier_price("haiku")
    kimi_claude = cost(sonnet, 3010, 301, 0, 1000) + cost(haiku, 400, 40, 0, 0)
    assert row(data, "kimi")["all_claude_usd"] == pytest.approx(kimi_claude, abs=2e-6)
    assert row(data, "ds")["all_claude_usd"] == pytest.approx(
        cost(sonnet, 4000, 400, 200, 0), abs=1e-6
    )
    assert row(data, "claude")["saved_usd"] == 0
    assert row(data, "kimi")["saved_usd"] > 0 and row(data, "ds")["saved_usd"] > 0
    assert data["backend_rule"] == {"configured": 5, "name": 2}
    assert data["backends_by_model_family"] == {}

    # By phase, each row splits its spend by backend; the chart shows every backend.
    by_phase = cost_json(moai(main, "cost", "--json", "--html", "cost.html", env=env))
    assert set(row(by_phase, "run")["actual_usd_by_backend"]) == {"glm", "kimi", "ds"}
    assert {x["backend"] for x in by_phase["spend_by_phase_backend"]} == {
        "claude",
        "glm",
        "kimi",
        "ds",
    }
    page = (main / "cost.html").read_text(encoding="utf-8")
    for name in ("glm", "kimi", "ds"):
        assert f"run / {name}:" in page and f">{name}</text>" in page

    table = moai(main, "cost", "--by", "backend", env=env)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["backend", "responses"]
    assert [line.split()[0] for line in lines[2:6]] == ["claude", "ds", "glm", "kimi"]
    assert "named by the model's family" not in table.stdout


def test_by_backend_at_the_tables_prices(tmp_path: Path, env: dict[str, str], home: Path) -> None:
    """Without llm.pricing, moai's own table prices kimi's and ds's models."""
    table = PriceTable()
    if any(table.price(m) is None for m in ("kimi-k3", "kimi-k2.5", "deepseek-v4-pro")):
        pytest.skip("moai's price table lists no price for the presets' models yet")
    main, wt = repo_with_worktree(tmp_path, env, llm_yaml=SEED_LLM_YAML + BACKENDS_YAML)
    sessions(home, main, wt)
    data = by_backend(main, env)
    assert sorted(tokens(data)) == ["claude", "ds", "glm", "kimi"]
    kimi = cost(table.price("kimi-k3"), 3010, 301, 0, 1000) + cost(
        table.price("kimi-k2.5"), 400, 40, 0, 0
    )
    ds = cost(table.price("deepseek-v4-pro"), 4000, 400, 200, 0)
    assert row(data, "kimi")["actual_usd"] == pytest.approx(kimi, abs=2e-6) and kimi > 0
    assert row(data, "ds")["actual_usd"] == pytest.approx(ds, abs=1e-6) and ds > 0
    assert data["unpriced_models"] == []
    assert not {"kimi-k3", "kimi-k2.5", "deepseek-v4-pro"} & set(data["guessed_prices"])


def test_without_the_backends_configured_the_model_family_names_them(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env, llm_yaml=SEED_LLM_YAML + PRICING_YAML)
    sessions(home, main, wt)
    write_session(
        home,
        wt,
        "odd",
        [assistant(cwd=wt, branch=BRANCH, msg_id="msg_o1", model="gpt-9", tokens=(5, 5, 0, 0))],
    )
    data = by_backend(main, env)
    assert sorted(tokens(data)) == ["claude", "deepseek", "glm", "kimi", "other"]
    assert data["backends_by_model_family"] == {
        "deepseek": ["deepseek-v4-pro"],
        "kimi": ["kimi-k2.5", "kimi-k3", "kimi-k3[1m]"],
        "other": ["gpt-9"],
    }
    table = moai(main, "cost", "--by", "backend", env=env).stdout
    assert "(deepseek: deepseek-v4-pro; kimi: kimi-k2.5, kimi-k3, kimi-k3[1m])" in table
    assert "backend other: no backend of this repository names gpt-9" in table


def test_two_backends_with_one_model_the_route_decides(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """glm.json and a configured Z.ai backend both serve glm-4.7; kimi and kimi-cn both
    kimi-k3: the first `llm.routes` line matching the response's branch picks."""
    backends = BACKENDS_YAML + "    kimi-cn: {preset: moonshot-china}\n    z: {preset: zai}\n"
    routes = (
        '  routes:\n    - {branch: "feature/SPEC-*", backend: kimi-cn}\n'
        '    - {branch: "*", backend: glm}\n'
    )
    main, wt = repo_with_worktree(
        tmp_path, env, llm_yaml=SEED_LLM_YAML + backends + routes + PRICING_YAML
    )
    sessions(home, main, wt)
    data = by_backend(main, env)
    # kimi-cn is the SPEC branch's route and serves kimi-k3; glm-4.7: that route names
    # neither glm nor z, so the first of them (glm, the built-in one) has it.
    assert sorted(tokens(data)) == ["claude", "ds", "glm", "kimi-cn"]
    assert row(data, "kimi-cn")["responses"] == 3
    assert data["backend_rule"] == {"configured": 1, "name": 2, "route": 4}

    routes = '  routes:\n    - {branch: "feature/*", backend: z}\n'
    write(main / LLM_YAML, SEED_LLM_YAML + backends + routes + PRICING_YAML)
    data = by_backend(main, env)
    assert sorted(tokens(data)) == ["claude", "ds", "kimi", "z"]  # kimi: the first of two


def test_backend_names_rules() -> None:
    names = BackendNames(
        [("glm", frozenset({"glm-4.7"})), ("kimi", frozenset({"kimi-k3"}))],
        [("feature/*", "kimi")],
    )
    on_ds = Place("/w", "feature/SPEC-X", (), "ds", frozenset({"deepseek-v4-pro"}))
    assert names.name("deepseek-v4-pro", on_ds, "feature/SPEC-X") == ("ds", "record")
    assert names.name("DeepSeek-V4-Pro[1m]", on_ds, None) == ("ds", "record")
    assert names.name("kimi-k3", on_ds, None) == ("kimi", "configured")
    assert names.name("claude-opus-4-6", on_ds, None) == ("claude", "name")
    assert names.name("MiniMax-M3", None, None) == ("minimax", "family")
    assert names.name("qwen3-max", None, None) == ("qwen", "family")
    assert names.name("glm-5", None, None) == ("glm", "family")
    assert names.name("mistral-large", None, None) == ("other", "other")
    # A gateway's Claude model is Claude's in price, the gateway's by name.
    gw = BackendNames([("or", frozenset({"anthropic/claude-opus-4.5"}))])
    assert gw.name("anthropic/claude-opus-4.5", None, None) == ("or", "configured")
    assert claude_model("anthropic/claude-opus-4.5") and not claude_model("kimi-k3")


def test_the_worktree_record_names_its_backend(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """moai's ownership record in a worktree says `ds`: its DeepSeek responses are ds's,
    by the installed `moai cost --by backend`; elsewhere the model's family names them."""
    main, wt = repo_with_worktree(tmp_path, env, llm_yaml=SEED_LLM_YAML + PRICING_YAML)
    sessions(home, main, wt)
    other = tmp_path / "worktrees" / "project" / "SPEC-OTHER-002"
    git(main, "worktree", "add", "-q", "-b", "feature/SPEC-OTHER-002", str(other), env=env)
    write_session(
        home,
        other,
        "run",
        [
            assistant(
                cwd=other,
                branch="feature/SPEC-OTHER-002",
                msg_id="msg_d9",
                model="deepseek-v4-pro",
                tokens=(7, 7, 0, 0),
            )
        ],
    )
    put_on_backend(wt, env, "ds", PRESETS["deepseek"].base_url, DS_MODELS)
    data = cost_json(moai(main, "cost", "--json", "--by", "backend", env=env))
    assert data["by"] == "backend"
    assert [r["backend"] for r in data["rows"]] == ["claude", "deepseek", "ds", "glm", "kimi"]
    assert row(data, "ds")["input_tokens"] == 4000 and row(data, "ds")["actual_usd"] > 0
    assert row(data, "deepseek")["input_tokens"] == 7
    assert row(data, "kimi")["responses"] == 3 and row(data, "kimi")["actual_usd"] > 0
    assert data["backend_rule"] == {"family": 4, "name": 2, "record": 1, "configured": 1}
    assert data["backends_by_model_family"]["deepseek"] == ["deepseek-v4-pro"]
    by_phase = cost_json(moai(main, "cost", "--json", env=env))
    assert set(row(by_phase, "run")["actual_usd_by_backend"]) == {"deepseek", "ds", "glm", "kimi"}
    table = moai(main, "cost", "--by", "backend", env=env)
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith("backend ")
    assert "backend named by the model's family" in table.stdout
