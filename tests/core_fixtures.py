"""Helpers for the core engine tests: snapshots that prove "nothing written"."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.gitrepo import git

RECORD = "ownership.json"

# Files moai may legitimately create while it fails: its lock and the validated-config
# cache live in the git dir and hold no user data; everything else must stay as it was.
INTERNAL = frozenset({"config-cache.json", "settings.lock"})

Snapshot = dict[str, tuple[bytes, int, int]]


def snapshot(*roots: Path) -> Snapshot:
    """Every file under `roots` (content, mtime_ns, mode); git's object store excluded."""
    out: Snapshot = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in ("objects", "logs", "refs")]
            for name in filenames:
                if name in INTERNAL or name == "index":
                    continue
                path = Path(dirpath) / name
                st = path.lstat()
                out[str(path)] = (path.read_bytes(), st.st_mtime_ns, st.st_mode)
    return out


def assert_unchanged(before: Snapshot, after: Snapshot) -> None:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert not (added or removed or changed), f"added={added} removed={removed} changed={changed}"


def git_path(cwd: Path, rel: str, env: dict[str, str]) -> Path:
    out = git(cwd, "rev-parse", "--path-format=absolute", "--git-path", rel, env=env).strip()
    return Path(out)


def private_folder(cwd: Path, env: dict[str, str]) -> Path:
    """The worktree's private folder, `~/.moai/worktrees/<id>` (settings/private.py): where
    its ownership record and prepared switch live; `<git-dir>/moai/private-id` names it."""
    pointer = git_path(cwd, "moai/private-id", env)
    folder = pointer.read_text().strip() if pointer.is_file() else "(no private-id)"
    return Path(env["HOME"]) / ".moai" / "worktrees" / folder


def make_private_folder(cwd: Path, env: dict[str, str]) -> Path:
    """The worktree's private folder, made as moai makes it (settings/private.ensure, in a
    child with the test's HOME): for tests that lay down a record by hand."""
    import sys

    state = git_path(cwd, "moai", env)
    state.mkdir(parents=True, exist_ok=True)
    code = "import sys\nfrom moai_mashup.settings import private as p\nprint(p.ensure(sys.argv[1]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(state)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(proc.stdout.strip())


def record_path(cwd: Path, env: dict[str, str]) -> Path:
    """The worktree's ownership record (in its private folder)."""
    return private_folder(cwd, env) / RECORD


def ready_dir(cwd: Path, env: dict[str, str]) -> Path:
    """The worktree's prepared switch files (in its private folder)."""
    return private_folder(cwd, env) / "ready"


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got: {stderr!r}"
    return lines[0]


def status_json(cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    from tests.gitrepo import moai

    r = moai(cwd, "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    data: dict[str, Any] = json.loads(r.stdout)
    return data


def sh(
    script: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
