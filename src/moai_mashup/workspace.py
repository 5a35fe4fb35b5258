"""Open the worktree a command runs in, with its config: the shared first step."""

from __future__ import annotations

import os
import sys

from moai_mashup import git
from moai_mashup.config import ResolvedConfig, load_config
from moai_mashup.core.routing import (
    Backend,
    BranchKind,
    BranchRoute,
    backend_for_kind,
    branch_kind,
    route_branch,
    table,
)
from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from moai_mashup.files import StrPath


class Workspace(NamedTuple):
    wt: git.Worktree
    cfg: ResolvedConfig

    @property
    def kind(self) -> BranchKind:
        return branch_kind(self.wt.branch, self.cfg.default_branch, self.cfg.spec_branch_pattern)

    @property
    def line(self) -> BranchRoute | None:
        """The routing table's line for this branch; None on a detached HEAD."""
        cfg = self.cfg
        lines = table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)
        return route_branch(lines, self.wt.branch)

    @property
    def expected(self) -> Backend | None:
        """The table's backend here; None on a detached HEAD (left unchanged)."""
        line = self.line
        return None if line is None else line.backend

    def why(self) -> str:
        return why(self.cfg, self.line, self.wt.branch)


def why_branch(cfg: ResolvedConfig, branch: str | None) -> str:
    """Why `branch` (None: a detached HEAD) gets its backend, as messages show it."""
    lines = table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)
    return why(cfg, route_branch(lines, branch), branch)


def why(
    cfg: ResolvedConfig, line: BranchRoute | BranchKind | None, branch: str | None = None
) -> str:
    """Why a line of the routing table (None: a detached HEAD, which no line matches)
    gives its backend, as messages show it; `branch` names the branch it matched.
    A kind of branch (`branch_kind`) explains the mode's line for that kind."""
    if isinstance(line, str):
        kind = line
        line = (
            None
            if kind == "detached"
            else BranchRoute("", backend_for_kind(cfg.mode, kind) or "", kind)
        )
    if line is None:
        return f"mode {cfg.mode} + detached HEAD -> unchanged"
    if line.kind == "route":
        source = next(
            (r.source for r in cfg.routes if (r.branch, r.backend) == (line.glob, line.backend)),
            "",
        )
        return f"route '{line.glob}' ({os.path.basename(source)}) -> {line.backend}"
    if line.kind == "unrouted":
        sources = dict.fromkeys(os.path.basename(r.source) for r in cfg.routes)
        what = f"'{branch}'" if branch is not None else "this branch"
        return (
            f"no route in {' or '.join(sources)} matches {what} -> {line.backend}; add a route "
            'such as {branch: "*", backend: claude}'
        )
    kinds = {
        "default": f"default branch '{cfg.default_branch}'",
        "spec": f"'{cfg.spec_branch_pattern}' branch",
        "other": "other branch",
    }
    ignored = (
        " (llm.routes ignored: claude-only)" if cfg.routes and cfg.mode == "claude-only" else ""
    )
    return f"mode {cfg.mode}{ignored} + {kinds[line.kind]} -> {line.backend}"


def open_workspace(cwd: StrPath | None = None, *, warn: bool = True) -> Workspace:
    wt = git.discover(cwd or os.getcwd())
    cfg = load_config(wt.root, wt.state_dir)
    if warn:
        for line in cfg.warnings:
            print(f"moai: warning: {line}", file=sys.stderr)
    return Workspace(wt, cfg)
