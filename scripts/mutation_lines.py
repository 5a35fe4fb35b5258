"""scripts/mutation.sh's line map: which tests can notice a mutant on which line.

As a pytest plugin (`-p mutation_lines`, this directory on PYTHONPATH, with
MUTATION_LINES_TARGET=<module file> and MUTATION_LINES_OUT=<json file>), one
unmutated run records, per test, the lines of the target module it ran
(sys.settrace, this process and its threads).

With MUTATION_LINES_SUBDIR=<dir> as well, the processes the tests start record
theirs too (mutation_trace.py, which the scratch copy's `moai_mashup` package
starts for this run only): every process that imports moai from the copy
(`moai`, the git hooks' shims, pre-commit's hooks) traces itself and writes its
lines, under the test named in MUTATION_LINES_TEST, when it exits. A process
that started but wrote nothing (killed) makes its test an `"all": true` one. So
does a test that starts a process whose environment lacks MUTATION_LINES_SUBDIR
(it would not trace itself), unless that process is a git command that runs no
hooks.

    python mutation_lines.py select MODULE ORIGINAL MAP TEST...

(the test command cosmic-ray runs for each mutant) compares the mutated MODULE
with the ORIGINAL, finds the statement the mutant is in, and prints the tests
that can notice it: those that ran one of its lines, and the `all` ones; those
that killed the most mutants of this module so far first (`killed LOG KILLS`
notes each kill in `<MAP without .lines.json>.kills`), else in their order.
A statement that runs at import (module level, a class body, a `def` line
with its defaults and decorators) selects every test. No test printed: no
test runs that line, the mutant survives.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import threading
from typing import Any

# git commands that run no hooks (so no moai code): plumbing and read-only ones.
GIT_NO_HOOKS = {
    "add", "branch", "cat-file", "check-attr", "check-ignore", "commit-tree", "config",
    "diff", "diff-files", "diff-index", "diff-tree", "for-each-ref", "hash-object", "init",
    "log", "ls-files", "ls-tree", "merge-base", "mktree", "remote", "rev-list", "rev-parse",
    "rm", "show", "show-ref", "status", "symbolic-ref", "tag", "update-index", "update-ref",
    "var", "version", "write-tree",
}  # fmt: skip
GIT_OPTIONS_WITH_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"}


def _hook_free_git(argv: list[str], cwd: str | None, env: Any) -> bool:
    """A git command that runs no hooks: one that never does, or any other in a
    repository with no hook installed (and no hooks path configured)."""
    argv = [os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in argv]
    if not argv or os.path.basename(argv[0]) != "git":
        return False
    where = os.fsdecode(cwd) if cwd else os.getcwd()
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] in GIT_OPTIONS_WITH_VALUE and i + 1 < len(argv):
            if argv[i] == "-c" and argv[i + 1].lower().startswith("core.hookspath"):
                return False
            if argv[i] == "-C":
                where = os.path.join(where, argv[i + 1])
            i += 1
        i += 1
    if i < len(argv) and argv[i] in GIT_NO_HOOKS:
        return True
    if i < len(argv) and argv[i] in ("clone", "submodule", "worktree"):
        return False  # hooks of another repository (a template's, say)
    return not _hooks_installed(where, env if isinstance(env, dict) else os.environ)


def _mentions_hookspath(config: str) -> bool:
    try:
        with open(config, "rb") as fh:
            return b"hookspath" in fh.read().lower()
    except OSError:
        return False


def _hooks_installed(where: str, env: Any) -> bool:
    """Is any hook installed for the repository at or above `where`? True when unsure."""
    if any(k.startswith(("GIT_CONFIG_COUNT", "GIT_DIR", "GIT_CONFIG_PARAMETERS")) for k in env):
        return True
    home = env.get("HOME", "")
    configs = [os.path.join(home, ".gitconfig"), os.path.join(home, ".config", "git", "config")]
    if "GIT_CONFIG_GLOBAL" in env:
        configs = [env["GIT_CONFIG_GLOBAL"]]
    if env.get("GIT_CONFIG_NOSYSTEM") != "1":
        configs.append("/etc/gitconfig")
    if any(_mentions_hookspath(c) for c in configs):
        return True
    here = os.path.abspath(where)
    while True:
        dot = os.path.join(here, ".git")
        if os.path.isdir(dot):
            git_dir = dot
            break
        if os.path.isfile(dot):
            return True  # a linked worktree or submodule: not worth following
        if os.path.dirname(here) == here:
            return True  # no repository found from here: unsure
        here = os.path.dirname(here)
    if _mentions_hookspath(os.path.join(git_dir, "config")):
        return True
    hooks = os.path.join(git_dir, "hooks")
    return os.path.isdir(hooks) and any(not n.endswith(".sample") for n in os.listdir(hooks))


class _Recorder:
    def __init__(self, target: str) -> None:
        self.targets = {target, os.path.realpath(target)}
        self.test = ""  # "": import and collection, outside any test
        self.lines: dict[str, set[int]] = {}
        self.all: set[str] = set()
        self.own = False  # our own sys.settrace calls (any other: a test's own tracer)

    def _local(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines.setdefault(self.test, set()).add(frame.f_lineno)
        return self._local

    def trace(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "call" and frame.f_code.co_filename in self.targets:
            self.lines.setdefault(self.test, set()).add(frame.f_lineno)
            return self._local
        return None

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "sys.settrace" and not self.own and self.test:
            self.all.add(self.test)  # a test tracing itself hides its lines from us
            # (outside a test: replaced again when the next one starts)
        elif event == "subprocess.Popen":
            argv = list(args[1]) if isinstance(args[1], (list, tuple)) else [args[1]]
            if not _traced(args[3]) and not _hook_free_git(argv, args[2], args[3]):
                self.all.add(self.test)
        elif event == "os.posix_spawn":
            if not _traced(args[2]) and not _hook_free_git(list(args[1]), None, args[2]):
                self.all.add(self.test)
        elif event in ("os.fork", "os.forkpty", "os.system", "os.exec", "os.spawn"):
            self.all.add(self.test)


def _traced(env: Any) -> bool:
    """Will a process started with `env` trace itself if it runs moai? (None: ours.)"""
    if not os.environ.get("MUTATION_LINES_SUBDIR"):
        return False
    if env is None:
        return True
    return isinstance(env, dict) and any(
        k in ("MUTATION_LINES_SUBDIR", b"MUTATION_LINES_SUBDIR") for k in env
    )


def _merge_subprocesses(rec: _Recorder, out_dir: str) -> None:
    """The lines the tests' processes wrote; a process that wrote none: its test, all."""
    for name in os.listdir(out_dir):
        if not name.endswith(".start"):
            continue
        base = os.path.join(out_dir, name[: -len(".start")])
        try:
            with open(base + ".lines", encoding="utf-8") as fh:
                test, *numbers = fh.read().splitlines()
        except (OSError, ValueError):
            with open(base + ".start", encoding="utf-8") as fh:
                rec.all.add(fh.read())
            continue
        rec.lines.setdefault(test, set()).update(int(n) for n in numbers)


