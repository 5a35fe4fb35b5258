"""scripts/mutation.sh's helper, run by the cosmic-ray venv: skip listed equivalents, report.

    skip SESSION MODULE_PATH EQUIVALENT_MD
    forget SESSION
    report SESSION MODULE_PATH NAME SECONDS REPORT_FILE

tests/mutation/equivalent.md lists equivalent mutants as table rows
`| module path | operator | mutated text | source line | reason |`: the text
the mutant replaces (e.g. `2`, `and`, `>=`) and the whole line it is on
(stripped), so an entry survives edits elsewhere in the file. Every mutant of
that operator on that text on a line like that is skipped; `or#2` means the
second `or` on the line, and `0 -> 1` only NumberReplacer's +1 of that `0`
(its mutants of one number alternate +1, -1). A line that occurs in more than
one function can be named `in <function>: <line>` (the innermost `def` around it),
and `in <function>#2: <line>` is the second such line in that function.

Mutants inside an annotation are skipped without a row when the module has
`from __future__ import annotations`: its annotations are never evaluated.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult


def _line(module: Path, pos: tuple[int, int]) -> str:
    lines = module.read_text(encoding="utf-8").splitlines()
    return lines[pos[0] - 1].strip()


def _annotations(module: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every annotation, when the module never evaluates them."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    lazy = any(
        isinstance(n, ast.ImportFrom)
        and n.module == "__future__"
        and any(a.name == "annotations" for a in n.names)
        for n in tree.body
    )
    if not lazy:
        return []
    nodes: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            nodes.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            nodes.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            nodes.append(node.annotation)
    return [
        ((n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0)) for n in nodes
    ]


def _function(module: Path, row: int) -> tuple[str, int]:
    """The innermost function around line `row` ("" at module level), and which of the
    lines like this one in it this is (1-based)."""
    name, span = "", (1, row)
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            end = node.end_lineno or node.lineno
            if node.lineno <= row <= end and end - node.lineno < span[1] - span[0]:
                name, span = node.name, (node.lineno, end)
    lines = module.read_text(encoding="utf-8").splitlines()
    same = [i for i in range(span[0], row + 1) if lines[i - 1].strip() == lines[row - 1].strip()]
    return name, len(same)


def _occurrence(module: Path, start: tuple[int, int], text: str) -> int:
    """Which occurrence of `text` on its line the mutant at `start` is (1-based)."""
    line = module.read_text(encoding="utf-8").splitlines()[start[0] - 1]
    return line[: start[1]].count(text) + 1


def _span(module: Path, start: tuple[int, int], end: tuple[int, int]) -> str:
    lines = module.read_text(encoding="utf-8").splitlines()
    if start[0] != end[0]:
        return lines[start[0] - 1][start[1] :].strip()
    return lines[start[0] - 1][start[1] : end[1]].strip()


def _entries(md: Path, module: str) -> list[tuple[str, str, str, str]]:
    out = []
    for raw in md.read_text(encoding="utf-8").splitlines():
        if not raw.startswith("|"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", raw.strip())[1:-1]]
        if len(cells) < 5 or cells[0].strip("`") != module:
            continue
        text, line = (c.strip("`").replace("\\|", "|") for c in cells[2:4])
        out.append((cells[1].strip("`"), text, line, cells[4]))
    return out


def skip(session: str, module: str, md: str) -> None:
    entries = _entries(Path(md), module)
    annotations = _annotations(Path(module))
    used: set[int] = set()
    with use_db(session, WorkDB.Mode.open) as db:
        pending = {item.job_id for item in db.pending_work_items}
        # A resumed session's equivalents were skipped before: they still use their row.
        before = [
            item
            for item, result in db.completed_work_items
            if (result.output or "").startswith("equivalent: ")
        ]
        for item in [*db.pending_work_items, *before]:
            for mutation in item.mutations:
                if item.job_id in pending and any(
                    a <= mutation.start_pos < b for a, b in annotations
                ):
                    db.set_result(
                        item.job_id,
                        WorkResult(
                            output="equivalent: an annotation, never evaluated",
                            worker_outcome=WorkerOutcome.SKIPPED,
                        ),
                    )
                    continue
                line_text = _line(mutation.module_path, mutation.start_pos)
                function = _function(mutation.module_path, mutation.start_pos[0])
                span = _span(mutation.module_path, mutation.start_pos, mutation.end_pos)
                nth = _occurrence(mutation.module_path, mutation.start_pos, span)
                for i, (operator, text, line, reason) in enumerate(entries):
                    want, _, n = text.partition("#")
                    want, arrow, result = (p.strip() for p in want.partition("->"))
                    if arrow and mutation.operator_name == "core/NumberReplacer":
                        offset = 1 if mutation.occurrence % 2 == 0 else -1
                        if result != str(ast.literal_eval(span) + offset):
                            continue
                    where = re.fullmatch(r"in (\w+)(?:#(\d+))?: (.*)", line)
                    if where and (
                        where.group(1) != function[0]
                        or int(where.group(2) or function[1]) != function[1]
                    ):
                        continue
                    if (
                        mutation.operator_name == operator
                        and (span, line_text) == (want, where.group(3) if where else line)
                        and (not n or int(n) == nth)
                    ):
                        used.add(i)
                        if item.job_id not in pending:
                            continue
                        db.set_result(
                            item.job_id,
                            WorkResult(
                                output=f"equivalent: {reason}",
                                worker_outcome=WorkerOutcome.SKIPPED,
                            ),
                        )
    for i, (operator, text, line, _reason) in enumerate(entries):
        if i not in used:
            print(f"mutation: {md}: nothing matches {operator} {text} in `{line}`", file=sys.stderr)


def forget(session: str) -> None:
    """Make a kept session's survivors (and mutants not runnable) pending again: the
    next `exec` runs them against today's tests, after `skip` has read equivalent.md.
    Skipped ones stay skipped (the operator filter's, and equivalents)."""
    import sqlite3

    con = sqlite3.connect(session)
    with con:
        gone = con.execute(
            "DELETE FROM work_results WHERE worker_outcome != 'SKIPPED'"
            " AND NOT (worker_outcome = 'NORMAL' AND test_outcome = 'KILLED')"
        ).rowcount
    con.close()
    print(f"mutation: {session}: {gone} mutants to run again", file=sys.stderr)


def report(session: str, module: str, name: str, seconds: str, out: str) -> int:
    counts: Counter[str] = Counter()
    survivors = []
    with use_db(session, WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                counts["skipped"] += 1
            elif result.worker_outcome != WorkerOutcome.NORMAL:
                counts["incompetent"] += 1  # the mutant could not be run (cosmic-ray's word)
            elif result.test_outcome == TestOutcome.SURVIVED:
                counts["survived"] += 1
                for m in item.mutations:
                    span = _span(m.module_path, m.start_pos, m.end_pos)
                    survivors.append(
                        f"  {m.module_path}:{m.start_pos[0]} {m.operator_name} `{span}`"
                        f" in `{_line(m.module_path, m.start_pos)}`"
                    )
            elif result.test_outcome == TestOutcome.KILLED or (
                # the tests failed, but their output was not UTF-8 (cosmic-ray 8.7 then
                # reports "incompetent" with this traceback)
                "return (TestOutcome.KILLED," in (result.output or "")
            ):
                counts["killed"] += 1
            else:
                counts["incompetent"] += 1
        pending = db.num_work_items - db.num_results
    line = (
        f"{name:<15} {counts['killed']:>6} {counts['survived']:>8} {counts['skipped']:>7}"
        f" {seconds:>8}"
    )
    if counts["incompetent"] or pending:
        line += f"  ({counts['incompetent']} not runnable, {pending} not run)"
    with open(out, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        for s in survivors:
            fh.write(s + "\n")
    print(f"mutation: {name}: {line.split(maxsplit=1)[1]}", file=sys.stderr)
    return 1 if counts["survived"] or pending else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["skip"] and len(argv) == 4:
        skip(*argv[1:])
        return 0
    if argv[:1] == ["forget"] and len(argv) == 2:
        forget(argv[1])
        return 0
    if argv[:1] == ["report"] and len(argv) == 6:
        return report(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
