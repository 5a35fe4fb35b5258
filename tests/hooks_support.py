"""Helpers for the git hook tests: install the shim, run git, see what the hook did."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from tests.gitrepo import moai

MISSING_PYTHON = "/nonexistent/moai-engine/python3"


def install(repo: Path, env: dict[str, str], *types: str) -> str:
    args = ["hooks", "install"]
    for t in types:
        args += ["--hook-type", t]
    r = moai(repo, *args, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def run_git(
    cwd: Path, *args: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )
    if check:
        assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc


def moai_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("moai:")]


def hook_path(repo: Path, hook_type: str = "post-checkout") -> Path:
    return repo / ".git" / "hooks" / hook_type


def break_engine(hook: Path) -> None:
    """Point the installed shim at a missing interpreter: any slow path now says so."""
    text = hook.read_text()
    text, n = re.subn(r"^MOAI_PYTHON=.*$", f"MOAI_PYTHON={MISSING_PYTHON}", text, flags=re.M)
    assert n == 1
    hook.write_text(text)


def took_slow_path(proc: subprocess.CompletedProcess[str]) -> bool:
    return "hook skipped" in proc.stderr and MISSING_PYTHON in proc.stderr


def age(*paths: Path, seconds: float = 60) -> None:
    """Date files back, as if they were last changed a while ago (the stamp's inputs)."""
    past = time.time() - seconds
    for path in paths:
        if path.exists():
            os.utime(path, (past, past))


def moai_written(repo: Path, home: Path) -> list[Path]:
    """What a checkout's moai writes: its state in the git dir, the private folders in
    ~/.moai/worktrees (the ownership record, the prepared switch) and `.claude/`."""
    tops = (repo / ".git" / "moai", home / ".moai" / "worktrees", repo / ".claude")
    return [path for top in tops for path in top.rglob("*")]


def age_inputs(repo: Path, home: Path) -> None:
    """Every input the engine's stamp may list, dated back a minute."""
    paths: list[Path] = []
    for top in (repo / ".moai", repo / ".claude", home / ".moai", repo / ".git" / "moai"):
        if top.exists():
            paths.append(top)
            paths += list(top.rglob("*"))
    # What keeps the settings file out of git: inputs of a prepared GLM switch.
    paths += [repo / ".gitignore", repo / ".git" / "info" / "exclude"]
    age(*paths)


def modules_after_import(module: str, watched: tuple[str, ...]) -> list[str]:
    """Which of `watched` a fresh `python -I -S` has loaded after importing `module`
    (the hook's interpreter flags; this test run's sys.path)."""
    import sys

    code = (
        f"import sys; sys.path[:0] = {sys.path!r}; import {module}; "
        f"print(' '.join(m for m in {watched!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return out.split()
