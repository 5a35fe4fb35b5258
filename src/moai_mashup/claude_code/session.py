"""Where a Claude Code session runs, what the routing table wants there, and what
the session itself talks to. Shared by the prompt hook and the status line:
files only, no git child, no heavy import: paths are strings and os.path, as
pathlib (with the urllib.parse and ipaddress it imports) cost 10-15 ms CPU, 15-23%,
of a status line refresh or a prompt (measured against this module with pathlib,
same run, 2 loaded cores).

Every file goes through moai_mashup.files: read bounded (a committed link to
/dev/zero or a FIFO costs nothing), the committed ones only inside the checkout,
and the session records written only inside the git dir.
"""

from __future__ import annotations

import os

from moai_mashup import files, jsontext
from moai_mashup.config import GLM_JSON, ResolvedConfig, load_config
from moai_mashup.core.backends import CLAUDE, GLM, TIERS, display_name
from moai_mashup.core.model_pin import pinned_model
from moai_mashup.core.routing import (
    Backend,
    BranchKind,
    branch_backend,
    branch_kind,
    spec_branch_name,
    spec_id_from_branch,
    table,
)
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import (
    MAX_CONFIG_BYTES,
    MAX_LINE_FILE_BYTES,
    MAX_SETTINGS_BYTES,
    loads_json,
)
from moai_mashup.paths import SETTINGS_REL, STATE_DIR

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from moai_mashup.core.backends import Profile

DEFAULT_GLM_URL = "https://api.z.ai/api/anthropic"  # core.glm_template.DEFAULT_BASE_URL
MODEL_KEYS = (
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
)


MODEL_VAR = "ANTHROPIC_MODEL"  # core.model_pin.MODEL_VAR
# Which backend serves a model, told by the start of its name: Claude's models start
# with "claude", GLM's with "glm"; a configured backend's are its tiers' models and
# those starting with its family (`Served.prefixes`), and a template's own model
# names count for GLM too.
CLAUDE_PREFIXES = ("claude",)
GLM_PREFIXES = ("glm",)
# How a session comes back on a backend after `/exit`, measured with the real CLI on
# 2.1.197 and 2.1.332 (tests/e2e/test_resume.py): `claude --continue` restores the
# model its transcript ends with (2.1.332; 2.1.197 only a model it knows), unless
# ANTHROPIC_MODEL (the shell's, or a settings env's: moai writes a tier alias on
# GLM) or `--model` names one. The hooks see the environment, never `--model`, so
# the way back to any backend but GLM names the tier in the environment: a settings
# env's ANTHROPIC_MODEL beats the shell's, so where moai writes one the shell's
# changes nothing, and where none is written the tier keys map the alias to the
# backend's own model.
RESUME_GLM = "claude --continue"
RESUME_OTHER = MODEL_VAR + "={tier} claude --continue"
TRANSCRIPT_TAIL = 1 << 20  # the end of a transcript read for its last model

NOTES_DIR = "claude-code-notes"  # in <git common dir>/moai/: one file per session
PINS_DIR = "claude-code-pins"  # in <git common dir>/moai/: a session's start-time pin
ALIASES = TIERS


class Place(NamedTuple):
    """The worktree holding a directory, read from files (as git would find it)."""

    root: str
    git_dir: str
    branch: str | None

    @property
    def common_dir(self) -> str:
        rel = _read_text(os.path.join(self.git_dir, "commondir"))
        if rel is None or not rel.strip():
            return self.git_dir
        return os.path.join(self.git_dir, rel.strip())


def _read_text(
    path: str, limit: int = MAX_LINE_FILE_BYTES, within: str | None = None
) -> str | None:
    """The file's text; None when it is absent or not a regular UTF-8 file under `limit`
    (inside `within`): what these readers cannot use, they go without."""
    try:
        return files.read_text(path, limit, within=within)
    except (MoaiError, OSError):
        return None


