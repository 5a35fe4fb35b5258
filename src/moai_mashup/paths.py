"""Where moai keeps things: the names every layer shares, and nothing else.

A leaf (no imports), so the hook's fast path, the engine and the settings code
agree on one spelling without importing each other. State lives in git's own
directories, never in the work tree except the settings file itself:

- `<worktree>/.claude/settings.local.json`: Claude Code's file moai edits.
- `<per-worktree git dir>/moai/`: `ownership.json` (what moai wrote and what
  it replaced), `settings.lock`, `hook-stamp` and `ready/` (the prepared
  switch), `phase` (cost/phase_record.py), `status-index` (worktree list).
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
