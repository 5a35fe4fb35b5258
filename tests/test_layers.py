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
    assert {_top(t) for t in GRAPH[name]} <= {"core", "lean", "errors", "jsontext"}, GRAPH[name]


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


# --- one module reads and writes files -----------------------------------------
#
# files.py owns the rules for every file moai touches (regular files only, bounded,
# non-blocking, never through a link leaving where it means to write, walks that
# follow no link). Anything else that opens, writes, removes, renames, copies or
# walks on its own bypasses them; each exception is named with its reason.

FILE_MODULE = "files"
# os.<name> calls that open, change or walk files.
OS_FILE_CALLS = frozenset(
    {
        "open",
        "fdopen",
        "replace",
        "rename",
        "renames",
        "unlink",
        "remove",
        "rmdir",
        "removedirs",
        "walk",
        "fwalk",
        "scandir",
        "listdir",
        "mkdir",
        "makedirs",
        "link",
        "symlink",
        "chmod",
        "truncate",
        "mkfifo",
    }
)
# Path methods (and io/builtins) that do the same; `replace` is left out (str.replace).
METHOD_FILE_CALLS = frozenset(
    {
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "open",
        "iterdir",
        "glob",
        "rglob",
        "mkdir",
        "rmdir",
        "touch",
        "unlink",
        "rename",
        "symlink_to",
        "hardlink_to",
        "chmod",
    }
)
WHOLE_MODULES = ("shutil", "tempfile", "glob")
# io's in-memory buffers (StringIO, BytesIO) touch no file.
IO_FILE_CALLS = frozenset({"open", "FileIO", "open_code"})
# (module, call) -> why it may touch files itself.
FILE_ACCESS_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("spawn", "os.open"): "/dev/null as a child's stdin: process plumbing, no file of anyone's",
    ("spawn", "os.fdopen"): "reads a child's output pipe, which it created",
    ("claude_code.slash_commands", ".read_text"): (
        "moai's own packaged template (importlib.resources), never a file of a repository's"
    ),
}


def _file_calls(tree: ast.AST) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            out.append(("open", node.lineno))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in ("read", "readline", "readlines")
            and "stdin" in ast.unparse(func.value).split(".")
        ):
            out.append(("stdin." + func.attr, node.lineno))
        elif isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            if owner == "os" and func.attr in OS_FILE_CALLS:
                out.append((f"os.{func.attr}", node.lineno))
            elif owner == "io" and func.attr in IO_FILE_CALLS:
                out.append((f"io.{func.attr}", node.lineno))
            elif owner in WHOLE_MODULES:
                if (owner, func.attr) != ("shutil", "which"):  # a PATH lookup, no file opened
                    out.append((f"{owner}.{func.attr}", node.lineno))
            elif owner not in ("os", FILE_MODULE) and func.attr in METHOD_FILE_CALLS:
                out.append((f".{func.attr}", node.lineno))
    return out


def _file_access() -> list[tuple[str, str, int]]:
    found = []
    for name, path in _modules().items():
        if name == FILE_MODULE:
            continue
        for call, line in _file_calls(ast.parse(path.read_text(encoding="utf-8"))):
            found.append((name, call, line))
    return found


def test_only_files_py_reads_and_writes_files() -> None:
    found = [
        f"{name}.py:{line}: {call}"
        for name, call, line in _file_access()
        if (name, call) not in FILE_ACCESS_EXCEPTIONS
    ]
    assert found == [], (
        "file access outside files.py (use its functions, which keep the rules for every "
        "file moai touches; or name the exception with its reason):\n" + "\n".join(found)
    )


def test_every_file_access_exception_still_occurs() -> None:
    occurring = {(name, call) for name, call, _line in _file_access()}
    gone = [f"{a}: {b}" for (a, b) in FILE_ACCESS_EXCEPTIONS if (a, b) not in occurring]
    assert gone == [], f"delete from FILE_ACCESS_EXCEPTIONS, the call is gone: {', '.join(gone)}"


