"""The import graph keeps the layers ARCHITECTURE.md describes: read from the source.

Every import counts, at module level or inside a function (a function-level
import is still a dependency, only a later one). The rows and what each may
import are read from ARCHITECTURE.md's package table, so the page and this
test cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "moai_mashup"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"

# Imports that break the table today, each with why it is let through. An entry
# must still occur: delete it once its import is gone.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {}

CAPABILITIES = ("settings", "githooks", "guard", "worktrees", "claude_code", "cost")
UPPER = ("cli", "entry", "__main__", "commands", "status", "scaffold")
LEAVES = ("errors", "lean", "paths", "spawn")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == "moai_mashup" or node.module.startswith("moai_mashup."):
                    base = node.module.removeprefix("moai_mashup").lstrip(".")
                    for alias in node.names:
                        sub = f"{base}.{alias.name}".lstrip(".")
                        targets.append(sub if sub in mods else base)
            elif isinstance(node, ast.Import):
                targets += [
                    a.name.removeprefix("moai_mashup").lstrip(".")
                    for a in node.names
                    if a.name.split(".")[0] == "moai_mashup"
                ]
            graph[name] |= {t for t in targets if t in mods and t not in ("", name)}
    return graph


def _top(name: str) -> str:
    return name.split(".")[0]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


GRAPH = _graph()


class Row(NamedTuple):
    names: tuple[str, ...]  # the first column as written: `settings/`, `config.py`
    units: tuple[str, ...]  # the same as dotted module names: settings, config
    may: str  # the last column as written


def _table() -> list[Row]:
    """The rows of the package table, top to bottom."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("\n## Packages\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or cells[0] == "package / module" or set(cells[0]) <= {"-"}:
            continue
        names = tuple(re.findall(r"`([^`]+)`", cells[0]))
        units = tuple(n.removesuffix("/").removesuffix(".py").replace("/", ".") for n in names)
        rows.append(Row(names, units, cells[-1]))
    return rows


def _label(row: Row) -> str:
    return ", ".join(row.names)


def _allowed(rows: list[Row]) -> tuple[list[set[int]], list[str]]:
    """What each row may import (row indexes), and every cell that does not read.

    A cell is "everything below", "nothing", "nothing of ours but <names>" or
    <names>: comma-separated names of rows (any module or package of the row,
    or "leaves": the rows whose cell begins "nothing"). Backticks are dropped and
    (notes in brackets) skipped.
    """
    problems = []
    by_name: dict[str, int] = {}
    for i, row in enumerate(rows):
        if not row.names:
            problems.append(f"a row names no `module.py` or `package/`: may import {row.may!r}")
        for name, unit in zip(row.names, row.units, strict=True):
            if not name.endswith(("/", ".py")):
                problems.append(f"row {_label(row)}: {name!r} is neither a package/ nor a .py")
            if unit in by_name:
                problems.append(f"{name!r} is in two rows")
            by_name[unit] = i
    cells = [re.sub(r"\([^)]*\)", "", row.may).replace("`", "").strip() for row in rows]
    leaves = {i for i, cell in enumerate(cells) if cell.startswith("nothing")}
    allowed: list[set[int]] = []
    for i, (row, cell) in enumerate(zip(rows, cells, strict=True)):
        if cell == "everything below":
            allowed.append(set(range(i + 1, len(rows))))
            continue
        if cell.startswith("nothing"):
            cell = cell.removeprefix("nothing").strip().removeprefix("of ours but").strip()
        elif not cell:
            problems.append(f"row {_label(row)} says nothing of what it may import")
        mine = set()
        for word in filter(None, (w.strip() for w in cell.split(","))):
            if word == "leaves":
                mine |= leaves
            elif word in by_name:
                mine.add(by_name[word])
            else:
                problems.append(f"row {_label(row)} may import {word!r}, which names no row")
        allowed.append(mine)
    return allowed, problems


def _row_of(name: str, rows: list[Row]) -> int | None:
    """The row a module belongs to: its own, or its package's (the deepest that has one)."""
    found = [
        (len(unit), i)
        for i, row in enumerate(rows)
        for unit in row.units
        if name == unit or name.startswith(unit + ".")
    ]
    return max(found)[1] if found else None


