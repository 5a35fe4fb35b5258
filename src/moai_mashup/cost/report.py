"""Sum buckets into rows, price them, and render: table, JSON, CSV, one-page HTML (inline SVG)."""

from __future__ import annotations

import io

from moai_mashup import jsontext
from moai_mashup.cost.attribution import Bucket
from moai_mashup.cost.pricing import PriceTable, claude_model, cost, valid_tier_name
from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

DIMENSIONS = ("phase", "spec", "backend", "model", "day")
PHASE_ORDER = {"plan": 0, "run": 1, "sync": 2, "other": 3}


class Row(NamedTuple):
    key: str
    responses: int
    input: int
    output: int
    cache_write: int
    cache_read: int
    cache_write_1h: int
    actual: float
    all_claude: float

    @property
    def saved(self) -> float:
        return self.all_claude - self.actual

    @property
    def saved_pct(self) -> float | None:
        return None if self.all_claude <= 0 else 100.0 * self.saved / self.all_claude

    def as_dict(self, by: str) -> dict[str, Any]:
        pct = self.saved_pct
        return {
            by: self.key,
            "responses": self.responses,
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_write_tokens": self.cache_write,
            "cache_read_tokens": self.cache_read,
            "cache_write_1h_tokens": self.cache_write_1h,
            "actual_usd": round(self.actual, 6),
            "all_claude_usd": round(self.all_claude, 6),
            "saved_usd": round(self.saved, 6),
            "saved_pct": None if pct is None else round(pct, 2),
        }


def _priced(bucket: Bucket, sums: list[int], prices: PriceTable) -> tuple[float, float]:
    tokens = (sums[1], sums[2], sums[3], sums[4], sums[5])
    actual = cost(prices.price(bucket.model), *tokens)
    if claude_model(bucket.model):
        return actual, actual
    return actual, cost(prices.tier_price(valid_tier_name(bucket.tier)), *tokens)


def _add(a: Row | None, key: str, sums: list[int], actual: float, claude: float) -> Row:
    if a is None:
        return Row(key, sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], actual, claude)
    return Row(
        key,
        a.responses + sums[0],
        a.input + sums[1],
        a.output + sums[2],
        a.cache_write + sums[3],
        a.cache_read + sums[4],
        a.cache_write_1h + sums[5],
        a.actual + actual,
        a.all_claude + claude,
    )


def _sort_key(by: str, key: str) -> tuple[int, str]:
    if by == "phase":
        return (PHASE_ORDER.get(key, 9), key)
    return (0, key)


class Summary(NamedTuple):
    by: str
    rows: list[Row]
    total: Row
    by_phase_backend: dict[tuple[str, str], float]  # (phase, backend) -> actual USD
    all_claude_by_phase: dict[str, float]
    unpriced: list[str]
    tier_rules: dict[str, int]  # how the counterfactual tier was decided -> responses
    guessed: dict[str, str]  # model -> what it was priced as (a family neighbour or the seed)
    tiers_used: dict[str, str]  # Claude tier the counterfactual used -> its model
    backend_rules: dict[str, int]  # how the backend was named (attribution's rules) -> responses
    unnamed: dict[str, list[str]]  # backend named by model family or `other` -> its models
    row_backends: dict[str, dict[str, float]]  # row key -> backend -> actual USD


