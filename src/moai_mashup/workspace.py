"""Open the worktree a command runs in, with its config: the shared first step."""

from __future__ import annotations

import sys
from pathlib import Path

from moai_mashup import git
from moai_mashup.config import ResolvedConfig, load_config
from moai_mashup.core.routing import Backend, BranchKind, backend_for_kind, branch_kind
from moai_mashup.lean import NamedTuple


class Workspace(NamedTuple):
    wt: git.Worktree
    cfg: ResolvedConfig

    @property
    def kind(self) -> BranchKind:
        return branch_kind(self.wt.branch, self.cfg.default_branch, self.cfg.spec_branch_pattern)

    @property
    def expected(self) -> Backend | None:
        """The table's backend here; None on a detached HEAD (left unchanged)."""
        return backend_for_kind(self.cfg.mode, self.kind)

    def why(self) -> str:
        return why(self.cfg, self.kind)


def why(cfg: ResolvedConfig, kind: BranchKind) -> str:
    """Why a branch of this kind gets its backend, as messages show it."""
    kinds = {
        "default": f"default branch '{cfg.default_branch}'",
        "spec": f"'{cfg.spec_branch_pattern}' branch",
        "other": "other branch",
        "detached": "detached HEAD",
    }
    target = backend_for_kind(cfg.mode, kind) or "unchanged"
    return f"mode {cfg.mode} + {kinds[kind]} -> {target}"


def open_workspace(cwd: Path | None = None, *, warn: bool = True) -> Workspace:
    wt = git.discover(cwd or Path.cwd())
    cfg = load_config(wt.root, wt.state_dir)
    if warn:
        for line in cfg.warnings:
            print(f"moai: warning: {line}", file=sys.stderr)
    return Workspace(wt, cfg)