ROWS = _table()
ALLOWED, TABLE_PROBLEMS = _allowed(ROWS)


def _violations() -> list[tuple[str, str, str]]:
    """Every import the table does not allow: (importer, imported, why)."""
    out = []
    for name in sorted(GRAPH):
        mine = _row_of(name, ROWS)
        if mine is None:
            continue  # test_every_module_has_a_row says so
        for target in sorted(GRAPH[name]):
            theirs = _row_of(target, ROWS)
            if theirs is None or theirs == mine or theirs in ALLOWED[mine]:
                continue
            out.append(
                (
                    name,
                    target,
                    f"{name} -> {target}: the row {_label(ROWS[mine])} may import "
                    f"{ROWS[mine].may!r}, which leaves out the row {_label(ROWS[theirs])}",
                )
            )
    return out


def test_the_graph_is_read_at_all() -> None:
    assert "settings.apply" in GRAPH["githooks.engine"]
    assert "core.settings_plan" in GRAPH["settings.apply"]
    assert len(GRAPH) > 60


def test_no_module_imports_itself_back() -> None:
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if _top(n) == "core"))
def test_the_core_is_pure(name: str) -> None:
    assert {_top(t) for t in GRAPH[name]} <= {"core", "lean", "errors"}, GRAPH[name]


@pytest.mark.parametrize("name", LEAVES)
def test_leaves_import_nothing_of_ours(name: str) -> None:
    assert GRAPH[name] <= {"errors"}, GRAPH[name]


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if _top(n) in CAPABILITIES))
def test_capabilities_never_reach_up_to_the_cli(name: str) -> None:
    assert not {t for t in GRAPH[name] if _top(t) in UPPER}, GRAPH[name]


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if _top(n) == "commands"))
def test_a_command_never_imports_another_command(name: str) -> None:
    assert not {t for t in GRAPH[name] if _top(t) == "commands"}, GRAPH[name]


def test_only_the_cli_wiring_reaches_the_commands() -> None:
    outside = {n for n in GRAPH if _top(n) != "commands"}
    importers = {n for n in outside if any(_top(t) == "commands" for t in GRAPH[n])}
    assert importers == set()  # cli.py imports them by name (importlib), lazily


def test_the_table_reads() -> None:
    assert len(ROWS) > 10, f"no package table found in {ARCHITECTURE}"
    assert TABLE_PROBLEMS == [], "ARCHITECTURE.md's package table:\n" + "\n".join(TABLE_PROBLEMS)


def test_the_table_only_points_down() -> None:
    up = [
        f"row {_label(ROWS[i])} may import row {_label(ROWS[j])}, above it"
        for i, mine in enumerate(ALLOWED)
        for j in sorted(mine)
        if j <= i
    ]
    assert up == [], "ARCHITECTURE.md: imports go down the list:\n" + "\n".join(up)


def test_every_module_has_a_row() -> None:
    # "" is the package's own __init__.py: only __version__, no import of ours.
    assert GRAPH[""] == set()
    missing = sorted(n for n in GRAPH if n and _row_of(n, ROWS) is None)
    assert missing == [], (
        "add these modules to the package table in ARCHITECTURE.md (a row of their own, "
        f"or the row of what they belong with): {', '.join(missing)}"
    )


def test_every_import_is_one_its_row_may_make() -> None:
    found = [why for name, target, why in _violations() if (name, target) not in KNOWN_VIOLATIONS]
    assert found == [], (
        "imports that ARCHITECTURE.md's package table does not allow (move the import, "
        "or change the table if the layering really is so):\n" + "\n".join(found)
    )


def test_every_known_violation_still_occurs() -> None:
    occurring = {(name, target) for name, target, _ in _violations()}
    gone = [
        f"{a} -> {b} ({why})" for (a, b), why in KNOWN_VIOLATIONS.items() if (a, b) not in occurring
    ]
    assert gone == [], f"delete from KNOWN_VIOLATIONS, the import is gone: {', '.join(gone)}"
