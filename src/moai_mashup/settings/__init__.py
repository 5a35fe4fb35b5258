"""The worktree's `.claude/settings.local.json` and what goes into it.

apply (plan with core/settings_plan.py, write under the lock, keep the
ownership record), atomic and guarded (how a file is replaced), lock (the
settings lock), keys (the user's GLM key), key_helper (credential mode
`helper`), trust (what a cloned repository's config may use unasked),
main_checkout (what the main checkout's file imposes on linked worktrees).
May import: core, git, config, errors, limits, lean, paths. Never commands.
"""
