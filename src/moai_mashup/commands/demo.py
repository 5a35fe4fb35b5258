"""`moai demo`: the main job end to end in a throwaway repository.

Everything goes through the installed git hook and plain git commands (no
`moai apply`), as it does for a user. Runs with a temporary HOME holding a
fake key, so the user's own ~/.moai and ~/.claude are never read or touched.
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
    """Run git as a user would; show what moai's hook said."""
    click.secho(f"\n$ git {' '.join(args)}", fg="cyan")
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    for line in proc.stderr.splitlines():
        if line.startswith("moai:"):
            click.echo(f"   {line}")
    if proc.returncode != 0:
        raise click.ClickException(f"git {' '.join(args)} failed: {proc.stderr.strip()}")


def _quiet_git(args: list[str], cwd: Path, env: dict[str, str]) -> None:
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


@click.command("demo")
@click.option("--keep", is_flag=True, help="Keep the throwaway repository and print its path.")
def command(keep: bool) -> None:
    """Show the main job in a throwaway repository with a fake key."""
    from moai_mashup import hook_install
    from moai_mashup.commands.init import init_files
    from moai_mashup.git import discover
    from moai_mashup.keys import save_key

    tmp = Path(tempfile.mkdtemp(prefix="moai-demo-"))
    # The user's git config (a global core.hooksPath above all) stays out of it too.
    isolated = {
        "HOME": str(tmp / "home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(tmp / "home" / ".gitconfig"),
        "XDG_CONFIG_HOME": str(tmp / "home" / ".config"),
    }
    saved = {name: os.environ.get(name) for name in isolated}
    try:
        (tmp / "home").mkdir()
        os.environ.update(isolated)
        env = dict(
            os.environ,
            GIT_AUTHOR_NAME="demo",
            GIT_AUTHOR_EMAIL="demo@example.invalid",
            GIT_COMMITTER_NAME="demo",
            GIT_COMMITTER_EMAIL="demo@example.invalid",
        )
        repo = tmp / "project"
        repo.mkdir()
        _quiet_git(["init", "-q", "-b", "main"], repo, env)
        init_files(discover(repo))
        _quiet_git(["add", "-A"], repo, env)
        _quiet_git(["commit", "-q", "-m", "moai init"], repo, env)
        save_key(FAKE_KEY)
        click.echo(f"throwaway repo: {repo} (mode mashup, fake GLM key in a temp HOME)")
        for line in hook_install.install(discover(repo)):
            click.echo(f"moai hooks install: {line}")

        settings = repo / ".claude" / "settings.local.json"
        settings.parent.mkdir(exist_ok=True)
        settings.write_text(HAND_WRITTEN, encoding="utf-8")
        _show(repo, "on main: Claude (a hand-written permission in settings.local.json)")

        _git(["checkout", "-q", "-b", "feature/SPEC-DEMO-001"], repo, env)
        _show(repo, "the hook put feature/SPEC-DEMO-001 on GLM")

        wt = tmp / "wt-SPEC-DEMO-002"
        _git(["worktree", "add", "-q", "-b", "feature/SPEC-DEMO-002", str(wt)], repo, env)
        _show(wt, "a new worktree on feature/SPEC-DEMO-002: GLM from birth (post-worktree)")

        _git(["checkout", "-q", "main"], repo, env)
        _show(repo, "back on main: Claude again, hand-written setting kept")
        same = settings.read_text(encoding="utf-8") == HAND_WRITTEN
        click.echo(
            f"\nsettings.local.json is byte for byte what you wrote: {'yes' if same else 'NO'}"
        )
        if not same:
            raise SystemExit(1)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if keep:
            click.echo(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
