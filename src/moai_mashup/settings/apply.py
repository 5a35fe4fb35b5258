"""Apply a backend to one worktree: the edge around core/settings_plan.py.

Reads the worktree's `.claude/settings.local.json` and our ownership record,
asks the pure planner for the new document, and writes both atomically under
a lock, only when something changes (an idempotent apply leaves the mtime).

Backends: `claude` (moai's keys out), `glm` (the repository's glm.json) and
every name in `llm.backends` (core/backends.Profile: its env, the user's key of
that backend under its auth variable only).
"""

from __future__ import annotations

import os
import sys

from moai_mashup import files, git, jsontext
from moai_mashup.config import GLM_JSON, LLM_YAML, ResolvedConfig
from moai_mashup.core import model_pin
from moai_mashup.core import settings_plan as plan
from moai_mashup.core.backends import CLAUDE, GLM, Profile, profile_env
from moai_mashup.core.glm_template import (
    DEFAULT_TEMPLATE,
    SECRET_KEYS,
    extra_env_trust_value,
    fill_template,
    split_routing,
    validate_template,
    with_window,
)
from moai_mashup.errors import BadInput, Refused
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_CONFIG_BYTES, MAX_SETTINGS_BYTES, loads_json_unique
from moai_mashup.paths import (
    LOCK_NAME,
    SETTINGS_REL,
    SETTINGS_TEMP_PATTERN,
    SETTINGS_TEMP_PROBE,
)
from moai_mashup.settings import private
from moai_mashup.settings.keys import (
    GlmKey,
    binding_problem,
    moai_home,
    no_key_message,
    resolve_key,
)
from moai_mashup.spawn import IgnoredQuery

if TYPE_CHECKING:
    from typing import Any

    from moai_mashup.core.stray import StraySpec
    from moai_mashup.files import StrPath

# A backend's name: "claude", "glm" or a name of `llm.backends`.
Backend = str


class UntrustedUrl(Refused):
    """The committed template sends the key to a host the user has not trusted."""


class KeyNotForEndpoint(UntrustedUrl):
    """The backend's key was set for another endpoint than the one the config sends it
    to (settings/keys.binding_problem), or none was recorded with it. A kind of
    UntrustedUrl for its callers: the worktree stays on Claude, with one line."""


class CommittedOverride(UntrustedUrl):
    """The main checkout's settings file, which Claude Code 2.1.332 applies in a linked
    worktree over the worktree's own, is committed and routes elsewhere
    (settings/main_checkout.committed_keys_line): no key is written. A kind of
    UntrustedUrl for its callers: the worktree stays on Claude, with one line."""


class UnsafeSettingsLink(UntrustedUrl):
    """The settings file is reached through a symbolic link that leaves the worktree
    or lands on a path git does not ignore: the key is not written there. A kind of
    UntrustedUrl for its callers: the worktree stays on Claude, with one line."""


def held_back_line(held: tuple[str, ...], where: str = GLM_JSON) -> str:
    """The one line saying which template (or profile) keys were not written, and why;
    `where`: the file and entry they come from (ApplyResult.held_where)."""
    return (
        f"{where}: held back env {', '.join(held)}: not keys that route the model, and "
        "not trusted here; review them with `moai trust --list`, then run: moai trust"
    )


def profile_of(cfg: ResolvedConfig, backend: Backend) -> Profile | None:
    """The configured backend `backend` (None: claude or glm); BadInput for a name
    neither built in nor in `llm.backends`."""
    if backend in (CLAUDE, GLM):
        return None
    profile = cfg.backends.get(backend)
    if profile is None:
        raise BadInput(
            f"{LLM_YAML}: no backend {backend!r} in llm.backends; define it there, "
            "or route to claude or glm"
        )
    return profile


def profile_where(profile: Profile) -> str:
    """The file and entry a backend comes from, as messages name it."""
    return f"{profile.source or LLM_YAML}: llm.backends.{profile.name}"


