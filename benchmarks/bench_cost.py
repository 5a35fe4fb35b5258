"""`moai cost` against ccusage and a plain `json.loads`-every-line loop, on generated transcripts.

    python benchmarks/bench_cost.py                      # both shapes, ccusage if on PATH
    python benchmarks/bench_cost.py --ccusage DIR_OR_EXE # ccusage from an npm prefix or a path
    python benchmarks/bench_cost.py --mb 50 --large-mb 30 --rounds 3   # a quick run

Generates a git repository (main + a SPEC worktree) and a fake HOME whose
`~/.claude/projects/` holds session files shaped like Claude Code 2.1.112's
(tests/fixtures/transcripts/), in two shapes:

- `turns` (`--mb`, 295 MB): many small turns; per turn a prompt, an assistant
  response written as two lines (text + tool_use, same message id and usage),
  a tool result with file contents, sometimes an attachment.
- `results` (`--large-mb`, 157 MB): the same turns with ten times the code in
  each Edit and its tool result (lines of 10-200 KB), and every 25th tool result
  a 1.5 MB build log (longer than moai's read chunk): fewer turns, long lines.

Contenders, each a child process on the same files in the same run (in the
page cache for all: one warm-up run each), alternating within each round:
`moai cost --json` (split across a worker when that pays), `moai cost --json`
with MOAI_COST_WORKERS=1 (one process), `ccusage daily --json --offline` when
found (`--ccusage`: an executable, or a folder where `npm install ccusage
@ccusage/ccusage-linux-x64` ran; else `ccusage` on PATH; the native binary is
run directly, not through its node launcher), and the json.loads loop.
Prints medians of wall time, CPU time and peak RSS (each child's `ru_maxrss`
from `os.wait4`: for moai the larger of the parent and its worker), the
spread (min-max), moai / ccusage as the median of the per-round ratios, the
load average, and checks that moai and ccusage count the same input, output
and cache-read tokens (ccusage counts a cache write from the
`cache_creation` breakdown even when it is all zero, as these are; moai
falls back to the flat `cache_creation_input_tokens` there, so that total
differs by design).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MOAI = shutil.which("moai", path=str(Path(sys.executable).parent)) or "moai"
SPEC = "SPEC-BENCH-001"
FILE_MB = 8

BASELINE = r"""
import json, os, sys
n = 0
for dirpath, _dirs, files in os.walk(sys.argv[1]):
    for name in files:
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(dirpath, name), "rb") as fh:
            for line in fh:
                try:
                    json.loads(line)
                except ValueError:
                    pass
                n += 1
print(n)
"""


def dumps(obj: object) -> str:
    """Compact, as Claude Code's JSON.stringify writes."""
    return json.dumps(obj, separators=(",", ":"))


def encode(path: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in path)