_recorder: _Recorder | None = None


def pytest_configure(config: Any) -> None:
    global _recorder
    _recorder = _Recorder(os.path.realpath(os.environ["MUTATION_LINES_TARGET"]))
    sys.addaudithook(_recorder.audit)
    _recorder.own = True
    threading.settrace(_recorder.trace)
    sys.settrace(_recorder.trace)
    _recorder.own = False


def pytest_runtest_protocol(item: Any, nextitem: Any) -> None:
    assert _recorder is not None
    _recorder.test = item.nodeid
    os.environ["MUTATION_LINES_TEST"] = item.nodeid  # for the processes it starts
    _recorder.lines.setdefault(item.nodeid, set())
    _recorder.own = True
    sys.settrace(_recorder.trace)  # pytest or a test may have replaced it
    _recorder.own = False


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    assert _recorder is not None
    _recorder.test = ""
    os.environ["MUTATION_LINES_TEST"] = ""


def pytest_unconfigure(config: Any) -> None:
    assert _recorder is not None
    _recorder.own = True
    sys.settrace(None)
    threading.settrace(None)
    if os.environ.get("MUTATION_LINES_SUBDIR"):
        _merge_subprocesses(_recorder, os.environ["MUTATION_LINES_SUBDIR"])
    data = {
        "lines": {t: sorted(v) for t, v in _recorder.lines.items()},
        "all": sorted(_recorder.all),
    }
    with open(os.environ["MUTATION_LINES_OUT"], "w", encoding="utf-8") as fh:
        json.dump(data, fh)