def note_path(common_dir: str | Path, session_id: object) -> str | None:
    """Where a hook leaves a line for the session's next prompt (None: no usable id)."""
    if not isinstance(session_id, str) or not session_id.replace("-", "").isalnum():
        return None
    if len(session_id) > 100:
        return None
    return os.path.join(common_dir, STATE_DIR, NOTES_DIR, session_id)


def take_note(place: Place, session_id: object) -> str | None:
    """The line a hook left for this session, once (then it is gone)."""
    common = place.common_dir
    path = note_path(common, session_id)
    if path is None:
        return None
    text = _read_text(path, within=common)
    if text is None:
        return None
    try:
        files.remove(path, within=common)
    except (MoaiError, OSError):
        return None
    return text.strip() or None


def _settings_doc(path: str, within: str | None = None) -> dict[str, object]:
    text = _read_text(path, MAX_SETTINGS_BYTES, within)
    try:
        doc = loads_json(text, path) if text is not None else None
    except BadInput:
        return {}
    return doc if isinstance(doc, dict) else {}


def main_checkout(place: Place) -> str | None:
    """The main checkout of a linked worktree (None: this is it, or a bare repository)."""
    common = os.path.realpath(place.common_dir)
    if common == os.path.realpath(place.git_dir) or os.path.basename(common) != ".git":
        return None
    return os.path.dirname(common)


def start_pin(place: Place, env: Mapping[str, str]) -> str | None:
    """The Claude model a session starting here pinned by full id, or None.

    Claude Code fixes a session's model when it starts (`ANTHROPIC_MODEL`, then
    `model` at any settings level, or `--model`); only the tier keys are read
    again each turn. A session that started on Claude with a full id keeps
    sending it after its worktree switches to GLM, which would receive
    `claude-opus-...` as is (measured, Claude Code 2.1.332). The hooks run with
    the session's environment, so `ANTHROPIC_MODEL` is the one it uses.
    """

    levels: list[tuple[str, str | None]] = [(os.path.join(place.root, SETTINGS_REL), None)]
    main = main_checkout(place)
    if main is not None:  # Claude Code 2.1.332 reads it in every linked worktree
        levels.append((os.path.join(main, SETTINGS_REL), None))
    # Committed: read only inside the checkout.
    levels.append((os.path.join(place.root, ".claude", "settings.json"), place.root))
    config_dir = env.get("CLAUDE_CONFIG_DIR") or os.path.join(env.get("HOME", "~"), ".claude")
    levels.append((os.path.join(os.path.expanduser(config_dir), "settings.json"), None))
    docs = [_settings_doc(p, within) for p, within in levels]
    pin = pinned_model(docs, env.get("ANTHROPIC_MODEL"))
    if not pin or pin.partition("[")[0].strip().lower() in ALIASES:
        return None  # an alias goes through the tier keys, which follow a switch
    return pin if is_claude_model(pin) else None


def pin_path(common_dir: str, session_id: object) -> str | None:
    path = note_path(common_dir, session_id)
    return (
        None
        if path is None
        else os.path.join(common_dir, STATE_DIR, PINS_DIR, os.path.basename(path))
    )


def remember_pin(place: Place, session_id: object, pin: str | None) -> None:
    """Keep a session's start-time Claude pin for its prompt hook (only when there is one).

    Written only inside the git dir: a link there leading out is refused."""
    common = place.common_dir
    path = pin_path(common, session_id)
    if path is None:
        return
    try:
        if pin is None:
            files.remove(path, within=common)
            return
        files.write_bytes(path, (pin + "\n").encode("utf-8"), within=common, durable=False)
    except (MoaiError, OSError, UnicodeEncodeError):
        pass  # a session without the record is only not held for its pin


def remembered_pin(place: Place, session_id: object) -> str | None:
    common = place.common_dir
    path = pin_path(common, session_id)
    if path is None:
        return None
    text = _read_text(path, within=common)
    return (text or "").strip() or None