def git(cwd: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def make_repo(root: Path, env: dict[str, str]) -> tuple[Path, Path]:
    main = root / "project"
    main.mkdir(parents=True)
    git(main, "init", "-q", "-b", "main", env=env)
    (main / "README.md").write_text("bench\n")
    git(main, "add", "-A", env=env)
    git(main, "commit", "-q", "-m", "init", env=env)
    wt = root / "worktrees" / SPEC
    git(main, "worktree", "add", "-q", "-b", f"feature/{SPEC}", str(wt), env=env)
    return main, wt


def session_lines(
    cwd: str, branch: str, model: str, session: str, turn: int, scale: int = 1
) -> list[str]:
    """One turn as Claude Code writes it (shapes from the real fixtures); `scale`
    multiplies the code the Edit carries and its tool result shows, and with it
    above 1 every 25th tool result also holds a 1.5 MB build log."""
    base = {"cwd": cwd, "sessionId": session, "version": "2.1.112", "gitBranch": branch}
    ts = f"2026-11-{1 + turn % 28:02d}T{turn % 24:02d}:{turn % 60:02d}:00.000Z"
    common = {"userType": "external", "entrypoint": "cli", "timestamp": ts, **base}
    mid, rid = f"msg_{session[:8]}{turn:08d}", f"req_{session[:8]}{turn:08d}"
    usage = {
        "input_tokens": 3 + turn % 50,
        "cache_creation_input_tokens": 1500 + turn % 700,
        "cache_read_input_tokens": 20000 + turn % 9000,
        "output_tokens": 120 + turn % 400,
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        "service_tier": "standard",
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
    }
    prose = "Let me look at the failing test and the module it covers. " * (4 + turn % 20)
    line = "def handler(request):\n    return respond(request.json())\n"
    code = line * ((20 + turn % 60) * scale)
    stdout = code * 2
    if scale > 1 and turn % 25 == 0:
        stdout = f"[build] compiling module_{turn}.c -O2 -Wall\n" * 38_000

    def assistant(block: dict[str, object], uid: str) -> str:
        msg = {
            "id": mid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [block],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        rec = {"parentUuid": None, "isSidechain": False, "message": msg, "requestId": rid}
        return dumps({**rec, "type": "assistant", "uuid": uid, **common})

    tool_id = f"toolu_{turn:012d}"
    lines = [
        dumps(
            {
                "parentUuid": None,
                "isSidechain": False,
                "type": "user",
                "message": {"role": "user", "content": f"step {turn}: fix the next test"},
                "uuid": f"u{turn}",
                **common,
            }
        ),
        assistant({"type": "text", "text": prose}, f"a{turn}"),
        assistant(
            {
                "type": "tool_use",
                "id": tool_id,
                "name": "Edit",
                "input": {"file_path": f"{cwd}/src/app.py", "old_string": code, "new_string": code},
            },
            f"b{turn}",
        ),
        dumps(
            {
                "parentUuid": f"b{turn}",
                "isSidechain": False,
                "type": "user",
                "message": {
                    "role": "user",
                    "content": [{"tool_use_id": tool_id, "type": "tool_result", "content": code}],
                },
                "uuid": f"r{turn}",
                "toolUseResult": {"stdout": stdout, "stderr": "", "interrupted": False},
                **common,
            }
        ),
    ]
    if turn % 5 == 0:
        lines.append(
            dumps(
                {"type": "attachment", "attachment": {"type": "todo", "content": prose}, **common}
            )
        )
    return lines


def result_lines(cwd: str, branch: str, model: str, session: str, turn: int) -> list[str]:
    """A turn with 10 times the code: Edit and tool result lines of 10-200 KB, and a
    line longer than moai's read chunk every 25th turn."""
    return session_lines(cwd, branch, model, session, turn, scale=10)


SHAPES = {"turns": session_lines, "results": result_lines}


def generate(home: Path, main: Path, wt: Path, total_mb: int, shape: str) -> tuple[int, int]:
    """Write ~total_mb of sessions; returns (bytes written, distinct responses)."""
    make_turn = SHAPES[shape]
    projects = home / ".claude" / "projects"
    places = [
        (str(main), "main", "claude-sonnet-4-6"),
        (str(wt), f"feature/{SPEC}", "glm-4.7"),
    ]
    written = responses = turn = 0
    n_file = 0
    while written < total_mb * 1_000_000:
        cwd, branch, model = places[0] if n_file % 10 < 3 else places[1]
        session = f"{n_file:08d}-bench-session"
        folder = projects / encode(cwd)
        folder.mkdir(parents=True, exist_ok=True)
        size = 0
        with open(folder / f"{session}.jsonl", "w", encoding="utf-8") as fh:
            while size < FILE_MB * 1_000_000 and written + size < total_mb * 1_000_000:
                text = "\n".join(make_turn(cwd, branch, model, session, turn)) + "\n"
                fh.write(text)
                size += len(text)
                turn += 1
                responses += 1
        written += size
        n_file += 1
    return written, responses


def run_child(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak RSS in bytes (the child's or its largest
    reaped descendant's), its stdout."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.PIPE)
        err = proc.stderr.read().decode() if proc.stderr else ""
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if status != 0:
            raise SystemExit(f"{argv[0]} failed ({status}): {err}")
        out.seek(0)
        rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        return wall, usage.ru_utime + usage.ru_stime, rss, out.read().decode()


def find_ccusage(given: str | None) -> str | None:
    """The ccusage to run: `given` (an executable, or an npm prefix holding it), else PATH.

    In an npm prefix the platform's native binary is preferred to the node launcher
    (`node_modules/.bin/ccusage` starts node, then the binary): the launcher would
    add node's start to every run and is not what is measured here.
    """
    if given is None:
        return shutil.which("ccusage")
    path = Path(given)
    if path.is_dir():
        system = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system(), "")
        arch = {"x86_64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
            platform.machine(), ""
        )
        modules = path / "node_modules"
        for candidate in (
            modules / "@ccusage" / f"ccusage-{system}-{arch}" / "bin" / "ccusage",
            modules / ".bin" / "ccusage",
        ):
            if candidate.is_file():
                if not os.access(candidate, os.X_OK):
                    candidate.chmod(0o755)  # npm leaves the native binary unexecutable
                return str(candidate)
        raise SystemExit(f"--ccusage {given}: no ccusage under {modules}")
    if not path.is_file():
        raise SystemExit(f"--ccusage {given}: no such file")
    return str(path)


class Contender:
    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.rsss: list[int] = []
        self.last = ""

    def run(self, keep: bool = True) -> None:
        wall, cpu, rss, self.last = run_child(self.argv, self.cwd, self.env)
        if keep:
            self.walls.append(wall)
            self.cpus.append(cpu)
            self.rsss.append(rss)


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def bench_shape(
    shape: str, mb: int, rounds: int, ccusage: str | None, baseline: bool, keep: bool
) -> bool:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-cost-{shape}-"))
    try:
        home = tmp / "home"
        home.mkdir()
        (home / ".gitconfig").write_text("[user]\n\tname = b\n\temail = b@example.invalid\n")
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "CLAUDE_", "MOAI_"))
        }
        env.update(
            HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig")
        )
        main_wt, spec_wt = make_repo(tmp / "repo", env)
        t0 = time.perf_counter()
        size, responses = generate(home, main_wt, spec_wt, mb, shape)
        gen_s = time.perf_counter() - t0
        mbs = size / 1e6
        print(f"\n== {shape}: {mbs:,.0f} MB ({responses:,} responses) in {gen_s:.1f}s under {tmp}")
        projects = str(home / ".claude" / "projects")
        moai = Contender("moai cost --json", [MOAI, "cost", "--json"], main_wt, env)
        one = Contender(
            "moai, one process",
            [MOAI, "cost", "--json"],
            main_wt,
            {**env, "MOAI_COST_WORKERS": "1"},
        )
        contenders = [moai, one]
        cc = None
        if ccusage:
            cc = Contender("ccusage daily", [ccusage, "daily", "--json", "--offline"], tmp, env)
            contenders.append(cc)
        if baseline:
            contenders.append(
                Contender(
                    "json.loads each line", [sys.executable, "-c", BASELINE, projects], tmp, env
                )
            )
        for c in contenders:
            c.run(keep=False)  # warm-up: the page cache, moai's config cache
        load = [os.getloadavg()[0]]
        for r in range(rounds):
            order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
            for c in order:
                c.run()
            load.append(os.getloadavg()[0])
        data = json.loads(moai.last)
        got = data["total"]
        if got["responses"] != responses:
            raise SystemExit(
                f"moai cost counted {got['responses']} responses, generated {responses}"
            )
        if json.loads(one.last) != data:
            raise SystemExit("moai cost split and in one process disagree")
        print(
            f"{'':22} {'wall s':>6} {'(spread)':>11} {'CPU s':>6} {'MB/s':>6} {'peak RSS MB':>11}"
        )
        for c in contenders:
            w, cpu = statistics.median(c.walls), statistics.median(c.cpus)
            print(
                f"{c.name:22} {w:6.2f} {'(' + spread(c.walls) + ')':>11} {cpu:6.2f} "
                f"{mbs / w:6.0f} {statistics.median(c.rsss) / 1e6:11.1f}"
            )
        print(f"load average (1 min) during the rounds: {min(load):.1f}-{max(load):.1f}")
        ok = True
        if cc is not None:
            totals = json.loads(cc.last)["totals"]
            pairs = [
                ("inputTokens", "input_tokens"),
                ("outputTokens", "output_tokens"),
                ("cacheReadTokens", "cache_read_tokens"),
            ]
            for theirs, ours in pairs:
                if totals[theirs] != got[ours]:
                    raise SystemExit(f"{theirs}: ccusage {totals[theirs]}, moai {got[ours]}")
            ratios = [m / c for m, c in zip(moai.walls, cc.walls, strict=True)]
            alone = [m / c for m, c in zip(one.walls, cc.walls, strict=True)]
            rss = statistics.median(moai.rsss) / statistics.median(cc.rsss)
            print(
                f"moai / ccusage, wall, per round: median {statistics.median(ratios):.2f} "
                f"({spread(ratios)}); one process {statistics.median(alone):.2f} "
                f"({spread(alone)}); peak RSS {rss:.2f}"
            )
            print("same input, output and cache-read tokens as ccusage")
            ok = statistics.median(ratios) <= 1.0
        return ok
    finally:
        if keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mb", type=int, default=295, help="size of the `turns` shape (MB)")
    ap.add_argument("--large-mb", type=int, default=157, help="size of the `results` shape (MB)")
    ap.add_argument("--shape", choices=["turns", "results", "both"], default="both")
    ap.add_argument("--rounds", type=int, default=7, help="runs of each contender; medians count")
    ap.add_argument("--ccusage", metavar="PATH", help="ccusage executable or npm prefix")
    ap.add_argument("--no-baseline", action="store_true", help="leave out the json.loads loop")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()

    ccusage = find_ccusage(args.ccusage)
    if ccusage:
        version = subprocess.run(
            [ccusage, "--version"], capture_output=True, text=True, check=False
        )
        print(f"ccusage: {ccusage} ({version.stdout.strip()})")
    else:
        print("ccusage: not found (--ccusage PATH); comparing with the json.loads loop only")
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    )
    ok = True
    for shape, mb in (("turns", args.mb), ("results", args.large_mb)):
        if args.shape in (shape, "both"):
            ok = (
                bench_shape(shape, mb, args.rounds, ccusage, not args.no_baseline, args.keep) and ok
            )
    print("PASS" if ok else "FAIL: moai cost slower than ccusage")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
