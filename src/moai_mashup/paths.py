"""Where moai keeps things: the names every layer shares, and nothing else.

A leaf (no imports), so the hook's fast path, the engine and the settings code
agree on one spelling without importing each other. State lives in git's own
directories and in `~/.moai`, never in the work tree except the settings
file itself; what holds a value of the settings file only in `~/.moai`:

- `<worktree>/.claude/settings.local.json`: Claude Code's file moai edits.
- `~/.moai/worktrees/<id>/` (settings/private.py, 0700): `ownership.json`
  (what moai wrote and the values it replaced) and `ready/` (the prepared
  switch), and `gitdir` (the state dir it belongs to).
- `<per-worktree git dir>/moai/`: nothing holding a value: `private-id` (the
  `<id>` above), `settings.lock`, `hook-stamp` (digests and paths), `phase`
  (cost/phase_record.py), `status-index` (worktree list).
- `<common git dir>/moai/`: what all worktrees of a repository share
  (`worktree.lock`, the graph cache, Claude Code session pins).
"""

SETTINGS_REL = ".claude/settings.local.json"
# Temp names while files.py replaces the file: `.settings.local.json.<n>.tmp`.
SETTINGS_TEMP_PROBE = ".claude/.settings.local.json.0.tmp"
SETTINGS_TEMP_PATTERN = "/.claude/.settings.local.json.*.tmp"

STATE_DIR = "moai"  # under a git dir
LOCK_NAME = "settings.lock"
RECORD_NAME = "ownership.json"
STAMP_NAME = "hook-stamp"
READY_DIR = "ready"
PRIVATE_ID = "private-id"  # in the state dir: the id of the worktree's private folder
PRIVATE_WORKTREES = "worktrees"  # under ~/.moai: one private folder per worktree
GITDIR_NAME = "gitdir"  # in a private folder: the state dir it belongs to
