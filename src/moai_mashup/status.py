"""The worktree's routing state: what `moai status` shows, and `init`, `demo`, `doctor` reuse.

Where am I, which backend is active, which one the table expects and why, the
key, the hooks, and whatever overrides the worktree's settings (the main
checkout's file, variables exported in this shell). Never raises for a broken
settings file: status is where a user looks when something is wrong.
"""

from __future__ import annotations

import os
from typing import Any

from moai_mashup.config import ResolvedConfig
from moai_mashup.core.backends import CLAUDE, GLM, TIERS, WINDOW_VAR, display_name
from moai_mashup.core.routing import BranchRoute, route_branch, spec_branch_name, table
from moai_mashup.errors import MoaiError
from moai_mashup.git import Worktree
from moai_mashup.githooks.install import is_installed
from moai_mashup.paths import SETTINGS_REL
from moai_mashup.settings.apply import (
    Stale,
    load_template,
    read_state,
    settings_path,
    stale_backend,
    stray_spec,
)
from moai_mashup.settings.keys import mask, resolve_key
from moai_mashup.settings.main_checkout import override
from moai_mashup.workspace import Workspace, open_workspace

# Shown in full: where traffic goes and which models; anything else may carry a
# secret (ANTHROPIC_CUSTOM_HEADERS can hold an x-api-key) and is masked.
_SHOWN_IN_FULL = ("_URL", "_MODEL", "_MODEL_NAME")
_CREDENTIALS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


def env_warnings(
    settings_env: dict[str, Any], active: str | None = None, profiles: dict[str, Any] | None = None
) -> list[str]:
    """ANTHROPIC_* exported in this shell that differ from the worktree's settings."""
    out = []
    for name in sorted(os.environ):
        if not name.startswith("ANTHROPIC_"):
            continue
        value = os.environ[name]
        if settings_env.get(name) == value:
            continue
        shown = value if name.endswith(_SHOWN_IN_FULL) else mask(value)
        where = "overridden by" if name in settings_env else "not set in"
        consequence = "Claude Code started here uses the settings' value when there is one"
        if active not in (None, CLAUDE) and name in _CREDENTIALS and name not in settings_env:
            where_to = "GLM" if active in (GLM, "mixed") else display_name(active, profiles or {})
            consequence = (
                f"Claude Code started here would send it to the {where_to} endpoint; "
                "unset it in this shell"
            )
        out.append(
            f"${name}={shown} is exported in this shell ({where} .claude/settings.local.json); "
            + consequence
        )
    return out


def collect() -> dict[str, Any]:
    ws = open_workspace()
    wt, cfg = ws.wt, ws.cfg
    expected = ws.expected
    keyed = keyed_backends(ws)
    keys = {name: _key_info(cfg.glm_env_var, name) for name in keyed}
    key_info = keys[keyed[0]]
    settings_error, active, doc, stray = _settings_state(wt, cfg)
    stale = _stale(ws) if expected == active not in (None, CLAUDE, "mixed") else None
    drift = expected is not None and (active != expected or stale is not None)
    env = doc.get("env") if isinstance(doc.get("env"), dict) else {}
    assert isinstance(env, dict)
    hand_set = None
    if active == "claude" and "ANTHROPIC_BASE_URL" in env:
        hand_set = env["ANTHROPIC_BASE_URL"]
    return {
        "mode": cfg.mode,
        "mode_source": cfg.mode_source,
        "configured": cfg.configured,
        "branch": wt.branch,
        "detached": wt.branch is None,
        "worktree": str(wt.root),
        "linked_worktree": wt.is_linked,
        "expected_backend": expected,
        "active_backend": active,
        "why": ws.why(),
        "drift": drift,
        "fix": _stale_fix(wt, stale)
        if stale
        else _fix(ws, settings_error, drift, expected, keys.get(expected or "", key_info)),
        # keys moai owns whose values applying now would change (a merged glm.json)
        "stale_keys": list(stale.keys) if stale else [],
        "hand_set_base_url": hand_set,
        # A backend's state holding the user's key that moai's record does not account
        # for (an editor saved it back after a checkout): drift whoever wrote it. The
        # backend it routes to is the active one.
        "stray_glm": stray,
        "settings_file": str(settings_path(wt)),
        "settings_error": settings_error,
        "key": key_info,
        # every backend beside Claude this worktree is on or its table routes to
        "keys": keys,
        # the backend the table expects here: what moai writes for it, and the line
        # of the routing table that chose it
        "backend": backend_info(ws, expected) if expected is not None else None,
        "credential_mode": cfg.credential_mode,
        "hooks_installed": is_installed(wt),
        "env_warnings": env_warnings(env, active, cfg.backends),
        "main_checkout_override": _main_override(wt, expected, cfg),
        "config_warnings": list(cfg.warnings),
    }


def _key_info(glm_env_var: str, backend: str = GLM) -> dict[str, Any]:
    """Where a backend's key comes from, masked; or why it could not be read."""
    try:
        key = resolve_key(glm_env_var, backend)
    except MoaiError as exc:
        return {"source": None, "error": str(exc)}
    return {"source": key.source, "masked": mask(key.value)} if key else {"source": None}