def summarize(
    buckets: dict[Bucket, int], sums: list[list[int]], prices: PriceTable, by: str
) -> Summary:
    rows: dict[str, Row] = {}
    total: Row | None = None
    chart: dict[tuple[str, str], float] = {}
    claude_by_phase: dict[str, float] = {}
    unpriced: set[str] = set()
    rules: dict[str, int] = {}
    guessed: dict[str, str] = {}
    tiers_used: dict[str, str] = {}
    backend_rules: dict[str, int] = {}
    unnamed: dict[str, set[str]] = {}
    row_backends: dict[str, dict[str, float]] = {}
    for bucket, bid in buckets.items():
        s = sums[bid]
        actual, claude = _priced(bucket, s, prices)
        how = prices.priced(bucket.model)
        if how is None:
            unpriced.add(bucket.model)
        elif how.guessed:
            guessed[bucket.model] = how.basis
        if not claude_model(bucket.model):
            tier = valid_tier_name(bucket.tier)
            tiers_used[tier] = prices.tier_model(tier)
            tier_how = prices.priced(prices.tier_model(tier))
            if tier_how is not None and tier_how.guessed:
                guessed[prices.tier_model(tier)] = tier_how.basis
        key = str(getattr(bucket, by))
        rows[key] = _add(rows.get(key), key, s, actual, claude)
        total = _add(total, "total", s, actual, claude)
        split = row_backends.setdefault(key, {})
        split[bucket.backend] = split.get(bucket.backend, 0.0) + actual
        backend_rules[bucket.backend_how] = backend_rules.get(bucket.backend_how, 0) + s[0]
        if bucket.backend_how in ("family", "other"):
            unnamed.setdefault(bucket.backend, set()).add(bucket.model)
        ph = (bucket.phase, bucket.backend)
        chart[ph] = chart.get(ph, 0.0) + actual
        claude_by_phase[bucket.phase] = claude_by_phase.get(bucket.phase, 0.0) + claude
        if not claude_model(bucket.model):
            rules[bucket.tier_how] = rules.get(bucket.tier_how, 0) + s[0]
    ordered = [rows[k] for k in sorted(rows, key=lambda k: _sort_key(by, k))]
    return Summary(
        by,
        ordered,
        total or Row("total", 0, 0, 0, 0, 0, 0, 0.0, 0.0),
        chart,
        claude_by_phase,
        sorted(unpriced),
        rules,
        dict(sorted(guessed.items())),
        dict(sorted(tiers_used.items())),
        dict(sorted(backend_rules.items())),
        {b: sorted(models) for b, models in sorted(unnamed.items())},
        {k: dict(sorted(v.items())) for k, v in row_backends.items()},
    )


def backend_notes(summary: Summary) -> list[str]:
    """What the report says about backends no configured one named (attribution's rules)."""
    family = {b: m for b, m in summary.unnamed.items() if b != "other"}
    out = []
    if family:
        named = "; ".join(f"{b}: {', '.join(m)}" for b, m in family.items())
        out.append(
            f"backend named by the model's family, no backend of this repository names it "
            f"({named}); name it in llm.backends (models) to see it under that name"
        )
    if "other" in summary.unnamed:
        models = ", ".join(summary.unnamed["other"])
        out.append(
            f"backend other: no backend of this repository names {models} and no preset "
            "family matches; add it to a backend's models in llm.backends"
        )
    return out


def _usd(x: float) -> str:
    return f"${x:,.2f}" if abs(x) >= 1 or x == 0 else f"${x:,.4f}"


def _tok(n: int) -> str:
    return f"{n:,}"


def _pct(p: float | None) -> str:
    return "-" if p is None else f"{p:.1f}%"


def _cells(r: Row) -> list[str]:
    """One report row as shown, shared by the table and the HTML page."""
    return [
        r.key,
        _tok(r.responses),
        _tok(r.input),
        _tok(r.output),
        _tok(r.cache_write),
        _tok(r.cache_read),
        _usd(r.actual),
        _usd(r.all_claude),
        _usd(r.saved),
        _pct(r.saved_pct),
    ]


def render_table(summary: Summary, notes: list[str]) -> str:
    head = [
        summary.by,
        "responses",
        "input",
        "output",
        "cache write",
        "cache read",
        "actual",
        "all-Claude",
        "saved",
        "saved %",
    ]
    body = [_cells(r) for r in [*summary.rows, summary.total]]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    out = [line(head), "  ".join("-" * w for w in widths)]
    out += [line(b) for b in body[:-1]]
    out += ["  ".join("-" * w for w in widths), line(body[-1])]
    return "\n".join(out + (["", *notes] if notes else [])) + "\n"


def render_json(summary: Summary, meta: dict[str, Any]) -> str:
    doc = {
        "by": summary.by,
        "rows": [
            {
                **r.as_dict(summary.by),
                "actual_usd_by_backend": {
                    b: round(v, 6) for b, v in summary.row_backends.get(r.key, {}).items()
                },
            }
            for r in summary.rows
        ],
        "total": summary.total.as_dict(summary.by),
        "spend_by_phase_backend": [
            {"phase": p, "backend": b, "actual_usd": round(v, 6)}
            for (p, b), v in sorted(summary.by_phase_backend.items())
        ],
        "unpriced_models": summary.unpriced,
        "guessed_prices": summary.guessed,
        "counterfactual_tier_rule": summary.tier_rules,
        "counterfactual_models": summary.tiers_used,
        "backend_rule": summary.backend_rules,
        "backends_by_model_family": summary.unnamed,
        **meta,
    }
    return jsontext.dumps(doc, indent=2) + "\n"


def render_csv(summary: Summary) -> str:
    import csv  # with html below: ~2 ms that the table and JSON do without

    buf = io.StringIO()
    rows = [r.as_dict(summary.by) for r in [*summary.rows, summary.total]]
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


