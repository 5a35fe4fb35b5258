"""`moai cost` run: its options in, the report out; actual spend vs the same tokens all
on Claude, from Claude Code's transcripts.

Reads `~/.claude/projects/` (or `$CLAUDE_CONFIG_DIR/projects/`) for the
sessions of this repository's worktrees; see moai_mashup/cost/ for how each
response is found, de-duplicated, attributed and priced. Two callers:
commands/cost.py (click) and entry.py, which runs the common command lines
(fast_options) without click.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from moai_mashup import files, git
from moai_mashup.config import GLM_JSON
from moai_mashup.core.routing import SPEC_ID_SHAPE, is_valid_spec_id
from moai_mashup.cost import report, scan, teamview
from moai_mashup.cost.attribution import (
    NOT_ON,
    Attributor,
    Filters,
    Place,
    backend_names,
    read_env_block,
    template_tiers,
    worktree_backend,
)
from moai_mashup.cost.phase_record import read_phases
from moai_mashup.cost.pricing import TABLE_DATE, TIERS, PriceTable, Tier, valid_tier_name
from moai_mashup.cost.transcripts import ScanStats, find_folders, projects_dir
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.paths import SETTINGS_REL, STATE_DIR
from moai_mashup.workspace import Workspace, open_workspace
from moai_mashup.worktrees.entries import claimed_root, list_entries, worktree_root

if TYPE_CHECKING:
    from typing import Any


def parse_when(value: str | None, flag: str, *, end: bool) -> str | None:
    """A DATE or date-time as a UTC ISO prefix; `--until DATE` includes that whole day."""
    if value is None:
        return None
    from datetime import UTC, datetime, timedelta  # only for --since/--until

    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(
            f"{flag} {value!r}: not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z]"
        ) from None
    date_only = len(value.strip()) == 10
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    if end and date_only:
        when += timedelta(days=1)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


class Options(NamedTuple):
    """`moai cost`'s command line, parsed by click or by fast_options."""

    since: str | None = None
    until: str | None = None
    spec_id: str | None = None
    by: str = "phase"
    as_json: bool = False
    as_csv: bool = False
    html_file: Path | None = None
    claude_tier: str = "sonnet"
    claude_models: tuple[str, ...] = ()
    show_prices: bool = False
    prom_rules: bool = False
    grafana: bool = False


# What fast_options reads: the forms `moai cost` is run with most (entry.py, without
# click); anything else (--help, --html, --prices, a repeated or unknown option, a value
# that could be an option, a choice click would refuse) is click's.
FAST_VALUES = {
    "--since": "since",
    "--until": "until",
    "--spec": "spec_id",
    "--by": "by",
    "--claude-tier": "claude_tier",
    "--claude-model": "claude_models",
}
FAST_FLAGS = {"--json": "as_json", "--csv": "as_csv"}


def fast_options(args: list[str]) -> Options | None:
    """`args` (after `cost`) as click would parse them, or None: click's to parse."""
    given: dict[str, Any] = {}
    models: list[str] = []
    got: str | bool
    i = 0
    while i < len(args):
        name, eq, value = args[i].partition("=")
        i += 1
        if name in FAST_FLAGS and not eq:
            field, got = FAST_FLAGS[name], True
        elif name in FAST_VALUES:
            if not eq:
                if i == len(args) or args[i].startswith("-"):
                    return None
                value = args[i]
                i += 1
            field, got = FAST_VALUES[name], value
        else:
            return None
        if field == "claude_models":
            models.append(value)
        elif field in given:
            return None
        else:
            given[field] = got
    if given.get("by", "phase") not in report.DIMENSIONS:
        return None
    if given.get("claude_tier", "sonnet") not in TIERS:
        return None
    return Options(**given, claude_models=tuple(models))


def echo(text: str, err: bool = False) -> None:
    """click.echo(text, nl=False, err=err) without click where the two write the same:
    text with an escape character (a model name from a transcript) goes to click,
    which strips terminal codes from what is not a terminal."""
    if "\x1b" in text:
        import click

        click.echo(text, nl=False, err=err)
        return
    stream = sys.stderr if err else sys.stdout
    if text:
        stream.write(text)
    stream.flush()


