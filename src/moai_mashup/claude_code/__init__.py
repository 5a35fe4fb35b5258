"""moai inside Claude Code: its hooks, its status line, and installing them.

`moai hook-impl claude-code <event>` and `moai statusline` run on every prompt
and every status refresh: the entry point reaches `run.main` without click,
and the prompt and status paths import neither click, pydantic, yaml nor
pygit2 (tests/claude_code/test_claude_code_hooks.py checks it).
"""
