"""`moai hook-impl <hook-type> [args]`: the hook engine, for hook managers.

husky, a team's `.githooks` or a hand-written hook can call this instead of
moai's installed shim; the shim itself goes straight to githooks/fast.py and the engine (no click).
Plumbing: hidden from `moai --help` and from tab completion (hooks call it,
people do not); `moai hook-impl --help` and `moai hooks --help` describe it.
"""

from __future__ import annotations

import sys

import click

from moai_mashup.githooks.engine import main


@click.command(
    "hook-impl",
    hidden=True,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("hook_type")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(hook_type: str, args: tuple[str, ...]) -> None:
    """Run moai's side of a git hook (post-checkout, post-worktree, pre-commit).

    \b
    For hook managers: call it from the hook git runs, with the hook's arguments,
    e.g. in .husky/post-checkout or .githooks/post-checkout:
        moai hook-impl post-checkout "$@"
    """
    sys.exit(main([hook_type, *args]))
