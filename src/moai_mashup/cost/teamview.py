"""The price table as text, as Prometheus recording rules, and a Grafana dashboard over them.

Claude Code's own metric `claude_code.token.usage` (attributes `model` and
`type`: input, output, cacheRead, cacheCreation) reaches Prometheus through an
OpenTelemetry collector (or Prometheus's OTLP receiver) as the counter
`claude_code_token_usage_tokens_total`, with every resource attribute as a label
(`moai.phase` -> `moai_phase`; Claude Code copies resource attributes onto
each point, see telemetry.py). Its own `claude_code.cost.usage` prices a
model it does not know (`glm-4.7`) at $5/$25 per million tokens, so the rules
price tokens themselves, with the same table and `llm.pricing` as `moai cost`:

- `moai:price_usd_per_token{model, type}` and
  `moai:all_claude_price_usd_per_token{model, type}`: constants, one per
  model and token type (the all-Claude price of a Claude model is its own; of
  a GLM model, that of the Claude model its tier maps to);
- `moai:family_price_usd_per_token{moai_family, type}` (and the all-Claude
  twin): a model the rules do not list is priced as `moai cost` guesses, by the
  newest listed model of its family (`moai_family`: `opus`, `glm`, `glm-air`,
  `deepseek-pro`, `kimi`, `minimax`: every family of pricing.FAMILY_VERSION with
  a listed model), at the all-Claude price of the `--claude-tier` default;
- `moai:token_usage_tokens_total`: the token counter with the model name
  normalised as `moai cost` does (no `[1m]` suffix, no date) and its family.
  PromQL cannot lower-case a label, so the rules price each model under the
  spelling the providers answer with too (`MiniMax-M3` beside the table's
  `minimax-m3`: every preset's, template's and configured backend's model), and
  a family is recognised in any case;
- `moai:spend_usd_total`, `moai:all_claude_usd_total`: cumulative USD per
  series (every label but `type` kept), so `increase(...[1d])` is a day's spend;
- `moai:unpriced_tokens_total`: tokens of models the rules have no price for.

One difference from `moai cost`: the metric has a single `cacheCreation` type,
so every cache write is priced as a 5-minute one (transcripts tell 1-hour
writes apart; the log event `claude_code.api_request` of 2.1.332 does too).
"""

from __future__ import annotations

from moai_mashup import jsontext
from moai_mashup.core.backends import PRESETS
from moai_mashup.cost.pricing import (
    FAMILY_VERSION,
    LISTED,
    TABLE_DATE,
    TIER_MODELS_SOURCE,
    TIERS,
    VARIANT,
    Price,
    PriceTable,
    Tier,
    base_id,
    claude_model,
    family_key,
    family_of,
    newest_listed,
    strip_suffix,
    tier_for,
    version_of,
)
from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

TOKEN_METRIC = "claude_code_token_usage_tokens_total"
# Claude Code's `type` attribute -> the Price field it is charged at.
TOKEN_TYPES = {
    "input": "input",
    "output": "output",
    "cacheRead": "cache_read",
    "cacheCreation": "cache_write",
}
# RE2, fully anchored: `claude-haiku-4-5-20251001[1m]` -> `claude-haiku-4-5`.
MODEL_NORMALISE = r"(.+?)(?:-[0-9]{8})?(?:\[[^]]*\])?"
# The family key of pricing.family_key(): `opus` (a version is needed), `glm`, `glm-air`.
CLAUDE_FAMILY = r"claude-(?:(?:[0-9]+-)+(opus|sonnet|haiku)(?:-.*)?|(opus|sonnet|haiku)-[0-9].*)"


def family_pattern(family: str) -> str:
    """RE2 for a model of one of pricing.FAMILY_VERSION's families, any case; `$1`
    is its variant (`-air`): `glm-4.5-air` -> `glm` + `-air`, as pricing.version_of."""
    return "(?i)" + FAMILY_VERSION[family] + r"[0-9]+(?:\.[0-9]+)?" + VARIANT


def spelled(model: str) -> str:
    """A model name as MODEL_NORMALISE leaves it: no `[1m]` suffix, no date, its case."""
    name = strip_suffix(model)
    head, dash, date = name.rpartition("-")
    return head if dash and len(date) == 8 and date.isdigit() else name


def _usd(x: float) -> str:
    return f"{x:g}"