class SettingsState(NamedTuple):
    path: str
    text: str | None  # None: the file does not exist
    doc: dict[str, Any]
    record: plan.OwnershipRecord | None
    mode: int | None = None  # the file's permission bits (None: no file)
    stray: tuple[plan.KeyPath, ...] = ()  # a backend's state no record owns (core/stray.py)
    stray_backend: str | None = None  # the backend that stray state routes to

    @property
    def active(self) -> plan.Active:
        active = plan.active_backend(self.doc, self.record)
        if self.stray and active == CLAUDE:
            return self.stray_backend or GLM
        return active

    def cleaned(self) -> SettingsState:
        """This state with the stray state taken out: what every plan starts from, so
        switching to a backend never records it as the user's and back never restores it."""
        if not self.stray:
            return self
        from moai_mashup.core.stray import without

        return self._replace(doc=without(self.doc, list(self.stray)), stray=(), stray_backend=None)


def stray_spec(
    wt: git.Worktree, glm_env_var: str, backends: dict[str, Profile] | None = None
) -> StraySpec:
    """The user's keys (every source) of GLM and of each configured backend, with GLM's
    template and each backend's env, for finding stray backend state."""
    from moai_mashup.core.stray import StraySpec

    try:
        template = load_template(wt)
    except BadInput:
        template = with_window(dict(DEFAULT_TEMPLATE["env"]))
    others = {
        name: (_user_keys(glm_env_var, name), profile_env(profile))
        for name, profile in (backends or {}).items()
    }
    return StraySpec(_user_keys(glm_env_var), template, others)


_USER_KEYS: dict[tuple[str, str], frozenset[str]] = {}


def _user_keys(glm_env_var: str, backend: str = GLM) -> frozenset[str]:
    """Every key of `backend` the user's sources hold; read once per process
    (`worktree list` asks for each worktree)."""
    if (glm_env_var, backend) not in _USER_KEYS:
        import os

        from moai_mashup.errors import MoaiError
        from moai_mashup.settings import keys

        found = set()
        for path, reader in (
            (keys.env_file, keys.read_env_file_key),
            (lambda _backend: keys.credentials_file(), keys.read_credentials_key),
        ):
            try:  # noqa: SIM105 - contextlib stays off the hook's path
                found.add(reader(path(backend), backend) or "")
            except MoaiError:
                pass  # a broken key file is reported where the key is needed
        found |= {os.environ.get(n, "") for n in keys.env_vars(backend, glm_env_var)}
        _USER_KEYS[(glm_env_var, backend)] = frozenset(found - {""})
    return _USER_KEYS[(glm_env_var, backend)]


class ApplyResult(NamedTuple):
    backend: Backend
    changed: bool
    before: plan.Active
    settings_path: str
    key: GlmKey | None
    held: tuple[str, ...] = ()  # env keys not written: untrusted (held_back_line)
    held_where: str = GLM_JSON  # the file and entry they come from

    @property
    def held_line(self) -> str | None:
        """The one line naming the keys held back and where they come from; None: none."""
        return held_back_line(self.held, self.held_where) if self.held else None


def settings_path(wt: git.Worktree) -> str:
    return os.path.join(wt.root, SETTINGS_REL)


def settings_file(wt: git.Worktree) -> str:
    """The file moai reads and replaces: through a symlinked `.claude` or settings
    file, its target, so the user's link stays a link (a rename over the link
    itself would turn it into a plain file)."""
    path = settings_path(wt)
    if os.path.islink(os.path.dirname(path)) or os.path.islink(path):
        return os.path.realpath(path)
    return path


