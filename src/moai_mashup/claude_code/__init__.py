"""moai inside Claude Code: its hooks, its status line, and installing them.

install (`moai hooks install --claude-code`: hooks and status line merged into
`.claude/settings.json`), run (what Claude Code runs: `moai hook-impl
claude-code <event>`, `moai statusline`), session (where a session runs and
what the table wants there), statusline, worktree (WorktreeCreate/Remove:
`claude -w NAME`), version (which Claude Code is installed and tested),
live_probe (`moai doctor --live`), slash_commands (`/moai:1-plan` ...).

`moai hook-impl claude-code <event>` and `moai statusline` run on every prompt
and every status refresh: the entry point reaches `run.main` without click,
and the prompt and status paths import neither click, pydantic, yaml nor
pygit2 (tests/claude_code/test_claude_code_hooks.py checks it).
May import: settings, worktrees, core, git, config. Never commands.
"""