def find_place(cwd: str) -> Place | None:
    """The worktree containing `cwd`, or None (not in a git worktree, or an odd layout).

    GIT_DIR / GIT_WORK_TREE are ignored on purpose: the session's directory decides.
    """
    if not os.path.isabs(cwd):
        return None
    parts = [part for part in cwd.split("/") if part and part != "."]  # as pathlib reads it
    for n in range(len(parts), -1, -1):
        folder = "/" + "/".join(parts[:n])
        dotgit = os.path.join(folder, ".git")
        if os.path.isdir(dotgit):
            git_dir = dotgit
        elif os.path.isfile(dotgit):
            # git.git_dir_at in str paths: this path runs without pathlib
            lines = (_read_text(dotgit) or "").splitlines()
            if not lines:
                return None
            line = lines[0]
            if not line.startswith("gitdir: "):
                return None
            git_dir = os.path.join(folder, line[len("gitdir: ") :].strip())
        else:
            continue
        text = _read_text(os.path.join(git_dir, "HEAD"))
        if text is None:
            return None
        head = text.strip()
        branch = head[len("ref: refs/heads/") :] if head.startswith("ref: refs/heads/") else None
        return Place(folder, git_dir, branch)
    return None


class Served(NamedTuple):
    """A backend beside Claude as a session sees it: its endpoint and its models."""

    name: str
    url: str
    tiers: tuple[str, ...]  # the opus, sonnet and haiku models ("" where unknown)
    prefixes: tuple[str, ...]  # a model whose name starts so is its

    def serves(self, bare: str) -> bool:
        """`bare`: a model id in lower case, without its `[1m]`."""
        return bare.startswith(self.prefixes) or any(bare == t.lower() for t in self.tiers if t)


class Here(NamedTuple):
    """A configured worktree: the table's answer for it."""

    place: Place
    cfg: ResolvedConfig
    kind: BranchKind
    expected: Backend | None  # None: detached HEAD, left as it is
    spec_id: str | None
    served: tuple[Served, ...]  # glm (its template), then each configured backend

    def display(self, name: str) -> str:
        return display_name(name, self.cfg.backends)

    def backend_of(self, kind: BranchKind) -> str | None:
        """The backend the table gives the default branch (`default`) or a SPEC's
        branch (`spec`)."""
        cfg = self.cfg
        lines = table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)
        pattern = cfg.spec_branch_pattern
        branch = cfg.default_branch if kind == "default" else spec_branch_name("SPEC-X", pattern)
        return branch_backend(lines, branch)


def _glm_template(root: str) -> Served:
    """The committed GLM template's base URL and its tiers' models (defaults when
    absent/odd)."""
    text = _read_text(os.path.join(root, GLM_JSON), MAX_CONFIG_BYTES, within=root)
    try:
        env = loads_json(text, GLM_JSON).get("env", {}) if text is not None else {}
    except (BadInput, AttributeError):
        env = {}
    if not isinstance(env, dict):
        env = {}
    url = env.get("ANTHROPIC_BASE_URL")
    tiers = tuple(m if isinstance(m := env.get(k), str) else "" for k in MODEL_KEYS)
    if not any(tiers):
        tiers = ("glm-4.7",) * 3  # core.glm_template.DEFAULT_MODEL
    url = url if isinstance(url, str) and url else DEFAULT_GLM_URL
    return Served(GLM, url, tiers, GLM_PREFIXES)


def _profile_served(profile: Profile) -> Served:
    """A configured backend: its base URL, its tiers' models, and its family as a
    prefix when its models are named so (`deepseek-...` for the family deepseek)."""
    tiers = tuple(profile.models.get(t, "") for t in TIERS)
    family = profile.family.lower()
    named = family and any(m.lower().startswith(family) for m in tiers if m)
    return Served(profile.name, profile.base_url, tiers, (family,) if named else ())


