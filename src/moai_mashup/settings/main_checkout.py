"""What the main checkout's `.claude/settings.local.json` imposes on linked worktrees.

Measured (tests/e2e): Claude Code 2.1.332 reads, inside a linked worktree, the
main checkout's `.claude/settings.local.json` beside the worktree's own, and
the main checkout's wins key by key; 2.1.197 reads the worktree's only. A bare
repository has no main checkout, so each worktree's file rules. Per-worktree
routing therefore holds only for keys the main checkout's file does not set:

- the user's own routing keys there (a proxy's `ANTHROPIC_BASE_URL` and token,
  a pinned `ANTHROPIC_MODEL`, an `apiKeyHelper`, ...) override the backend
  moai writes (GLM or any of `llm.backends`) in every linked worktree routed
  to one, and send a credential of theirs to that backend's neighbour;
- moai's own keys there (the main checkout on a branch the table sends to a
  backend: GLM, or any of `llm.backends`) put every linked worktree on that
  backend, whatever the table gives it.

moai never writes into the main checkout for a linked worktree's sake (what it
left there would leak everywhere); it says so instead: this module finds the
keys, and `moai status`, `moai doctor`, the checkout hook and `moai worktree
create` report them; `moai settings move-to-user` moves the user's own keys.
"""

from __future__ import annotations

import os

from moai_mashup import files, jsontext
from moai_mashup.core import settings_plan as plan
from moai_mashup.core.backends import display_name
from moai_mashup.core.glm_template import WINDOW_VAR
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_SETTINGS_BYTES, loads_json
from moai_mashup.paths import SETTINGS_REL, STATE_DIR

if TYPE_CHECKING:
    from typing import Any

    from moai_mashup import git
    from moai_mashup.config import ResolvedConfig
    from moai_mashup.core.backends import Profile
    from moai_mashup.core.routing import Backend
    from moai_mashup.files import StrPath

# What decides where a request goes, with which credential and model, and the
# window Claude Code assumes for that model: the keys a backend's routing writes
# (besides the template's or profile's extras, which do not route). The window
# counts: the main checkout's GLM window in every linked worktree would cap
# Claude's there.
ROUTING_ENV = (
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    WINDOW_VAR,
)
ROUTING_TOP = ("apiKeyHelper",)
# The first Claude Code release measured to merge the main checkout's file in.
MERGING_SINCE = "2.1.332"


class Override(NamedTuple):
    path: str  # the main checkout's settings.local.json
    keys: tuple[str, ...]  # "env.ANTHROPIC_BASE_URL", "apiKeyHelper"
    ours: bool  # moai's keys (the main checkout is on a backend); else the user's own
    # ours: the backend the main checkout's keys route to; else the one this
    # worktree's own settings are meant for; as messages name it.
    display: str = "GLM"
    committed: bool = False  # the file is the repository's (git tracks it): no key here

    def line(self) -> str:
        """One line for a hook or `moai worktree create`."""
        if self.committed:
            return (
                f"{self.path} is tracked by git and sets {', '.join(self.keys)}, which Claude "
                f"Code {MERGING_SINCE} also applies in this worktree; moai writes no "
                f"{self.display} key here; review it, then: git rm --cached {SETTINGS_REL}"
            )
        if self.ours:
            return (
                f"the main checkout is on {self.display}, and Claude Code {MERGING_SINCE} "
                f"reads its {SETTINGS_REL} here too: this worktree will use {self.display}; "
                "switch the main checkout to its default branch"
            )
        return (
            f"{self.path} sets {', '.join(self.keys)}, which Claude Code {MERGING_SINCE} "
            f"also applies in this worktree over moai's {self.display} settings; "
            "fix: moai settings move-to-user"
        )


def has_main_checkout(wt: git.Worktree) -> bool:
    """A bare repository's linked worktrees have none (then nothing leaks)."""
    return os.path.basename(wt.common_dir) == ".git" and os.path.isdir(
        os.path.join(os.path.dirname(wt.common_dir), ".git")
    )