BACKEND_COLOURS = {"claude": "#d97757", "glm": "#3b82f6", "other": "#9ca3af"}
# Every other backend (a configured name, a model family), in name order.
PALETTE = ("#10b981", "#8b5cf6", "#f59e0b", "#ec4899", "#14b8a6", "#6366f1", "#84cc16")


def backend_colours(names: set[str]) -> dict[str, str]:
    """A colour per backend: claude, glm and other keep theirs, the rest take the palette
    in name order (the same colours for the same names in every report)."""
    fixed = [b for b in BACKEND_COLOURS if b in names and b != "other"]
    rest = sorted(names - set(BACKEND_COLOURS))
    out = {b: BACKEND_COLOURS[b] for b in fixed}
    out |= {b: PALETTE[i % len(PALETTE)] for i, b in enumerate(rest)}
    if "other" in names:
        out["other"] = BACKEND_COLOURS["other"]
    return out


def render_svg(chart: dict[tuple[str, str], float], all_claude: dict[str, float]) -> str:
    """Per phase: a bar of actual spend stacked by backend, under it a grey all-Claude bar."""
    import html

    phases = sorted({p for p, _ in chart}, key=lambda p: (PHASE_ORDER.get(p, 9), p))
    colours = backend_colours({b for _, b in chart})
    backends = list(colours)
    top = max(
        [sum(chart.get((p, b), 0.0) for b in backends) for p in phases]
        + [all_claude.get(p, 0.0) for p in phases],
        default=0.0,
    )
    bar_w, label_w, row_h = 420, 70, 46
    height = row_h * len(phases) + 40
    legend = [*colours.items(), ("all on Claude", "#d1d5db")]
    steps = [max(80, 16 + 8 * len(name)) for name, _ in legend]  # ~8 px a character
    svg_w = max(label_w + bar_w + 110, label_w + sum(steps))

    def width(v: float) -> float:
        return max(bar_w * v / top, 1.0) if top > 0 and v > 0 else 0.0

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{svg_w}" '
        f'height="{height}" role="img" aria-label="spend per phase and backend">'
    ]
    for i, phase in enumerate(phases):
        y = 10 + i * row_h
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{html.escape(phase)}</text>')
        x = float(label_w)
        total = 0.0
        for backend in backends:
            v = chart.get((phase, backend), 0.0)
            if v <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width(v):.1f}" height="20" '
                f'fill="{colours[backend]}"><title>{html.escape(phase)} / '
                f"{html.escape(backend)}: {_usd(v)}</title></rect>"
            )
            x += width(v)
            total += v
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">{_usd(total)}</text>')
        cf = all_claude.get(phase, 0.0)
        parts.append(
            f'<rect x="{label_w}" y="{y + 23}" width="{width(cf):.1f}" height="8" '
            f'fill="#d1d5db"><title>{html.escape(phase)} all on Claude: {_usd(cf)}</title></rect>'
            f'<text x="{label_w + width(cf) + 6:.1f}" y="{y + 31}" font-size="10" '
            f'fill="#6b7280">{_usd(cf)} all on Claude</text>'
        )
    ly = 10 + len(phases) * row_h + 6
    lx = label_w
    for (name, colour), step in zip(legend, steps, strict=True):
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{ly + 11}" font-size="12">{html.escape(name)}</text>'
        )
        lx += step
    parts.append("</svg>")
    return "".join(parts)


def render_html(summary: Summary, title: str, notes: list[str]) -> str:
    import html

    t = summary.total
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in _cells(r)) + "</tr>"
        for r in [*summary.rows, t]
    )
    heads = "".join(
        f"<th>{h}</th>"
        for h in (
            html.escape(summary.by),
            "responses",
            "input",
            "output",
            "cache write",
            "cache read",
            "actual",
            "all-Claude",
            "saved",
            "saved %",
        )
    )
    note_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#111}"
        "table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;"
        "text-align:right}td:first-child,th:first-child{text-align:left}"
        "tr:last-child td{font-weight:bold}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"<p>Actual spend <b>{_usd(t.actual)}</b>; the same tokens all on Claude "
        f"<b>{_usd(t.all_claude)}</b>; saved <b>{_usd(t.saved)}</b> "
        f"({_pct(t.saved_pct)}).</p>"
        "<h2>Spend per phase and backend</h2>"
        f"{render_svg(summary.by_phase_backend, summary.all_claude_by_phase)}"
        f"<h2>By {html.escape(summary.by)}</h2><table><thead><tr>{heads}</tr></thead>"
        f"<tbody>{cells}</tbody></table>"
        f"<ul>{note_html}</ul></body></html>\n"
    )