def check_settings_link(wt: git.Worktree) -> None:
    """Refuse to put the key behind a symlink unless it stays in this worktree, on a
    path git ignores and does not track.

    A repository can commit `.claude` as a symlink (git checks it out as one) and
    send the file anywhere: `git check-ignore` refuses paths "beyond a symbolic
    link", so the privacy check alone would not see where the key lands.
    """
    path = settings_path(wt)
    link = path if os.path.islink(path) else os.path.dirname(path)
    if not os.path.islink(link):
        return
    target = os.path.realpath(path)
    shown = f"{os.path.relpath(link, wt.root)} is a symbolic link to {os.readlink(link)}"
    real_root = os.path.realpath(wt.root)
    rel = os.path.relpath(target, real_root) if files.is_inside(target, real_root) else None
    if rel is None or rel in (".", ".git") or rel.startswith(".git/"):
        raise UnsafeSettingsLink(
            f"{SETTINGS_REL}: {shown}, outside this worktree; moai does not write your key "
            "through it (make it a plain file or directory, then: moai apply)"
        )
    if not git.is_ignored(wt.root, rel) or git.is_tracked(wt.root, rel):
        raise UnsafeSettingsLink(
            f"{SETTINGS_REL}: {shown}, which git does not ignore ({rel}); moai does not write "
            f"your key where it could be committed (ignore {rel}, then: moai apply)"
        )


def _reject_constant(name: str) -> Any:
    # NaN/Infinity are Python's extension, not JSON: Claude Code would reject the
    # whole file (and silently ignore our keys), so treat it as invalid here too.
    raise ValueError(f"{name} is not valid JSON")


def read_state(wt: git.Worktree, spec: StraySpec | None = None) -> SettingsState:
    """The settings file and our record; with `spec`, also the GLM state no record owns."""
    path = settings_file(wt)
    mode = None
    # bytes kept as they are: universal newlines would turn a CRLF file into LF
    # named as the user knows it (the link), not where it leads
    text = files.read_text(path, MAX_SETTINGS_BYTES, str(settings_path(wt)), within=wt.root)
    if text is not None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError as exc:
            raise BadInput(
                f"{path}: cannot read ({exc.strerror}); moai left it untouched"
            ) from None
    doc, record = parse_settings(path, text), read_record(wt)
    if spec is None:
        return SettingsState(path, text, doc, record, mode)
    from moai_mashup.core.stray import find_stray

    stray_to, stray = find_stray(doc, record, spec)
    return SettingsState(path, text, doc, record, mode, tuple(stray), stray_to)


def parse_settings(path: str, text: str | None) -> dict[str, Any]:
    doc: Any = {}
    if text is not None and text.strip():
        from moai_mashup.limits import deep_message, json_shape_problem

        problem = json_shape_problem(text)
        if problem is not None:
            raise BadInput(f"{path}: {problem}; moai left it untouched")
        try:
            doc = jsontext.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            raise BadInput(deep_message(str(path))) from None
        except ValueError as exc:
            raise BadInput(
                f"{path}: invalid JSON ({exc}); fix or remove it, moai left it untouched"
            ) from None
        if not isinstance(doc, dict):
            raise BadInput(f"{path}: expected a JSON object; fix it, moai left it untouched")
        if "env" in doc and not isinstance(doc["env"], dict):
            raise BadInput(
                f"{path}: env: must be a JSON object of variables; fix it, moai left it untouched"
            )
    return dict(doc)


def read_record(wt: git.Worktree) -> plan.OwnershipRecord | None:
    """The worktree's ownership record, in its private folder (settings/private.py)."""
    path = private.legacy_record(wt.state_dir)
    try:
        path, raw = private.read_record(wt.state_dir)
        if raw is None:
            return None
        return plan.OwnershipRecord.from_json(jsontext.loads(raw))
    except (BadInput, OSError, ValueError, RecursionError, KeyError, TypeError):
        raise BadInput(
            f"{path}: unreadable ownership record; remove it, then check "
            f"the env keys of {SETTINGS_REL} by hand"
        ) from None


def load_template(wt: git.Worktree) -> dict[str, str]:
    text = files.read_text(
        os.path.join(wt.root, GLM_JSON), MAX_CONFIG_BYTES, str(GLM_JSON), within=wt.root
    )
    if text is None:
        return dict(DEFAULT_TEMPLATE["env"])
    if text not in _TEMPLATES:
        _TEMPLATES[text] = validate_template(loads_json_unique(text, str(GLM_JSON)), str(GLM_JSON))
    return with_window(_TEMPLATES[text])


