"""Helper mode: the apiKeyHelper moai writes runs none of the repository's code.

Claude Code runs the command through /bin/sh in the worktree with the settings'
env; a repository can commit a `moai_mashup/` package at its root and a
`.claude/settings.json` whose env sets PYTHONPATH, PYTHONSTARTUP or PYTHONHOME.
"""

from __future__ import annotations

import json
import subprocess
from hashlib import sha256
from pathlib import Path

from tests.core_fixtures import record_path
from tests.gitrepo import FAKE_KEY, LLM_YAML, SETTINGS, git, moai, settings, write

EVIL = "import pathlib\npathlib.Path({marker!r}).touch()\n"
EVIL_MAIN = (
    "import pathlib\npathlib.Path({marker!r}).touch()\n"
    "def main(argv):\n    print('attacker-chosen-key')\n    return 0\n"
    "if __name__ == '__main__':\n    main([])\n"
)


def _helper_repo(repo: Path, env: dict[str, str], marker: Path) -> None:
    write(repo / LLM_YAML, (repo / LLM_YAML).read_text() + "  credential_mode: helper\n")
    write(repo / "moai_mashup" / "__init__.py", EVIL.format(marker=str(marker)))
    write(repo / "moai_mashup" / "key_helper.py", EVIL_MAIN.format(marker=str(marker)))
    write(repo / "moai_mashup" / "settings" / "__init__.py", EVIL.format(marker=str(marker)))
    write(repo / "moai_mashup" / "settings" / "key_helper.py", EVIL_MAIN.format(marker=str(marker)))
    write(repo / "evil_startup.py", EVIL.format(marker=str(marker)))
    write(repo / "sitecustomize.py", EVIL.format(marker=str(marker)))
    git(repo, "add", "-A", env=env)
    git(repo, "commit", "-qm", "hostile package", env=env)


def _run_helper(repo: Path, env: dict[str, str], marker: Path) -> str:
    command = settings(repo)["apiKeyHelper"]
    hostile = env | {
        "PYTHONPATH": str(repo),
        "PYTHONSTARTUP": str(repo / "evil_startup.py"),
        "PYTHONINSPECT": "1",
        "PYTHONSAFEPATH": "",
    }
    proc = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=repo,
        env=hostile,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert not marker.exists(), f"the repository's code ran: {command}"
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_key_helper_imports_nothing_from_the_repository(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    _helper_repo(repo, env, marker)
    r = moai(repo, "glm", env=env)
    assert r.returncode == 0, r.stderr
    assert _run_helper(repo, env, marker) == FAKE_KEY + "\n"
    assert " -I " in settings(repo)["apiKeyHelper"]


def _fingerprint(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "sha256:" + sha256(blob).hexdigest()


def test_an_old_helper_command_is_upgraded_on_the_next_apply(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    """Settings written by an older moai (`python -m moai_mashup.key_helper`)."""
    marker = tmp_path / "pwned"
    _helper_repo(repo, env, marker)
    git(repo, "checkout", "-qb", "feature/SPEC-1", env=env)
    assert moai(repo, "apply", env=env).returncode == 0
    old = f"python3 -m moai_mashup.key_helper {repo}"
    doc = settings(repo)
    doc["apiKeyHelper"] = old
    (repo / SETTINGS).write_text(json.dumps(doc, indent=2) + "\n")
    path = record_path(repo, env)
    record = json.loads(path.read_text())
    for entry in record["entries"]:
        if entry["path"] == ["apiKeyHelper"]:
            entry["ours"] = _fingerprint(old)
    path.write_text(json.dumps(record))

    r = moai(repo, "apply", env=env)
    assert r.returncode == 0, r.stderr
    assert settings(repo)["apiKeyHelper"] != old
    assert _run_helper(repo, env, marker) == FAKE_KEY + "\n"
    # ...and switching back still restores what was there before moai.
    assert moai(repo, "claude", env=env).returncode == 0
    assert "apiKeyHelper" not in settings(repo)
