"""The team's policy (`llm.policy` in the committed llm.yaml), checked at commit time.

- enforce_locations: in mashup, a commit on the default branch touches only
  the plan paths; implementation belongs on a `feature/SPEC-*` worktree.
- require_backend_match: the worktree's active backend is the one the table
  expects where it is.
- commit_trailer: each commit message says which backend wrote it.

`locked` is enforced where the config is loaded (config.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from moai_mashup import files, git
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.guard import scan
from moai_mashup.settings.apply import read_state, stray_spec
from moai_mashup.workspace import Workspace

TRAILER_KEY = "LLM-Backend"
# git's own message files; a message past this is no message git would ask to trail.
MAX_MESSAGE_BYTES = 16 << 20


@lru_cache(maxsize=64)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """`**` crosses directories, `*` and `?` do not (gitignore-like, anchored at the root)."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def in_plan_paths(path: str, patterns: tuple[str, ...]) -> bool:
    return any(_glob_regex(p.lstrip("/")).match(path) for p in patterns)


def merge_in_progress(wt: git.Worktree) -> bool:
    """Concluding a merge (after conflicts) brings a SPEC branch's work in: that is allowed."""
    return (Path(wt.git_dir) / "MERGE_HEAD").exists()


def head_is_unborn(root: Path) -> bool:
    return git.run(["rev-parse", "-q", "--verify", "HEAD"], root, check=False).returncode != 0


def _listing(paths: list[str], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def outside_plan_paths(ws: Workspace, paths: list[str]) -> list[str]:
    return sorted(p for p in paths if not in_plan_paths(p, ws.cfg.policy.plan_paths))


def location_problem(
    ws: Workspace, paths: list[str], matcher: scan.KeyMatcher | None = None
) -> str | None:
    """enforce_locations, for a commit being made in this worktree (`matcher`: the
    one the key scan used, to mask keys in the paths listed)."""
    cfg = ws.cfg
    if not cfg.policy.enforce_locations or cfg.mode != "mashup" or ws.kind != "default":
        return None
    if merge_in_progress(ws.wt) or head_is_unborn(Path(ws.wt.root)):
        # The first commit bootstraps the repository; it has no SPEC to belong to.
        return None
    outside = outside_plan_paths(ws, paths)
    if not outside:
        return None
    return location_message(cfg.default_branch, cfg.policy.plan_paths, outside, matcher)


def location_message(
    branch: str,
    plan_paths: tuple[str, ...],
    outside: list[str],
    matcher: scan.KeyMatcher | None = None,
) -> str:
    """The refusal, each path shown as the key scan shows names: a key in one masked
    (`matcher` None: the user's known keys and the key shapes)."""
    keys = matcher or scan.KeyMatcher(scan.known_keys())  # a refusal: rare, reads are fine
    outside = [keys.masked_path(p) if keys.may_hold_key(p) else p for p in outside]
    return (
        f"policy enforce_locations: a commit on '{branch}' may only touch the plan paths "
        f"({', '.join(plan_paths)}), this one touches {_listing(outside)}; implementation "
        "belongs in a SPEC worktree: git stash && moai worktree create SPEC-<ID>, "
        "then git stash pop there"
    )


def backend_problem(ws: Workspace) -> str | None:
    """require_backend_match: the active backend is the one the table expects here."""

    if not ws.cfg.policy.require_backend_match:
        return None
    expected = ws.expected
    if expected is None:
        return None

    active = read_state(ws.wt, stray_spec(ws.wt, ws.cfg.glm_env_var, ws.cfg.backends)).active
    if active == expected:
        return None
    return (
        f"policy require_backend_match: this worktree is on {active}, the routing table "
        f"expects {expected} here ({ws.why()}); run: moai apply"
    )


def backend_label(ws: Workspace) -> str:
    """`glm (glm-4.7)`, `NAME (its model)` or `claude`: the backend this worktree's
    Claude Code talks to now, by its name, and the model it asks for there."""

    state = read_state(ws.wt)
    if state.active == "claude":
        return "claude"
    env = state.doc.get("env")
    env = env if isinstance(env, dict) else {}
    # Claude Code asks for the opus alias when no model is chosen.
    alias = state.doc.get("model") if state.doc.get("model") in ("haiku", "sonnet") else "opus"
    model = env.get("ANTHROPIC_MODEL")
    if model in ("opus", "sonnet", "haiku"):  # the tier moai writes on GLM (core/model_pin.py)
        alias, model = model, None
    model = model or env.get(f"ANTHROPIC_DEFAULT_{str(alias).upper()}_MODEL")
    name = state.active or "mixed"
    return f"{name} ({model})" if isinstance(model, str) and model else name


_COMMENT_OR_BLANK = re.compile(r"^\s*(?:#.*)?$")
SCISSORS = "# ------------------------ >8 ------------------------"


def message_has_text(text: str) -> bool:
    """Whether a commit message holds anything but comments (as git's cleanup sees it)."""
    body = text.split(SCISSORS, 1)[0]
    return any(not _COMMENT_OR_BLANK.match(line) for line in body.splitlines())


def add_trailer(ws: Workspace, msg_file: Path, source: str | None) -> str | None:
    """Add `LLM-Backend: ...` to a commit message file; returns the trailer, or None.

    `source` is prepare-commit-msg's second argument (None from commit-msg).
    Idempotent; an amend or cherry-pick on another backend adds a second
    trailer rather than rewriting the first: both backends wrote that commit.
    Merge and squash messages are skipped: they describe other commits, whose
    own messages carry their trailers. An empty message is left empty so that
    quitting the editor still aborts the commit; commit-msg adds it afterwards.
    """
    if not ws.cfg.policy.commit_trailer:
        return None
    if source in ("merge", "squash"):
        return None
    if source is None and (
        merge_in_progress(ws.wt) or (Path(ws.wt.git_dir) / "SQUASH_MSG").exists()
    ):
        return None
    try:
        text = files.read_text(msg_file, MAX_MESSAGE_BYTES)
    except BadInput:
        return None
    if text is None:
        return None
    if not message_has_text(text):
        return None
    try:
        trailer = f"{TRAILER_KEY}: {backend_label(ws)}"
    except MoaiError:
        trailer = f"{TRAILER_KEY}: unknown"
    git.run(
        [
            "interpret-trailers",
            "--in-place",
            "--if-exists",
            "addIfDifferent",
            "--trailer",
            trailer,
            str(msg_file),
        ],
        ws.wt.root,
    )
    return trailer
