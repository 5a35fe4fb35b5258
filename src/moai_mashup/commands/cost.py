"""`moai cost`: actual spend vs the same tokens all on Claude, from Claude Code's transcripts.

The click command; the run itself is cost_run.py's, which entry.py calls without
click for the common command lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from moai_mashup.cost import report
from moai_mashup.cost.pricing import TIERS
from moai_mashup.cost_run import Options, run
from moai_mashup.cost_run import parse_when as parse_when  # where tests and callers find it


@click.command("cost")
@click.option("--since", metavar="DATE", help="Only responses at or after DATE (UTC).")
@click.option("--until", metavar="DATE", help="Only responses up to DATE (a day is included).")
@click.option("--spec", "spec_id", metavar="SPEC-ID", help="Only responses for this SPEC.")
@click.option(
    "--by",
    type=click.Choice(report.DIMENSIONS),
    default="phase",
    show_default=True,
    help="Group rows by.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV rows on stdout.")
@click.option(
    "--html",
    "html_file",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a one-page HTML report with a chart (no network).",
)
@click.option(
    "--claude-tier",
    type=click.Choice(TIERS),
    default="sonnet",
    show_default=True,
    help="Claude tier for a GLM model the template does not tie to one tier.",
)
@click.option(
    "--claude-model",
    "claude_models",
    metavar="TIER=MODEL",
    multiple=True,
    help="The Claude model a tier is priced as in the all-Claude comparison "
    "(default: what Claude Code 2.1.332's alias asks for; see --prices).",
)
@click.option("--prices", "show_prices", is_flag=True, help="Print the prices in effect and exit.")
@click.option(
    "--prometheus-rules",
    "prom_rules",
    is_flag=True,
    help="Print Prometheus recording rules that price Claude Code's OpenTelemetry "
    "token metrics with these prices, and exit.",
)
@click.option(
    "--grafana-dashboard",
    "grafana",
    is_flag=True,
    help="Print a Grafana dashboard (JSON) over those recording rules, and exit.",
)
def command(**options: Any) -> None:
    """Spend and savings per phase, SPEC, backend, model or day, from Claude Code's transcripts."""
    run(Options(**options))
