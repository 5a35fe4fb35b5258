"""`moai key set|list|remove NAME`: the user's key for each backend.

A backend's key lives in ~/.moai/.env.NAME (mode 0600; `glm` keeps GLM_API_KEY in
~/.moai/.env.glm, every other NAME MOAI_<NAME>_API_KEY), in ~/.moai/credentials.yaml
(`NAME_api_key`) or in $MOAI_<NAME>_API_KEY (settings/keys.py; README, "Keys";
docs/configuration.md, "Where the keys come from"). `moai glm --set-key` is
`moai key set glm`. Inside a repository moai is set up in, `key set` takes only
`glm` and the names its `llm.backends` define; outside one, any valid name.
`claude` has no key here: Claude's own login is Claude Code's business.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from moai_mashup import files, git
from moai_mashup.config import LLM_YAML, ResolvedConfig, load_config
from moai_mashup.core.backends import CLAUDE, GLM, name_problem
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.githooks.install import forget_prepared_here
from moai_mashup.settings import keys

# A key is tens to a few hundred characters; a line of 64 KiB is no key (a wrong file piped in).
MAX_KEY_INPUT_BYTES = 64 << 10


def what(backend: str) -> str:
    """How messages name a backend's key: `GLM key`, `lab key`."""
    return "GLM key" if backend == GLM else f"{backend} key"


def read_key_from_user(backend: str = GLM) -> str:
    """From a hidden prompt on a terminal, else one line of stdin (bounded; never argv)."""
    if sys.stdin.isatty():
        label = "GLM API key" if backend == GLM else f"{backend} API key"
        key: str = click.prompt(label, hide_input=True, err=True)
        return keys.validate_key(key, "the key typed", backend)
    raw = files.read_stdin(MAX_KEY_INPUT_BYTES, "stdin")
    try:
        key = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("stdin: the key is not UTF-8 text; nothing saved") from None
    key = key[:-1] if key.endswith("\n") else key
    key = key[:-1] if key.endswith("\r") else key
    return keys.validate_key(key, "stdin", backend)  # a second line is refused here


def repo_config(cwd: Path | None = None) -> ResolvedConfig | None:
    """The config of the repository we stand in, when moai is set up there (its
    llm.yaml, or backends of the user's llm.local.yaml); None outside a repository
    or in one without moai. A broken config is the user's to fix: its line is raised."""
    try:
        wt = git.discover(cwd or Path.cwd())
    except BadInput:
        return None
    cfg = load_config(wt.root, wt.state_dir)
    return cfg if cfg.configured or cfg.backends else None


def defined_names(cfg: ResolvedConfig) -> list[str]:
    """The backends a key can be set for in this repository: glm and llm.backends."""
    return [GLM, *cfg.backends]


def check_key_name(backend: str, cfg: ResolvedConfig | None) -> None:
    """Refuse (one line, nothing written) a name no key can be kept under."""
    problem = name_problem(backend)
    if problem is not None:
        raise BadInput(problem)
    if backend == CLAUDE:
        raise BadInput(
            "claude: moai keeps no key for Claude (Claude Code's own login, `claude /login`, "
            "holds it); name a backend of llm.backends, or glm"
        )
    if cfg is None or backend == GLM or backend in cfg.backends:
        return
    raise BadInput(
        f"{backend}: no such backend in {LLM_YAML} (llm.backends); this repository defines "
        f"{', '.join(defined_names(cfg))}; define {backend} under llm.backends first "
        "(or in llm.local.yaml)"
    )


def set_key(backend: str) -> None:
    """`moai key set NAME` (and `moai glm --set-key`): read, check, save, say where."""
    check_key_name(backend, None if backend == GLM else repo_config())
    value = read_key_from_user(backend)
    path = keys.save_key(value, backend)
    forget_prepared_here()
    click.echo(f"saved {what(backend)} {keys.mask(value)} to {path} (mode 0600)")


# --- completion ---------------------------------------------------------------


def _config_quietly() -> ResolvedConfig | None:
    try:
        return repo_config()
    except MoaiError:
        return None


def _items(names: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(n) for n in dict.fromkeys(names) if n.startswith(incomplete)]


def complete_key_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Tab completion for `moai key set|remove`: glm, this repository's llm.backends,
    and the backends a key file exists for (outside a repository: glm and those)."""
    cfg = _config_quietly()
    return _items([*(defined_names(cfg) if cfg else [GLM]), *keys.key_file_backends()], incomplete)


def complete_backends(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Tab completion for a backend to switch to (`moai use`, `--backend`): claude,
    glm and this repository's llm.backends."""
    cfg = _config_quietly()
    return _items([CLAUDE, *(defined_names(cfg) if cfg else [GLM])], incomplete)


# --- the commands -------------------------------------------------------------


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
def set_cmd(backend: str) -> None:
    """Save NAME's key in ~/.moai/.env.NAME (mode 0600), read from a hidden prompt,
    or from one line of stdin without a terminal: printf %s "$KEY" | moai key set NAME."""
    set_key(backend)


def key_rows(cfg: ResolvedConfig | None) -> list[dict[str, Any]]:
    """One row per backend: the repository's (glm first) and every key file's."""
    names = defined_names(cfg) if cfg else [GLM]
    glm_env_var = cfg.glm_env_var if cfg else keys.ENV_FILE_VAR
    rows: list[dict[str, Any]] = []
    for name in dict.fromkeys([*names, *keys.key_file_backends()]):
        row: dict[str, Any] = {
            "backend": name,
            "defined": name in names if cfg else None,
            "masked": None,
            "source": None,
            "variable": keys.env_vars(name, glm_env_var)[0],
        }
        try:
            found = keys.resolve_key(glm_env_var, name)
        except MoaiError as exc:
            row["error"] = str(exc)
        else:
            if found is not None:
                row["masked"], row["source"] = keys.mask(found.value), found.source
        rows.append(row)
    return rows


def render_rows(rows: list[dict[str, Any]]) -> list[str]:
    width = max(len(r["backend"]) for r in rows)
    lines = []
    for r in rows:
        if "error" in r:
            state = f"error: {r['error']}"
        elif r["source"] is None:
            state = f"no key (run: moai key set {r['backend']})"
        else:
            state = f"{r['masked']} from {r['source']}"
        note = "  (not defined in this repository)" if r["defined"] is False else ""
        lines.append(f"{r['backend']:<{width}}  {state}{note}")
    return lines


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_cmd(as_json: bool) -> None:
    """Every backend this repository defines (glm and llm.backends) and every
    ~/.moai/.env.NAME, with its key masked and where it comes from."""
    rows = key_rows(repo_config())
    if as_json:
        click.echo(json.dumps({"keys": rows}, indent=2))
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
    _still_there(backend)


def _still_there(backend: str) -> None:
    """Name the other source a key of `backend` is still found in, if any."""
    cfg = _config_quietly()
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
