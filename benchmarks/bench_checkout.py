"""What moai's post-checkout hook adds to `git checkout`, against a no-hook baseline.

    .venv/bin/python benchmarks/bench_checkout.py [--runs 30] [--no-pre-commit]
        [--compare OTHER/.venv/bin/python]

A small repository (moai init + a few files) in a temporary directory with a
temporary HOME and a fake key; every variant alternates `git checkout`
between two branches, `--runs` checkouts after a warm-up, and reports the
median wall time, the time added over the baseline measured in the same run,
and the ratio. Variants:

- baseline:      no post-checkout hook
- empty hook:    `#!/bin/sh` + `exit 0`
- python hook:   `#!/bin/sh` + `exec <python> -I -S -c pass`: the floor of any
                 hook that runs Python (the budgets below are multiples of it)
- moai no-op:    `moai hooks install`, main <-> other (both Claude in mashup
                 mode: the shim's fast path decides without Python)
- moai switch:   main <-> feature/SPEC-BENCH (Claude <-> GLM: writes settings),
                 through the switch the engine prepared (githooks/fast.py,
                 the key filled in from ~/.moai)
- moai switch, engine: the same with the stamp and the prepared files removed
                 before each checkout, so the engine plans and writes every
                 switch (without the stamp too, the switch back to Claude, whose
                 state is "no file", would still be taken by githooks/fast.py)
- ... [compare]: with `--compare`, the no-op and switch variants again with the hooks of
                 the moai installed beside that interpreter (another checkout's
                 venv: a change measured against its base in the same run)
- pre-commit:    the pre-commit framework's post-checkout stage running this
                 repository's `.pre-commit-hooks.yaml` (needs a commit of this
                 repository and builds pre-commit's venv once; skipped with
                 --no-pre-commit)

The budgets, checked at the end (each against the others measured in the same
run, CPU time): a switching checkout adds at most 3x what the python hook adds;
a no-op checkout adds at most 1 ms more than the empty hook.

Timing is kept out of the unit tests; this script is the place for it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
MOAI = shutil.which("moai", path=str(Path(sys.executable).parent)) or "moai"
FAKE_KEY = "fake0000glm0000key0000for0bench.BENCHONLYnotreal1"
# Long enough for the engine's stamp (dated 2 s in the past) to vouch for inputs.
SETTLE_S = 2.5


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "ANTHROPIC_", "MOAI_", "GLM_", "PRE_COMMIT"))
    }
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(gitconfig))
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def make_repo(root: Path, env: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    _run(["git", "init", "-q", "-b", "main"], root, env)
    for i in range(20):
        (root / f"file{i}.txt").write_text(f"content {i}\n")
    _run([MOAI, "init"], root, env)
    _run(["git", "add", "-A"], root, env)
    _run(["git", "commit", "-q", "-m", "initial"], root, env)
    for branch in ("other", "feature/SPEC-BENCH"):
        _run(["git", "branch", branch], root, env)
    return root


class Variant:
    """One repository and the two branches its checkouts alternate between."""

    def __init__(
        self,
        name: str,
        repo: Path,
        env: dict[str, str],
        branches: tuple[str, str],
        command: list[str] | None = None,
        before: Callable[[], None] | None = None,
        watched: bool = False,
    ):
        self.name, self.repo, self.env, self.branches = name, repo, env, branches
        self.command = command  # a reference command run instead of a checkout
        self.before = before  # run before each checkout, untimed
        # A fast path (the shim's no-op, the prepared switch): count the checkouts
        # that went to the engine instead (`_engine_marks`, untimed).
        self.watched = watched
        self.samples: list[float] = []
        self.cpu: list[float] = []
        self.count = 0
        self.left = 0  # recorded checkouts that went to the engine
        self.last_left = False  # the last checkout, recorded or not, did

    def checkout(self, record: bool) -> None:
        branch = self.branches[self.count % 2]
        self.count += 1
        args = self.command or ["git", "checkout", "-q", branch]
        if self.before is not None:
            self.before()
        marks = _engine_marks(self.repo) if self.watched else None
        cpu0 = _children_cpu()
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=self.repo, env=self.env, capture_output=True, check=False)
        elapsed = (time.perf_counter() - start) * 1000
        cpu = (_children_cpu() - cpu0) * 1000
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.decode().strip()}")
        self.last_left = self.watched and (marks is None or _engine_marks(self.repo) != marks)
        if record:
            self.samples.append(elapsed)
            self.cpu.append(cpu)
            self.left += self.last_left


def _engine_marks(repo: Path) -> tuple[tuple[str, int], ...] | None:
    """What only the engine changes: it writes every prepared file again (and the
    stamp) each time it decides; the shim's no-op and the prepared switch only read
    them (the prepared switch rewrites the stamp). None: no stamp."""
    ready = _ready_dir(repo)
    if ready is None:
        return None
    return tuple(sorted((p.name, p.stat().st_ctime_ns) for p in ready.glob("*")))


def _ready_dir(repo: Path) -> Path | None:
    """The prepared files' folder (~/.moai/worktrees/<id>/ready), as the stamp names it;
    None: no stamp."""
    stamp = repo / ".git" / "moai" / "hook-stamp"
    if not stamp.exists():
        return None
    lines = stamp.read_text().splitlines()
    ready = [line[len("ready-dir ") :] for line in lines if line.startswith("ready-dir ")]
    return Path(ready[0]) if ready else stamp


def _children_cpu() -> float:
    """CPU seconds (user + sys) of finished children: git, the hook, Python. Wall time
    on a busy machine mostly measures the scheduler; CPU time does not."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(variants: list[Variant], runs: int, warmup: int = 4) -> None:
    """Round-robin: one checkout per variant per round, so a busy machine slows all alike."""
    for i in range(warmup + runs):
        for variant in variants:
            variant.checkout(record=i >= warmup)


