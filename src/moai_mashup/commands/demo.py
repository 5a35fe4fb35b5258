"""`moai demo`: the main job end to end in a throwaway repository.

Everything goes through the installed git hook and plain git commands (no
`moai apply`), as it does for a user. Runs with a temporary HOME holding a
fake key, so the user's own ~/.moai and ~/.claude are never read or touched.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from moai_mashup import files, jsontext, spawn
from moai_mashup.claude_code import install as cc
from moai_mashup.git import discover
from moai_mashup.githooks import install as hook_install
from moai_mashup.limits import MAX_SETTINGS_BYTES
from moai_mashup.paths import SETTINGS_REL
from moai_mashup.scaffold import init_files
from moai_mashup.settings.keys import mask, save_key
from moai_mashup.status import collect

FAKE_KEY = "demo0000fake0000key0000not0real"
HAND_WRITTEN = '{\n  "permissions": {"allow": ["Bash(npm test)"]}\n}\n'


def _git(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run git as a user would; show what moai's hook said."""
    click.secho(f"\n$ git {' '.join(args)}", fg="cyan")
    code, _, raw = spawn.run(["git", "-C", str(cwd), *args], env=env)
    stderr = raw.decode("utf-8", "replace")
    for line in stderr.splitlines():
        if line.startswith("moai:"):
            click.echo(f"   {line}")
    if code != 0:
        raise click.ClickException(f"git {' '.join(args)} failed: {stderr.strip()}")