def here(cwd: str) -> Here | None:
    """The table's view of `cwd`; None where moai is not configured. Raises BadInput
    (one line) for a broken config."""
    place = find_place(cwd)
    if place is None:
        return None
    cfg = load_config(place.root, os.path.join(place.git_dir, STATE_DIR))
    if not cfg.configured:
        return None
    kind = branch_kind(place.branch, cfg.default_branch, cfg.spec_branch_pattern)
    spec = spec_id_from_branch(place.branch, cfg.spec_branch_pattern) if place.branch else None
    served = (_glm_template(place.root), *(_profile_served(p) for p in cfg.backends.values()))
    lines = table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)
    return Here(place, cfg, kind, branch_backend(lines, place.branch), spec, served)


def _url(value: str) -> str:
    return value.strip().rstrip("/")


def running_backend(env: Mapping[str, str], h: Here) -> str:
    """What the session talks to, from its environment (settings `env` applied): the
    backend whose base URL it has (the table's one first, when two share a URL),
    else the user's own Claude setup."""
    url = _url(env.get("ANTHROPIC_BASE_URL", ""))
    if not url:
        return CLAUDE
    matching = [b.name for b in h.served if _url(b.url) == url]
    if h.expected in matching:
        return h.expected
    return matching[0] if matching else CLAUDE


def _bare(model_id: str) -> str:
    return model_id.split("[", 1)[0].strip().lower()


def serving(model_id: str, served: tuple[Served, ...]) -> tuple[str, ...]:
    """The backends that serve a model id as the status line shows it (`glm-4.7[1m]`):
    empty when none is known to (a proxy's own name)."""
    bare = _bare(model_id)
    if not bare:
        return ()
    if bare in ALIASES:  # a tier alias: every backend maps it with its tier keys
        return (CLAUDE, *(b.name for b in served))
    names = [CLAUDE] if bare.startswith(CLAUDE_PREFIXES) else []
    return (*names, *(b.name for b in served if b.serves(bare)))


def left_behind(env: Mapping[str, str], h: Here, running: str) -> list[tuple[str, str]]:
    """(model, the backend it belongs to) of the models in a session's environment
    (ANTHROPIC_MODEL and the tier keys) that the backend it talks to does not serve.
    A session that was on GLM when its worktree switched back keeps them: a running
    Claude Code reloads changed settings files but keeps the keys a file no longer
    sets, so it asks the user's Claude endpoint for GLM's models."""
    out = []
    for key in (MODEL_VAR, *MODEL_KEYS):
        name = env.get(key, "")
        owners = serving(name, h.served) if name else ()
        if owners and running not in owners:
            out.append((name, owners[0]))
    return out


def session_state(env: Mapping[str, str], h: Here) -> tuple[str | None, str]:
    """The backend a session talks to and how messages name it: `GLM`, `Claude`, a
    configured backend's display name, or None and `Claude's endpoint with GLM's
    models (glm-4.7)`: a switch it could not follow, right for no backend."""
    running = running_backend(env, h)
    stale = left_behind(env, h, running)
    if stale:
        models = ", ".join(dict.fromkeys(m for m, _ in stale))
        owners = " and ".join(dict.fromkeys(h.display(o) for _, o in stale))
        return None, f"{h.display(running)}'s endpoint with {owners}'s models ({models})"
    return running, h.display(running)


def mismatch(model_id: str, h: Here) -> bool:
    """The model belongs to known backends, and the table's backend here is none of them."""
    owners = serving(model_id, h.served)
    return bool(owners) and h.expected is not None and h.expected not in owners


def is_claude_model(model_id: str) -> bool:
    return _bare(model_id).startswith(CLAUDE_PREFIXES)


