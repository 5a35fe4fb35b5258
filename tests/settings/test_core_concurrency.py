"""Many switchers at once, plus another writer of the same settings file.

The guarantee moai gives (docs/routing.md, "How switching keeps your settings"):
- moai processes serialise on a per-worktree lock (`git rev-parse --git-path
  moai/settings.lock`, flock): none loses another's write, the record always
  matches the file;
- a writer that takes the same lock never loses a key either;
- readers never see a torn file (temp file + rename), whoever writes;
- a writer that does not lock can still race (its read-modify-write may undo
  ours, ours may land between its read and write): moai re-plans when the file
  changed under it, so the window is the rename itself, but no lock-free
  protocol can close it. There we only promise valid JSON and no crash.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.core_fixtures import git_path, record_path, status_json
from tests.gitrepo import FAKE_KEY, MOAI, SETTINGS, moai, settings, write

pytestmark = pytest.mark.stress

SWITCHERS = 16
ROUNDS = 1  # each switcher runs glm+claude (or claude+glm) this many times
USER_KEYS = 40

ORIGINAL = {
    "permissions": {"allow": ["Bash(ls)"]},
    "env": {"ANTHROPIC_BASE_URL": "https://proxy.example.invalid", "MY_VAR": "1"},
}

# A writer like an editor or Claude Code adding "always allow" entries: read, add one
# top-level key and one env key, write by temp file + rename. With `lock`, it first takes
# moai's lock as documented.
USER_WRITER = r"""
import fcntl, json, os, sys, time
path, lock, prefix = sys.argv[1:4]
n, use_lock = int(sys.argv[4]), sys.argv[5] == "1"
for i in range(n):
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    if use_lock:
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        doc[f"{prefix}_{i}"] = i
        doc.setdefault("env", {})[f"{prefix.upper()}_{i}"] = str(i)
        tmp = f"{path}.{prefix}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        os.close(fd)
    time.sleep(0.03)
"""

# Reads the file as Claude Code would, as fast as it can, until told to stop.
READER = r"""
import json, os, sys
path, stop = sys.argv[1], sys.argv[2]
reads = bad = 0
while not os.path.exists(stop):
    try:
        with open(path, encoding="utf-8") as fh:
            json.load(fh)
        reads += 1
    except FileNotFoundError:
        pass
    except ValueError:
        bad += 1
print(reads, bad)
"""


def _switchers(repo: Path, env: dict[str, str]) -> list[subprocess.Popen[str]]:
    procs = []
    for i in range(SWITCHERS):
        first, second = ("glm", "claude") if i % 2 == 0 else ("claude", "glm")
        script = f'set -e; for r in $(seq {ROUNDS}); do "$M" {first}; "$M" {second}; done'
        procs.append(
            subprocess.Popen(
                ["/bin/sh", "-c", script],
                cwd=repo,
                env={**env, "M": MOAI},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return procs


def _run_storm(
    repo: Path, env: dict[str, str], tmp_path: Path, use_lock: bool
) -> tuple[list[tuple[int, str]], tuple[int, int]]:
    path = repo / SETTINGS
    write(path, json.dumps(ORIGINAL, indent=2) + "\n")
    lock = git_path(repo, "moai/settings.lock", env)
    lock.parent.mkdir(parents=True, exist_ok=True)
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), str(stop)], stdout=subprocess.PIPE, text=True
    )
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            USER_WRITER,
            str(path),
            str(lock),
            "user",
            str(USER_KEYS),
            "1" if use_lock else "0",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    procs = _switchers(repo, env)
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        results.append((proc.returncode, out + err))
    _, werr = writer.communicate(timeout=600)
    assert writer.returncode == 0, werr
    time.sleep(0.05)
    stop.write_text("")
    rout, _ = reader.communicate(timeout=60)
    reads, bad = (int(x) for x in rout.split())
    return results, (reads, bad)


def test_concurrent_switchers_and_a_locking_writer_lose_nothing(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    results, (reads, bad) = _run_storm(repo, env, tmp_path, use_lock=True)
    assert [code for code, _ in results] == [0] * SWITCHERS, [o for c, o in results if c]
    for _, output in results:
        assert FAKE_KEY not in output
    assert reads > 0 and bad == 0, "a reader saw a torn settings file"

    # the record matches the file: exactly GLM or exactly Claude, never half
    info = status_json(repo, env)
    assert info["active_backend"] in ("glm", "claude")
    doc = settings(repo)
    if info["active_backend"] == "glm":
        assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
        assert record_path(repo, env).exists()
    else:
        assert "ANTHROPIC_AUTH_TOKEN" not in doc["env"]
        assert not record_path(repo, env).exists()

    # back to Claude: the original plus every key the writer added, nothing of ours
    assert moai(repo, "claude", env=env).returncode == 0
    doc = settings(repo)
    assert doc["permissions"] == ORIGINAL["permissions"]
    assert doc["env"]["ANTHROPIC_BASE_URL"] == "https://proxy.example.invalid"
    assert doc["env"]["MY_VAR"] == "1"
    for i in range(USER_KEYS):
        assert doc[f"user_{i}"] == i, f"lost user_{i}"
        assert doc["env"][f"USER_{i}"] == str(i), f"lost env.USER_{i}"
    leftovers = {k for k in doc["env"] if k.startswith("ANTHROPIC_")} - {"ANTHROPIC_BASE_URL"}
    assert leftovers == set()
    assert not record_path(repo, env).exists()
    assert FAKE_KEY not in (repo / SETTINGS).read_text()


def test_concurrent_switchers_and_a_lock_free_writer_stay_valid(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    results, (reads, bad) = _run_storm(repo, env, tmp_path, use_lock=False)
    for code, output in results:
        # 0, or the documented refusal when the file kept changing under every attempt
        assert code == 0 or (code == 1 and "kept changing" in output), output
    assert reads > 0 and bad == 0, "a reader saw a torn settings file"
    json.loads((repo / SETTINGS).read_text())
    assert moai(repo, "status", env=env).returncode == 0
    assert moai(repo, "claude", env=env).returncode == 0
    json.loads((repo / SETTINGS).read_text())