def settle(variants: list[Variant], limit_s: float = 30.0) -> int:
    """Unrecorded rounds until two in a row take every watched fast path; the rounds run.

    The engine's first decision adds its lines to `.git/info/exclude`, one of the
    inputs its stamp lists, and dates the stamp 2 s (whole seconds) before it
    started (githooks/engine.py, STAMP_AGE_S): every checkout goes to the engine
    again until one starts 2-3 s after that write, whose stamp then vouches for it.
    """
    deadline, clean, rounds = time.monotonic() + limit_s, 0, 0
    while clean < 2 and time.monotonic() < deadline:
        measure(variants, 0, warmup=1)
        rounds += 1
        clean = clean + 1 if not any(v.last_left for v in variants) else 0
        if not clean:
            time.sleep(0.5)
    return rounds


def setup_pre_commit(repo: Path, env: dict[str, str], pc_home: Path) -> dict[str, str]:
    """Consume this repository's `.pre-commit-hooks.yaml` by path, as a user would by URL."""
    rev = _run(["git", "rev-parse", "HEAD"], HERE, env).strip()
    (repo / ".pre-commit-config.yaml").write_text(
        "default_install_hook_types: [pre-commit, post-checkout]\n"
        "default_stages: [pre-commit]\n"
        "repos:\n"
        f"  - repo: {HERE}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: moai-post-checkout\n"
    )
    env = dict(env, PRE_COMMIT_HOME=str(pc_home))
    pre_commit = [sys.executable, "-m", "pre_commit"]
    _run([*pre_commit, "install", "--allow-missing-config"], repo, env)
    _run([*pre_commit, "install-hooks"], repo, env)
    return env