def read_doc(path: StrPath, within: StrPath | None = None) -> dict[str, Any]:
    """The settings document at `path`, {} when it is absent or not one moai reads
    (a link leading outside `within`, a FIFO, a device, absurdly large, not JSON)."""

    try:
        raw = files.read_bytes(path, MAX_SETTINGS_BYTES, within=within)
        doc = None if raw is None else loads_json(raw.decode("utf-8"), str(path))
    except (BadInput, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def routing_keys(doc: dict[str, Any]) -> list[tuple[str, ...]]:
    """The routing key paths a settings document sets."""
    found: list[tuple[str, ...]] = [(k,) for k in ROUTING_TOP if k in doc]
    env = doc.get("env")
    if isinstance(env, dict):
        found += [("env", k) for k in ROUTING_ENV if k in env]
    return found


def main_record(wt: git.Worktree) -> Any:
    """The main checkout's ownership record (in its private folder, settings/private.py),
    or None."""
    from moai_mashup.settings import private

    try:
        _path, raw = private.read_record(os.path.join(wt.common_dir, STATE_DIR))
        return plan.OwnershipRecord.from_json(jsontext.loads(raw or b"null"))
    except (BadInput, ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return None


def split_keys(
    doc: dict[str, Any], record: Any
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(the user's own routing keys, moai's) in a main checkout's settings document."""

    live = plan.live_record(doc, record)
    ours = {e.path for e in live.entries if plan._is_ours(doc, e)} if live else set()
    mine: list[tuple[str, ...]] = []
    moai: list[tuple[str, ...]] = []
    for path in routing_keys(doc):
        (moai if path in ours else mine).append(path)
    # "" is what GLM routing writes there too (a blanked ANTHROPIC_API_KEY): harmless.
    mine = [p for p in mine if not (p == ("env", "ANTHROPIC_API_KEY") and doc["env"][p[1]] == "")]
    return mine, moai


def override(
    wt: git.Worktree, expected: str | None, profiles: dict[str, Profile] | None = None
) -> Override | None:
    """What the main checkout's file overrides in this linked worktree, if anything:
    the user's own routing keys where this worktree is meant for a backend moai
    writes, or moai's keys of another backend than this worktree's. `names`: how
    messages name configured backends (their display)."""
    if not wt.is_linked or expected is None or not has_main_checkout(wt):
        return None
    path = os.path.join(wt.main_root, SETTINGS_REL)
    if not os.path.exists(path):
        return None
    doc = read_doc(path, within=wt.main_root)
    record = main_record(wt)
    mine, moai = split_keys(doc, record)
    if expected != "claude" and mine:
        from moai_mashup import git

        keys = tuple(".".join(p) for p in mine)
        committed = git.tracks(wt.main_root, SETTINGS_REL)
        return Override(path, keys, False, display_name(expected, profiles or {}), committed)
    imposed = record.backend if moai and record is not None else None
    if imposed is not None and imposed != expected:
        keys = tuple(".".join(p) for p in moai)
        return Override(path, keys, ours=True, display=display_name(imposed, profiles or {}))
    return None


def committed_keys_line(wt: git.Worktree) -> str | None:
    """One line when the main checkout's settings file is the repository's (git tracks
    it) and sets routing keys Claude Code 2.1.332 applies in this linked worktree over
    what moai writes (its `ANTHROPIC_BASE_URL` would receive the key moai writes here);
    None when nothing of the kind holds. moai writes no key then (settings/apply.py)."""
    if not wt.is_linked or not has_main_checkout(wt):
        return None
    path = os.path.join(wt.main_root, SETTINGS_REL)
    if not os.path.exists(path):
        return None
    mine, _ours = split_keys(read_doc(path, within=wt.main_root), main_record(wt))
    if not mine:
        return None
    from moai_mashup import git

    if not git.tracks(wt.main_root, SETTINGS_REL):
        return None  # the user's own keys there: said by `override`, their word
    keys = ", ".join(".".join(p) for p in mine)
    return (
        f"{path} is tracked by git (the repository's file, not yours) and sets {keys}, "
        f"which Claude Code {MERGING_SINCE} applies in this worktree over moai's; moai "
        f"writes no key here; review it, then in {wt.main_root}: git rm --cached {SETTINGS_REL}"
    )


DOCS = "docs/claude-code.md#main-checkout-settings"  # where this is explained


class Linked(NamedTuple):
    """A linked worktree as git's admin dir records it (no git call)."""

    admin: str  # <common dir>/worktrees/<name>
    root: str  # its checkout, from the admin dir's `gitdir`
    branch: str | None  # None: detached HEAD (or unreadable)


def linked_worktrees(wt: git.Worktree) -> list[Linked]:
    """The repository's linked worktrees, read from git's own admin dirs."""
    out = []
    admin_dir = os.path.join(wt.common_dir, "worktrees")
    for name in sorted(files.list_dir(admin_dir)):
        admin = os.path.join(admin_dir, name)
        try:
            head = files.read_text(os.path.join(admin, "HEAD"), MAX_SETTINGS_BYTES) or ""
            gitdir = (
                files.read_text(os.path.join(admin, "gitdir"), MAX_SETTINGS_BYTES) or ""
            ).strip()
        except BadInput:
            continue
        ref = head.strip()
        branch = ref[len("ref: refs/heads/") :] if ref.startswith("ref: refs/heads/") else None
        # git 2.48+ may write it relative to the admin dir (worktree.useRelativePaths)
        root = os.path.dirname(os.path.normpath(os.path.join(admin, gitdir))) if gitdir else admin
        out.append(Linked(admin, root, branch))
    return out


def leaked_to(wt: git.Worktree, cfg: ResolvedConfig, imposed: Backend) -> list[Linked]:
    """The linked worktrees the routing table puts on another backend than the one the
    main checkout's keys impose on them in Claude Code 2.1.332 (detached ones stay
    as they are: the table sends them nowhere)."""
    from moai_mashup.core.routing import branch_backend, table

    lines = table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)
    return [
        linked
        for linked in linked_worktrees(wt)
        if linked.branch is not None and branch_backend(lines, linked.branch) not in (None, imposed)
    ]


def main_on_backend_line(wt: git.Worktree, cfg: ResolvedConfig, backend: str) -> str | None:
    """Said when the main checkout goes to a backend (GLM or one of `llm.backends`)
    while linked worktrees the table puts elsewhere exist: Claude Code 2.1.332
    applies this checkout's keys of that backend in them too."""
    if wt.is_linked or not has_main_checkout(wt) or backend == "claude":
        return None
    leaked = leaked_to(wt, cfg, backend)
    if not leaked:
        return None
    from moai_mashup.core.routing import branch_backend, table

    lines = table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)
    meant = {branch_backend(lines, linked.branch) or "" for linked in leaked}
    meant_for = display_name(meant.pop(), cfg.backends) if len(meant) == 1 else "other backends"
    where = ", ".join(str(linked.root) for linked in leaked[:3])
    where += f" and {len(leaked) - 3} more" if len(leaked) > 3 else ""
    return (
        f"{len(leaked)} linked worktree(s) meant for {meant_for} ({where}) get this "
        f"checkout's {display_name(backend, cfg.backends)} keys in Claude Code {MERGING_SINCE}; "
        "fix: "
        f"git checkout {cfg.default_branch} ({DOCS})"
    )
