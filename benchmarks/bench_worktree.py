"""Benchmark: `moai worktree create` vs bare `git worktree add`, and `moai worktree list`.

    .venv/bin/python benchmarks/bench_worktree.py [--files 5000] [--runs 9] [--worktrees 100]
        [--only create|list] [--against OTHER/src]

Targets: create/add ratio of medians <= 1.3 on a ~5,000-file
repository; list of 100 worktrees <= 0.5 s. Both sides run in the same
process tree, interleaved, so machine load hits them alike; the list is
shown against `git worktree list` and against a plain `git status` in every
worktree (2 per CPU at a time), the floor of an exact answer without caches. The repositories
live in a temporary directory with a fake HOME and a fake key.

The list also prints where its time goes: a traced run (each phase of
worktrees/listing.py wrapped, CPU of moai's own process) per round, with
Python's start, the imports, the workspace, the per-worktree file reads, the
index copies, the merged/graph work, starting and reaping the git children,
moai's git children against the floor, and the serial stretch before the
first `git status` starts. `--against` times another source tree the same
way (e.g. the last release: `git worktree add /tmp/old <commit>`, then
`--against /tmp/old/src`), in a second copy of the repository, interleaved.
On a loaded machine compare ratios from one run, never figures across runs.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.gitrepo import MOAI, clean_env, git, make_repo, save_fake_key


def generate(root: Path, env: dict[str, str], files: int) -> Path:
    """A packed repository of `files` distinct ~800-byte files (no trivial delta chains)."""

    def body(i: int) -> str:
        lines = (hashlib.sha256(f"{i}:{j}".encode()).hexdigest() for j in range(12))
        return f"# file {i}\n" + "".join(f"K{j} = '{h}'\n" for j, h in enumerate(lines))

    tree = {f"src/pkg{i % 40}/mod{i % 9}/file{i}.py": body(i) for i in range(files)}
    repo = make_repo(root, env, files=tree)
    git(repo, "repack", "-adq", env=env)  # packed, as a real repository is
    git(repo, "prune-packed", env=env)
    return repo


class Timing(NamedTuple):
    wall: float
    cpu: float  # user + sys of the child processes: less noisy on a busy machine


def timed(fn: Callable[[], None]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def median(xs: list[Timing], field: str) -> float:
    return float(statistics.median(getattr(x, field) for x in xs))


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr}")


def bench_create(tmp: Path, env: dict[str, str], files: int, runs: int) -> float:
    repo = generate(tmp / "big" / "app", env, files)
    trees = tmp / "trees"
    bare: list[Timing] = []
    ours: list[Timing] = []
    for i in range(runs + 1):  # the first round warms caches and is dropped
        path, spec = trees / f"bare-{i}", f"SPEC-B{i}"
        add = ["git", "worktree", "add", "-q", "-b", f"b{i}", str(path)]
        create = [MOAI, "worktree", "create", spec]
        # alternate who goes first: the untimed removals below leave the disk busy
        order = [(bare, add), (ours, create)]
        for into, cmd in order if i % 2 else reversed(order):
            t = timed(functools.partial(run, cmd, repo, env))
            if i:
                into.append(t)
        # untimed: keep the repository the same size for every round
        git(repo, "worktree", "remove", "--force", str(path), env=env)
        run([MOAI, "worktree", "remove", "--force", spec], repo, env)
        subprocess.run(["sync"], check=False)
    ratio = median(ours, "wall") / median(bare, "wall")
    print(f"create: {files} files, {runs} runs (GLM applied: mashup + feature/SPEC-*)")
    for name, xs in (("git worktree add", bare), ("moai worktree create", ours)):
        wall, cpu = median(xs, "wall") * 1000, median(xs, "cpu") * 1000
        print(f"  {name:22} median {wall:7.1f} ms wall  {cpu:7.1f} ms cpu")
    cpu_ratio = median(ours, "cpu") / median(bare, "cpu")
    print(f"  ratio of medians      {ratio:.2f} wall, {cpu_ratio:.2f} cpu  (target <= 1.30)")
    return ratio


def list_repo(root: Path, env: dict[str, str], worktrees: int) -> tuple[Path, list[Path]]:
    """A 200-file repository with `worktrees` linked worktrees (1/3 dirty, 1/3 ahead)."""
    repo = generate(root / "svc", env, 200)
    paths = [root / "many" / f"SPEC-L{i}" for i in range(worktrees)]
    for i, path in enumerate(paths):
        git(repo, "worktree", "add", "-q", "-b", f"feature/SPEC-L{i}", str(path), env=env)
        if i % 3 == 0:
            (path / "wip.txt").write_text("dirty\n")
        elif i % 3 == 1:  # a third with work of their own: the full merged check runs on them
            (path / f"work{i}.txt").write_text("work\n")
            git(path, "add", "-A", env=env)
            git(path, "commit", "-qm", "work", env=env)
    (repo / "main.txt").write_text("main moves on\n")
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "main moves on", env=env)
    return repo, paths


def settle(paths: list[Path], env: dict[str, str]) -> None:
    """Just-created worktrees have "racily clean" index entries (file mtime = index
    mtime), which `git status --no-optional-locks` re-hashes on every call. Any git
    command run there a second later refreshes the index, as a day of work does."""
    time.sleep(1.1)
    for path in paths:
        git(path, "status", "--porcelain", env=env)


def status_all(repo: Path, paths: list[Path]) -> list[str]:
    """The floor of any exact answer: a plain `git status` in every worktree,
    os.cpu_count() * 2 at a time."""
    listing = repo.parent / "worktrees.txt"
    listing.write_text("".join(f"{p}\n" for p in [repo, *paths]))
    parallel = str(2 * (os.cpu_count() or 2))
    cmd = ["xargs", "-a", str(listing), "-d", "\n", "-P", parallel, "-I{}"]
    return [*cmd, "git", "-C", "{}", "--no-optional-locks", "status", "--porcelain", "-z"]


def launcher(src: Path, pre: str = "") -> list[str]:
    """`moai worktree list` as the console script runs it, importing moai_mashup from `src`."""
    code = f"import sys\nsys.path.insert(0, {str(src)!r})\n{pre}"
    code += "sys.argv = ['moai', 'worktree', 'list']\nfrom moai_mashup.entry import main\n"
    return [sys.executable, "-c", code + "sys.exit(main())\n"]


# `moai worktree list` with each phase timed from inside (CPU of moai's own process,
# wall where the process waits), reported as one JSON line on stderr. The wrappers
# cost ~1 us a call; the phases are the public functions of worktrees/listing.py.
TRACE = """
import time
_cpu, _wall = time.process_time, time.perf_counter
_w0 = _wall()
T = {"python start": [_cpu() * 1000, 0.0]}
_t0 = _cpu()
import moai_mashup.entry
import moai_mashup.worktrees.listing as L
from moai_mashup import git
T["imports"] = [(_cpu() - _t0) * 1000, 0.0]

