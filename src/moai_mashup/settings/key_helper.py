"""`apiKeyHelper` for credential mode `helper`: prints a backend's key for a worktree.

Claude Code runs this through /bin/sh and sends what it prints as the key, so
the key itself never sits in the worktree. Argv carries only the worktree path
and, for a backend other than GLM, its name (settings/apply.key_helper_command):
the key printed is that backend's, and no other.

A backend other than GLM gets its key printed only where applying it would
write the key (settings/apply.desired_profile_held): the worktree's config
defines that backend, its endpoint is known or trusted, the key was set for
that endpoint (settings/keys.binding_problem), and the worktree's settings
file sends requests there. So a config changed since moai wrote the helper
(a merge with no hook), or the name in a command a repository commits, gets
nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from moai_mashup import git
from moai_mashup.config import ResolvedConfig, load_config
from moai_mashup.core.backends import GLM
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.paths import SETTINGS_REL
from moai_mashup.settings.keys import (
    GlmKey,
    binding_problem,
    no_key_message,
    resolve_key,
    same_endpoint,
)


def check_destination(wt: git.Worktree, cfg: ResolvedConfig, backend: str, key: GlmKey) -> None:
    """Raise (one line) unless `backend`'s key may go where this worktree sends it."""
    from moai_mashup.settings.apply import (
        UntrustedUrl,
        profile_of,
        profile_where,
        read_state,
        untrusted_url_line,
        url_trusted,
    )

    profile = profile_of(cfg, backend)  # BadInput: no such backend in this repository
    if profile is None:
        return
    if not url_trusted(wt, profile):
        raise UntrustedUrl(untrusted_url_line(profile))
    problem = binding_problem(key, backend, profile.base_url, profile_where(profile))
    if problem is not None:
        raise BadInput(problem)
    env = read_state(wt).doc.get("env")
    sent_to = env.get("ANTHROPIC_BASE_URL") if isinstance(env, dict) else None
    if not isinstance(sent_to, str) or not same_endpoint(sent_to, profile.base_url):
        raise BadInput(
            f"{SETTINGS_REL}: env.ANTHROPIC_BASE_URL is {sent_to!r}, not {profile.base_url}, "
            f"the endpoint of {profile_where(profile)}; run: moai apply"
        )


def main(argv: list[str]) -> int:
    backend = argv[1] if len(argv) > 1 else GLM
    try:
        wt = git.discover(Path(argv[0]) if argv else Path.cwd())
        cfg = load_config(wt.root, wt.state_dir)
        key = resolve_key(cfg.glm_env_var, backend)  # the name is checked first
        if key is not None and backend != GLM:
            check_destination(wt, cfg, backend, key)
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
