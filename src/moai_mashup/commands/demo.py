"""`moai demo`: the main job end to end in a throwaway repository.

Runs with a temporary HOME holding a fake key, so the user's own ~/.moai and
~/.claude are never read or touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import click

FAKE_KEY = "demo0000fake0000key0000not0real"
HAND_WRITTEN = '{\n  "permissions": {"allow": ["Bash(npm test)"]}\n}\n'


def _git(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)


def _show(repo: Path, title: str) -> None:
    from moai_mashup.commands.status import collect

    old = Path.cwd()
    os.chdir(repo)
    try:
        info = collect()
    finally:
        os.chdir(old)
    click.secho(f"\n== {title}", bold=True)
    click.echo(
        f"   branch {info['branch']}: expected {info['expected_backend']}, "
        f"active {info['active_backend']}"
    )
    settings = repo / ".claude" / "settings.local.json"
    if settings.exists():
        doc = json.loads(settings.read_text(encoding="utf-8"))
        env = doc.get("env", {})
        if "ANTHROPIC_AUTH_TOKEN" in env:
            from moai_mashup.keys import mask

            env = dict(env, ANTHROPIC_AUTH_TOKEN=mask(env["ANTHROPIC_AUTH_TOKEN"]))
            doc = dict(doc, env=env)
        for line in json.dumps(doc, indent=2, ensure_ascii=False).splitlines():
            click.echo(f"   {line}")


def _apply(repo: Path) -> None:
    from moai_mashup.apply import apply_backend
    from moai_mashup.workspace import open_workspace

    ws = open_workspace(repo)
    if ws.expected is not None:
        apply_backend(ws.wt, ws.cfg, ws.expected)


@click.command("demo")
@click.option("--keep", is_flag=True, help="Keep the throwaway repository and print its path.")
def command(keep: bool) -> None:
    """Show the main job in a throwaway repository with a fake key."""
    from moai_mashup.commands.init import init_files
    from moai_mashup.git import discover
    from moai_mashup.keys import save_key

    tmp = Path(tempfile.mkdtemp(prefix="moai-demo-"))
    saved_home = os.environ.get("HOME")
    try:
        home = tmp / "home"
        home.mkdir()
        os.environ["HOME"] = str(home)
        env = dict(
            os.environ,
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="demo",
            GIT_AUTHOR_EMAIL="demo@example.invalid",
            GIT_COMMITTER_NAME="demo",
            GIT_COMMITTER_EMAIL="demo@example.invalid",
        )
        repo = tmp / "project"
        repo.mkdir()
        _git(["init", "-q", "-b", "main"], repo, env)
        init_files(discover(repo))
        _git(["add", "-A"], repo, env)
        _git(["commit", "-q", "-m", "moai init"], repo, env)
        save_key(FAKE_KEY)
        click.echo(f"throwaway repo: {repo} (mode mashup, fake GLM key in a temp HOME)")

        settings = repo / ".claude" / "settings.local.json"
        settings.parent.mkdir(exist_ok=True)
        settings.write_text(HAND_WRITTEN, encoding="utf-8")
        _apply(repo)
        _show(repo, "on main: Claude (a hand-written permission in settings.local.json)")

        _git(["checkout", "-q", "-b", "feature/SPEC-DEMO-001"], repo, env)
        _apply(repo)
        _show(repo, "git checkout -b feature/SPEC-DEMO-001: GLM")

        _git(["checkout", "-q", "main"], repo, env)
        _apply(repo)
        _show(repo, "git checkout main: Claude again, hand-written setting kept")
        same = settings.read_text(encoding="utf-8") == HAND_WRITTEN
        click.echo(
            f"\nsettings.local.json is byte for byte what you wrote: {'yes' if same else 'NO'}"
        )
        if not same:
            raise SystemExit(1)
    finally:
        if saved_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = saved_home
        if keep:
            click.echo(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