def timed(name, fn):
    T.setdefault(name, [0.0, 0.0])
    def wrapper(*args, **kwargs):
        c, w = _cpu(), _wall()
        try:
            return fn(*args, **kwargs)
        finally:
            T[name][0] += (_cpu() - c) * 1000
            T[name][1] += (_wall() - w) * 1000
    return wrapper

L.describe = timed("describe", L.describe)
_reads = timed("file reads", L._local_facts)
_first = timed("first reads", L._local_facts)  # also imports settings/ (lazily)
def local_facts(*args):
    return (_reads if "first reads" in T and T["first reads"][1] else _first)(*args)
L._local_facts = local_facts
_spawn = git.spawn_git
def spawn_git(args, *rest, **kwargs):
    if "status" in args and "first status" not in T:
        T["first status"] = [_cpu() * 1000, (_wall() - _w0) * 1000]
    return _spawn(args, *rest, **kwargs)
git.spawn_git = spawn_git
L.status_index = timed("index copies", L.status_index)

# workspace.py and merged.py: listing.py loads them once the statuses run (older code
# at its top), so they are wrapped then, and never loaded earlier than the list would.
def wrap_late():
    import moai_mashup.workspace as W
    import moai_mashup.worktrees.merged as M
    W.open_workspace = timed("open workspace", W.open_workspace)
    at = L if hasattr(L, "graph_facts") else M
    graph, timed_graph = at.graph_facts, timed("graph", at.graph_facts)
    timed_own = timed("reflogs", at.own_work)
    def own_work(*args, **kwargs):
        M.graph_facts = graph  # its own graph call counts as reflogs, as it always did
        try:
            return timed_own(*args, **kwargs)
        finally:
            M.graph_facts = timed_graph if at is M else graph
    at.graph_facts, at.own_work = timed_graph, own_work
