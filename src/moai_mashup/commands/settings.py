"""`moai settings move-to-user`: the user's routing keys out of the main checkout.

Claude Code 2.1.332 applies the main checkout's `.claude/settings.local.json`
in every linked worktree, over the worktree's own (settings/main_checkout.py), so a
proxy, token, pinned model or `apiKeyHelper` of the user's there beats GLM in
every SPEC worktree. Moving those keys to `~/.claude/settings.json` keeps them
in force wherever the worktree's own settings do not say otherwise, which is
what per-worktree routing needs. Only on the user's word (a confirmation or
`--yes`); a key `~/.claude/settings.json` already holds with another value is
never overwritten (the command stops, nothing written); every other key of
both files stays as it was.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import click

from moai_mashup import files, git, jsontext
from moai_mashup.core.settings_plan import detect_indent
from moai_mashup.errors import BadInput, Refused
from moai_mashup.limits import MAX_SETTINGS_BYTES, loads_json_unique
from moai_mashup.paths import LOCK_NAME, SETTINGS_REL, STATE_DIR
from moai_mashup.settings import main_checkout
from moai_mashup.settings.apply import user_settings_file
from moai_mashup.settings.keys import mask
from moai_mashup.settings.lock import file_lock

SECRET_PARTS = ("TOKEN", "KEY", "apiKeyHelper")


@click.group("settings")
def command() -> None:
    """Claude Code settings that moai's routing depends on."""


def _load(path: Path, within: Path) -> tuple[str | None, dict[str, Any]]:
    """The file's text and object (None, {}: absent): bounded, a regular file inside
    `within`, no absurd nesting or key given twice; BadInput (one line) otherwise."""
    try:
        text = files.read_text(path, MAX_SETTINGS_BYTES, str(path), within=within)
        if text is None:
            return None, {}
        if not text.strip():
            return text, {}
        doc = loads_json_unique(text, str(path))
    except BadInput as exc:
        raise BadInput(f"{exc}; fix it first, nothing moved") from None
    if not isinstance(doc, dict) or ("env" in doc and not isinstance(doc["env"], dict)):
        raise BadInput(f"{path}: not a settings object with an env object; nothing moved")
    return text, doc


def _get(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = doc
    for part in path:
        node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
    return node


_MISSING = object()


def _shown(path: tuple[str, ...], value: Any) -> str:
    name = ".".join(path)
    secret = any(p in name for p in SECRET_PARTS) and not name.endswith("_MODEL")
    return f"{name}={mask(str(value)) if secret and value else jsontext.dumps(value)}"


def _render(doc: dict[str, Any], text: str | None) -> str:
    return jsontext.dumps(doc, indent=detect_indent(text), ensure_ascii=False) + "\n"


@command.command("move-to-user")
@click.option("--yes", is_flag=True, help="Move without asking.")
def move_to_user(yes: bool) -> None:
    """Move your routing keys from the main checkout's settings.local.json to
    ~/.claude/settings.json, so each worktree's own routing holds."""

    wt = git.discover(Path.cwd())
    if not main_checkout.has_main_checkout(wt):
        click.echo("no main checkout (a bare repository): nothing applies across worktrees")
        return
    source = Path(wt.main_root) / SETTINGS_REL
    target = Path(user_settings_file())
    with file_lock(Path(wt.common_dir) / STATE_DIR / LOCK_NAME):
        src_text, src = _load(source, Path(wt.main_root))
        mine, ours = main_checkout.split_keys(src, main_checkout.main_record(wt))
        if ours:
            raise Refused(
                f"{source} holds moai's GLM keys (the main checkout is on GLM); switch it to "
                "its default branch first, then run this again"
            )
        if not mine:
            click.echo(f"{source}: no routing key of yours; nothing to move")
            return
        if git.tracks(wt.main_root, SETTINGS_REL):
            # Committed: the repository's keys, not the user's; at the user level they
            # would hold in every project (a committed endpoint or apiKeyHelper).
            raise Refused(
                f"{source} is tracked by git: its keys are the repository's, not yours, "
                "and moai does not move them into your own settings; review it, then in "
                f"{wt.main_root}: git rm --cached {SETTINGS_REL} (nothing moved)"
            )
        dst_text, dst = _load(target, target.parent)
        clash = [p for p in mine if _get(dst, p) is not _MISSING and _get(dst, p) != _get(src, p)]
        if clash:
            names = ", ".join(".".join(p) for p in clash)
            raise Refused(
                f"{target} already sets {names} to another value; merge them by hand "
                "(nothing moved)"
            )
        shown = ", ".join(_shown(p, _get(src, p)) for p in mine)
        click.echo(f"move from {source}\n  to {target}: {shown}")
        if not yes:
            if not sys.stdin.isatty():
                raise BadInput("not a terminal: run again with --yes to move them")
            if not click.confirm("Move them?", default=False):
                click.echo("nothing moved")
                return
        new_dst = jsontext.loads(jsontext.dumps(dst))
        new_src = jsontext.loads(jsontext.dumps(src))
        for path in mine:
            value = _get(src, path)
            node = new_dst
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
            parent = new_src.get(path[0]) if len(path) > 1 else new_src
            parent.pop(path[-1])
        if new_src.get("env") == {} and src.get("env"):
            del new_src["env"]  # emptied by the move
        # The user level first: a crash in between leaves the keys in both files
        # (as before for the main checkout), never in neither. 0600: it may now
        # hold a token.
        mode = 0o600
        if new_dst != dst:
            files.make_dirs(target.parent)
            files.write_text(target, _render(new_dst, dst_text), mode, within=target.parent)
        src_mode = stat.S_IMODE(os.stat(source).st_mode)
        new_bytes = _render(new_src, src_text).encode("utf-8")
        old_bytes = src_text.encode("utf-8") if src_text is not None else None
        if not files.replace_if_unchanged(
            source, new_bytes, old_bytes, src_mode, within=wt.main_root
        ):
            raise Refused(f"{source} changed meanwhile; the keys are in both files, run again")
    click.echo(f"moved {len(mine)} key(s); linked worktrees now follow their own routing")
