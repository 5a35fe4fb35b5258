"""`moai worktree create | list | path | go | remove | clean`: one worktree per SPEC."""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from moai_mashup import files
from moai_mashup.core.routing import spec_id_from_branch
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.workspace import open_workspace
from moai_mashup.worktrees.create import create
from moai_mashup.worktrees.entries import find, list_entries
from moai_mashup.worktrees.listing import list_report
from moai_mashup.worktrees.remove import plan_clean, remove, run_clean, why

# Set by the `moai shell-init` wrapper: a file it made, where we leave a directory to cd to.
CD_FILE_ENV = "MOAI_CD_FILE"


def request_cd(path: Path) -> bool:
    """Ask the shell wrapper to cd to `path`; False when no wrapper is installed.

    Only an existing file is written (the wrapper's mktemp): the variable must
    not let anyone make us create files elsewhere.
    """

    target = os.environ.get(CD_FILE_ENV)
    if not target or not os.path.isfile(target):
        return False
    files.write_bytes(target, str(path).encode(), durable=False)
    return True


def _backend_flag(glm: bool, claude: bool, backend: str | None = None) -> str | None:
    given = [f for f, on in (("--glm", glm), ("--claude", claude), ("--backend", backend)) if on]
    if len(given) > 1:
        raise BadInput(f"{' and '.join(given)}: choose one")
    return "glm" if glm else "claude" if claude else backend


@click.group("worktree")
def command() -> None:
    """One git worktree per SPEC on its feature branch, set up for its backend."""


@command.command("create")
@click.argument("spec_id")
@click.option("--glm", is_flag=True, help="Use GLM here, whatever the routing table says.")
@click.option("--claude", is_flag=True, help="Use Claude here, whatever the routing table says.")
@click.option(
    "--backend",
    metavar="NAME",
    help="Use backend NAME here (claude, glm or one of llm.backends), whatever the table says.",
)
@click.option("--base", metavar="REF", help="Start a new branch here (default: default_branch).")
@click.option("--path", "path", type=click.Path(path_type=Path), help="Put the worktree here.")
def create_cmd(
    spec_id: str,
    glm: bool,
    claude: bool,
    backend: str | None,
    base: str | None,
    path: Path | None,
) -> None:
    """Create SPEC_ID's worktree on its branch and set it up.

    The branch is spec_branch_pattern with SPEC_ID (feature/SPEC_ID); the
    worktree goes under worktree.root; the backend follows the routing table
    unless --backend NAME (or --glm, --claude) says otherwise.
    """

    flag = _backend_flag(glm, claude, backend)
    ws = open_workspace()
    made = create(ws, spec_id, backend=flag, base=base, path=path)
    how = f"new branch from {made.base}" if made.new_branch else "existing branch"
    click.echo(f"created {made.path} on {made.branch} ({how}); backend: {made.backend}")
    for line in made.lines:
        click.echo(line)
    if not request_cd(made.path):
        click.echo(f'cd "$(moai worktree path {spec_id})"', err=True)


def complete_spec_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Tab completion: the SPEC ids of this repository's worktrees (nothing outside one)."""

    try:
        ws = open_workspace(warn=False)
        entries = list_entries(Path(ws.wt.root))
    except MoaiError:
        return []
    ids = [spec_id_from_branch(e.branch, ws.cfg.spec_branch_pattern) for e in entries if e.branch]
    return [CompletionItem(i) for i in sorted({i for i in ids if i and i.startswith(incomplete)})]


@command.command("path")
@click.argument("spec_id", shell_complete=complete_spec_ids)
def path_cmd(spec_id: str) -> None:
    """Print the path of SPEC_ID's worktree.

    For scripts and shells without the wrapper: cd "$(moai worktree path SPEC_ID)"
    """

    click.echo(str(find(open_workspace(), spec_id).path))


