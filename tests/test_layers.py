"""The import graph keeps the layers ARCHITECTURE.md describes: read from the source.

Every import counts, at module level or inside a function (a function-level
import is still a dependency, only a later one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "moai_mashup"
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
