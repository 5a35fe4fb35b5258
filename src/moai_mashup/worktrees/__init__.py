"""SPEC worktrees: one per SPEC, on `feature/SPEC-<ID>`; the edge around `git worktree`.

entries (git's list, SPEC ids, where worktrees live) <- merged (has the work
landed?) <- listing (`worktree list`) <- create, remove; setup is what a new
worktree gets (the `post-worktree` event). This file imports nothing, so
`moai worktree list` loads only what it needs.
"""
