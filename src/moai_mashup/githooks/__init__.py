"""moai inside git: the hook shims, their fast path, and the engine they fall back to.

install (`moai hooks install|uninstall|status`, the shim from
resources/hook-tmpl), fast (what the shim imports: the prepared switch, else
the engine), engine (every hook's Python side: settings on checkout, commit
checks, the `post-worktree` event, preparing the next switch).
May import: settings, guard, worktrees.setup, core, git, config. Never commands.
"""