def _statement_lines(source: str, changed: set[int]) -> set[int] | None:
    """The lines of the statements the changed lines are in; None: every test (a line
    that runs at import, or one this does not place, such as `else:` or `except X:`)."""
    tree = ast.parse(source)
    out: set[int] = set()
    placed: set[int] = set()
    remembering = _remembering(tree)

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ExceptHandler, ast.match_case)):
                visit(child, in_function)
                continue
            if not isinstance(child, ast.stmt):
                continue
            inner = [
                n
                for f in ("body", "orelse", "finalbody", "handlers", "cases")
                for n in getattr(child, f, [])
            ]
            first_inner = min((n.lineno for n in inner if hasattr(n, "lineno")), default=None)
            if isinstance(child, ast.Match):
                first_inner = min((c.pattern.lineno for c in child.cases), default=None)
            end = child.end_lineno or child.lineno
            header_end = end if first_inner is None else first_inner - 1
            start = min([child.lineno, *(d.lineno for d in getattr(child, "decorator_list", []))])
            header = {c for c in changed if start <= c <= header_end}
            if (
                isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                and child.name in remembering
                and any(child.lineno <= c <= end for c in changed)
            ):
                raise _AtImport  # its result outlives the test that computed it
            if header:
                if not in_function or isinstance(
                    child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
                ):
                    raise _AtImport
                placed.update(header)
                out.update(range(start, header_end + 1))
            if inner:
                visit(
                    child,
                    in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)),
                )

    try:
        visit(tree, in_function=False)
    except _AtImport:
        return None
    return out if placed == changed else None


MUTATORS = {"add", "append", "clear", "discard", "extend", "insert", "pop", "popitem", "remove"}
MUTATORS |= {"setdefault", "update"}


def _remembering(tree: ast.Module) -> set[str]:
    """Functions whose effect can outlive one test: a decorator (a cache), a `global`,
    a module-level container filled in; and the module's functions they call."""
    module_names = {
        t.id
        for n in tree.body
        if isinstance(n, (ast.Assign, ast.AnnAssign))
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
        if isinstance(t, ast.Name)
    }
    functions = {
        n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    calls: dict[str, set[str]] = {}
    found: set[str] = set()
    for name, fn in functions.items():
        calls[name] = set()
        plain = ("property", "staticmethod", "classmethod")
        if any(not (isinstance(d, ast.Name) and d.id in plain) for d in fn.decorator_list):
            found.add(name)
        for n in ast.walk(fn):
            if isinstance(n, ast.Global):
                found.add(name)
            elif isinstance(n, ast.Subscript) and isinstance(n.ctx, (ast.Store, ast.Del)):
                if isinstance(n.value, ast.Name) and n.value.id in module_names:
                    found.add(name)
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                owner = n.func.value
                if (
                    isinstance(owner, ast.Name)
                    and owner.id in module_names
                    and n.func.attr in MUTATORS
                ):
                    found.add(name)  # e.g. CACHE.update(...), SEEN.add(...)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
                calls[name].add(n.func.id)
    while True:
        more = {f for f, called in calls.items() if f not in found and called & found}
        if not more:
            return found
        found |= more


class _AtImport(Exception):
    pass


def select(module: str, original: str, line_map: str, tests: list[str]) -> list[str]:
    with open(module, encoding="utf-8") as fh:
        now = fh.read().splitlines()
    with open(original, encoding="utf-8") as fh:
        source = fh.read()
    before = source.splitlines()
    if len(now) != len(before):
        return tests  # not a one-line mutant: everything
    changed = {i + 1 for i, (a, b) in enumerate(zip(now, before, strict=True)) if a != b}
    if not changed:
        return tests
    lines = _statement_lines(source, changed)
    with open(line_map, encoding="utf-8") as fh:
        data = json.load(fh)
    if lines is None or lines & set(data["lines"].get("", [])):
        return tests
    chosen = set(data["all"]) | {t for t, hit in data["lines"].items() if lines & set(hit)}
    if "" in chosen:
        return tests
    kills = _kills(line_map)
    ordered = [t for t in data["lines"] if t in chosen]
    return sorted(ordered, key=lambda t: -kills.get(t, 0))  # stable: else in file order


def _kills_file(line_map: str) -> str:
    return line_map.removesuffix(".lines.json") + ".kills"


def _kills(line_map: str) -> dict[str, int]:
    """How many mutants of this module each test killed so far (`killed` below)."""
    counts: dict[str, int] = {}
    try:
        with open(_kills_file(line_map), encoding="utf-8") as fh:
            for test in fh.read().splitlines():
                counts[test] = counts.get(test, 0) + 1
    except OSError:
        pass
    return counts


def killed(log: str, kills: str) -> None:
    """Note the test a mutant's pytest run (`log`, with -x) failed first, if any."""
    with open(log, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("FAILED ") or line.startswith("ERROR "):
                test = line.split(" ", 1)[1].split(" - ", 1)[0].strip()
                with open(kills, "a", encoding="utf-8") as out:
                    out.write(test + "\n")
                return


def main(argv: list[str]) -> int:
    if argv[:1] == ["select"] and len(argv) >= 4:
        for test in select(argv[1], argv[2], argv[3], argv[4:]):
            print(test)
        return 0
    if argv[:1] == ["killed"] and len(argv) == 3:
        killed(argv[1], argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