@command.command("go")
@click.argument("spec_id", shell_complete=complete_spec_ids)
def go_cmd(spec_id: str) -> None:
    """cd to SPEC_ID's worktree (with `moai shell-init`).

    Without the shell wrapper it prints the path and how to install the wrapper.
    """

    path = find(open_workspace(), spec_id).path
    if not request_cd(path):
        click.echo(str(path))
        click.echo(
            'moai: to let `moai worktree go` cd, add eval "$(moai shell-init bash)" '
            "(or zsh, fish) to your shell's rc file",
            err=True,
        )


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for tools.")
def list_cmd(as_json: bool) -> None:
    """Every worktree with its backend, its work and its merge state.

    Columns: SPEC id, branch, backend active (and expected when they differ),
    dirty files, commits ahead/behind default_branch, merged (its own commits
    merged, squashed or rebased; no; or empty: no commits of its own), path.
    """

    out, warnings = list_report(as_json=as_json)
    click.echo(out)
    for line in warnings:
        click.echo(line, err=True)


@command.command("remove")
@click.argument("spec_id", shell_complete=complete_spec_ids)
@click.option("--force", is_flag=True, help="Discard uncommitted work; delete an unmerged branch.")
@click.option(
    "--delete-branch", is_flag=True, help="Also delete the branch (only when merged or empty)."
)
def remove_cmd(spec_id: str, force: bool, delete_branch: bool) -> None:
    """Remove SPEC_ID's worktree; refuses uncommitted or untracked work."""

    cwd = Path.cwd()  # before: it may be the directory we remove
    ws = open_workspace()
    done = remove(ws, spec_id, force=force, delete_branch=delete_branch)
    tail = f"; deleted branch {done.branch}" if done.branch_deleted else ""
    click.echo(f"removed {done.path}{tail}")
    if cwd == done.path or done.path in cwd.parents or not cwd.exists():
        request_cd(Path(ws.wt.main_root))


@command.command("clean")
@click.option(
    "--merged", is_flag=True, help="Remove SPEC worktrees whose commits landed on default_branch."
)
@click.option("--empty", is_flag=True, help="Remove SPEC worktrees with no commits of their own.")
@click.option("--dry-run", is_flag=True, help="Show what would go and why; change nothing.")
def clean_cmd(merged: bool, empty: bool, dry_run: bool) -> None:
    """Remove merged (--merged) or empty (--empty) SPEC worktrees; prune records of
    deleted ones (git's, and moai's private folders in ~/.moai/worktrees).

    With --merged, SPEC worktrees whose own commits landed on default_branch go,
    with their branches: merged, fast-forwarded, squashed or rebased. A worktree
    with no commits of its own (new, or only fast-forwarded to default_branch)
    is empty, not merged: only --empty removes it. A worktree with uncommitted
    or untracked work is kept and listed.
    """

    cwd = Path.cwd()  # before: it may be a directory we remove
    ws = open_workspace()
    default = ws.cfg.default_branch
    plan = plan_clean(ws, merged=merged, empty=empty)
    verb = "would remove" if dry_run else "removing"
    for line in plan.stale:
        click.echo(f"{'would prune' if dry_run else 'pruned'}: {line}")
    if dry_run:
        for folder in plan.private:
            click.echo(f"would remove {folder}: moai's record of a worktree that is gone")
    for info in plan.kept_dirty:
        click.echo(
            f"kept {info.path}: {info.branch} is {'empty' if info.empty else info.merged}"
            " but has work: " + ", ".join(info.dirty[:5])
        )
    for info in plan.kept_empty:
        click.echo(
            f"kept {info.path}: {info.branch} is empty: no commits of its own (--empty removes it)"
        )
    if dry_run:
        for info in plan.remove:
            click.echo(f"{verb} {info.path} and branch {info.branch}: {why(info, default)}")
        return
    for line in run_clean(ws, plan):
        click.echo(line)
    if not (plan.remove or plan.stale or plan.private or plan.kept_dirty or plan.kept_empty):
        hint = "" if merged or empty else " (add --merged for merged SPECs, --empty for empty ones)"
        click.echo("nothing to clean" + hint)
    if not cwd.exists():
        request_cd(Path(ws.wt.main_root))