def render_prices(prices: PriceTable, as_json: bool) -> str:
    rows = prices.rows()
    tiers = {t: prices.tier_model(t) for t in TIERS}
    if as_json:
        doc = {
            "table_date": TABLE_DATE,
            "unit": "USD per million tokens",
            "models": [
                {"model": m, **p._asdict(), "source": src, "date": date} for m, p, src, date in rows
            ],
            "counterfactual_models": tiers,
        }
        return jsontext.dumps(doc, indent=2) + "\n"
    head = ["model", "input", "output", "cache 5m", "cache 1h", "cache read", "source"]
    body = [
        [
            m,
            _usd(p.input),
            _usd(p.output),
            _usd(p.cache_write),
            _usd(p.cache_write_1h),
            _usd(p.cache_read),
            f"{src} {date}".strip(),
        ]
        for m, p, src, date in rows
    ]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i in (0, 6) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in [head, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    tier_line = ", ".join(f"{t} -> {m}" for t, m in tiers.items())
    for m in tiers.values():
        how = prices.priced(m)
        if how is not None and how.guessed:
            tier_line += f"; {m} is not listed: priced as {how.basis} (a guess)"
    return (
        f"USD per million tokens; moai's table of {TABLE_DATE}, llm.pricing first\n"
        + "\n".join(lines)
        + f"\n\nall-Claude comparison, tier for tier: {tier_line} ({TIER_MODELS_SOURCE}; "
        "--claude-model TIER=MODEL)\n"
        "not listed: the same family's nearest listed version, reported as a guess\n"
    )


def rule_models(prices: PriceTable, template: dict[str, frozenset[Tier]]) -> list[str]:
    """Every model name the rules price: the table, llm.pricing's names, the template's
    and configured backends' (`template`), the presets'; each also as spelled."""
    names = set(LISTED) | set(prices.tier_models.values())
    names |= {base_id(k) for k in prices.configured if base_id(k) != family_of(k)}
    given = {m for p in PRESETS.values() for m in p.models.values()} | set(template)
    given |= set(prices.configured)
    names |= {base_id(m) for m in given} | {spelled(m) for m in given}
    return sorted(n for n in names if prices.price(n) is not None)


def all_claude_price(
    prices: PriceTable, model: str, template: dict[str, frozenset[Tier]], fallback: Tier
) -> tuple[Price, str]:
    own = prices.price(model)
    if claude_model(model) and own is not None:
        return own, model
    tier = tier_for(model, template, fallback).tier
    return prices.tier_price(tier), prices.tier_model(tier)


def families() -> list[str]:
    """Every family key with a listed model."""
    return sorted({family_key(v) for m in LISTED if (v := version_of(m)) is not None})


def _q(text: str) -> str:
    return jsontext.dumps(text)  # a YAML double-quoted scalar is a JSON string


def prometheus_rules(
    prices: PriceTable,
    template: dict[str, frozenset[Tier]] | None = None,
    fallback: Tier = "sonnet",
) -> str:
    template = template or {}
    out = [
        "# Generated by `moai cost --prometheus-rules`: Claude Code's token counter priced with",
        f"# moai's price table of {TABLE_DATE} and this repository's llm.pricing.",
        "# Cache writes are priced as 5-minute writes (the metric does not split them).",
        "groups:",
        "  - name: moai_cost",
        "    rules:",
    ]

    def constants(record: str, p: Price, labels: str) -> None:
        for kind, field in TOKEN_TYPES.items():
            per_token = getattr(p, field) / 1_000_000
            out.extend(
                [
                    f"      - record: {record}",
                    f"        expr: vector({per_token:.12g})",
                    f"        labels: {{{labels}, type: {_q(kind)}}}",
                ]
            )

    for model in rule_models(prices, template):
        price = prices.price(model)
        assert price is not None
        claude, claude_as = all_claude_price(prices, model, template, fallback)
        constants("moai:price_usd_per_token", price, f"model: {_q(model)}")
        constants(
            "moai:all_claude_price_usd_per_token",
            claude,
            f"model: {_q(model)}, claude_model: {_q(claude_as)}",
        )
    for key in families():
        newest = newest_listed(key)
        assert newest is not None
        price = prices.price(newest.model)
        assert price is not None
        if key in TIERS:  # a Claude family: its own price
            claude, claude_as = price, newest.model
        else:
            claude, claude_as = prices.tier_price(fallback), prices.tier_model(fallback)
        constants("moai:family_price_usd_per_token", price, f"moai_family: {_q(key)}")
        constants(
            "moai:all_claude_family_price_usd_per_token",
            claude,
            f"moai_family: {_q(key)}, claude_model: {_q(claude_as)}",
        )

    def priced(price: str, family_price: str) -> str:
        return (
            f"(moai:token_usage_tokens_total * on (model, type) group_left () {price})"
            " or ((moai:token_usage_tokens_total unless on (model, type) "
            f"{price}) * on (moai_family, type) group_left () {family_price})"
        )

    normalised = f'label_replace({TOKEN_METRIC}, "model", "$1", "model", {_q(MODEL_NORMALISE)})'
    with_family = (
        f'label_replace({normalised}, "moai_family", "$1$2", "model", {_q(CLAUDE_FAMILY)})'
    )
    for family in FAMILY_VERSION:
        with_family = (
            f'label_replace({with_family}, "moai_family", "{family}$1", "model", '
            f"{_q(family_pattern(family))})"
        )
    out += [
        "      - record: moai:token_usage_tokens_total",
        "        expr: >-",
        f"          sum without () ({with_family})",
        "      - record: moai:spend_usd_total",
        "        expr: >-",
        "          sum without (type, moai_family) ("
        + priced("moai:price_usd_per_token", "moai:family_price_usd_per_token")
        + ")",
        "      - record: moai:all_claude_usd_total",
        "        expr: >-",
        "          sum without (type, moai_family) ("
        + priced(
            "moai:all_claude_price_usd_per_token", "moai:all_claude_family_price_usd_per_token"
        )
        + ")",
        "      - record: moai:unpriced_tokens_total",
        "        expr: >-",
        "          sum without (type, moai_family) ((moai:token_usage_tokens_total"
        " unless on (model, type) moai:price_usd_per_token)"
        " unless on (moai_family, type) moai:family_price_usd_per_token)",
    ]
    return "\n".join(out) + "\n"


def _panel(
    pid: int, title: str, kind: str, exprs: list[tuple[str, str]], grid: tuple[int, int, int, int]
) -> dict[str, Any]:
    x, y, w, h = grid
    return {
        "id": pid,
        "title": title,
        "type": kind,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": "currencyUSD", "decimals": 2}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        "targets": [
            {
                "refId": chr(65 + i),
                "expr": e,
                "legendFormat": legend,
                "instant": kind != "timeseries",
            }
            for i, (e, legend) in enumerate(exprs)
        ],
    }