def _quiet_git(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    code, _, stderr = spawn.run(["git", "-C", str(cwd), *args], env=env)
    if code != 0:
        raise click.ClickException(f"git {' '.join(args)} failed: {stderr.decode().strip()}")


def _read(path: Path, root: Path) -> str | None:
    """A settings file of the throwaway repository (moai wrote it), through files."""
    return files.read_text(path, MAX_SETTINGS_BYTES, within=root)


def _show(repo: Path, title: str) -> None:
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
    text = _read(repo / SETTINGS_REL, repo)
    if text is not None:
        doc = jsontext.loads(text)
        env = doc.get("env", {})
        if "ANTHROPIC_AUTH_TOKEN" in env:
            env = dict(env, ANTHROPIC_AUTH_TOKEN=mask(env["ANTHROPIC_AUTH_TOKEN"]))
            doc = dict(doc, env=env)
        for line in jsontext.dumps(doc, indent=2, ensure_ascii=False).splitlines():
            click.echo(f"   {line}")


@click.command("demo")
@click.option("--keep", is_flag=True, help="Keep the throwaway repository and print its path.")
def command(keep: bool) -> None:
    """Show the main job in a throwaway repository with a fake key."""

    tmp = Path(files.make_temp_dir("moai-demo-"))
    # The user's git config (a global core.hooksPath above all) stays out of it too.
    isolated = {
        "HOME": str(tmp / "home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(tmp / "home" / ".gitconfig"),
        "XDG_CONFIG_HOME": str(tmp / "home" / ".config"),
    }
    saved = {name: os.environ.get(name) for name in isolated}
    try:
        files.make_dirs(tmp / "home", 0o700, within=tmp)
        os.environ.update(isolated)
        env = dict(
            os.environ,
            GIT_AUTHOR_NAME="demo",
            GIT_AUTHOR_EMAIL="demo@example.invalid",
            GIT_COMMITTER_NAME="demo",
            GIT_COMMITTER_EMAIL="demo@example.invalid",
        )
        repo = tmp / "project"
        files.make_dirs(repo, within=tmp)
        _quiet_git(["init", "-q", "-b", "main"], repo, env)
        init_files(discover(repo))
        _quiet_git(["add", "-A"], repo, env)
        _quiet_git(["commit", "-q", "-m", "moai init"], repo, env)
        save_key(FAKE_KEY)
        click.echo(f"throwaway repo: {repo} (mode mashup, fake GLM key in a temp HOME)")
        for line in hook_install.install(discover(repo)):
            click.echo(f"moai hooks install: {line}")

        settings = repo / SETTINGS_REL
        files.make_dirs(settings.parent, within=repo)
        files.write_text(settings, HAND_WRITTEN, 0o644, within=repo)
        _show(repo, "on main: Claude (a hand-written permission in settings.local.json)")

        _git(["checkout", "-q", "-b", "feature/SPEC-DEMO-001"], repo, env)
        _show(repo, "the hook put feature/SPEC-DEMO-001 on GLM")

        wt = tmp / "wt-SPEC-DEMO-002"
        _git(["worktree", "add", "-q", "-b", "feature/SPEC-DEMO-002", str(wt)], repo, env)
        _show(wt, "a new worktree on feature/SPEC-DEMO-002: GLM from birth (post-worktree)")

        _git(["checkout", "-q", "main"], repo, env)
        _show(repo, "back on main: Claude again, hand-written setting kept")
        same = _read(settings, repo) == HAND_WRITTEN
        click.echo(
            f"\nsettings.local.json is byte for byte what you wrote: {'yes' if same else 'NO'}"
        )
        if not same:
            raise SystemExit(1)
        _claude_code(repo, env)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if keep:
            click.echo(f"kept: {tmp}")
        else:
            files.remove_tree(tmp)


def _moai(args: list[str], cwd: Path, env: dict[str, str], payload: dict[str, Any]) -> str:
    """This moai, run as Claude Code runs it: JSON on stdin, the session's environment."""
    code, stdout, stderr = spawn.run(
        [sys.executable, "-m", "moai_mashup", *args],
        cwd=str(cwd),
        env=env,
        stdin=jsontext.dumps(payload).encode(),
    )
    for line in stderr.decode("utf-8", "replace").splitlines():
        click.echo(f"   {line}")
    if code != 0:
        raise click.ClickException(f"moai {' '.join(args)} failed")
    return stdout.decode("utf-8", "replace").strip()


def _claude_code(repo: Path, env: dict[str, str]) -> None:
    """What Claude Code does with moai's hooks (no Claude Code needed: its hook calls)."""

    click.secho("\n== Claude Code: moai hooks install --claude-code", bold=True)
    for line in cc.install(cc.target(False, repo)):
        click.echo(f"   {line}")
    click.secho(
        "\n$ claude -w SPEC-DEMO-003   (Claude Code calls the WorktreeCreate hook)", fg="cyan"
    )
    hook = ["hook-impl", "claude-code"]
    path = _moai([*hook, "worktree-create"], repo, env, {"cwd": str(repo), "name": "SPEC-DEMO-003"})
    wt = Path(path.splitlines()[-1])
    click.echo(f"   the session starts in {wt}")
    session_env = dict(env)
    local = jsontext.loads(_read(wt / SETTINGS_REL, wt) or "{}")
    session_env.update({k: str(v) for k, v in local.get("env", {}).items()})
    line = _moai([*hook, "session-start"], wt, session_env, {"cwd": str(wt), "source": "startup"})
    click.echo(f"   SessionStart context for the model: {line}")
    model = session_env.get("ANTHROPIC_DEFAULT_OPUS_MODEL", "glm-4.7")
    status = {"model": {"id": model, "display_name": model}, "workspace": {"current_dir": str(wt)}}
    click.echo(f"   status line: {_moai(['statusline'], wt, session_env, status)}")
    click.secho(
        "\n$ git checkout -b feature/SPEC-DEMO-004; claude; then git checkout main under it",
        fg="cyan",
    )
    _quiet_git(["checkout", "-q", "-b", "feature/SPEC-DEMO-004"], repo, env)
    started = dict(env)  # the session's environment, read once when it started (GLM)
    local = jsontext.loads(_read(repo / SETTINGS_REL, repo) or "{}")
    started.update({k: str(v) for k, v in local.get("env", {}).items()})
    _quiet_git(["checkout", "-q", "main"], repo, env)
    held = _moai([*hook, "user-prompt-submit"], repo, started, {"cwd": str(repo)})
    reason = jsontext.loads(held)["reason"] if held else "(not held)"
    click.echo(f"   UserPromptSubmit holds the next prompt: {reason}")