# Validated templates by their text, for this process: every worktree of a `worktree
# list` reads its own glm.json (through files.py, each time), and they are nearly always
# the same bytes; parsing and checking them once saves ~20 us a worktree.
_TEMPLATES: dict[str, dict[str, str]] = {}


# Claude Code runs apiKeyHelper in the worktree, with the settings' env: `python -m`
# would import a `moai_mashup/` package committed at the repository's root first,
# and honour PYTHONPATH / PYTHONSTARTUP / PYTHONHOME. -I drops the current
# directory, every PYTHON* variable and the user site; the directory this moai
# is imported from goes first on the path instead (site.py still adds the
# interpreter's own site-packages, where its dependencies are).
KEY_HELPER_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from moai_mashup.settings.key_helper import main; raise SystemExit(main(sys.argv[2:]))"
)


def key_helper_command(wt: git.Worktree, backend: Backend = GLM) -> str:
    """An absolute command Claude Code runs (via /bin/sh) to get `backend`'s key on
    demand. GLM's command names no backend (as moai always wrote it); another's
    ends with its name (core/stray.helper_backend reads it back)."""
    import moai_mashup

    python = sys.executable
    if not python or not os.path.isabs(python):
        raise Refused(
            "cannot tell which Python runs moai (sys.executable is not absolute); "
            "use credential_mode: inline"
        )
    home = os.path.dirname(os.path.dirname(os.path.realpath(moai_mashup.__file__)))
    argv: tuple[str, ...] = (python, "-I", "-c", KEY_HELPER_BOOT, home, str(wt.root))
    if backend != GLM:
        argv += (backend,)
    import shlex  # re: only for credential_mode helper, never on a checkout's way

    return " ".join(shlex.quote(p) for p in argv)