def _unprepare(repo: Path) -> None:
    """No stamp and no prepared files: the next checkout goes to the engine."""
    ready = _ready_dir(repo)
    (repo / ".git" / "moai" / "hook-stamp").unlink(missing_ok=True)
    for path in ready.glob("*") if ready is not None else ():
        path.unlink()


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-pre-commit", action="store_true")
    parser.add_argument("--compare", metavar="PYTHON", help="another install's interpreter")
    opts = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="moai-bench-"))
    try:
        home = tmp / "home"
        (home / ".moai").mkdir(parents=True)
        key_file = home / ".moai" / ".env.glm"
        key_file.write_text(f'GLM_API_KEY="{FAKE_KEY}"\n')
        key_file.chmod(0o600)
        env = _env(home)
        noop = ("main", "other")
        switch = ("main", "feature/SPEC-BENCH")

        variants: list[Variant] = []

        base = make_repo(tmp / "baseline", env)
        variants.append(Variant("baseline (no hook)", base, env, noop))

        empty = make_repo(tmp / "empty", env)
        hook = empty / ".git" / "hooks" / "post-checkout"
        hook.write_text("#!/bin/sh\nexit 0\n")
        hook.chmod(0o755)
        variants.append(Variant("empty sh hook", empty, env, noop))

        py_hook = make_repo(tmp / "python-hook", env)
        hook = py_hook / ".git" / "hooks" / "post-checkout"
        hook.write_text(f"#!/bin/sh\nexec {os.path.realpath(sys.executable)} -I -S -c pass\n")
        hook.chmod(0o755)
        variants.append(Variant("python -I -S hook", py_hook, env, noop))

        ours = make_repo(tmp / "moai", env)
        _run([MOAI, "hooks", "install"], ours, env)
        switching = make_repo(tmp / "moai-switch", env)
        _run([MOAI, "hooks", "install"], switching, env)
        variants.append(Variant("moai no-op", ours, env, noop, watched=True))
        variants.append(Variant("moai switch", switching, env, switch, watched=True))
        engine = make_repo(tmp / "moai-engine", env)
        _run([MOAI, "hooks", "install"], engine, env)

        variants.append(
            Variant("moai switch, engine", engine, env, switch, before=lambda: _unprepare(engine))
        )
        if opts.compare:
            other = str(Path(opts.compare).parent / "moai")
            compared_noop = make_repo(tmp / "compare-noop", env)
            _run([other, "hooks", "install"], compared_noop, env)
            variants.append(Variant("moai no-op [compare]", compared_noop, env, noop, watched=True))
            compared = make_repo(tmp / "compare-switch", env)
            _run([other, "hooks", "install"], compared, env)
            variants.append(Variant("moai switch [compare]", compared, env, switch, watched=True))
            compared_engine = make_repo(tmp / "compare-engine", env)
            _run([other, "hooks", "install"], compared_engine, env)
            variants.append(
                Variant(
                    "moai switch, engine [compare]",
                    compared_engine,
                    env,
                    switch,
                    before=lambda: _unprepare(compared_engine),
                )
            )

        if not opts.no_pre_commit:
            pc = make_repo(tmp / "pre-commit", env)
            pc_env = setup_pre_commit(pc, env, tmp / "pre-commit-home")
            variants.append(Variant("pre-commit framework no-op", pc, pc_env, noop))
        # References for how fast this machine is right now (the budgets assume
        # `python -I -S -c pass` ~10 ms, `python -c pass` ~40 ms).
        python = os.path.realpath(sys.executable)
        for label, flags in (
            ("ref: python -I -S -c pass", ["-I", "-S"]),
            ("ref: python -c pass", []),
        ):
            variants.append(Variant(label, base, env, noop, [python, *flags, "-c", "pass"]))
        time.sleep(SETTLE_S)
        # Warm-up: moai's engine decides, adds its lines to info/exclude (an
        # input), decides again once its stamp can vouch for that, then leaves its
        # stamp and prepared switch (`settle`).
        measure(variants, 0, warmup=4)
        rounds = settle(variants)
        measure(variants, opts.runs, warmup=0)
        # The no-op must stay in the shim, the switch in githooks/fast.py.
        for v in variants:
            if v.left:
                print(
                    f"warning: {v.name}: {v.left} of {opts.runs} checkouts went to the engine"
                    f" (after {4 + rounds} warm-up rounds)",
                    file=sys.stderr,
                )

        base_wall = statistics.median(variants[0].samples)
        base_cpu = statistics.median(variants[0].cpu)
        print(f"git checkout, medians of {opts.runs} alternating checkouts, load {_load()}")
        print(
            f"{'variant':<28} {'wall ms':>8} {'added':>8} {'ratio':>7}"
            f"   {'cpu ms':>7} {'added':>8} {'ratio':>7}"
        )
        for v in variants:
            wall, cpu = statistics.median(v.samples), statistics.median(v.cpu)
            print(
                f"{v.name:<28} {wall:8.1f} {wall - base_wall:+8.1f} {wall / base_wall:6.2f}x"
                f"   {cpu:7.1f} {cpu - base_cpu:+8.1f} {cpu / base_cpu:6.2f}x"
            )
        by_name = {v.name: v for v in variants}

        def added(name: str, key: str) -> float:
            samples: list[float] = getattr(by_name[name], key)
            base: list[float] = getattr(variants[0], key)
            return statistics.median(samples) - statistics.median(base)

        print("\nbudgets (added over the baseline, medians):")
        for key in ("cpu", "samples"):
            label = "cpu" if key == "cpu" else "wall"
            floor = added("python -I -S hook", key)
            names = [n for n in by_name if n.startswith("moai switch")]
            for name in names:
                ratio = added(name, key) / floor if floor > 0 else float("inf")
                verdict = "ok" if ratio <= 3 else "OVER"
                print(f"  {label}: {name:<29} adds {ratio:4.1f}x the python hook (<=3x: {verdict})")
            for name in [n for n in by_name if n.startswith("moai no-op")]:
                gap = added(name, key) - added("empty sh hook", key)
                verdict = "ok" if gap <= 1 else "OVER"
                print(f"  {label}: {name} adds {gap:+.1f} ms over the empty hook (<=1: {verdict})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