def grafana_dashboard() -> str:
    """Spend, all-Claude and saved by phase, SPEC, backend and developer."""
    flt = 'moai_repository=~"$repository"'

    def spend(by: str, metric: str = "moai:spend_usd_total") -> str:
        return f"sum by ({by}) (increase({metric}{{{flt}}}[$__range]))"

    def saved(by: str) -> str:
        return f"{spend(by, 'moai:all_claude_usd_total')} - {spend(by)}"

    total = f"sum(increase(moai:spend_usd_total{{{flt}}}[$__range]))"
    claude = f"sum(increase(moai:all_claude_usd_total{{{flt}}}[$__range]))"
    panels = [
        _panel(1, "Spend", "stat", [(total, "spend")], (0, 0, 6, 4)),
        _panel(2, "Same tokens all on Claude", "stat", [(claude, "all on Claude")], (6, 0, 6, 4)),
        _panel(3, "Saved", "stat", [(f"{claude} - {total}", "saved")], (12, 0, 6, 4)),
        _panel(
            4,
            "Unpriced tokens (add them under llm.pricing)",
            "stat",
            [(f"sum(increase(moai:unpriced_tokens_total{{{flt}}}[$__range]))", "tokens")],
            (18, 0, 6, 4),
        ),
        _panel(
            5,
            "Spend and saved by phase",
            "bargauge",
            [
                (spend("moai_phase"), "{{moai_phase}} spend"),
                (saved("moai_phase"), "{{moai_phase}} saved"),
            ],
            (0, 4, 12, 8),
        ),
        _panel(
            6,
            "Spend and saved by backend",
            "bargauge",
            [
                (spend("moai_backend"), "{{moai_backend}} spend"),
                (saved("moai_backend"), "{{moai_backend}} saved"),
            ],
            (12, 4, 12, 8),
        ),
        _panel(
            7,
            "Spend and saved by SPEC",
            "bargauge",
            [
                (spend("moai_spec"), "{{moai_spec}} spend"),
                (saved("moai_spec"), "{{moai_spec}} saved"),
            ],
            (0, 12, 12, 8),
        ),
        _panel(
            8,
            "Spend and saved by developer",
            "bargauge",
            [
                (spend("user_email, user_id"), "{{user_email}} {{user_id}} spend"),
                (saved("user_email, user_id"), "{{user_email}} {{user_id}} saved"),
            ],
            (12, 12, 12, 8),
        ),
        _panel(
            9,
            "Spend over time by phase and backend",
            "timeseries",
            [
                (
                    "sum by (moai_phase, moai_backend) "
                    f"(rate(moai:spend_usd_total{{{flt}}}[5m])) * 3600",
                    "{{moai_phase}} / {{moai_backend}} (USD per hour)",
                )
            ],
            (0, 20, 24, 8),
        ),
    ]
    doc = {
        "title": "moai: Claude Code spend and savings",
        "uid": "moai-cost",
        "schemaVersion": 39,
        "tags": ["moai", "claude-code"],
        "time": {"from": "now-7d", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus"},
                {
                    "name": "repository",
                    "type": "query",
                    "datasource": {"type": "prometheus", "uid": "${datasource}"},
                    "query": "label_values(moai:spend_usd_total, moai_repository)",
                    "includeAll": True,
                    "allValue": ".*",
                    "multi": True,
                },
            ]
        },
        "panels": panels,
        "description": (
            "Recording rules from `moai cost --prometheus-rules`; the same prices as `moai cost`."
        ),
    }
    return jsontext.dumps(doc, indent=2) + "\n"
