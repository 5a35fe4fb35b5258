"""`moai cost --by backend`: each response under the backend NAME the repository gives it.

Real transcript files in a fake HOME, real repositories and worktrees. Until
`llm.backends` is read from llm.yaml, the configured backends come from
core.backends.Profile values put into the resolved config (`cfg._replace`), and the
report runs in process through the same functions `moai cost` runs; the ownership
record rule runs through the installed `moai`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moai_mashup.commands import cost as cost_cmd
from moai_mashup.config import RouteLine
from moai_mashup.core.backends import PRESETS, Profile
from moai_mashup.cost import report, scan
from moai_mashup.cost.attribution import (
    Attributor,
    BackendNames,
    Filters,
    Place,
    backend_names,
    template_tiers,
)
from moai_mashup.cost.pricing import PriceTable, claude_model, cost
from moai_mashup.cost.transcripts import ScanStats, find_folders
from moai_mashup.workspace import open_workspace
from tests.costkit import (
    BRANCH,
    assistant,
    cost_json,
    projects,
    put_on_backend,
    repo_with_worktree,
    row,
    write_session,
)
from tests.gitrepo import git, moai

# Prices for the preset models until moai's table lists them (USD per million tokens).
PRICING: dict[str, dict[str, float | None]] = {
    "kimi-k3": {"input": 0.6, "output": 2.5, "cache_read": 0.15},
    "kimi-k2.5": {"input": 0.4, "output": 2.0, "cache_read": 0.1},
    "deepseek-v4-pro": {"input": 0.5, "output": 1.5, "cache_read": 0.05},
}
PRICING_YAML = "".join(
    f"    {m}: {{input: {p['input']}, output: {p['output']}, cache_read: {p['cache_read']}}}\n"
    for m, p in PRICING.items()
)


def profile(name: str, preset: str, **models: str) -> Profile:
    """A configured backend as config.py resolves one from `llm.backends.NAME: {preset}`."""
    p = PRESETS[preset]
    return Profile(
        name,
        preset,
        p.display,
        p.base_url,
        p.auth_var,
        {**p.models, **models},
        dict(p.windows),
        {},
        p.family,
        "llm.yaml",
        True,
    )


KIMI = profile("kimi", "moonshot")
DS = profile("ds", "deepseek")


def run_report(
    main: Path,
    home: Path,
    backends: dict[str, Profile],
    routes: tuple[RouteLine, ...] = (),
    by: str = "backend",
) -> report.Summary:
    """What `moai cost --by BY` sums, with these configured backends."""
    ws = open_workspace(main, warn=False)
    ws = ws._replace(cfg=ws.cfg._replace(backends=backends, routes=routes))
    places, envs, glm_envs = cost_cmd._places(ws)
    attributor = Attributor(
        places,
        ws.cfg.default_branch,
        ws.cfg.spec_branch_pattern,
        template_tiers(envs, ws.cfg.backends),
        "sonnet",
        Filters(None, None, None),
        backend_names(ws.cfg.backends, glm_envs, [(r.branch, r.backend) for r in routes]),
    )
    folders = find_folders(projects(home), [p.path for p in places])
    scan.scan(folders, attributor, ScanStats(), [])
    return report.summarize(attributor.buckets, attributor.sums, PriceTable(PRICING), by)


def rows(summary: report.Summary) -> dict[str, report.Row]:
    return {r.key: r for r in summary.rows}


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


def test_by_backend_names_the_configured_backends(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    sessions(home, main, wt)
    summary = run_report(main, home, {"kimi": KIMI, "ds": DS})
    got = rows(summary)
    assert sorted(got) == ["claude", "ds", "glm", "kimi"]
    tokens = {
        k: (r.responses, r.input, r.output, r.cache_write, r.cache_read) for k, r in got.items()
    }
    assert tokens == {
        "claude": (2, 1500, 150, 0, 0),
        "glm": (1, 2000, 200, 0, 0),
        "kimi": (3, 3410, 341, 0, 1000),
        "ds": (1, 4000, 400, 200, 0),
    }
    prices = PriceTable(PRICING)
    kimi = cost(prices.price("kimi-k3"), 3010, 301, 0, 1000) + cost(
        prices.price("kimi-k2.5"), 400, 40, 0, 0
    )
    assert got["kimi"].actual == pytest.approx(kimi) and kimi > 0
    assert got["ds"].actual == cost(prices.price("deepseek-v4-pro"), 4000, 400, 200, 0) > 0
    # All on Claude: kimi-k3 serves opus and sonnet in kimi's models (the default,
    # sonnet), kimi-k2.5 only haiku; deepseek-v4-pro likewise the default.
    sonnet, haiku = prices.tier_price("sonnet"), prices.tier_price("haiku")
    kimi_claude = cost(sonnet, 3010, 301, 0, 1000) + cost(haiku, 400, 40, 0, 0)
    assert got["kimi"].all_claude == pytest.approx(kimi_claude)
    assert got["ds"].all_claude == pytest.approx(cost(sonnet, 4000, 400, 200, 0))
    assert got["claude"].saved == 0 and got["kimi"].saved > 0 and got["ds"].saved > 0
    assert summary.backend_rules == {"configured": 5, "name": 2}
    assert summary.unnamed == {}
    assert report.backend_notes(summary) == []

    # The same responses by phase: every backend's spend in the row's split and the chart.
    by_phase = run_report(main, home, {"kimi": KIMI, "ds": DS}, by="phase")
    assert set(by_phase.row_backends["run"]) == {"glm", "kimi", "ds"}
    assert {b for _p, b in by_phase.by_phase_backend} == {"claude", "glm", "kimi", "ds"}
    svg = report.render_svg(by_phase.by_phase_backend, by_phase.all_claude_by_phase)
    for name in ("claude", "glm", "kimi", "ds"):
        assert f">{name}</text>" in svg  # the legend
    for name in ("glm", "kimi", "ds"):
        assert f"run / {name}:" in svg  # a part of the run bar


def test_without_the_backends_configured_the_model_family_names_them(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    sessions(home, main, wt)
    write_session(
        home,
        wt,
        "odd",
        [assistant(cwd=wt, branch=BRANCH, msg_id="msg_o1", model="gpt-9", tokens=(5, 5, 0, 0))],
    )
    summary = run_report(main, home, {})
    assert sorted(rows(summary)) == ["claude", "deepseek", "glm", "kimi", "other"]
    assert summary.unnamed == {
        "deepseek": ["deepseek-v4-pro"],
        "kimi": ["kimi-k2.5", "kimi-k3", "kimi-k3[1m]"],
        "other": ["gpt-9"],
    }
    notes = report.backend_notes(summary)
    assert "deepseek: deepseek-v4-pro" in notes[0] and "llm.backends" in notes[0]
    assert "gpt-9" in notes[1]


def test_two_backends_with_one_model_the_route_decides(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """glm.json and a configured Z.ai backend both serve glm-4.7; kimi and kimi-cn both
    kimi-k3: the first `llm.routes` line matching the response's branch picks."""
    main, wt = repo_with_worktree(tmp_path, env)
    sessions(home, main, wt)
    zai = profile("z", "zai")
    kimi_cn = profile("kimi-cn", "moonshot-china")
    backends = {"kimi": KIMI, "kimi-cn": kimi_cn, "z": zai, "ds": DS}
    routes: tuple[RouteLine, ...] = (
        RouteLine("feature/SPEC-*", "kimi-cn", "llm.yaml"),
        RouteLine("*", "glm", "llm.yaml"),
    )
    got = rows(run_report(main, home, backends, routes))
    # kimi-cn is the route's and serves kimi-k3; glm-4.7: the SPEC branch's route names
    # neither glm nor z, so the first of them (glm, the built-in one) has it.
    assert sorted(got) == ["claude", "ds", "glm", "kimi-cn"]
    assert got["kimi-cn"].responses == 3
    routes = (RouteLine("feature/*", "z", "llm.yaml"),)
    got = rows(run_report(main, home, backends, routes))
    assert sorted(got) == ["claude", "ds", "kimi", "z"]  # kimi: first of kimi, kimi-cn


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
    llm = "llm:\n  mode: mashup\n  pricing:\n" + PRICING_YAML
    main, wt = repo_with_worktree(tmp_path, env, llm_yaml=llm)
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
    put_on_backend(wt, env, "ds", PRESETS["deepseek"].base_url, PRESETS["deepseek"].models)
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