def routing_table(cfg: ResolvedConfig) -> tuple[BranchRoute, ...]:
    """The routing table of this config, as ordered `glob -> backend` lines."""
    return table(cfg.mode, cfg.default_branch, cfg.spec_branch_pattern, cfg.routes)


def table_backends(cfg: ResolvedConfig) -> list[str]:
    """The backends the routing table sends a branch to, in its order, once each."""
    return list(dict.fromkeys(r.backend for r in routing_table(cfg)))


def branch_backend(cfg: ResolvedConfig, branch: str) -> str | None:
    """The backend the table gives `branch` (None: no line matches)."""
    found = route_branch(routing_table(cfg), branch)
    return found.backend if found is not None else None


def spec_backend(cfg: ResolvedConfig) -> str | None:
    """The backend a new SPEC worktree gets (`moai worktree create SPEC-X`)."""
    return branch_backend(cfg, spec_branch_name("SPEC-X", cfg.spec_branch_pattern))


def keyed_backends(ws: Workspace) -> list[str]:
    """The backends beside Claude whose key `moai status` shows: the one expected here
    first, then the table's; GLM when there is none (the key `moai init` asks for)."""
    names = [ws.expected or CLAUDE, *table_backends(ws.cfg)]
    return [n for n in dict.fromkeys(names) if n != CLAUDE] or [GLM]


def route_line(ws: Workspace) -> dict[str, Any] | None:
    """The line of the routing table that gives this branch its backend (None: a
    detached HEAD, left as it is)."""
    found = route_branch(routing_table(ws.cfg), ws.wt.branch)
    return None if found is None else line_info(ws.cfg, found)


def line_info(cfg: ResolvedConfig, line: BranchRoute) -> dict[str, Any]:
    """A line of the routing table as status and `moai route` show it: its glob, its
    backend, what put it there (`route`: an entry of llm.routes; `unrouted`: the line
    after them; else the mode's line for a kind of branch) and the file of a route."""
    source = None
    if line.kind == "route":
        pair = (line.glob, line.backend)
        source = next((r.source for r in cfg.routes if (r.branch, r.backend) == pair), None)
    return {"branch": line.glob, "backend": line.backend, "kind": line.kind, "source": source}


