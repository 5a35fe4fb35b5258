"""Commit-time checks on a commit of 1,000 staged files: budget 1 s.

    .venv/bin/python -m benchmarks.bench_guard [--files 1000] [--runs 7]

Builds a throwaway repository (fake HOME with a fake GLM key, policy on:
enforce_locations, require_backend_match, commit_trailer) on a SPEC branch,
stages N files of ~40 lines each, and times, in the same run:

- baseline: `git diff --cached --name-only` (the least any check must do)
- `moai check --staged` (guard + policy; what the pre-commit hook runs)
- `git commit` without hooks vs with the hooks `moai hooks install` writes
  (pre-commit guard + policy, prepare-commit-msg and commit-msg trailer;
  reset --soft between runs)

Prints medians, the ratios to the baselines, and whether the budget holds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.gitrepo import MOAI, clean_env, git, make_repo, save_fake_key, write

BUDGET_S = 1.0
POLICY = """\
llm:
  mode: mashup
  policy:
    enforce_locations: true
    require_backend_match: true
    commit_trailer: true
"""


def _time(cmd: list[str], cwd: Path, env: dict[str, str], runs: int, reset: bool) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        samples.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr}")
        if reset:
            git(cwd, "reset", "-q", "--soft", "HEAD~1", env=env)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        env = clean_env(home)
        # An installed moai has compiled bytecode; measure that, not recompiling each run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        save_fake_key(home)
        repo = make_repo(Path(tmp) / "project", env, llm_yaml=POLICY)
        git(repo, "switch", "-qc", "feature/SPEC-BENCH", env=env)
        r = subprocess.run(
            [MOAI, "apply"], cwd=repo, env=env, capture_output=True, text=True, check=False
        )
        assert r.returncode == 0, r.stderr
        body = "".join(
            f"def function_{i}(value: int) -> int:\n    return value * {i} + len('{i}.x')\n\n"
            for i in range(13)
        )
        for n in range(args.files):
            write(repo / f"src/pkg{n % 20}/module_{n}.py", f"# module {n}\n{body}")
        git(repo, "add", "-A", env=env)

        base_diff = _time(
            ["git", "diff", "--cached", "--name-only"], repo, env, args.runs, reset=False
        )
        check = _time([MOAI, "check", "--staged"], repo, env, args.runs, reset=False)
        commit = ["git", "commit", "-q", "-m", "bench"]
        base_commit = _time(commit, repo, env, args.runs, reset=True)
        # The shims `moai hooks install` writes: pre-commit (guard + policy) and the
        # two message hooks (trailer), as a user gets them.
        r = subprocess.run(
            [MOAI, "hooks", "install"], cwd=repo, env=env, capture_output=True, text=True
        )
        assert r.returncode == 0, r.stderr
        hooked = _time(commit, repo, env, args.runs, reset=True)

    added = hooked - base_commit
    print(f"{args.files} staged files, median of {args.runs} runs")
    print(f"  git diff --cached --name-only     {base_diff * 1000:8.1f} ms  (baseline)")
    print(
        f"  moai check --staged               {check * 1000:8.1f} ms"
        f"  ({check / base_diff:.1f}x baseline)"
    )
    print(f"  git commit, no hooks              {base_commit * 1000:8.1f} ms  (baseline)")
    print(
        f"  git commit, moai hooks            {hooked * 1000:8.1f} ms"
        f"  ({hooked / base_commit:.1f}x; hooks add {added * 1000:.0f} ms)"
    )
    ok = check <= BUDGET_S and added <= BUDGET_S
    print(f"budget {BUDGET_S:.1f} s for the commit-time checks: {'OK' if ok else 'EXCEEDED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
