"""`apiKeyHelper` for credential mode `helper`: prints a backend's key for a worktree.

Claude Code runs this through /bin/sh and sends what it prints as the key, so
the key itself never sits in the worktree. Argv carries only the worktree path
and, for a backend other than GLM, its name (settings/apply.key_helper_command):
the key printed is that backend's, and no other.
"""

from __future__ import annotations

import sys
from pathlib import Path

from moai_mashup import git
from moai_mashup.config import load_config
from moai_mashup.core.backends import GLM
from moai_mashup.errors import MoaiError
from moai_mashup.settings.keys import no_key_message, resolve_key


def main(argv: list[str]) -> int:
    backend = argv[1] if len(argv) > 1 else GLM
    try:
        wt = git.discover(Path(argv[0]) if argv else Path.cwd())
        cfg = load_config(wt.root, wt.state_dir)
        key = resolve_key(cfg.glm_env_var, backend)  # the name is checked first
    except MoaiError as exc:
        print(f"moai key-helper: {exc}", file=sys.stderr)
        return 2
    if key is None:
        print(f"moai key-helper: {no_key_message(cfg.glm_env_var, backend)}", file=sys.stderr)
        return 2
    sys.stdout.write(key.value + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
