"""`moai status` startup: median wall time against `python -c pass`, measured in the same run.

    .venv/bin/python benchmarks/bench_status.py [-n 40]

Builds a throwaway repository (the seed's llm.yaml, a fake key in a temporary
HOME), warms the per-worktree config cache, then runs, interleaved so that
machine noise hits all alike:
  - `python -c pass`          the interpreter's floor
  - `python -c "import click"` the floor of any click CLI
  - `moai status`             the command
and prints the medians in ms and the ratios. It also runs `moai status` once
under `python -X importtime` and fails (exit 1) if pydantic or yaml was
imported on the warm cache: those are the imports the cache exists to avoid.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.gitrepo import SEED_LLM_YAML

FAKE_KEY = "bench000fake000key000not000real"
FORBIDDEN = ("pydantic", "pydantic_core", "yaml")


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "ANTHROPIC_", "MOAI_", "GLM_"))
    }
    # A user's install has bytecode; a sandbox that forbids writing it would make every
    # run recompile moai_mashup and measure the compiler instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (home / ".gitconfig").write_text("[user]\n\tname = Bench\n\temail = bench@example.invalid\n")
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig"))
    return env


def _repo(root: Path, env: dict[str, str]) -> Path:
    root.mkdir()
    run = {"cwd": root, "env": env, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)  # type: ignore[call-overload]
    cfg = root / ".moai" / "config" / "sections" / "llm.yaml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(SEED_LLM_YAML)
    (root / ".gitignore").write_text("/.claude/settings.local.json\n")
    subprocess.run(["git", "add", "-A"], **run)  # type: ignore[call-overload]
    subprocess.run(["git", "commit", "-qm", "seed"], **run)  # type: ignore[call-overload]
    return root


def _time(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def _imports(moai_cmd: list[str], cwd: Path, env: dict[str, str]) -> list[tuple[int, str]]:
    """(self µs, module) for every module `moai status` imports."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "moai_mashup", *moai_cmd[1:]],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            self_us, _cum, name = line[len("import time:") :].split("|")
            rows.append((int(self_us), name.strip()))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="runs of each command (default 40)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()

    moai = shutil.which("moai", path=str(Path(sys.executable).parent))
    if moai is None:
        print("moai is not installed next to this python; run scripts/test.sh first")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / ".moai").mkdir(mode=0o700)
        key_file = home / ".moai" / ".env.glm"
        key_file.write_text(f'GLM_API_KEY="{FAKE_KEY}"\n')
        key_file.chmod(0o600)
        env = _env(home)
        repo = _repo(Path(tmp) / "repo", env)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import click'": [sys.executable, "-c", "import click"],
            "moai status": [moai, "status"],
        }
        for cmd in commands.values():  # warm up: bytecode, page cache, config cache
            for _ in range(3):
                _time(cmd, repo, env)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.n):
            for name, cmd in commands.items():
                samples[name].append(_time(cmd, repo, env))
        imports = _imports(commands["moai status"], repo, env)

    medians = {name: statistics.median(v) for name, v in samples.items()}
    base = medians["python -c pass"]
    forbidden = sorted({m for _, m in imports if m.split(".")[0] in FORBIDDEN})
    ours = sorted(((us, m) for us, m in imports if m.startswith("moai_mashup")), reverse=True)
    result = {
        "runs": args.n,
        "median_ms": {k: round(v, 1) for k, v in medians.items()},
        "ratio_to_python": {k: round(v / base, 2) for k, v in medians.items()},
        "modules_imported": len(imports),
        "forbidden_imports": forbidden,
        "moai_mashup_self_ms": round(sum(us for us, _ in ours) / 1000, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"median of {args.n} runs each, interleaved, same machine and moment:")
        for name, ms in medians.items():
            print(f"  {name:28} {ms:7.1f} ms   x{ms / base:5.2f}")
        print(
            f"moai status imports {len(imports)} modules; moai_mashup's own: "
            f"{result['moai_mashup_self_ms']} ms (top: "
            + ", ".join(f"{m} {us / 1000:.1f}" for us, m in ours[:4])
            + ")"
        )
        print(
            "pydantic/yaml on a warm cache: "
            + (", ".join(forbidden) if forbidden else "none (as required)")
        )
    return 1 if forbidden else 0


if __name__ == "__main__":
    raise SystemExit(main())
