"""Each speed device against the plain code it replaces, measured in the same run.

    .venv/bin/python benchmarks/bench_devices.py [--runs 15] [--worktrees 10]
        [--only lean,switch,index,entry]

moai keeps four devices whose only purpose is speed. For each, this script
runs the path a user feels (a switching `git checkout`, a status-line refresh,
a prompt, `moai worktree list`, a Claude Code start) once with the device and
once with plain code, interleaved round-robin so machine load hits both alike,
and prints the medians (wall and CPU of the child processes), the ms the
device saves per use, and that saving as a share of the plain path:

- lean:   `moai_mashup.lean.NamedTuple` (collections.namedtuple without
          `import typing`) against a scratch copy of the package whose lean.py
          is `from typing import TYPE_CHECKING, NamedTuple`. Paths: a switching
          checkout decided by the engine (the git hook's shim pointed at the
          copy), `moai statusline`, `moai hook-impl claude-code
          user-prompt-submit`.
- switch: the prepared switch (githooks/fast.py taking `<git-dir>/moai/ready/`)
          against the engine deciding every switch (stamp and ready files
          removed before each checkout), both directions; a repository
          without a hook is the floor.
- index:  `moai worktree list` asking `git status` of moai's copies of each
          worktree's index (worktrees/listing.py's status_index) against asking each
          worktree's own index (status_index patched to None), on a repository
          with `--worktrees` linked worktrees; `git status` in every worktree
          (2 per CPU at a time) is the floor.
- entry:  entry.py dispatching `statusline`, `hook-impl claude-code`,
          `worktree list`, `telemetry settings` and `cost --json` (over no
          transcripts) without click, against cli.main (click) for the same
          command lines.

Each variant of a path runs through the same launcher (`python -c`, site
enabled, as the `moai` console script runs) so they differ only by the
device. Timing is kept out of the unit tests; this script is the place for it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import moai_mashup
from benchmarks.bench_checkout import (
    FAKE_KEY,
    MOAI,
    SETTLE_S,
    _children_cpu,
    _env,
    _run,
    make_repo,
)

PYTHON = sys.executable
PACKAGE = Path(moai_mashup.__file__).resolve().parent
PLAIN_LEAN = (
    '"""Plain code for benchmarks/bench_devices.py: typing\'s own NamedTuple."""\n\n'
    "from typing import TYPE_CHECKING as TYPE_CHECKING\n"
    "from typing import NamedTuple as NamedTuple\n"
)
# Copies off: `moai worktree list` asks every worktree's own index, as remove and clean do.
NO_COPIES = "import moai_mashup.worktrees.listing as w; w.status_index = lambda git_dir: None\n"
SPEC = "feature/SPEC-BENCH"


class Case:
    """One command line, run with `before` (untimed) before each run."""

    def __init__(
        self,
        name: str,
        argv: list[str] | Callable[[int], list[str]],
        cwd: Path,
        env: dict[str, str],
        stdin: str = "",
        before: Callable[[int], None] | None = None,
        tag: Callable[[int], str] | None = None,
    ) -> None:
        self.name, self.argv, self.cwd, self.env, self.stdin = name, argv, cwd, env, stdin
        self.before, self.tag = before, tag
        self.wall: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        self.count = 0

    def run(self, record: bool) -> None:
        i = self.count
        self.count += 1
        if self.before is not None:
            self.before(i)
        cpu0 = _children_cpu()
        start = time.perf_counter()
        argv = self.argv(i) if callable(self.argv) else self.argv
        proc = subprocess.run(
            argv,
            cwd=self.cwd,
            env=self.env,
            input=self.stdin.encode(),
            capture_output=True,
            check=False,
        )
        wall = (time.perf_counter() - start) * 1000
        cpu = (_children_cpu() - cpu0) * 1000
        if proc.returncode != 0:
            raise SystemExit(f"{self.name}: exit {proc.returncode}: {proc.stderr.decode()[-300:]}")
        if record:
            for key in ("all", self.tag(i)) if self.tag else ("all",):
                self.wall.setdefault(key, []).append(wall)
                self.cpu.setdefault(key, []).append(cpu)

    def median(self, key: str = "all") -> tuple[float, float]:
        return statistics.median(self.wall[key]), statistics.median(self.cpu[key])