def trusted_template(wt: git.Worktree, glm_env_var: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """The template's env as moai may write it, and the names held back.

    A committed template decides what Claude Code loads beside the user's key:
    only the keys that route the model pass unasked; the rest passes only as
    the exact set (names and values) the user trusted with `moai trust`.
    """
    from moai_mashup.settings import trust

    env = load_template(wt)
    # The placeholder check covers every key, held back or not: a committed
    # template naming the key outside the credential is an error, never silent.
    fill_template(env, None, glm_env_var, str(GLM_JSON))
    _routing, extra = split_routing(env)
    if not extra or trust.is_trusted(wt.main_root, "env", extra_env_trust_value(extra)):
        return env, ()
    return {k: v for k, v in env.items() if k not in extra}, tuple(sorted(extra))


def user_settings_file() -> str:
    """~/.claude/settings.json, the user level Claude Code merges under a project's."""
    return os.path.join(
        os.environ.get("HOME") or os.path.expanduser("~"), ".claude", "settings.json"
    )


def _settings_doc(path: StrPath, within: StrPath | None = None) -> dict[str, Any]:
    """A settings file as Claude Code would see it, for reading only: {} when it is
    absent, not a valid object (Claude Code ignores such a file whole), or not one
    moai reads (not a regular file, too large or deep, a link leaving `within`)."""
    try:
        raw = files.read_bytes(path, MAX_SETTINGS_BYTES, within=within)
        doc = None if raw is None else loads_json_unique(raw.decode("utf-8"), str(path))
    except (BadInput, UnicodeDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}


def user_settings_levels(wt: git.Worktree) -> list[dict[str, Any]]:
    """The settings levels as the user left them, highest first: this worktree's
    settings.local.json without our keys, .claude/settings.json, ~/.claude/settings.json."""
    try:
        state = read_state(wt)
        local = plan.plan_claude(state.doc, plan.live_record(state.doc, state.record))
    except BadInput:
        local = {}
    return [
        local,
        _settings_doc(os.path.join(wt.root, ".claude", "settings.json"), wt.root),
        _settings_doc(user_settings_file()),
    ]


def desired_glm(wt: git.Worktree, cfg: ResolvedConfig) -> tuple[dict[plan.KeyPath, Any], GlmKey]:
    """The keys GLM needs in this worktree; raises when there is no key or trust."""
    desired, key, _held = desired_glm_held(wt, cfg)
    return desired, key


def desired_glm_held(
    wt: git.Worktree, cfg: ResolvedConfig
) -> tuple[dict[plan.KeyPath, Any], GlmKey, tuple[str, ...]]:
    """desired_glm, and the template keys held back for want of trust."""
    from moai_mashup.settings import trust

    env, held = trusted_template(wt, cfg.glm_env_var)  # placeholders checked first
    key = resolve_key(cfg.glm_env_var)
    if key is None:
        raise BadInput(no_key_message(cfg.glm_env_var))
    base_url = env["ANTHROPIC_BASE_URL"]
    if not trust.is_trusted(wt.main_root, "url", base_url):
        raise UntrustedUrl(
            f"{GLM_JSON}: env.ANTHROPIC_BASE_URL {base_url} is not a known GLM endpoint and is "
            "not trusted here; review it, then run: moai trust"
        )
    filled = fill_template(env, key.value, cfg.glm_env_var, str(GLM_JSON))
    return _desired(wt, cfg, GLM, env, filled), key, held


def _desired(
    wt: git.Worktree,
    cfg: ResolvedConfig,
    backend: Backend,
    env: dict[str, str],
    filled: dict[str, str],
) -> dict[plan.KeyPath, Any]:
    """The keys a backend writes: `env` (placeholders unfilled) in helper mode, `filled`
    (the key in its auth variable) inline; every credential of the user's blanked."""
    # Claude Code sends every credential it finds, so the user's own ones are
    # blanked while on a backend ("" counts as unset, and the worktree's env block
    # beats the shell and ~/.claude/settings.json): an ANTHROPIC_AUTH_TOKEN beats
    # apiKeyHelper, and an ANTHROPIC_API_KEY or a global apiKeyHelper would go out
    # as x-api-key beside the backend's token. Switching back restores what was there.
    desired: dict[plan.KeyPath, Any] = {("env", "ANTHROPIC_API_KEY"): ""}
    # A model pinned by full id would reach the backend as is (core/model_pin.py):
    # the tier of the user's pin instead, through the backend's tier mapping.
    desired[("env", model_pin.MODEL_VAR)] = model_pin.glm_tier(
        user_settings_levels(wt), os.environ.get(model_pin.MODEL_VAR), env
    )
    if cfg.credential_mode == "helper":
        desired[("env", "ANTHROPIC_AUTH_TOKEN")] = ""
        for name, value in env.items():
            if name not in SECRET_KEYS:
                desired[("env", name)] = value
        desired[("apiKeyHelper",)] = key_helper_command(wt, backend)
    else:
        for name, value in filled.items():
            desired[("env", name)] = value
        desired[("apiKeyHelper",)] = ""
    return desired


def profile_env_for_trust(profile: Profile) -> dict[str, str]:
    """A configured backend's env (the key a placeholder) as moai writes it at most:
    the credential is moai's to write, only in the auth variable, never from the
    profile's own env (a committed `env: {ANTHROPIC_API_KEY: ...}` is blanked)."""
    env = profile_env(profile)
    for name in SECRET_KEYS:
        if name != profile.auth_var:
            env.pop(name, None)
    return env


def trusted_profile_env(
    wt: git.Worktree, profile: Profile
) -> tuple[dict[str, str], tuple[str, ...]]:
    """A configured backend's env as moai may write it (the key a placeholder), and
    the names held back: as for glm.json (`trusted_template`), only the keys that
    route the model pass unasked; the rest only as the exact set the user trusted
    for this backend with `moai trust`."""
    from moai_mashup.settings import trust

    env = profile_env_for_trust(profile)
    _routing, extra = split_routing(env)
    if not extra or trust.is_trusted(
        wt.main_root, "env", extra_env_trust_value(extra), profile.name
    ):
        return env, ()
    return {k: v for k, v in env.items() if k not in extra}, tuple(sorted(extra))


def url_trusted(wt: git.Worktree, profile: Profile) -> bool:
    """A backend's base URL may receive its key: its preset's own endpoint, a backend
    of the user's own file (profile.url_known), or trusted for this repository."""
    from moai_mashup.settings import trust

    return profile.url_known or trust.is_trusted(
        wt.main_root, "url", profile.base_url, profile.name
    )


def untrusted_url_line(profile: Profile) -> str:
    """The one line for a backend's base URL that needs `moai trust`."""
    what = f"not preset {profile.preset}'s own endpoint" if profile.preset else "a custom endpoint"
    return (
        f"{profile_where(profile)}.base_url {profile.base_url} is {what} and is not "
        "trusted here; review it, then run: moai trust"
    )


def desired_profile_held(
    wt: git.Worktree, cfg: ResolvedConfig, profile: Profile
) -> tuple[dict[plan.KeyPath, Any], GlmKey, tuple[str, ...]]:
    """The keys a configured backend needs in this worktree, its key, and the env
    names held back for want of trust; raises when there is no key or trust."""
    env, held = trusted_profile_env(wt, profile)
    key = resolve_key(cfg.glm_env_var, profile.name)
    if key is None:
        # which key to give: the one of this endpoint (`moai key set` binds it there)
        raise BadInput(
            f"{no_key_message(cfg.glm_env_var, profile.name)} (a key of {profile.base_url})"
        )
    if not url_trusted(wt, profile):
        raise UntrustedUrl(untrusted_url_line(profile))
    # The name comes from a committed file: the key goes only where it was set for.
    problem = binding_problem(key, profile.name, profile.base_url, profile_where(profile))
    if problem is not None:
        raise KeyNotForEndpoint(problem)
    filled = {name: key.value if name == profile.auth_var else value for name, value in env.items()}
    filled.update({n: "" for n in SECRET_KEYS if n != profile.auth_var})
    return _desired(wt, cfg, profile.name, env, filled), key, held


def desired_backend(
    wt: git.Worktree, cfg: ResolvedConfig, backend: Backend
) -> tuple[dict[plan.KeyPath, Any], GlmKey | None, tuple[str, ...]]:
    """What applying `backend` writes, its key and the env names held back ({}, None,
    () for Claude); raises BadInput for a backend not configured, no key, UntrustedUrl."""
    profile = profile_of(cfg, backend)
    if backend != CLAUDE:
        from moai_mashup.settings.main_checkout import committed_keys_line

        line = committed_keys_line(wt)
        if line is not None:
            raise CommittedOverride(line)
    if profile is not None:
        return desired_profile_held(wt, cfg, profile)
    if backend == GLM:
        return desired_glm_held(wt, cfg)
    return {}, None, ()


def plan_settings(
    state: SettingsState, backend: Backend, desired: dict[plan.KeyPath, Any]
) -> tuple[str | None, plan.OwnershipRecord | None]:
    """The settings text (None: no file) and ownership record `backend` gives `state`."""
    if backend != CLAUDE:
        new_doc, new_record = plan.plan_backend(
            state.doc, desired, state.record, state.text, backend
        )
        if state.text is not None and plan.live_record(state.doc, state.record) is None:
            # First write: the file's mode now, for switching back (this one goes 0600).
            new_record = new_record._replace(original_mode=state.mode)
        return plan.render(new_doc, state.text, None), new_record
    live = plan.live_record(state.doc, state.record)
    return plan.render(plan.plan_claude(state.doc, live), state.text, live), None


def record_text(record: plan.OwnershipRecord | None) -> str | None:
    """The ownership record file's text, exactly as apply writes it (None: no file)."""
    return None if record is None else jsontext.dumps(record.to_json())


def _privacy_query(wt: git.Worktree) -> IgnoredQuery:
    return git.ignored_query(wt.root, [SETTINGS_REL, SETTINGS_TEMP_PROBE])


def ensure_private(wt: git.Worktree) -> None:
    """Raises Refused when the settings file is tracked; adds the exclude lines it lacks."""
    _ensure_private(wt, _privacy_query(wt))


def _ensure_private(wt: git.Worktree, query: IgnoredQuery) -> None:
    """Never let a key-bearing settings file be committed.

    One git call when all is in place (the hook's path): a path git reports as
    ignored is also untracked.
    """
    ignored = query.result()
    if SETTINGS_REL not in ignored:
        if git.is_tracked(wt.root, SETTINGS_REL):
            raise Refused(
                f"{SETTINGS_REL} is tracked by git, so a key written there would be committed; "
                f"run: git rm --cached {SETTINGS_REL}"
            )
        git.add_exclude(wt, "/" + SETTINGS_REL)
    # atomic.py's temp file holds the key for an instant; if moai is killed right
    # then, the leftover must not show up in `git status` to be committed.
    if SETTINGS_TEMP_PROBE not in ignored:
        git.add_exclude(wt, SETTINGS_TEMP_PATTERN)


def restore_mode(state: SettingsState) -> int:
    """The mode a file without our keys gets: what it had before moai's first write
    (the record keeps it), else what it has. A key-bearing file is always 0600."""
    live = plan.live_record(state.doc, state.record)
    if live is not None and live.original_mode is not None:
        return live.original_mode
    try:
        return os.stat(state.path).st_mode & 0o7777
    except FileNotFoundError:
        return 0o600


def _complete(data: bytes) -> bool:
    """A settings file as a finished save leaves it: valid JSON, an object."""
    if not data.strip():
        return False
    try:
        return isinstance(jsontext.loads(data), dict)
    except (ValueError, RecursionError):
        return False


def _check_writable(folder: str) -> None:
    """Refuse before the first write when the record could not follow the settings file.

    Switching to Claude writes the settings file, then removes the record: with a
    read-only private folder the second step would fail after the first had happened.
    """
    probe = os.path.join(folder, f".write-probe.{os.getpid()}")
    try:
        files.create_exclusive(probe, b"", durable=False)  # a probe: removed at once
        files.remove(probe)
    except OSError as exc:
        raise Refused(
            f"{folder}: cannot write there ({exc.strerror}); moai keeps this worktree's "
            "ownership record there, so it changed nothing; make it writable and rerun"
        ) from None


def _replace(wt: git.Worktree, state: SettingsState, text: str | None, mode: int) -> bool:
    """Write the settings file (None: remove it) unless another writer changed it."""
    return files.replace_if_unchanged(
        state.path,
        None if text is None else text.encode("utf-8"),
        None if state.text is None else state.text.encode("utf-8"),
        mode,
        within=wt.root,
        limit=MAX_SETTINGS_BYTES,
    )


# A writer that does not take our lock (an editor, Claude Code itself) may
# replace the file while we plan; we re-plan when the file changed under us.
MAX_ATTEMPTS = 8


def apply_backend(wt: git.Worktree, cfg: ResolvedConfig, backend: Backend) -> ApplyResult:
    """Put `backend` into this worktree's settings; writes nothing when it is there already.

    `backend`: claude, glm or a name of `llm.backends` (else BadInput, nothing
    written). Under the worktree's lock: moai processes never lose each other's
    writes. The ownership record is written before the settings file, so a crash
    in between leaves a record whose keys are not in the file (stale, ignored),
    never keys of ours that no record knows about.
    """
    profile_of(cfg, backend)  # an unknown name: one line, before anything starts
    # git answers the privacy check while we plan; always reaped (answer kept).
    privacy = _privacy_query(wt) if backend != CLAUDE else None
    try:
        return _apply_locked(wt, cfg, backend, privacy)
    finally:
        if privacy is not None:
            privacy.result()


def _apply_locked(
    wt: git.Worktree, cfg: ResolvedConfig, backend: Backend, privacy: IgnoredQuery | None
) -> ApplyResult:
    from moai_mashup.settings.lock import file_lock

    desired, key, held = desired_backend(wt, cfg, backend)
    profile = profile_of(cfg, backend)
    where = GLM_JSON if profile is None else f"{profile_where(profile)}.env"
    spec = stray_spec(wt, cfg.glm_env_var, cfg.backends)
    with file_lock(os.path.join(wt.state_dir, LOCK_NAME)):
        if backend != CLAUDE:
            check_settings_link(wt)  # under the lock: the link cannot move meanwhile (ours)
        for _attempt in range(MAX_ATTEMPTS):
            # An empty or broken file modified a moment ago: an editor's save half done.
            files.settle(settings_path(wt), _complete, MAX_SETTINGS_BYTES)
            state = read_state(wt, spec)
            text, new_record = plan_settings(state.cleaned(), backend, desired)
            same_record = (new_record.to_json() if new_record else None) == (
                state.record.to_json() if state.record else None
            )
            if text == state.text and same_record:
                return ApplyResult(
                    backend, False, state.active, settings_path(wt), key, held, where
                )
            if privacy is not None:
                _ensure_private(wt, privacy)
            # The record lives in ~/.moai (settings/private.py), made here if need be;
            # none there: no key is written that moai could not take out again.
            folder = private.ensure(wt.state_dir)
            _check_writable(folder)
            record_path = private.record_file(folder)
            if new_record is not None and not same_record:
                files.write_text(
                    record_path, str(record_text(new_record)), 0o600, within=moai_home()
                )
            mode = 0o600 if backend != CLAUDE else restore_mode(state)
            if text != state.text and not _replace(wt, state, text, mode):
                continue  # changed under us: plan again from what is there now
            if new_record is None:
                files.remove(record_path, within=moai_home())
            return ApplyResult(backend, True, state.active, settings_path(wt), key, held, where)
    raise Refused(
        f"{settings_path(wt)}: kept changing while moai wrote it; close what is editing it "
        "and run the command again"
    )


class Stale(NamedTuple):
    """A backend's settings that applying it now would change: drift in values, not in
    backend."""

    keys: tuple[str, ...]  # the key paths moai owns whose values would change, "env.X"
    fix: str  # the one command that brings them in line


def stale_backend(wt: git.Worktree, cfg: ResolvedConfig, state: SettingsState) -> Stale | None:
    """What a file already on a backend holds that applying that backend now would
    write otherwise (a `glm.json` or `llm.yaml` merged in with no hook to apply it, a
    key renewed elsewhere); None when nothing would change, the file is on Claude or
    mixed, or there is nothing to apply (no key, a backend no longer configured:
    said where the key or the backend is reported).

    Only the keys moai owns are compared, as `apply_backend` plans them: the user's
    own keys are never drift.
    """
    backend = state.active
    if backend in (CLAUDE, "mixed") or state.stray:
        return None  # another backend, a user's edit, stray state: the backend drift says so
    try:
        desired, _key, _held = desired_backend(wt, cfg, backend)
    except KeyNotForEndpoint:
        # The key now recorded for another endpoint: applying would leave it on Claude.
        return Stale(
            (f"env.{cfg.backends[backend].auth_var}",), f"moai key set {backend} && moai apply"
        )
    except UntrustedUrl:
        # A new endpoint not trusted yet: applying now would leave the worktree on Claude.
        profile = cfg.backends.get(backend)
        where = GLM_JSON if profile is None else profile_where(profile)
        return Stale(("env.ANTHROPIC_BASE_URL",), f"review {where}, then: moai trust && moai apply")
    except BadInput:
        return None
    new_doc, _record = plan.plan_backend(state.doc, desired, state.record, state.text, backend)
    owned = {e.path for e in state.record.entries} if state.record is not None else set()
    changed = [
        ".".join(path)
        for path in sorted(owned | set(desired))
        if plan._get(new_doc, path) != plan._get(state.doc, path)
    ]
    return Stale(tuple(changed), "moai apply") if changed else None
