"""`moai init`: set up a repository; asks in a terminal, flags for every question.

Each step does only what is missing and never overwrites a file the team or
the user wrote: config files absent are written, a key already found is not
asked for, hooks and slash commands already in place stay as they are.
Without a terminal on stdin it never asks: a question with no flag is
answered "no" (or with its default under --yes).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from moai_mashup import git
from moai_mashup.claude_code import install as cc
from moai_mashup.claude_code import slash_commands
from moai_mashup.config import LLM_LOCAL_YAML, LLM_YAML, ResolvedConfig, load_config
from moai_mashup.core.backends import CLAUDE, GLM, PRESETS, display_name, name_problem
from moai_mashup.core.routing import MODES
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.githooks import install as hook_install
from moai_mashup.key_entry import config_quietly
from moai_mashup.scaffold import init_files, with_fix
from moai_mashup.settings.keys import mask, resolve_key, save_key, validate_key
from moai_mashup.status import (
    branch_backend,
    collect,
    render,
    set_key_command,
    spec_backend,
    table_backends,
)
from moai_mashup.worktrees.create import check_backend


def complete_init_backend(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Tab completion for `moai init --backend`: the presets (and glm) where llm.yaml is
    still to be written; glm and its llm.backends where it exists (`_check_backend`)."""
    cfg = config_quietly()
    names = [GLM, *cfg.backends] if cfg is not None and cfg.configured else [GLM, *PRESETS]
    return [CompletionItem(n) for n in dict.fromkeys(names) if n.startswith(incomplete)]


MODE_HELP = {
    "claude-only": "Claude everywhere; moai only watches",
    "mashup": "plans on the default branch with Claude, feature/SPEC-* worktrees on {backend}",
    "glm-only": "{backend} everywhere",
}


def install_claude_code(wt: git.Worktree) -> list[str]:
    """`moai hooks install --claude-code`: merged into the repository's .claude/settings.json."""
    return cc.install(cc.target(False, Path(wt.root)))


def _preflight(wt: git.Worktree) -> dict[str, MoaiError]:
    """Why the git hooks, the Claude Code hooks or the slash commands cannot be
    installed here, by step (a `.claude` linked outside the repository, say)."""
    problems: dict[str, MoaiError] = {}
    try:
        hook_install.hooks_dir(wt)
    except MoaiError as exc:
        problems["hooks"] = exc
    try:
        t = cc.target(False, Path(wt.root))
        cc.read(t)
        cc.writes_to(t)
    except MoaiError as exc:
        problems["claude_code"] = with_fix(exc)
    try:
        slash_commands.targets(Path(wt.root))
    except MoaiError as exc:
        problems["claude_commands"] = with_fix(exc)
    return problems


def _claude_code_in_place(wt: git.Worktree) -> bool:
    return cc.status(cc.target(False, Path(wt.root))).complete


def _existing_mode(wt: git.Worktree) -> tuple[str, str] | None:
    """The effective mode and where it comes from, when llm.yaml is already there."""
    if not (Path(wt.root) / LLM_YAML).is_file():
        return None
    cfg = load_config(wt.root, wt.state_dir)
    return cfg.mode, cfg.mode_source


def _commands_in_place(wt: git.Worktree) -> bool:
    names = slash_commands.NAMES
    return all((wt.root / slash_commands.COMMANDS_DIR / f"{n}.md").exists() for n in names)


def _decide(question: str, flag: bool | None, *, ask: bool, yes: bool, done: bool) -> bool:
    """A flag wins; --yes takes the default (yes); no terminal: no; in place already:
    refresh without asking; otherwise ask."""
    if flag is not None:
        return flag
    if yes or (ask and done):
        return True
    if not ask:
        return False
    return click.confirm(question, default=True, err=True)


def _ask_key(cfg: ResolvedConfig, backend: str, ask: bool, no_key: bool) -> None:
    """Ask for a backend's key when none is found (hidden input; Enter skips)."""
    try:
        if resolve_key(cfg.glm_env_var, backend) is not None:
            return
    except MoaiError as exc:  # e.g. a key file readable by others: status shows it again
        click.echo(f"key: {exc}", err=True)
        return
    if no_key or not ask:
        return
    shown = display_name(backend, cfg.backends)
    if backend == GLM:
        click.echo(
            "No GLM key found. Paste your Z.ai API key (hidden; Enter to skip,"
            " `moai glm --set-key` later).",
            err=True,
        )
    else:
        click.echo(
            f"No {shown} key found. Paste your {shown} API key (hidden; Enter to skip,"
            f" `{set_key_command(backend)}` later).",
            err=True,
        )

    def checked(typed: str) -> str:  # a bad key is asked again (the error never shows it)
        typed = typed.strip()
        try:
            return validate_key(typed, "the key typed", backend) if typed else ""
        except BadInput as exc:
            raise click.BadParameter(str(exc)) from None

    value: str = click.prompt(
        f"{shown} API key",
        default="",
        show_default=False,
        hide_input=True,
        err=True,
        value_proc=checked,
    )
    if not value:
        click.echo("key: skipped", err=True)
        return
    # bound to this repository's endpoint of it (settings/keys.binding_problem)
    url = cfg.backends[backend].base_url if backend in cfg.backends else None
    path = save_key(value, backend, url)
    hook_install.forget_prepared_here()
    where = "" if url is None else f" for {url}"
    click.echo(f"saved {shown} key {mask(value)} to {path}{where} (mode 0600)")