def run(opts: Options) -> None:
    """`moai cost` with its options, however parsed."""
    filters = _filters(opts.since, opts.until, opts.spec_id, opts.as_json, opts.as_csv)
    tier_models = parse_claude_models(opts.claude_models)
    show_prices, prom_rules, grafana = opts.show_prices, opts.prom_rules, opts.grafana
    if (show_prices or grafana) and not _in_repository():
        # The built-in table (and the dashboard) need no repository.
        table = PriceTable({}, tier_models)
        echo(
            teamview.render_prices(table, opts.as_json)
            if show_prices
            else teamview.grafana_dashboard()
        )
        return
    # Workers for a large input start now, while the workspace opens (scan.py).
    ahead = [] if show_prices or prom_rules or grafana else scan.start_ahead()
    ws = open_workspace()
    prices = PriceTable(ws.cfg.pricing, tier_models)
    if show_prices:
        echo(teamview.render_prices(prices, opts.as_json))
        return
    if prom_rules:
        echo(_prometheus_rules(ws, prices, opts.claude_tier))
        return
    if grafana:
        echo(teamview.grafana_dashboard())
        return
    places, envs, glm_envs = _places(ws)
    routes = [(r.branch, r.backend) for r in ws.cfg.routes]
    attributor = Attributor(
        places,
        ws.cfg.default_branch,
        ws.cfg.spec_branch_pattern,
        template_tiers(envs, ws.cfg.backends),
        valid_tier_name(opts.claude_tier),
        filters,
        backend_names(ws.cfg.backends, glm_envs, routes),
    )
    stats = ScanStats()
    projects = projects_dir()
    folders = _scan(projects, places, attributor, stats, ahead)
    summary = report.summarize(attributor.buckets, attributor.sums, prices, opts.by)
    notes = _notes(stats, attributor, summary, folders, projects)
    html_file = opts.html_file
    if html_file is not None:
        # Written before anything is printed: a path we cannot write is bad input.
        _write_html(html_file, summary, f"moai cost: {Path(ws.wt.main_root).name}", notes)
    if opts.as_json:
        meta = _meta(filters, projects, folders, stats, attributor, ws.cfg.pricing, prices)
        echo(report.render_json(summary, meta))
    elif opts.as_csv:
        echo(report.render_csv(summary))
    else:
        echo(report.render_table(summary, notes))
    if html_file is not None:
        echo(f"wrote {html_file}\n", err=True)


def _filters(
    since: str | None, until: str | None, spec_id: str | None, as_json: bool, as_csv: bool
) -> Filters:
    """The options that narrow or shape the report, checked before anything is read."""
    if as_json and as_csv:
        raise BadInput("--json and --csv: choose one output format")
    if spec_id is not None and not is_valid_spec_id(spec_id):
        raise BadInput(f"--spec {spec_id!r}: not a SPEC id; expected {SPEC_ID_SHAPE}")
    filters = Filters(
        parse_when(since, "--since", end=False), parse_when(until, "--until", end=True), spec_id
    )
    if filters.since and filters.until and filters.since >= filters.until:
        raise BadInput(f"--since {since} is not before --until {until}")
    return filters


def _prometheus_rules(ws: Workspace, prices: PriceTable, claude_tier: str) -> str:
    root = Path(ws.wt.root)
    tiers = template_tiers(
        [read_env_block(root / GLM_JSON, root), read_env_block(root / SETTINGS_REL, root)],
        ws.cfg.backends,
    )
    return teamview.prometheus_rules(prices, tiers, valid_tier_name(claude_tier))


def _places(
    ws: Workspace,
) -> tuple[list[Place], list[dict[str, Any]], list[dict[str, Any]]]:
    """Where this repository's sessions ran (each worktree, by path and real path, with
    its phase marks and the backend its settings are on), the env blocks that tie
    non-Claude models to Claude tiers, and those of the glm.json templates alone."""
    places: list[Place] = []
    envs: list[dict[str, Any]] = []
    glm_envs: list[dict[str, Any]] = []
    for entry in list_entries(Path(ws.wt.root)):
        found = git.git_dir_at(str(entry.path))
        git_dir = Path(found) if found else None
        marks = tuple(read_phases(git_dir / STATE_DIR)) if git_dir else ()
        glm_envs.append(read_env_block(entry.path / GLM_JSON, entry.path))
        envs += [glm_envs[-1], read_env_block(entry.path / SETTINGS_REL, entry.path)]
        on = worktree_backend(git_dir / STATE_DIR, envs[-1]) if git_dir else NOT_ON
        for p in dict.fromkeys([str(entry.path), os.path.realpath(entry.path)]):
            places.append(Place(p, entry.branch, marks, *on))
    # Where this repository's SPEC worktrees live (and lived, once removed): the
    # configured root, or its `-<hash>` twin when another repository of the same
    # name claimed it first (worktrees.claimed_root); the twin's sessions are not ours.
    removed_root = os.path.normpath(
        claimed_root(worktree_root(ws), Path(ws.wt.common_dir), claim=False)
    )
    if not any(p.path == removed_root for p in places):
        places.append(Place(removed_root, None, ()))
    return places, envs, glm_envs


