"""A committed config that is not a plain file: git's command finishes, fast, on Claude.

A cloned repository may commit `llm.yaml` or `glm.json` as a link to a device
(`/dev/zero` streams forever, `/proc/self/fd/1` is git's own stdout, `/dev/tty`
waits for the keyboard), as a folder, as a link loop, or as a link to a file
outside the repository. Every path that reads the config (the checkout hook,
the commit guard, `moai status`, `apply`, `doctor`, the status line) answers
with one line naming the file, in seconds and a few MB, and never routes by it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

import pytest

from tests.gitrepo import (
    GLM_JSON,
    LLM_LOCAL_YAML,
    LLM_YAML,
    MOAI,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    moai,
    settings,
    write,
)
from tests.hooks_support import install, moai_lines

# Generous for a loaded 2-core machine; a hang (the bug) takes until the timeout.
FAST_S = 15.0

LINK_TARGETS = {
    "dev-zero": "/dev/zero",
    "dev-random": "/dev/random",
    "dev-stdin": "/dev/stdin",
    "own-stdout": "/proc/self/fd/1",
    "dev-tty": "/dev/tty",
}


def _commit_all(repo: Path, env: dict[str, str], message: str) -> None:
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-q", "--no-verify", "-m", message, env=env)


def _replace_with_link(path: Path, target: str) -> None:
    path.unlink()
    os.symlink(target, path)


def _make_hostile(repo: Path, rel: str, kind: str, tmp_path: Path) -> None:
    path = repo / rel
    if kind in LINK_TARGETS:
        _replace_with_link(path, LINK_TARGETS[kind])
    elif kind == "folder":
        path.unlink()
        write(path / "inside", "x\n")
    elif kind == "loop":
        _replace_with_link(path, path.name)
    elif kind == "outside":
        # A valid config, outside the repository, that would put main on GLM.
        outside = write(tmp_path / "elsewhere.yaml", SEED_LLM_YAML.replace("mashup", "glm-only"))
        _replace_with_link(path, os.path.relpath(outside, path.parent))
    else:
        raise AssertionError(kind)


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
    )
    took = time.monotonic() - started
    assert took < FAST_S, f"{cmd} took {took:.1f} s"
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb > before:  # a child set a new high: it must be small
        assert peak_kb < 200_000, f"{cmd}: a child reached {peak_kb} KB"
    return proc


HOSTILE = [*LINK_TARGETS, "folder", "loop", "outside"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_llm_yaml_leaves_checkout_fast_and_on_claude(
    repo: Path, env: dict[str, str], keyed_home: str, kind: str, tmp_path: Path
) -> None:
    install(repo, env)
    _make_hostile(repo, LLM_YAML, kind, tmp_path)
    _commit_all(repo, env, "hostile config")
    for branch in ("feature/SPEC-A", "main"):
        args = ["checkout", "-q", "-B" if branch != "main" else "", branch]
        proc = _timed(["git", *[a for a in args if a]], repo, env)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "env" not in settings(repo), (branch, proc.stderr)  # never routed by it
        lines = moai_lines(proc.stderr)
        assert len(lines) == 1 and LLM_YAML in lines[0], proc.stderr


@pytest.mark.parametrize("kind", ["dev-zero", "own-stdout", "outside", "loop"])
@pytest.mark.parametrize("command", ["status", "apply", "doctor", "check"])
def test_moai_commands_refuse_a_hostile_llm_yaml_in_one_line(
    repo: Path, env: dict[str, str], kind: str, command: str, tmp_path: Path
) -> None:
    _make_hostile(repo, LLM_YAML, kind, tmp_path)
    args = {"check": ["check", "--staged"]}.get(command, [command])
    before = sorted(p.name for p in repo.iterdir())
    proc = _timed([MOAI, *args], repo, env)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert LLM_YAML in proc.stderr + proc.stdout, (proc.stdout, proc.stderr)
    # doctor lists every check, this one failed among them; the commit guard still
    # runs its key checks without the team's policy (a warning, as for any bad config)
    if command not in ("doctor", "check"):
        assert proc.returncode != 0
    assert not (repo / SETTINGS).exists()
    assert sorted(p.name for p in repo.iterdir()) == before


def test_a_commit_finishes_with_a_hostile_llm_yaml(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    install(repo, env)
    _make_hostile(repo, LLM_YAML, "own-stdout", tmp_path)
    git(repo, "add", "-A", env=env)
    proc = _timed(["git", "commit", "-q", "-m", "x"], repo, env)
    assert "Traceback" not in proc.stderr
    assert LLM_YAML in proc.stderr


@pytest.mark.parametrize("kind", ["dev-zero", "folder", "loop", "outside"])
def test_a_hostile_glm_json_keeps_the_spec_branch_on_claude(
    repo: Path, env: dict[str, str], keyed_home: str, kind: str, tmp_path: Path
) -> None:
    install(repo, env)
    _make_hostile(repo, GLM_JSON, kind, tmp_path)
    _commit_all(repo, env, "hostile template")
    proc = _timed(["git", "checkout", "-q", "-b", "feature/SPEC-A"], repo, env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "env" not in settings(repo), proc.stderr
    assert any(GLM_JSON in line for line in moai_lines(proc.stderr)), proc.stderr
    assert keyed_home not in proc.stderr


def test_a_fifo_as_the_local_config_never_blocks(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """llm.local.yaml is the user's, untracked: a FIFO there (made by any tool) is refused."""
    install(repo, env)
    os.mkfifo(repo / LLM_LOCAL_YAML)
    proc = _timed(["git", "checkout", "-q", "-b", "feature/SPEC-A"], repo, env)
    assert proc.returncode == 0, proc.stderr
    assert any("FIFO" in line and LLM_LOCAL_YAML in line for line in moai_lines(proc.stderr))
    assert "env" not in settings(repo)
    proc = _timed([MOAI, "status"], repo, env)
    assert proc.returncode != 0 and "FIFO" in proc.stderr


def test_a_config_at_the_size_bound_loads_and_one_byte_more_is_refused(
    repo: Path, env: dict[str, str]
) -> None:
    from moai_mashup.limits import MAX_CONFIG_BYTES

    head = SEED_LLM_YAML.encode()
    padding = MAX_CONFIG_BYTES - len(head) - 1
    exact = head + b"#" + b"x" * (padding - 1) + b"\n"
    assert len(exact) == MAX_CONFIG_BYTES
    (repo / LLM_YAML).write_bytes(exact)
    r = moai(repo, "status", env=env)
    assert r.returncode == 0, r.stderr
    assert "mashup" in r.stdout
    (repo / LLM_YAML).write_bytes(exact + b"\n")
    r = moai(repo, "status", env=env)
    assert r.returncode != 0
    assert LLM_YAML in r.stderr and "larger than 1 MiB" in r.stderr, r.stderr


def test_a_dangling_llm_yaml_is_not_configured(repo: Path, env: dict[str, str]) -> None:
    install(repo, env)
    _replace_with_link(repo / LLM_YAML, "nowhere.yaml")
    _commit_all(repo, env, "dangling")
    proc = _timed(["git", "checkout", "-q", "-b", "feature/SPEC-A"], repo, env)
    assert proc.returncode == 0 and not moai_lines(proc.stderr), proc.stderr
    assert "env" not in settings(repo)