def transcript_model(path: object) -> str | None:
    """The model of the last assistant record in a session's transcript (the hook
    payload's `transcript_path`, both tested versions), read from its last MiB; None
    when there is none (a new session) or it cannot be read."""
    if not isinstance(path, str) or not os.path.isabs(path) or not path.endswith(".jsonl"):
        return None
    try:
        raw = files.read_tail(path, TRANSCRIPT_TAIL)
    except (MoaiError, OSError):
        return None
    lines = (raw or b"").split(b"\n")
    if len(raw or b"") >= TRANSCRIPT_TAIL:
        lines = lines[1:]  # the first one may be cut
    for line in reversed(lines):
        if b'"assistant"' not in line:
            continue
        try:
            record = jsontext.loads(line)
        except (ValueError, RecursionError):
            continue
        message = record.get("message") if isinstance(record, dict) else None
        if record.get("type") != "assistant" or not isinstance(message, dict):
            continue
        model = message.get("model")
        if isinstance(model, str) and model and not model.startswith("<"):  # <synthetic>
            return model
    return None


def resumed_model(env: Mapping[str, str], transcript_path: object) -> str | None:
    """The model a session restores from its transcript and sends next: None when its
    environment names one (ANTHROPIC_MODEL beats the transcript, RESUME above)."""
    if env.get(MODEL_VAR):
        return None
    return transcript_model(transcript_path)


def resume_advice(h: Here, model: str | None = None) -> str:
    """`/exit, then ...`: what brings the session back on the table's backend with a
    model it serves, on both tested versions; `model`, the one it has now, picks the
    tier (its place among its own backend's tiers, else the tier its name says)."""
    tier = "opus"
    bare = _bare(model or "")
    found = [
        a
        for b in h.served
        for a, name in zip(ALIASES, b.tiers, strict=False)
        if bare and name.lower() == bare
    ]
    found += [a for a in ALIASES if bare and a in bare]
    if found:
        tier = found[0]
    target = h.expected or CLAUDE
    command = RESUME_GLM if target == GLM else RESUME_OTHER.format(tier=tier)
    return "/exit, then " + command


def session_model(env: Mapping[str, str], payload_model: object = None) -> str:
    """The model(s) a session uses, as far as its environment says."""
    if isinstance(payload_model, str) and payload_model:
        return payload_model
    pinned = env.get("ANTHROPIC_MODEL", "")
    # A tier alias (what moai writes on GLM, core/model_pin.py) is mapped by the tier keys.
    if pinned and pinned not in ("opus", "sonnet", "haiku"):
        return pinned
    tiers = {
        t: env[k]
        for t, k in zip(("opus", "sonnet", "haiku"), MODEL_KEYS, strict=True)
        if env.get(k)
    }
    if len(set(tiers.values())) == 1:
        return next(iter(tiers.values()))
    if tiers:
        return ", ".join(f"{t} {m}" for t, m in tiers.items())
    return "Claude Code's default model"


def where(h: Here) -> str:
    """`feature/SPEC-X in /path` as messages show a place."""
    branch = h.place.branch or "detached HEAD"
    return f"{branch} in {h.place.root}"


def phases(h: Here) -> tuple[list[str], list[str]]:
    """Which phases belong here, and where each other one belongs (table 1)."""
    cfg, mode = h.cfg, h.cfg.mode
    if mode == "claude-only":
        return ["plan", "run", "sync"], []
    plan_on = h.display(h.backend_of("default") or CLAUDE)
    if mode == "glm-only":
        if h.kind == "default":
            return ["plan", "run", "sync"], []
        return ["run", "sync"], [f"plan on {cfg.default_branch} with {plan_on}"]
    spec_on = h.display(h.backend_of("spec") or CLAUDE)
    spec_place = f"a SPEC's worktree ({cfg.spec_branch_pattern}, {spec_on}: claude -w SPEC-<ID>)"
    if h.kind == "default":
        return ["plan"], [f"run and sync in {spec_place}"]
    if h.kind == "spec":
        return ["run", "sync"], [f"plan on {cfg.default_branch} with {plan_on}"]
    return [], [f"plan on {cfg.default_branch} with {plan_on}", f"run and sync in {spec_place}"]


def environ() -> dict[str, str]:
    return dict(os.environ)
