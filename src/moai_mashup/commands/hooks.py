"""`moai hooks install | uninstall | status`: moai's git hooks, without pre-commit."""

from __future__ import annotations

from pathlib import Path

import click

from moai_mashup import git, jsontext
from moai_mashup.claude_code import install as cc
from moai_mashup.claude_code.install import Status
from moai_mashup.githooks import install as hook_install

_TYPES = click.option(
    "--hook-type",
    "-t",
    "hook_types",
    multiple=True,
    type=click.Choice(hook_install.SUPPORTED_HOOK_TYPES),
    help="Hook type (repeatable); default: " + ", ".join(hook_install.DEFAULT_HOOK_TYPES) + ".",
)


@click.group("hooks")
def command() -> None:
    """Install, remove or inspect moai's git hooks (chaining any hook already there).

    \b
    With a hook manager (husky, a .githooks folder) instead, call moai from
    each of its hooks: `moai hook-impl <hook> "$@"` in post-checkout,
    post-rewrite, post-merge, pre-commit, prepare-commit-msg and commit-msg.
    """


_CLAUDE_CODE = click.option(
    "--claude-code",
    is_flag=True,
    help="Claude Code's hooks and status line in the repository's .claude/settings.json.",
)
_USER = click.option(
    "--user", is_flag=True, help="With --claude-code: ~/.claude/settings.json instead."
)


@command.command("install")
@_TYPES
@_CLAUDE_CODE
@_USER
@click.option(
    "--statusline", "replace_statusline", is_flag=True, help="Replace a statusLine you have."
)
def install(
    hook_types: tuple[str, ...], claude_code: bool, user: bool, replace_statusline: bool
) -> None:
    """Install the hook shims where git runs hooks (common dir or core.hooksPath).

    With --claude-code: moai's WorktreeCreate, WorktreeRemove, SessionStart and
    UserPromptSubmit hooks and its statusLine, merged into Claude Code's settings.
    """
    if claude_code or user:
        for line in cc.install(cc.target(user), replace_statusline=replace_statusline):
            click.echo(line)
        return
    wt = git.discover(Path.cwd())
    types = hook_types or hook_install.DEFAULT_HOOK_TYPES
    for line in hook_install.install(wt, types):
        click.echo(line)
    if "post-checkout" in types:
        apply_here(wt)


def apply_here(wt: git.Worktree) -> None:
    out, err = hook_install.apply_here(wt)
    for line in out:
        click.echo(line)
    for line in err:
        click.echo(line, err=True)


@command.command("uninstall")
@_TYPES
@_CLAUDE_CODE
@_USER
def uninstall(hook_types: tuple[str, ...], claude_code: bool, user: bool) -> None:
    """Remove moai's shims and restore the hooks they chained (--claude-code: moai's
    entries in Claude Code's settings, and nothing else)."""
    if claude_code or user:
        for line in cc.uninstall(cc.target(user)):
            click.echo(line)
        return
    wt = git.discover(Path.cwd())
    for line in hook_install.uninstall(wt, hook_types or hook_install.SUPPORTED_HOOK_TYPES):
        click.echo(line)


@command.command("status")
@_TYPES
@_CLAUDE_CODE
@_USER
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(hook_types: tuple[str, ...], claude_code: bool, user: bool, as_json: bool) -> None:
    """Which hooks are moai's, what they chain, and whether their engine still exists.

    Also reports moai's Claude Code hooks (both settings files); --json with
    --claude-code [--user] prints those as one JSON object.
    """

    if as_json and (claude_code or user):
        click.echo(jsontext.dumps(cc.status(cc.target(user))._asdict(), indent=2))
        return
    wt = git.discover(Path.cwd())
    states = hook_install.status(wt, hook_types or hook_install.DEFAULT_HOOK_TYPES)
    if not as_json:
        for user_scope in (False, True):
            st = cc.status(cc.target(user_scope))
            if user_scope and not (st.installed or st.warnings or st.statusline == "moai"):
                continue  # the user's file says nothing of moai: no line for it
            for line in claude_code_lines(st):
                click.echo(line)
    if as_json:
        click.echo(jsontext.dumps([s._asdict() | {"path": str(s.path)} for s in states], indent=2))
        return
    for s in states:
        if s.state == "ours":
            notes = []
            if s.path.name.endswith(".legacy"):
                notes.append("run by the pre-commit framework's hook")
            if s.legacy:
                notes.append(f"chains {s.hook_type}{hook_install.CHAINED_SUFFIX}")
            if not s.python_ok:
                notes.append(f"engine {s.python} is gone: run moai hooks install")
            elif not s.current:
                notes.append("written by another moai version: run moai hooks install")
            tail = f" ({'; '.join(notes)})" if notes else ""
            click.echo(f"{s.hook_type}: installed, {s.path}{tail}")
        elif s.state == "foreign":
            click.echo(f"{s.hook_type}: {s.path} is not moai's (moai hooks install chains it)")
        else:
            click.echo(f"{s.hook_type}: not installed (run: moai hooks install)")


def claude_code_lines(st: object) -> list[str]:
    """`moai hooks status`'s lines for one Claude Code settings file."""

    assert isinstance(st, Status)
    if not st.installed and st.statusline != "moai":
        lines = [f"claude-code: not in {st.settings} (run: moai hooks install --claude-code)"]
    elif st.missing:
        lines = [
            f"claude-code: {st.settings}: missing {', '.join(st.missing)} "
            "(run: moai hooks install --claude-code)"
        ]
    else:
        sl = {"moai": "moai's", "yours": "yours (kept)", "none": "none"}[st.statusline]
        lines = [f"claude-code: installed in {st.settings}; statusLine: {sl}"]
    return lines + [f"claude-code: warning: {w}" for w in st.warnings]