if "moai_mashup.workspace" in sys.modules:
    wrap_late()
else:
    _start_statuses = L.start_statuses
    def start_statuses(*args, **kwargs):
        started = _start_statuses(*args, **kwargs)
        wrap_late()
        return started
    L.start_statuses = start_statuses
L.table = timed("output", L.table)
git.Parallel.results = timed("waiting", git.Parallel.results)
def report():
    import json, resource  # not before the list: it would not load json so early
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    T["git children"] = [(kids.ru_utime + kids.ru_stime) * 1000, 0.0]
    T["total"] = [_cpu() * 1000, 0.0]
    sys.stderr.write("TRACE " + json.dumps(T) + "\\n")
import atexit
atexit.register(report)
"""

# (label, how the phase is computed from the trace): cpu ms of moai's own process.
BREAKDOWN = [
    ("python start (interpreter, site)", ["python start"]),
    ("imports", ["imports"]),
    ("open workspace (git rev-parse, config)", ["open workspace"]),
    ("first worktree's reads (and the settings/ imports)", ["first reads"]),
    ("per-worktree file reads (config, settings, glm.json)", ["file reads"]),
    ("index copies (stat; a copy when the index changed)", ["index copies"]),
    ("merged/graph (graph cache, reflogs)", ["graph", "reflogs"]),
    (
        "starting and reaping git children, the rest",
        ["describe", "-first reads", "-file reads", "-index copies", "-graph", "-reflogs"],
    ),
    ("output", ["output"]),
]


def phase(trace: dict[str, list[float]], keys: list[str], field: int = 0) -> float:
    total = 0.0
    for key in keys:
        sign, name = (-1, key[1:]) if key.startswith("-") else (1, key)
        total += sign * trace.get(name, [0.0, 0.0])[field]
    return total


def traced(cmd: list[str], cwd: Path, env: dict[str, str]) -> dict[str, list[float]]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("TRACE ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"traced list failed: {proc.stderr[-500:]}")
    import json

    return dict(json.loads(lines[-1][len("TRACE ") :]))


def bench_list(
    tmp: Path, env: dict[str, str], worktrees: int, runs: int, against: Path | None
) -> float:
    repo, paths = list_repo(tmp / "small", env, worktrees)
    run([MOAI, "worktree", "list"], repo, env)  # warm: per-worktree config caches
    label = f"list: {worktrees} worktrees of a 200-file repository (1/3 dirty, 1/3 ahead)"
    print(f"{label}, {runs} runs")
    fresh = [timed(lambda: run([MOAI, "worktree", "list"], repo, env)) for _ in range(runs)]
    settle(paths, env)
    ours = Path(__file__).resolve().parents[1] / "src"
    cmds = {
        "git worktree list": (["git", "worktree", "list", "--porcelain"], repo),
        "git status x all": (status_all(repo, paths), repo),
        "moai worktree list": ([MOAI, "worktree", "list"], repo),
        "moai ... list --json": ([MOAI, "worktree", "list", "--json"], repo),
        "python -c pass": ([sys.executable, "-c", "pass"], repo),
    }
    if against is not None:
        # The same repository built again for the other source (their caches apart),
        # each list against the floor in its own repository.
        other, other_paths = list_repo(tmp / "other", env, worktrees)
        run(launcher(against), other, env)
        settle(other_paths, env)
        cmds["list, this source"] = (launcher(ours), repo)
        cmds["list, --against"] = (launcher(against), other)
        cmds["git status x all, 2nd"] = (status_all(other, other_paths), other)
    times: dict[str, list[Timing]] = {name: [] for name in cmds}
    traces: dict[str, list[dict[str, list[float]]]] = {"this source": []}
    if against is not None:
        traces["--against"] = []
    for _ in range(runs):  # interleaved: a slow spell of the machine hits every command
        for name, (cmd, cwd) in cmds.items():
            times[name].append(timed(functools.partial(run, cmd, cwd, env)))
        traces["this source"].append(traced(launcher(ours, TRACE), repo, env))
        if against is not None:
            traces["--against"].append(traced(launcher(against, TRACE), other, env))
    med = median(times["moai worktree list"], "wall")
    floor = median(times["git status x all"], "wall")
    for name, xs in (("list, fresh worktrees", fresh), *times.items()):
        wall, cpu = median(xs, "wall") * 1000, median(xs, "cpu") * 1000
        print(f"  {name:22} median {wall:7.1f} ms wall  {cpu:7.1f} ms cpu")
    print(f"  list / status floor    {med / floor:.2f}  (list target <= 500 ms)")
    if against is not None:
        mine = median(times["list, this source"], "wall") / floor
        theirs = median(times["list, --against"], "wall")
        theirs /= median(times["git status x all, 2nd"], "wall")
        print(f"  this source / floor    {mine:.2f}   --against / its floor  {theirs:.2f}")
        spread = sorted(
            a.wall / b.wall
            for a, b in zip(times["list, this source"], times["list, --against"], strict=True)
        )
        print(
            f"  this / --against, run by run: median {statistics.median(spread):.2f} "
            f"(range {spread[0]:.2f}-{spread[-1]:.2f})"
        )
    show_breakdown(traces, times, runs)
    print(f"  load average           {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    return med


def show_breakdown(
    traces: dict[str, list[dict[str, list[float]]]], times: dict[str, list[Timing]], runs: int
) -> None:
    """Where a list's time goes: each phase's CPU (median of the traced runs) for this
    source (and --against's), beside the floor, so a check that starts to cost shows
    up by name."""

    def med(name: str, keys: list[str], field: int = 0) -> float:
        return float(statistics.median(phase(t, keys, field) for t in traces[name]))

    names = list(traces)
    print(f"  where the time goes (traced lists, medians of {runs} runs, ms):")
    print(f"    {'':56} " + " ".join(f"{n:>12}" for n in names))

    def row(label: str, keys: list[str], field: int = 0, unit: str = "cpu") -> None:
        cells = " ".join(f"{med(n, keys, field):8.1f} {unit}" for n in names)
        print(f"    {label:56} {cells}")

    for label, keys in BREAKDOWN:
        row(label, keys)
    row("moai process, all", ["total"])
    row("moai's git children (a status per worktree, +2 or 3 calls)", ["git children"])
    row("serial: from python's first line to the first status", ["first status"], 1, "wall")
    row("serial: open workspace", ["open workspace"], 1, "wall")
    row("idle: waiting for the last git children", ["waiting"], 1, "wall")
    floor_cpu = median(times["git status x all"], "cpu") * 1000
    py = median(times["python -c pass"], "cpu") * 1000
    print(f"    {'floor: git status x all':56} {floor_cpu:8.1f} cpu")
    print(f"    {'python -c pass':56} {py:8.1f} cpu")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--worktrees", type=int, default=100)
    parser.add_argument("--only", choices=["create", "list"], help="Run one half.")
    parser.add_argument(
        "--against",
        type=Path,
        help="Also time the list of another source tree (its src/ folder, e.g. of an "
        "old commit: git worktree add /tmp/old <commit>), interleaved with this one.",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="moai-bench-") as d:
        tmp = Path(d)
        env = clean_env(tmp / "home")
        # An installed moai has its bytecode compiled (pip does it); without this a
        # PYTHONDONTWRITEBYTECODE=1 shell recompiles every module on every run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        save_fake_key(tmp / "home")
        ratio = listed = 0.0
        if args.only != "list":
            ratio = bench_create(tmp, env, args.files, args.runs)
        if args.only != "create":
            listed = bench_list(tmp, env, args.worktrees, args.runs, args.against)
    ok = ratio <= 1.3 and listed <= 0.5
    print("PASS" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