def test_the_file_rule_sees_each_kind_of_access() -> None:
    """The checker itself: each way of touching a file is caught."""
    source = (
        "import os, shutil, tempfile\n"
        "open('x')\n"
        "os.replace('a', 'b')\n"
        "p.read_text()\n"
        "p.write_bytes(b'')\n"
        "os.walk('.')\n"
        "p.rglob('*')\n"
        "shutil.copyfile('a', 'b')\n"
        "tempfile.mkdtemp()\n"
        "'s'.replace('a', 'b')\n"
        "shutil.which('git')\n"
        "files.read_text('x', 1)\n"
        "io.StringIO()\n"
        "io.open('x')\n"
        "sys.stdin.buffer.read()\n"
    )
    calls = [call for call, _ in _file_calls(ast.parse(source))]
    assert calls == [
        "open",
        "os.replace",
        ".read_text",
        ".write_bytes",
        "os.walk",
        ".rglob",
        "shutil.copyfile",
        "tempfile.mkdtemp",
        "io.open",
        "stdin.read",
    ]


# --- one module starts processes -------------------------------------------------
#
# spawn.py is the runner (os.posix_spawn and pipes: no `subprocess` on the hooks'
# paths, GIT_* handled by git.py's callers, one timeout and stdin discipline).
# Anything else that starts a child bypasses it; each exception is named with its
# reason. Tests and benchmarks lie outside src and use subprocess as a user would.

PROCESS_MODULE = "spawn"
PROCESS_MODULES = frozenset({"subprocess", "multiprocessing", "pty", "asyncio.subprocess"})
OS_PROCESS_CALLS = frozenset(
    {"posix_spawn", "posix_spawnp", "fork", "forkpty", "system", "popen"}
    | {f"exec{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")}
    | {f"spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")}
)
# (module, what) -> why it may start a process itself.
PROCESS_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _process_starts(tree: ast.AST) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [
                (f"import {a.name}", node.lineno)
                for a in node.names
                if a.name in PROCESS_MODULES or a.name.split(".")[0] in PROCESS_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in PROCESS_MODULES or node.module.split(".")[0] in PROCESS_MODULES:
                out.append((f"import {node.module}", node.lineno))
            elif node.module == "os":
                out += [
                    (f"os.{a.name}", node.lineno) for a in node.names if a.name in OS_PROCESS_CALLS
                ]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in OS_PROCESS_CALLS
        ):
            out.append((f"os.{node.attr}", node.lineno))
    return out


def _process_access() -> list[tuple[str, str, int]]:
    return [
        (name, what, line)
        for name, path in _modules().items()
        if name != PROCESS_MODULE
        for what, line in _process_starts(ast.parse(path.read_text(encoding="utf-8")))
    ]


def test_only_spawn_py_starts_processes() -> None:
    found = [
        f"{name}.py:{line}: {what}"
        for name, what, line in _process_access()
        if (name, what) not in PROCESS_EXCEPTIONS
    ]
    assert found == [], (
        "a process started outside spawn.py (use spawn.run/start, or git.run for git; "
        "or name the exception with its reason):\n" + "\n".join(found)
    )


def test_every_process_exception_still_occurs() -> None:
    occurring = {(name, what) for name, what, _line in _process_access()}
    gone = [f"{a}: {b}" for (a, b) in PROCESS_EXCEPTIONS if (a, b) not in occurring]
    assert gone == [], f"delete from PROCESS_EXCEPTIONS, the start is gone: {', '.join(gone)}"


def test_the_process_rule_sees_each_kind_of_start() -> None:
    """The checker itself: each way of starting a process is caught."""
    source = (
        "import subprocess\n"
        "from subprocess import run\n"
        "import multiprocessing.pool\n"
        "from os import posix_spawnp\n"
        "os.posix_spawn('git', [], {})\n"
        "os.fork()\n"
        "os.system('ls')\n"
        "os.popen('ls')\n"
        "os.execvp('git', [])\n"
        "f = os.fork\n"
        "os.getpid()\n"
        "spawn.run(['git'])\n"
    )
    found = [what for what, _ in _process_starts(ast.parse(source))]
    assert sorted(found) == sorted(
        [
            "import subprocess",
            "import subprocess",
            "import multiprocessing.pool",
            "os.posix_spawnp",
            "os.posix_spawn",
            "os.fork",
            "os.system",
            "os.popen",
            "os.execvp",
            "os.fork",
        ]
    )
