"""moai's Claude Code hooks on the hot paths: median wall time against `python -c pass`,
measured in the same run.

    .venv/bin/python benchmarks/bench_claude_code.py [-n 30]

Claude Code runs the UserPromptSubmit hook before every prompt and the status
line on every refresh. Builds a throwaway repository (seed llm.yaml, fake key,
temporary HOME) with a SPEC worktree, warms the config cache, then runs,
interleaved so that machine noise hits all alike, each with its JSON on stdin:
  - `python -c pass`                                 the interpreter's floor
  - `python -c "import json, sys; json.load(sys.stdin)"`  any Python hook's floor
  - `moai hook-impl claude-code user-prompt-submit`  a session that agrees (no output)
  - same, disagreeing (GLM's environment on main)    the held prompt
  - `moai hook-impl claude-code session-start`
  - `moai statusline`
and prints the medians in ms and the ratios to the floor, in wall time and in CPU
time (user + system of the process and its children: what the machine spends,
which a busy machine's scheduler does not inflate). Budget: the prompt hook and
the status line within 2x the CPU of `python -c pass`.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_status import _env, _repo

MOAI = shutil.which("moai", path=str(Path(sys.executable).parent)) or "moai"
FAKE_KEY = "bench000fake000key000not000real"
# The floor of any Python hook: Claude Code's payload is JSON, and `json` brings `re`.
READ_JSON = "import json, sys; json.load(sys.stdin)"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(cmd: list[str], cwd: Path, env: dict[str, str], stdin: str) -> tuple[float, float]:
    """(wall ms, CPU ms) of one run."""
    cpu, start = _cpu(), time.perf_counter()
    subprocess.run(
        cmd, cwd=cwd, env=env, input=stdin, text=True, check=True, stdout=subprocess.DEVNULL
    )
    return (time.perf_counter() - start) * 1000, (_cpu() - cpu) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=30, help="runs of each (default 30)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        env = _env(home)
        key = home / ".moai" / ".env.glm"
        key.parent.mkdir()
        key.write_text(f'GLM_API_KEY="{FAKE_KEY}"\n')
        key.chmod(0o600)
        repo = _repo(Path(tmp) / "project", env)
        subprocess.run(
            [MOAI, "worktree", "create", "SPEC-B"],
            cwd=repo,
            env=env,
            check=True,
            capture_output=True,
        )
        wt = home / "worktrees" / "project" / "SPEC-B"
        held = {**env, "ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic"}
        prompt = json.dumps({"cwd": str(repo), "prompt": "hi", "session_id": "s"})
        start = json.dumps({"cwd": str(wt), "source": "startup", "session_id": "s"})
        status = json.dumps(
            {
                "model": {"id": "glm-4.7[1m]", "display_name": "glm-4.7[1m]"},
                "cwd": str(wt),
                "workspace": {"current_dir": str(wt), "project_dir": str(wt)},
            }
        )
        hook = [MOAI, "hook-impl", "claude-code"]
        cases: dict[str, tuple[list[str], dict[str, str], str]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], env, ""),
            "python: json.load(stdin)": ([sys.executable, "-c", READ_JSON], env, status),
            "user-prompt-submit (agrees)": ([*hook, "user-prompt-submit"], env, prompt),
            "user-prompt-submit (held)": ([*hook, "user-prompt-submit"], held, prompt),
            "session-start": ([*hook, "session-start"], env, start),
            "statusline": ([MOAI, "statusline"], env, status),
        }
        for cmd, e, stdin in cases.values():  # warm: config cache, bytecode, page cache
            _time(cmd, repo, e, stdin)
        times: dict[str, list[float]] = {name: [] for name in cases}
        cpus: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.n):
            for name, (cmd, e, stdin) in cases.items():
                wall, cpu = _time(cmd, repo, e, stdin)
                times[name].append(wall)
                cpus[name].append(cpu)
    over = False
    for label, table in (("wall", times), ("cpu", cpus)):
        floor = statistics.median(table["python -c pass"])
        json_floor = statistics.median(table["python: json.load(stdin)"])
        print(f"{label:30s} {'median':>10s}  {'/pass':>5s}  {'/json':>5s}")
        for name, samples in table.items():
            med = statistics.median(samples)
            print(f"{name:30s} {med:7.1f} ms  x{med / floor:4.2f}  x{med / json_floor:4.2f}")
        print()
    floor = statistics.median(cpus["python -c pass"])
    print("budget (CPU, medians): the prompt hook and the status line within 2x python -c pass")
    for name in ("user-prompt-submit (agrees)", "user-prompt-submit (held)", "statusline"):
        ratio = statistics.median(cpus[name]) / floor
        over = over or ratio > 2
        print(f"  {name:30s} {ratio:4.2f}x ({'ok' if ratio <= 2 else 'OVER'})")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
