"""`moai hooks install | uninstall | status`: moai's git hooks, without pre-commit."""

from __future__ import annotations

import json
from pathlib import Path

import click

from moai_mashup import git, hook_install

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
    """Install, remove or inspect moai's git hooks (chaining any hook already there)."""


@command.command("install")
@_TYPES
def install(hook_types: tuple[str, ...]) -> None:
    """Install the hook shims where git runs hooks (common dir or core.hooksPath)."""
    wt = git.discover(Path.cwd())
    for line in hook_install.install(wt, hook_types or hook_install.DEFAULT_HOOK_TYPES):
        click.echo(line)


@command.command("uninstall")
@_TYPES
def uninstall(hook_types: tuple[str, ...]) -> None:
    """Remove moai's shims and restore the hooks they chained."""
    wt = git.discover(Path.cwd())
    for line in hook_install.uninstall(wt, hook_types or hook_install.SUPPORTED_HOOK_TYPES):
        click.echo(line)


@command.command("status")
@_TYPES
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(hook_types: tuple[str, ...], as_json: bool) -> None:
    """Which hooks are moai's, what they chain, and whether their engine still exists."""
    wt = git.discover(Path.cwd())
    states = hook_install.status(wt, hook_types or hook_install.DEFAULT_HOOK_TYPES)
    if as_json:
        click.echo(json.dumps([s._asdict() | {"path": str(s.path)} for s in states], indent=2))
        return
    for s in states:
        if s.state == "ours":
            notes = []
            if s.legacy:
                notes.append(f"chains {s.path.name}.legacy")
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
