"""`moai glm` / `moai claude` / `moai status` as a user runs them, on real repositories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.gitrepo import FAKE_KEY, MOAI, SETTINGS, aged, git, moai, settings, write


def test_glm_then_claude_restores_user_file_byte_for_byte(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    original = (
        '{\n    "permissions": {"allow": ["Bash(ls)"]},\n    "env": {\n'
        '        "ANTHROPIC_BASE_URL": "https://proxy.example.invalid",\n'
        '        "MY_VAR": "1"\n    },\n    "model": "opus"\n}\n'
    )
    write(repo / SETTINGS, original)
    r = moai(repo, "glm", env=env)
    assert r.returncode == 0, r.stderr
    doc = settings(repo)
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert doc["env"]["ANTHROPIC_BASE_URL"] == "https://api.z.ai/api/anthropic"
    assert doc["env"]["MY_VAR"] == "1"
    # apiKeyHelper "" blanks a global helper of the user's (see apply.desired_glm).
    assert list(doc) == ["permissions", "env", "model", "apiKeyHelper"]
    assert doc["apiKeyHelper"] == "" and doc["env"]["ANTHROPIC_API_KEY"] == ""
    assert FAKE_KEY not in r.stdout + r.stderr
    assert oct((repo / SETTINGS).stat().st_mode & 0o777) == "0o600"
    r = moai(repo, "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert (repo / SETTINGS).read_text() == original


def test_glm_is_idempotent(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    assert moai(repo, "glm", env=env).returncode == 0
    before = os.stat(repo / SETTINGS).st_mtime_ns
    r = moai(repo, "glm", env=env)
    assert r.returncode == 0
    assert "already active" in r.stdout
    assert os.stat(repo / SETTINGS).st_mtime_ns == before


def test_glm_leaves_git_status_clean(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    (repo / ".gitignore").unlink()
    git(repo, "commit", "-qam", "drop gitignore", env=env)
    assert moai(repo, "glm", env=env).returncode == 0
    assert git(repo, "status", "--porcelain", env=env) == ""
    assert "/.claude/settings.local.json" in (repo / ".git/info/exclude").read_text()


def test_status_json_reports_drift_and_masked_key(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    assert moai(repo, "glm", env=env).returncode == 0
    r = moai(repo, "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["mode"] == "mashup"
    assert info["expected_backend"] == "claude"
    assert info["active_backend"] == "glm"
    assert info["drift"] is True
    assert info["key"]["source"] == "~/.moai/.env.glm"
    assert FAKE_KEY not in r.stdout
    assert info["key"]["masked"] == f"{FAKE_KEY[:4]}…{FAKE_KEY[-4:]}"


def test_corrupt_settings_never_overwritten(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    aged(write(repo / SETTINGS, '{"env": {'))  # not a save in progress moai would wait out
    r = moai(repo, "glm", env=env)
    assert r.returncode == 2
    assert SETTINGS in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert (repo / SETTINGS).read_text() == '{"env": {'


def test_set_key_reads_a_bounded_stdin(repo: Path, env: dict[str, str], home: Path) -> None:
    """`moai glm --set-key < some-big-file`: one line, nothing saved, never read whole."""
    big = home / "big"
    big.write_bytes(b"x" * (1 << 20))
    with big.open("rb") as fh:
        proc = subprocess.run(
            [MOAI, "glm", "--set-key"],
            cwd=repo,
            env=env,
            stdin=fh,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 2 and "stdin: larger than 64 KiB" in proc.stderr, proc.stderr
    assert not (home / ".moai" / ".env.glm").exists()