def keyed(cfg: ResolvedConfig, backend: str | None) -> list[str]:
    """The backends whose key `moai init` asks for: `--backend`'s, then every one
    beside Claude the routing table sends a branch to."""
    names = [*([backend] if backend else []), *table_backends(cfg)]
    return [n for n in dict.fromkeys(names) if n != CLAUDE]


def _next_steps(wt: git.Worktree) -> list[str]:
    info = collect()
    steps: list[str] = []
    team = (".moai", ".gitignore", ".claude/commands", ".claude/settings.json")
    paths = [p for p in team if (Path(wt.root) / p).exists()]
    pending = git.run(
        ["status", "--porcelain", "--untracked-files=all", "--", *paths], wt.root, check=False
    ).stdout
    if paths and pending.strip():
        steps.append(
            f"git add {' '.join(paths)} && git commit -m 'moai-mashup'"
            "   # the team's files, for every clone and worktree"
        )
    cfg = load_config(wt.root, wt.state_dir)
    for name in keyed(cfg, None):
        if not info["keys"].get(name, {}).get("source"):
            if name == GLM:
                steps.append(
                    "moai glm --set-key   # your Z.ai key, saved in ~/.moai/.env.glm (0600)"
                )
            else:
                steps.append(
                    f"{set_key_command(name)}   # your {display_name(name, cfg.backends)} key, "
                    f"saved in ~/.moai/.env.{name} (0600)"
                )
    if not info["hooks_installed"]:
        steps.append("moai hooks install   # git checkout / switch / worktree add pick the backend")
    spec_on = spec_backend(cfg) or CLAUDE
    if info["mode"] == "mashup" and spec_on != CLAUDE:
        steps.append(
            "moai worktree create SPEC-X   # or: git checkout -b feature/SPEC-X; "
            f"{display_name(spec_on, cfg.backends)} there"
        )
    else:
        here = branch_backend(cfg, cfg.default_branch) or CLAUDE
        steps.append(f"claude   # this repository runs on {display_name(here, cfg.backends)}")
    return steps


@click.command("init")
@click.option(
    "--mode",
    type=click.Choice(sorted(MODES)),
    help="claude-only | mashup (default) | glm-only, for a new llm.yaml.",
)
@click.option(
    "--hooks/--no-hooks",
    default=None,
    help="Install the git hooks (moai hooks install). Default in a terminal: yes.",
)
@click.option(
    "--claude-code/--no-claude-code",
    default=None,
    help="Install the Claude Code hooks (moai hooks install --claude-code).",
)
@click.option(
    "--claude-commands/--no-claude-commands",
    default=None,
    help="Write .claude/commands/moai/{1-plan,2-run,3-sync}.md (they call moai route).",
)
@click.option("--yes", "-y", is_flag=True, help="Never ask: take the default of every question.")
@click.option(
    "--backend",
    metavar="NAME",
    shell_complete=complete_init_backend,
    help="Put SPEC worktrees on NAME instead of GLM, and ask for its key. For a new "
    f"llm.yaml a preset ({', '.join(PRESETS)}); where llm.yaml exists, glm or one of its "
    "llm.backends.",
)
@click.option("--no-key", is_flag=True, help="Do not ask for a key.")
@click.pass_context
def command(
    ctx: click.Context,
    mode: str | None,
    backend: str | None,
    hooks: bool | None,
    claude_code: bool | None,
    claude_commands: bool | None,
    yes: bool,
    no_key: bool,
) -> None:
    """Set up this repository: config, the backend's key, git hooks, Claude Code hooks and
    commands.

    \b
    In a terminal it asks (Enter takes the default); every question has a
    flag, and without a terminal it never asks: a question with no flag is
    answered no, or with its default under --yes. Runs `moai status` at the
    end. Never overwrites a file that is already there.
    """
    wt = git.discover(Path.cwd())
    ask = not yes and sys.stdin.isatty()
    flags = {"hooks": hooks, "claude_code": claude_code, "claude_commands": claude_commands}
    problems = _refuse_blocked_steps(wt, flags, yes)
    _check_backend(wt, mode, backend)  # before any question
    chosen = _choose_mode(wt, mode, ask, backend)
    preset = _check_backend(wt, chosen, backend)
    _write_config(wt, chosen, preset, glm=backend in (None, GLM))
    cfg = load_config(wt.root, wt.state_dir)
    for name in keyed(cfg, backend) if cfg.mode != "claude-only" else []:
        _ask_key(cfg, name, ask, no_key)
    if backend and backend not in table_backends(cfg) and cfg.mode != "claude-only":
        click.echo(
            f"note: the routing table in {LLM_YAML} sends no branch to {backend}; "
            f"add {{branch: GLOB, backend: {backend}}} under llm.routes there",
            err=True,
        )
    for step in problems:
        if ask:
            click.echo(f"skipped: {problems[step]}", err=True)
    for step, question, in_place, run in STEPS:
        if step not in problems and _decide(
            question, flags[step], ask=ask, yes=yes, done=in_place(wt)
        ):
            run(wt)
    click.echo("")
    click.echo(render(collect()))
    click.echo("\nnext:")
    for line in _next_steps(wt):
        click.echo(f"  {line}")


