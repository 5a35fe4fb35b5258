"""`moai key set|list|remove NAME`: the user's key for each backend.

A backend's key lives in ~/.moai/.env.NAME (mode 0600; `glm` keeps GLM_API_KEY in
~/.moai/.env.glm, every other NAME MOAI_<NAME>_API_KEY), in ~/.moai/credentials.yaml
(`NAME_api_key`) or in $MOAI_<NAME>_API_KEY (settings/keys.py;
docs/configuration.md, "Where the keys come from"). `moai glm --set-key` is
`moai key set glm` (both through key_entry.set_key).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from moai_mashup import git, jsontext
from moai_mashup.config import ResolvedConfig
from moai_mashup.core.backends import GLM
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.githooks.install import forget_prepared_here
from moai_mashup.key_entry import (
    check_key_name,
    complete_key_names,
    config_quietly,
    defined_names,
    repo_config,
    set_key,
    what,
)
from moai_mashup.paths import SETTINGS_REL
from moai_mashup.settings import keys
from moai_mashup.settings.main_checkout import has_main_checkout, linked_worktrees, read_doc
from moai_mashup.status import table_backends


@click.group("key")
def command() -> None:
    """Set, list and remove the key of each backend (~/.moai/.env.NAME).

    \b
    moai key set NAME      read the key from a hidden prompt (or one line of stdin)
    moai key list          every backend here and every key file, keys masked
    moai key remove NAME   take NAME's key out of ~/.moai/.env.NAME
    """


@command.command("set")
@click.argument("backend", metavar="NAME", shell_complete=complete_key_names)
@click.option(
    "--base-url",
    metavar="URL",
    help="The endpoint this key is for (default: NAME's base URL in this repository, "
    "else the preset named NAME's).",
)
def set_cmd(backend: str, base_url: str | None) -> None:
    """Save NAME's key in ~/.moai/.env.NAME (mode 0600), read from a hidden prompt,
    or from one line of stdin without a terminal: printf %s "$KEY" | moai key set NAME.

    The key is saved with the endpoint it is for, and moai sends it nowhere else: a
    repository whose NAME points elsewhere gets no key until it is set again there."""
    set_key(backend, base_url)


def key_rows(cfg: ResolvedConfig | None) -> list[dict[str, Any]]:
    """One row per backend: the repository's (glm first) and every key file's."""
    names = defined_names(cfg) if cfg else [GLM]
    glm_env_var = cfg.glm_env_var if cfg else keys.ENV_FILE_VAR
    rows: list[dict[str, Any]] = []
    routed = table_backends(cfg) if cfg else []  # the backends a branch goes to here
    for name in dict.fromkeys([*names, *keys.key_file_backends()]):
        row: dict[str, Any] = {
            "backend": name,
            "defined": name in names if cfg else None,
            "masked": None,
            "source": None,
            "variable": keys.env_vars(name, glm_env_var)[0],
        }
        if cfg is not None:
            row["routed"] = name in routed
        if name != GLM:
            # the endpoint the key was set for, and the one this repository sends it to
            row["endpoint"] = None
            profile = cfg.backends.get(name) if cfg else None
            row["sent_to"] = profile.base_url if profile is not None else None
        try:
            found = keys.resolve_key(glm_env_var, name)
        except MoaiError as exc:
            row["error"] = str(exc)
        else:
            if found is not None:
                row["masked"], row["source"] = keys.mask(found.value), found.source
                if name != GLM:
                    row["endpoint"] = found.base_url
        rows.append(row)
    return rows


def render_rows(rows: list[dict[str, Any]]) -> list[str]:
    width = max(len(r["backend"]) for r in rows)
    lines = []
    for r in rows:
        if "error" in r:
            state = f"error: {r['error']}"
        elif r["source"] is None and r.get("routed") is False and r["defined"]:
            name = r["backend"]
            state = (
                f"no key (no branch goes to it here; for `moai use {name}`: moai key set {name})"
            )
        elif r["source"] is None:
            state = f"no key (run: moai key set {r['backend']})"
        else:
            state = f"{r['masked']} from {r['source']}" + _endpoint_note(r)
        note = "  (not defined in this repository)" if r["defined"] is False else ""
        lines.append(f"{r['backend']:<{width}}  {state}{note}")
    return lines


def _endpoint_note(row: dict[str, Any]) -> str:
    """What `moai key list` says of the endpoint a key is for ("" for glm)."""
    if "endpoint" not in row:
        return ""
    bound, sent_to = row["endpoint"], row["sent_to"]
    if bound is None:
        return f", no endpoint recorded (run: moai key set {row['backend']})"
    if sent_to is not None and not keys.same_endpoint(bound, sent_to):
        return f", for {bound}, not {sent_to} (run: moai key set {row['backend']})"
    return f", for {bound}"


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_cmd(as_json: bool) -> None:
    """Every backend this repository defines (glm and llm.backends) and every
    ~/.moai/.env.NAME, with its key masked and where it comes from. A config that
    cannot be read is one line on stderr, and the key files are listed anyway."""
    try:
        cfg = repo_config()
    except MoaiError as exc:
        click.echo(f"moai: warning: {exc}; listing the key files only", err=True)
        cfg = None
    rows = key_rows(cfg)
    if as_json:
        click.echo(jsontext.dumps({"keys": rows}, indent=2))
        return
    for line in render_rows(rows):
        click.echo(line)


@command.command("remove")
@click.argument("backend", metavar="NAME", shell_complete=complete_key_names)
def remove_cmd(backend: str) -> None:
    """Take NAME's key line out of ~/.moai/.env.NAME (the file's other lines stay;
    the file goes when nothing else is left in it)."""
    check_key_name(backend, None)  # any valid name: an old key may outlive its backend
    path = keys.env_file(backend)
    shown = keys.display(path)
    try:
        old = keys.read_env_file_key(path, backend)
    except MoaiError:
        old = None  # a malformed file: remove_key still takes the line out (or says why not)
    if keys.remove_key(backend) is None:
        click.echo(f"{backend}: no key in {shown}")
    else:
        masked = keys.mask(old) if old else "…"
        click.echo(f"removed {what(backend)} {masked} from {shown}")
        forget_prepared_here()
        if old:
            _held_in_worktrees(backend, old)
    _still_there(backend)


def _held_in_worktrees(backend: str, value: str) -> None:
    """Name each worktree of the repository we stand in whose settings.local.json still
    holds the removed key (inline mode, on that backend): the key file going does not
    take it out there, and Claude Code keeps sending it."""
    try:
        wt = git.discover(Path.cwd())
    except BadInput:
        return
    roots = [wt.main_root] if has_main_checkout(wt) else []
    for root in map(Path, dict.fromkeys([*roots, *(w.root for w in linked_worktrees(wt))])):
        env = read_doc(root / SETTINGS_REL, within=root).get("env")
        if isinstance(env, dict) and value in env.values():
            click.echo(
                f"note: {root / SETTINGS_REL} still holds this key ({backend}'s settings); "
                f"`moai claude` there takes it out (or `moai key set {backend}`, then "
                "`moai apply` there)",
                err=True,
            )


def _still_there(backend: str) -> None:
    """Name the other source a key of `backend` is still found in, if any."""
    cfg = config_quietly()
    try:
        found = keys.resolve_key(cfg.glm_env_var if cfg else keys.ENV_FILE_VAR, backend)
    except MoaiError:
        return
    if found is None:
        return
    if found.source.startswith("$"):
        fix = f"unset {found.source[1:]}"
    else:
        fix = f"remove {keys.credentials_field(backend)} there"
    click.echo(
        f"note: {backend} still has a key ({keys.mask(found.value)}) from {found.source}; {fix}",
        err=True,
    )
