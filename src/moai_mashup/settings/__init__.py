"""The worktree's `.claude/settings.local.json` and what goes into it.

apply (plan with core/settings_plan.py, write under the lock, keep the
ownership record), lock (the settings lock; every file is read and
written through files.py), keys (the user's GLM key), key_helper (credential mode
`helper`), trust (what a cloned repository's config may use unasked),
main_checkout (what the main checkout's file imposes on linked worktrees).
May import: core, git, config, files, errors, limits, lean, paths. Never commands.
"""
