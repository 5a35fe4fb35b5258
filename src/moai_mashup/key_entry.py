"""A backend's name and key as the user enters them: checked, read from a hidden
prompt or one line of stdin, saved; and backend names for tab completion.

Shared by the commands that take a backend's name or key (`moai key set`,
`moai glm --set-key`, `moai use`, and any `--backend NAME`): one command module
never imports another (ARCHITECTURE.md, "Packages").

Inside a repository moai is set up in, a key is set only for `glm` and the names
its `llm.backends` define; outside one, for any valid name. `claude` has no key
here: Claude's own login is Claude Code's business.
"""

from __future__ import annotations

import sys
from pathlib import Path

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


def key_endpoint(backend: str, cfg: ResolvedConfig | None, given: str | None) -> str:
    """The endpoint a key of `backend` is being set for, recorded beside it
    (settings/keys.binding_problem): `--base-url`'s; else, in a repository that
    defines `backend`, its base URL there; else the preset of the same name's;
    else asked on a terminal. Raises (one line, nothing saved) without one."""
    from moai_mashup.core.backends import PRESETS

    if given is None and cfg is not None and backend in cfg.backends:
        given = cfg.backends[backend].base_url
    if given is None and backend in PRESETS:
        given = PRESETS[backend].base_url
    if given is None and sys.stdin.isatty():
        given = click.prompt(f"{backend}: the endpoint (base URL) this key is for", err=True)
    if given is None:
        raise BadInput(
            f"{backend}: moai records the endpoint a key is for, and no repository here "
            f"defines {backend}; run this in one that does, or give it: "
            f"moai key set {backend} --base-url URL"
        )
    problem = keys.endpoint_problem(given)
    if problem is not None:
        raise BadInput(f"--base-url {given!r}: {problem}; nothing saved")
    return given


def set_key(backend: str, base_url: str | None = None) -> None:
    """`moai key set NAME` (and `moai glm --set-key`): read, check, save, say where;
    for a backend other than glm, with the endpoint the key is for (`key_endpoint`)."""
    cfg = None if backend == GLM else repo_config()
    check_key_name(backend, cfg)
    if backend == GLM and base_url is not None:
        raise BadInput(
            "--base-url: the GLM key's endpoint is glm.json's (and `moai trust`); "
            "leave --base-url out"
        )
    url = None if backend == GLM else key_endpoint(backend, cfg, base_url)
    if url is not None and sys.stdin.isatty():
        click.echo(f"{backend}: the key is saved for {url} and sent nowhere else", err=True)
    value = read_key_from_user(backend)
    path = keys.save_key(value, backend, url)
    forget_prepared_here()
    where = "" if url is None else f" for {url}"
    click.echo(f"saved {what(backend)} {keys.mask(value)} to {path}{where} (mode 0600)")
    if url is not None and cfg is not None and backend in cfg.backends:
        here = cfg.backends[backend].base_url
        if not keys.same_endpoint(here, url):
            click.echo(
                f"note: this repository sends {backend}'s key to {here}; moai will not "
                "send this one there",
                err=True,
            )


# --- completion ---------------------------------------------------------------


def config_quietly() -> ResolvedConfig | None:
    """repo_config, or None when it cannot be read (completion, notes: never an error)."""
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
    cfg = config_quietly()
    return _items([*(defined_names(cfg) if cfg else [GLM]), *keys.key_file_backends()], incomplete)


def complete_backends(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Tab completion for a backend to switch to (`moai use`, `--backend`): claude,
    glm and this repository's llm.backends."""
    cfg = config_quietly()
    return _items([CLAUDE, *(defined_names(cfg) if cfg else [GLM])], incomplete)


class BackendName(click.types.StringParamType):
    """A backend's name as a parameter type: a string that tab-completes claude, glm
    and this repository's llm.backends (cli.py gives it to every `--backend`)."""

    name = "name"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return complete_backends(ctx, param, incomplete)


BACKEND_NAME = BackendName()