def measure(cases: list[Case], runs: int, warmup: int = 2) -> None:
    """Round-robin: one run of each case per round, so a slow spell hits all alike."""
    for i in range(warmup + runs):
        for case in cases:
            case.run(record=i >= warmup)


def launcher(module: str, args: list[str], path: Path | None = None, pre: str = "") -> list[str]:
    """`python -c` running `module.main` as the console script would, `path` first on sys.path."""
    code = "import sys\n"
    if path is not None:
        code += f"sys.path.insert(0, {str(path)!r})\n"
    code += pre
    code += f"sys.argv = ['moai', *{args!r}]\nfrom {module} import main\nsys.exit(main())\n"
    return [PYTHON, "-c", code]


def plain_copy(tmp: Path) -> Path:
    """A copy of the installed package with lean.py replaced by typing's NamedTuple."""
    root = tmp / "plain-lean"
    shutil.copytree(PACKAGE, root / "moai_mashup", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "moai_mashup" / "lean.py").write_text(PLAIN_LEAN)
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(root)], check=True)
    return root


def point_hook_at(repo: Path, path: Path) -> None:
    """Make the installed post-checkout shim import moai_mashup from `path` first."""
    hook = repo / ".git" / "hooks" / "post-checkout"
    text = hook.read_text()
    assert "MOAI_SYS_PATH='" in text, "unexpected shim"
    hook.write_text(text.replace("MOAI_SYS_PATH='", f"MOAI_SYS_PATH='{path}\n", 1))


def forget_decision(repo: Path) -> None:
    """No stamp, no prepared files: the shim and githooks/fast.py leave the switch to the engine."""
    stamp = repo / ".git" / "moai" / "hook-stamp"
    if not stamp.exists():
        return
    ready = [ln[10:] for ln in stamp.read_text().splitlines() if ln.startswith("ready-dir ")]
    stamp.unlink()  # the prepared files are in ~/.moai/worktrees/<id>/ready (the stamp says)
    for path in (Path(ready[0]) if ready else stamp).glob("*"):
        path.unlink()


def checkout(name: str, repo: Path, env: dict[str, str], engine: bool) -> Case:
    """Alternating `git checkout` main -> SPEC (to GLM) -> main (to Claude) ..."""

    def argv(i: int) -> list[str]:
        return ["git", "checkout", "-q", SPEC if i % 2 == 0 else "main"]

    def before(i: int) -> None:
        if engine:
            forget_decision(repo)

    def tag(i: int) -> str:
        return "to GLM" if i % 2 == 0 else "to Claude"

    return Case(name, argv, repo, env, before=before if engine else None, tag=tag)


def worktree_repo(root: Path, env: dict[str, str], count: int, *, stale: bool) -> list[Case]:
    """A 500-file repository with `count` linked worktrees (every other one with work);
    cases: list with index copies, list with the own indexes, `git status` in each.

    `stale`: every tracked file touched (same content) after the indexes were
    written, as a build, a formatter or a branch round trip leaves them: git
    re-hashes such files on every status that may not refresh the index
    (`--no-optional-locks`), and refreshes moai's copy once.
    """
    repo = make_repo(root, env)
    for d in range(20):
        folder = repo / "src" / f"pkg{d}"
        folder.mkdir(parents=True)
        for f in range(25):
            (folder / f"mod{f}.py").write_text(f"X = {d * 100 + f}\n" * 20)
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-qm", "500 files"], repo, env)
    trees = [root.with_name(root.name + "-trees") / f"SPEC-W{i}" for i in range(count)]
    for i, path in enumerate(trees):
        _run(["git", "worktree", "add", "-q", "-b", f"feature/SPEC-W{i}", str(path)], repo, env)
        if i % 2:
            (path / "src" / "pkg3" / "wip.py").write_text("dirty\n")
    # Fresh worktrees' entries are racily clean (file mtime = index mtime) and re-hashed
    # by every status: a second later, one status refreshes them, as a day of work does.
    time.sleep(1.1)
    for path in [repo, *trees]:
        _run(["git", "status", "--porcelain"], path, env)
        if stale:
            for file in (path / "src").rglob("mod*.py"):
                os.utime(file)
    listing = root.with_name(root.name + "-worktrees.txt")
    listing.write_text("".join(f"{p}\n" for p in [repo, *trees]))
    status_all = ["xargs", "-a", str(listing), "-d", "\n", "-P", str(2 * (os.cpu_count() or 2))]
    status_all += ["-I{}", "git", "-C", "{}", "--no-optional-locks", "status", "--porcelain"]
    label = "touched" if stale else "up to date"
    lister = ["worktree", "list"]
    return [
        Case(
            f"list, copies, {label}",
            launcher("moai_mashup.entry", lister, pre="import moai_mashup.worktrees.listing\n"),
            repo,
            env,
        ),
        Case(
            f"list, own index, {label}",
            launcher("moai_mashup.entry", lister, pre=NO_COPIES),
            repo,
            env,
        ),
        Case(f"ref: git status x all, {label}", status_all, repo, env),
    ]