def backend_info(ws: Workspace, name: str) -> dict[str, Any]:
    """A backend as moai writes it here: its name and display name, base URL and
    models (none for Claude: moai writes nothing), its key masked, and the route line
    that chose it."""
    cfg = ws.cfg
    info: dict[str, Any] = {
        "name": name,
        "display": display_name(name, cfg.backends),
        "base_url": None,
        "models": {},
        "auth_var": None,
        "context_window": None,
        "key": None if name == CLAUDE else _key_info(cfg.glm_env_var, name),
        "route": route_line(ws),
    }
    profile = cfg.backends.get(name)
    if profile is not None:
        info["base_url"] = profile.base_url
        info["models"] = dict(profile.models)
        info["auth_var"] = profile.auth_var
        info["context_window"] = profile.window
    elif name == GLM:
        try:
            template = load_template(ws.wt)
        except MoaiError as exc:
            info["error"] = str(exc)
        else:
            info["base_url"] = template.get("ANTHROPIC_BASE_URL")
            models = {t: template.get(f"ANTHROPIC_DEFAULT_{t.upper()}_MODEL") for t in TIERS}
            info["models"] = {t: m for t, m in models.items() if m}
            info["auth_var"] = next(
                (v for v in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY") if template.get(v)),
                None,
            )
            window = template.get(WINDOW_VAR)
            info["context_window"] = int(window) if window and window.isdigit() else None
    return info


def set_key_command(backend: str) -> str:
    """The command that saves a backend's key."""
    return "moai glm --set-key" if backend == GLM else f"moai key set {backend}"


def _stale(ws: Workspace) -> Stale | None:
    """The values of the backend here that applying now would change
    (settings/apply.stale_backend); None when
    none would, or the file cannot be read (reported as the settings error)."""
    try:
        state = read_state(ws.wt, stray_spec(ws.wt, ws.cfg.glm_env_var, ws.cfg.backends))
        return stale_backend(ws.wt, ws.cfg, state)
    except MoaiError:
        return None


def _stale_fix(wt: Worktree, stale: Stale) -> str:
    """The fix for stale GLM values, and the hook that applies the next merge, when missing."""
    if is_installed(wt) and not is_installed(wt, "post-merge"):
        return f"{stale.fix} && moai hooks install"
    return stale.fix


def _settings_state(
    wt: Worktree, cfg: ResolvedConfig
) -> tuple[str | None, str | None, dict[str, Any], list[str]]:
    """The settings file's error, active backend, document and stray backend keys.

    status is where a user looks when something is wrong: a broken settings
    file is reported, not raised."""
    try:
        state = read_state(wt, stray_spec(wt, cfg.glm_env_var, cfg.backends))
    except MoaiError as exc:
        return str(exc), None, {}, []
    return None, state.active, state.doc, [".".join(p) for p in state.stray]


def _fix(
    ws: Workspace,
    settings_error: str | None,
    drift: bool,
    expected: str | None,
    key_info: dict[str, Any],
) -> str | None:
    if settings_error is not None:
        return f"fix or remove {settings_path(ws.wt)}, then run: moai apply"
    if not drift:
        return None
    steps = []
    if expected not in (None, CLAUDE) and key_info["source"] is None:
        steps.append(set_key_command(expected or GLM))
    if expected not in (None, CLAUDE) and not _url_trusted(ws, expected or GLM):
        steps.append("moai trust")  # `moai apply` alone would leave it on Claude
    return " && ".join([*steps, "moai apply"])


def _url_trusted(ws: Workspace, backend: str) -> bool:
    """The backend's base URL may receive its key here (its preset's or a built-in
    GLM endpoint, the user's own llm.local.yaml, or trusted with `moai trust`); a
    template that cannot be read counts as trusted (its error is shown elsewhere)."""
    from moai_mashup.settings import trust
    from moai_mashup.settings.apply import url_trusted

    profile = ws.cfg.backends.get(backend)
    if profile is not None:
        return url_trusted(ws.wt, profile)
    try:
        url = load_template(ws.wt).get("ANTHROPIC_BASE_URL")
    except MoaiError:
        return True
    return url is None or trust.is_trusted(ws.wt.main_root, "url", url)


def _main_override(
    wt: Worktree, expected: str | None, cfg: ResolvedConfig
) -> dict[str, Any] | None:
    """What the main checkout's settings.local.json imposes on this worktree."""
    default_branch = cfg.default_branch
    found = override(wt, expected, cfg.backends)
    if found is None:
        return None
    return {
        "file": str(found.path),
        "keys": list(found.keys),
        "moai_keys": found.ours,
        "message": found.line(),
        "fix": (
            f"git -C {wt.main_root} checkout {default_branch}"
            if found.ours
            else f"git -C {wt.main_root} rm --cached {SETTINGS_REL}"
            if found.committed
            else "moai settings move-to-user"
        ),
    }


def render(info: dict[str, Any]) -> str:
    """`collect()` as the lines `moai status` prints."""
    branch = info["branch"] or "(detached HEAD)"
    where = "linked worktree" if info["linked_worktree"] else "main worktree"
    src = info["mode_source"]
    lines = [
        f"mode:        {info['mode']} (from {src})"
        + ("" if info["configured"] else "  [no llm.yaml here: run `moai init`]"),
        f"branch:      {branch}",
        f"worktree:    {info['worktree']} ({where})",
        f"expected:    {info['expected_backend'] or 'unchanged'}  ({info['why']})",
        f"active:      {info['active_backend'] or 'unknown'}"
        + (f"  (error: {info['settings_error']})" if info["settings_error"] else ""),
        "drift:       " + (f"yes; fix: {info['fix']}" if info["drift"] else "no"),
    ]
    if info["stale_keys"]:
        lines.append(
            f"note:        settings.local.json holds {', '.join(info['stale_keys'])} as an "
            "older glm.json (or key) gave them; applying now writes other values"
        )
    if info["hand_set_base_url"]:
        lines.append(
            f"note:        settings.local.json sets ANTHROPIC_BASE_URL="
            f"{info['hand_set_base_url']} by hand (not moai's)"
        )
    if info["stray_glm"]:
        owner = info["active_backend"] if info["active_backend"] not in (None, GLM) else "GLM"
        lines.append(
            f"note:        settings.local.json holds {owner} settings with your key that moai did "
            f"not write now ({', '.join(info['stray_glm'])}; an editor saving an old copy?)"
        )
    backend = info["backend"]
    if backend is not None and backend["name"] not in (CLAUDE, GLM):
        models = ", ".join(f"{t} {m}" for t, m in backend["models"].items())
        window = backend.get("context_window")
        models += f"; context {window:,} tokens" if window else ""
        lines.append(f"backend:     {backend['display']}: {backend['base_url']} ({models})")
    for name, key in info["keys"].items():
        # glm's alone keeps the short form; beside other backends' it is named too
        label = "" if list(info["keys"]) == [GLM] else f"{name}: "
        if key.get("source"):
            lines.append(f"key:         {label}{key['masked']} from {key['source']}")
        elif key.get("error"):
            lines.append(f"key:         {label}error: {key['error']}")
        else:
            lines.append(f"key:         {label}none (run: {set_key_command(name)})")
    lines.append(f"credentials: {info['credential_mode']}")
    lines.append(
        "hooks:       "
        + ("installed" if info["hooks_installed"] else "not installed (run: moai hooks install)")
    )
    found = info["main_checkout_override"]
    if found:
        lines.append(f"conflict:    {found['message']}")
        lines.append(f"             fix: {found['fix']}")
    for w in info["env_warnings"]:
        lines.append(f"warning:     {w}")
    return "\n".join(lines)
