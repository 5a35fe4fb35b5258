"""`moai telemetry settings` runs inside `claude --settings "$(moai telemetry settings)"`:
whatever goes wrong, it prints JSON Claude Code accepts and one line on stderr."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cost.bounded import run_moai
from tests.cost.test_telemetry import COLLECTOR, commit_llm, telemetry_yaml
from tests.gitrepo import MOAI, moai

DEEP = '{"env": {"OTEL_RESOURCE_ATTRIBUTES": "mine=1"}, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"


def test_in_a_removed_directory_it_prints_empty_settings(
    tmp_path: Path, repo: Path, env: dict[str, str]
) -> None:
    gone = repo / "gone"
    gone.mkdir()
    proc = subprocess.run(
        ["sh", "-c", 'cd "$1" && rmdir "$1" && exec "$2" telemetry settings', "sh", gone, MOAI],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "{}\n"
    assert proc.stderr == "moai: the current directory was removed; nothing to export from here\n"


def test_an_error_no_check_foresaw_still_gives_json_and_one_line(
    tmp_path: Path, repo: Path, env: dict[str, str]
) -> None:
    """No `git` on PATH: Claude Code starts all the same, without telemetry; the error's
    first line says why. MOAI_DEBUG shows the traceback instead."""
    commit_llm(repo, env, telemetry_yaml())
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    no_git = dict(env, PATH=str(empty))
    r = subprocess.run(
        [MOAI, "telemetry", "settings"],
        cwd=repo,
        env=no_git,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (r.returncode, r.stdout) == (0, "{}\n"), r.stderr
    assert r.stderr == (
        "moai: telemetry settings: [Errno 2] No such file or directory: 'git'; nothing exported\n"
    )
    r = subprocess.run(
        [MOAI, "telemetry", "settings"],
        cwd=repo,
        env=dict(no_git, MOAI_DEBUG="1"),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert r.returncode != 0 and r.stdout == ""
    assert "Traceback" in r.stderr and "FileNotFoundError" in r.stderr


@pytest.mark.parametrize("kind", ["deep", "dev-zero"])
def test_an_unreadable_user_settings_file_still_gives_json_and_one_line(
    repo: Path, env: dict[str, str], home: Path, kind: str
) -> None:
    commit_llm(repo, env, telemetry_yaml())
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    user_settings = home / ".claude" / "settings.json"
    user_settings.parent.mkdir(parents=True, exist_ok=True)
    if kind == "deep":
        user_settings.write_text(DEEP, encoding="utf-8")
    else:
        user_settings.symlink_to("/dev/zero")
    r = run_moai(repo, "telemetry", "settings", env=env, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout)["env"]
    assert got["OTEL_EXPORTER_OTLP_ENDPOINT"] == COLLECTOR  # the export still works
    assert "mine=1" not in got["OTEL_RESOURCE_ATTRIBUTES"]
    assert r.stderr.count("\n") == 1 and str(user_settings) in r.stderr, r.stderr[-2000:]
    assert r.peak_mib < 100