def table(title: str, rows: list[tuple[str, Case, Case, str]]) -> None:
    """rows: (path, plain, device, key); saved = plain - device, share of the plain path."""
    print(f"\n{title}")
    head = f"  {'path':<34} {'plain':>7} {'device':>7} {'saved':>7} {'share':>6}"
    print(head + f"   {'cpu plain':>9} {'device':>7} {'saved':>7} {'share':>6}")
    for path, plain, device, key in rows:
        pw, pc = plain.median(key)
        dw, dc = device.median(key)
        print(
            f"  {path:<34} {pw:7.1f} {dw:7.1f} {pw - dw:+7.1f} {(pw - dw) / pw:6.0%}"
            f"   {pc:9.1f} {dc:7.1f} {pc - dc:+7.1f} {(pc - dc) / pc:6.0%}"
        )


def refs(rows: list[Case]) -> None:
    for case in rows:
        wall, cpu = case.median()
        print(f"  {case.name:<34} {wall:7.1f} ms wall {cpu:7.1f} ms cpu")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each (default 15)")
    parser.add_argument("--worktrees", type=int, default=10, help="for index (default 10)")
    parser.add_argument("--only", default="lean,switch,index,entry")
    opts = parser.parse_args()
    only = set(opts.only.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="moai-bench-devices-"))
    try:
        home = tmp / "home"
        (home / ".moai").mkdir(parents=True)
        key_file = home / ".moai" / ".env.glm"
        key_file.write_text(f'GLM_API_KEY="{FAKE_KEY}"\n')
        key_file.chmod(0o600)
        env = _env(home)
        # A user's install has bytecode; without it every run would measure the compiler.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        plain = plain_copy(tmp)

        # A configured repository on its SPEC branch (GLM), for the Claude Code paths.
        project = make_repo(tmp / "project", env)
        _run(["git", "checkout", "-q", SPEC], project, env)
        _run([MOAI, "apply"], project, env)
        status = json.dumps(
            {
                "model": {"id": "glm-4.7", "display_name": "glm-4.7"},
                "cwd": str(project),
                "workspace": {"current_dir": str(project), "project_dir": str(project)},
            }
        )
        prompt = json.dumps({"cwd": str(project), "prompt": "hi", "session_id": "s"})
        # Claude Code runs its hooks with the session's environment: a GLM session here
        # agrees with the table (the common case: no message, no held prompt).
        cc_env = {**env, "ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic"}
        statusline = ["statusline"]
        submit = ["hook-impl", "claude-code", "user-prompt-submit"]

        def hook_repo(name: str, lean_path: Path | None) -> Path:
            repo = make_repo(tmp / name, env)
            _run([MOAI, "hooks", "install"], repo, env)
            if lean_path is not None:
                point_hook_at(repo, lean_path)
            return repo

        sections: list[tuple[str, list[Case], Callable[[], None]]] = []

        if "lean" in only:
            eng_lean = checkout("engine, lean", hook_repo("lean", None), env, engine=True)
            eng_plain = checkout("engine, typing", hook_repo("typing", plain), env, engine=True)
            sl_lean = Case("statusline", launcher("moai_mashup.entry", statusline), project, cc_env)
            sl_lean.stdin = status
            sl_plain = Case(
                "statusline, typing",
                launcher("moai_mashup.entry", statusline, plain),
                project,
                env,
                status,
            )
            ps_lean = Case("prompt", launcher("moai_mashup.entry", submit), project, cc_env, prompt)
            ps_plain = Case(
                "prompt, typing",
                launcher("moai_mashup.entry", submit, plain),
                project,
                cc_env,
                prompt,
            )
            lean_cases = [eng_lean, eng_plain, sl_lean, sl_plain, ps_lean, ps_plain]

            def lean_table() -> None:
                table(
                    "lean.NamedTuple (device) vs typing.NamedTuple (plain), ms",
                    [
                        ("switching checkout, engine", eng_plain, eng_lean, "all"),
                        ("statusline refresh", sl_plain, sl_lean, "all"),
                        ("prompt (user-prompt-submit)", ps_plain, ps_lean, "all"),
                    ],
                )

            sections.append(("lean", lean_cases, lean_table))

        if "switch" in only:
            floor_repo = make_repo(tmp / "no-hook", env)
            floor = checkout("git checkout, no hook", floor_repo, env, engine=False)
            prepared = checkout("prepared switch", hook_repo("prepared", None), env, engine=False)
            engine = checkout("engine", hook_repo("engine", None), env, engine=True)
            switch_cases = [floor, prepared, engine]

            def switch_table() -> None:
                rows = [
                    (f"switching checkout, {k}", engine, prepared, k)
                    for k in ("all", "to GLM", "to Claude")
                ]
                table("prepared switch (device) vs the engine (plain), ms per checkout", rows)
                print("  (checkout as felt includes git's own work:)")
                for case in switch_cases:
                    wall = case.median()[0]
                    added = wall - floor.median()[0]
                    print(f"  {case.name:<34} {wall:7.1f} ms wall ({added:+.1f} over git alone)")

            sections.append(("switch", switch_cases, switch_table))

        if "index" in only:
            settled = worktree_repo(tmp / "settled", env, opts.worktrees, stale=False)
            stale = worktree_repo(tmp / "stale", env, opts.worktrees, stale=True)
            index_cases = [*settled, *stale]

            def index_table() -> None:
                table(
                    f"index copies (device) vs own index (plain): moai worktree list, "
                    f"{opts.worktrees} worktrees of a 500-file repository, ms",
                    [
                        ("list, indexes up to date", settled[1], settled[0], "all"),
                        ("list, files touched since", stale[1], stale[0], "all"),
                    ],
                )
                refs([settled[2], stale[2]])

            sections.append(("index", index_cases, index_table))

        if "entry" in only:
            commands: list[tuple[str, list[str], Path, str]] = [
                ("statusline refresh", statusline, project, status),
                ("prompt (user-prompt-submit)", submit, project, prompt),
                ("moai worktree list", ["worktree", "list"], project, ""),
                ("telemetry settings (claude start)", ["telemetry", "settings"], project, ""),
                ("moai cost --json, no transcripts", ["cost", "--json"], project, ""),
            ]
            entry_rows: list[tuple[str, Case, Case, str]] = []
            entry_cases: list[Case] = []
            for label, args, cwd, stdin in commands:
                fast = Case(
                    f"{label}, entry", launcher("moai_mashup.entry", args), cwd, cc_env, stdin
                )
                slow = Case(
                    f"{label}, click", launcher("moai_mashup.cli", args), cwd, cc_env, stdin
                )
                entry_cases += [fast, slow]
                entry_rows.append((label, slow, fast, "all"))
            floor_py = Case("ref: python -c pass", [PYTHON, "-c", "pass"], project, cc_env)
            entry_cases.append(floor_py)

            def entry_table() -> None:
                table("no-click entry (device) vs click's cli.main (plain), ms", entry_rows)
                refs([floor_py])

            sections.append(("entry", entry_cases, entry_table))

        time.sleep(SETTLE_S)  # the engine's stamp vouches only for inputs 2 s old
        cases = [case for _, group, _ in sections for case in group]
        for case in cases:
            case.run(record=False)  # config caches, stamps, index copies
        measure(cases, opts.runs)
        print(
            f"medians of {opts.runs} runs each, interleaved; load {os.getloadavg()[0]:.2f} "
            f"on {os.cpu_count()} cpus; share = saved / plain"
        )
        for _, _, show in sections:
            show()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