def _scan(
    projects: Path,
    places: list[Place],
    attributor: Attributor,
    stats: ScanStats,
    ahead: list[scan.Worker],
) -> list[Path]:
    """Feed every transcript of these places to the attributor; the folders read."""
    folders = find_folders(projects, [p.path for p in places])
    scan.scan(folders, attributor, stats, ahead)
    return folders


def _meta(
    filters: Filters,
    projects: Path,
    folders: list[Path],
    stats: ScanStats,
    attributor: Attributor,
    configured: dict[str, Any],
    prices: PriceTable,
) -> dict[str, Any]:
    """What `--json` says besides the rows: what was read, skipped and priced how."""
    return {
        "filters": {"since": filters.since, "until": filters.until, "spec": filters.spec},
        "transcripts": {
            "projects_dir": str(projects),
            "folders": [f.name for f in folders],
            **stats.as_dict(),
        },
        "duplicates": attributor.duplicates,
        "outside_repository": attributor.outside,
        "filtered_out": attributor.filtered,
        "synthetic": attributor.synthetic,
        "prices": {
            "table_date": TABLE_DATE,
            "configured": sorted(configured),
            "counterfactual_models": dict(prices.tier_models),
        },
    }


def _write_html(path: Path, summary: report.Summary, title: str, notes: list[str]) -> None:
    try:
        files.write_text(path, report.render_html(summary, title, notes), mode=0o644)
    except OSError as exc:
        raise BadInput(f"--html {path}: cannot write ({exc.strerror})") from None


def _in_repository() -> bool:
    try:
        git.discover(Path.cwd())
    except BadInput:
        return False
    return True


def parse_claude_models(values: tuple[str, ...]) -> dict[Tier, str]:
    """`--claude-model opus=claude-opus-5` values as {tier: model}."""
    out: dict[Tier, str] = {}
    for value in values:
        tier, sep, model = value.partition("=")
        if not sep or tier not in TIERS or not model.strip():
            raise BadInput(
                f"--claude-model {value!r}: expected TIER=MODEL with TIER opus, sonnet or haiku "
                "(e.g. opus=claude-opus-5)"
            )
        out[tier] = model.strip()
    return out


def _notes(
    stats: ScanStats,
    attributor: Attributor,
    summary: report.Summary,
    folders: list[Path],
    projects: Path,
) -> list[str]:
    notes = [
        f"read {stats.files} transcript file(s) in {len(folders)} folder(s) under {projects}; "
        f"{attributor.duplicates} duplicate record(s) counted once"
    ]
    if not folders:
        notes.append("no transcripts found for this repository's worktrees")
    if stats.skipped or stats.unreadable:
        first = stats.samples[0] if stats.samples else None
        where = f" (first: {first.path}:{first.line}: {first.why})" if first else ""
        notes.append(
            f"skipped {stats.skipped} line(s): {stats.malformed} malformed, "
            f"{stats.unknown_type} unknown type, {stats.bad_usage} without usable usage; "
            f"{stats.unreadable} unreadable file(s){where}"
        )
    notes.append(f"prices: moai's table of {TABLE_DATE} (moai cost --prices), llm.pricing first")
    if summary.guessed:
        guesses = ", ".join(f"{m} as {basis}" for m, basis in summary.guessed.items())
        notes.append(f"guessed prices (not in the table): {guesses}; add them under llm.pricing")
    if summary.tiers_used:
        used = ", ".join(f"{t} -> {m}" for t, m in summary.tiers_used.items())
        notes.append(f"all-Claude prices non-Claude tokens tier for tier: {used} (--claude-model)")
    if summary.unpriced:
        names = ", ".join(summary.unpriced)
        notes.append(f"no price for {names}: counted as $0; add them under llm.pricing")
    notes += report.backend_notes(summary)
    if summary.tier_rules.get("default"):
        notes.append(
            f"{summary.tier_rules['default']} non-Claude response(s) compared with the "
            f"--claude-tier default ({attributor.fallback_tier}): their model is not tied to "
            "one tier by ANTHROPIC_DEFAULT_*_MODEL"
        )
    return notes