def _refuse_blocked_steps(
    wt: git.Worktree, flags: dict[str, bool | None], yes: bool
) -> dict[str, MoaiError]:
    """What would stop a step half-way, found before anything is written: a step
    asked for (flag or --yes) fails now with its one line; in a terminal the line
    is shown and the question is not asked."""
    problems = _preflight(wt)
    for step, flag in flags.items():
        if step in problems and (flag or (flag is None and yes)):
            raise problems[step]
    return problems


def _choose_mode(wt: git.Worktree, mode: str | None, ask: bool, backend: str | None = None) -> str:
    """The mode llm.yaml already sets (a different --mode refused), else --mode,
    else asked in a terminal, else mashup."""
    existing = _existing_mode(wt)
    if existing is not None:
        have, source = existing
        if mode is not None and mode != have:
            raise BadInput(
                f"--mode {mode}: {source} already sets mode {have} and moai init never "
                f"rewrites it; edit it there, or for yourself only put "
                f"`llm: {{mode: {mode}}}` in {LLM_LOCAL_YAML}"
            )
        return have
    if mode is not None:
        return mode
    if not ask:
        return "mashup"
    preset = PRESETS.get(backend or "")
    shown = preset.display if preset is not None else "GLM"
    for name in MODES:
        click.echo(f"  {name:<12} {MODE_HELP[name].format(backend=shown)}", err=True)
    chosen: str = click.prompt("Mode", type=click.Choice(MODES), default="mashup", err=True)
    return chosen


def _check_backend(wt: git.Worktree, mode: str | None, backend: str | None) -> str | None:
    """`--backend NAME`, checked before anything is written: with llm.yaml there, one
    of its backends (or glm, claude); without, glm or a preset, which the new
    llm.yaml defines and routes to (the preset returned). BadInput, one line, else."""
    if backend is None or backend == GLM:
        return None
    if (Path(wt.root) / LLM_YAML).is_file():
        check_backend(load_config(wt.root, wt.state_dir), backend)
        return None
    problem = name_problem(backend)
    if problem is not None:
        raise BadInput(f"--backend {backend}: {problem}")
    if backend == CLAUDE:
        raise BadInput("--backend claude: Claude needs no backend; use --mode claude-only")
    if backend not in PRESETS:
        raise BadInput(
            f"--backend {backend}: not a preset ({', '.join(PRESETS)}); for your own "
            f"endpoint write llm.backends.{backend} into {LLM_YAML} (docs/configuration.md), "
            f"then run moai init --backend {backend}"
        )
    if mode == "claude-only":
        raise BadInput(
            f"--backend {backend}: mode claude-only puts every branch on Claude; "
            "choose --mode mashup (SPEC worktrees on it) or glm-only (every branch on it)"
        )
    return backend


def _write_config(
    wt: git.Worktree, mode: str, backend: str | None = None, *, glm: bool = True
) -> None:
    written = init_files(wt, mode, backend, template=glm)
    for path in written:
        click.echo(f"wrote {path.relative_to(wt.root)}")
    if not written:
        click.echo("nothing to do: config files already present")


def _install_git_hooks(wt: git.Worktree) -> None:
    for line in hook_install.install(wt):
        click.echo(line)
    out, err = hook_install.apply_here(wt)
    for line in out:
        click.echo(line)
    for line in err:
        click.echo(line, err=True)


def _install_claude_code(wt: git.Worktree) -> None:
    for line in install_claude_code(wt):
        click.echo(line)


def _write_commands(wt: git.Worktree) -> None:
    for path, state in slash_commands.write_claude_commands(Path(wt.root)):
        rel = path.relative_to(wt.root)
        note = " (yours differs; delete it to get moai's)" if state == "kept" else ""
        click.echo(f"{state} {rel}{note}")


# The optional steps, in order: (flag and preflight name, question, already in place?, do it).
STEPS: tuple[
    tuple[str, str, Callable[[git.Worktree], bool], Callable[[git.Worktree], None]], ...
] = (
    (
        "hooks",
        "Install the git hooks (the backend follows the branch)?",
        hook_install.is_installed,
        _install_git_hooks,
    ),
    (
        "claude_code",
        "Install the Claude Code hooks and status line (.claude/settings.json)?",
        _claude_code_in_place,
        _install_claude_code,
    ),
    (
        "claude_commands",
        "Write the slash commands /moai:1-plan, /moai:2-run, /moai:3-sync?",
        _commands_in_place,
        _write_commands,
    ),
)
