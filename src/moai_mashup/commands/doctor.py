"""`moai doctor [--live]`: is this worktree's routing set up right, and does it work?

Without `--live` it reads files only: config, GLM template and its trust, the
key and its file modes, the three settings files Claude Code merges, whether
settings.local.json can leak into a commit, hooks, drift, and exported
ANTHROPIC_* variables. With `--live` it also asks the real Claude Code which
host and model it would use (see claude_code/live_probe.py: nothing leaves the machine
and the key is never sent or shown).

Exit 1 when a check fails, 0 otherwise (warnings included).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import click

from moai_mashup import files, git, jsontext
from moai_mashup.claude_code import version as claude_version
from moai_mashup.claude_code.install import doctor_lines
from moai_mashup.config import GLM_JSON, ResolvedConfig, load_config
from moai_mashup.core.backends import Profile, display_name
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.githooks.install import is_installed
from moai_mashup.limits import MAX_SETTINGS_BYTES, loads_json_unique
from moai_mashup.paths import SETTINGS_REL
from moai_mashup.settings import main_checkout, trust
from moai_mashup.settings.apply import (
    load_template,
    read_state,
    settings_path,
    stale_backend,
    stray_spec,
    url_trusted,
)
from moai_mashup.settings.keys import (
    GlmKey,
    binding_problem,
    credentials_file,
    env_file,
    mask,
    resolve_key,
)
from moai_mashup.status import env_warnings, table_backends
from moai_mashup.workspace import Workspace

Status = Literal["ok", "warn", "fail", "info"]


class Check(NamedTuple):
    status: Status
    name: str
    message: str
    fix: str | None = None


def settings_shape_problem(doc: Any) -> str | None:
    """What makes Claude Code ignore a whole settings file, silently.

    Measured with Claude Code 2.1.112 (tests/e2e): a non-object, `"model": 5`,
    `"apiKeyHelper": null` and `"permissions": {"allow": "Bash"}` each make it
    drop the whole file; unknown keys and odd `env` values (numbers, null,
    lists) do not. A partial check: the fields our routing relies on.
    """
    if not isinstance(doc, dict):
        return "not a JSON object"
    if "env" in doc and not isinstance(doc["env"], dict):
        return "env: must be an object"
    for name in ("apiKeyHelper", "model"):
        if name in doc and not isinstance(doc[name], str):
            return f"{name}: must be a string"
    perms = doc.get("permissions")
    if perms is not None:
        if not isinstance(perms, dict):
            return "permissions: must be an object"
        for name in ("allow", "deny", "ask"):
            rules = perms.get(name)
            if rules is not None and not (
                isinstance(rules, list) and all(isinstance(r, str) for r in rules)
            ):
                return f"permissions.{name}: must be a list of strings"
    return None


def check_settings_file(
    path: Path, label: str, within: Path | None = None
) -> tuple[Check, dict[str, Any]]:
    """One settings file: bounded, regular files only (a link leading outside
    `within` is not read), depth and duplicate keys refused, each one line."""
    try:
        text = files.read_text(path, MAX_SETTINGS_BYTES, label, within=within)
    except BadInput as exc:
        return Check("fail", "settings", str(exc), f"fix {label}"), {}
    if text is None:
        return Check("ok", "settings", f"{label}: absent"), {}
    problem: str | None
    try:
        doc = loads_json_unique(text, label) if text.strip() else {}
    except BadInput as exc:
        said = str(exc)
        if not said.startswith(f"{label}: invalid JSON"):
            return Check("fail", "settings", said, f"fix {label}"), {}
        problem, doc = said[len(label) + 2 :], None
    else:
        problem = settings_shape_problem(doc)
    if problem is not None:
        return (
            Check(
                "fail",
                "settings",
                f"{label}: {problem}; Claude Code silently ignores this whole file",
                f"fix {label}",
            ),
            {},
        )
    assert isinstance(doc, dict)
    return Check("ok", "settings", f"{label}: valid"), doc


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def host_of(url: str) -> str:
    """host:port as Claude Code asks its proxy to CONNECT to it."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a URL urllib cannot read: no host Claude Code could reach
        return ":0"
    return f"{parts.hostname or ''}:{port}"


def credential_check(
    docs: list[dict[str, Any]],
    expected: str | None,
    keys: dict[str, str],
    shown_as: dict[str, str] | None = None,
    auth_var: str = "ANTHROPIC_AUTH_TOKEN",
) -> Check | None:
    """What Claude Code will send as credentials here, by its measured precedence.

    Measured with Claude Code 2.1.112 (tests/e2e): settings env (local > project >
    HOME) beats the process environment; "" counts as unset; ANTHROPIC_AUTH_TOKEN
    goes out as Bearer and beats apiKeyHelper; ANTHROPIC_API_KEY, else the
    apiKeyHelper's output, goes out as x-api-key. `keys`: each backend's key the
    user has (by name); `shown_as`: how messages name a backend; `auth_var`: the
    variable the expected backend takes its key in.
    """
    names = shown_as or {}
    env: dict[str, Any] = dict(os.environ)
    helper: Any = None
    for doc in docs:  # HOME, project, local: later wins
        if isinstance(doc.get("env"), dict):
            env.update(doc["env"])
        if "apiKeyHelper" in doc:
            helper = doc["apiKeyHelper"]
    token = env.get("ANTHROPIC_AUTH_TOKEN") or None
    api_key = env.get("ANTHROPIC_API_KEY") or None
    helper = helper or None
    ours = isinstance(helper, str) and "moai_mashup.settings.key_helper" in helper
    label = names.get(expected or "", expected or "")

    def shown(value: Any) -> str:
        if value is None:
            return "nothing"
        for name, key in keys.items():
            if value == key:
                return f"the {names.get(name, name)} key {mask(key)}"
        return f"another credential {mask(str(value))}"

    helper_out = f"the {label} key (moai key helper)" if ours else "your apiKeyHelper's output"
    bearer = shown(token) if token else (helper_out if helper else "nothing")
    x_api = shown(api_key) if api_key else (helper_out if helper else "nothing")
    msg = f"Claude Code sends Bearer: {bearer}; x-api-key: {x_api}"
    if expected is None:
        return None
    if expected != "claude":
        key = keys.get(expected)
        primary, other = (
            (token, api_key) if auth_var == "ANTHROPIC_AUTH_TOKEN" else (api_key, token)
        )
        primary_ok = (primary is not None and primary == key) or (primary is None and ours)
        other_ok = (other is None and (helper is None or ours)) or (
            other is not None and other == key
        )
        if not (primary_ok and other_ok):
            fix = "moai apply" if key is not None else f"moai key set {expected} && moai apply"
            return Check(
                "fail",
                "credential",
                msg + f" (a non-{label} credential would reach {label})",
                fix,
            )
        return Check("ok", "credential", msg)
    leaks = any(key in (token, api_key) for key in keys.values()) or ours
    return Check("fail" if leaks else "ok", "credential", msg, "moai apply" if leaks else None)


class Context(NamedTuple):
    wt: git.Worktree
    expected: str | None  # a backend's name, None on a detached HEAD (unchanged)
    urls: dict[str, str]  # every backend beside Claude: its base URL (glm: the template's)
    models: dict[str, frozenset[str]]  # and its models, where known
    shown_as: dict[str, str]  # how messages name each
    settings_docs: list[dict[str, Any]]


class Facts(NamedTuple):
    """What the checks share, each read once; a read that failed keeps its error."""

    cwd: Path
    wt: git.Worktree
    cfg: ResolvedConfig | None
    cfg_error: str | None
    expected: str | None
    uses_glm: bool
    template: dict[str, str] | None
    template_error: str | None
    key: GlmKey | None
    key_error: str | None
    settings: list[tuple[Check, dict[str, Any]]]  # HOME, project, local
    used: tuple[str, ...] = ()  # the backends the table sends a branch to, and this one's

    @property
    def glm_env_var(self) -> str:
        return self.cfg.glm_env_var if self.cfg is not None else "GLM_API_KEY"

    @property
    def profiles(self) -> dict[str, Profile]:
        return self.cfg.backends if self.cfg is not None else {}

    @property
    def docs(self) -> list[dict[str, Any]]:
        return [doc for _, doc in self.settings]

    @property
    def glm_url(self) -> str | None:
        return self.template["ANTHROPIC_BASE_URL"] if self.template is not None else None

    @property
    def glm_models(self) -> frozenset[str]:
        if self.template is None:
            return frozenset()
        return frozenset(
            v for k, v in self.template.items() if k.startswith("ANTHROPIC_DEFAULT_") and v
        )

    def keys(self) -> dict[str, str]:
        """Each backend's key the user has, by name (the ones that cannot be read left out)."""
        out = {"glm": self.key.value} if self.key is not None else {}
        for name in self.profiles:
            try:
                found = resolve_key(self.glm_env_var, name)
            except MoaiError:
                continue
            if found is not None:
                out[name] = found.value
        return out

    def shown_as(self) -> dict[str, str]:
        return {n: display_name(n, self.profiles) for n in ("claude", "glm", *self.profiles)}


def gather(cwd: Path) -> Facts:
    wt = git.discover(cwd)
    cfg, cfg_error, expected = None, None, None
    try:
        cfg = load_config(wt.root, wt.state_dir)
    except MoaiError as exc:
        cfg_error = str(exc)
    else:
        expected = Workspace(wt, cfg).expected
    template, template_error = None, None
    try:
        template = load_template(wt)
    except MoaiError as exc:
        template_error = str(exc)
    key, key_error = None, None
    try:
        key = resolve_key(cfg.glm_env_var if cfg is not None else "GLM_API_KEY")
    except MoaiError as exc:
        key_error = str(exc)
    home = Path(os.environ.get("HOME") or Path.home())
    settings = [
        check_settings_file(path, label, within)
        for path, label, within in (
            (home / ".claude" / "settings.json", "~/.claude/settings.json", None),  # the user's
            (Path(wt.root) / ".claude" / "settings.json", ".claude/settings.json", Path(wt.root)),
            (Path(settings_path(wt)), SETTINGS_REL, Path(wt.root)),
        )
    ]
    used = (*table_backends(cfg), *([expected] if expected else [])) if cfg is not None else ()
    uses_glm = cfg is None or "glm" in used
    return Facts(
        cwd,
        wt,
        cfg,
        cfg_error,
        expected,
        uses_glm,
        template,
        template_error,
        key,
        key_error,
        settings,
        tuple(dict.fromkeys(used)),
    )


def config_lines(f: Facts) -> list[Check]:
    if f.cfg is None:
        return [Check("fail", "config", f.cfg_error or "")]
    if f.cfg.configured:
        lines = [Check("ok", "config", f"mode {f.cfg.mode} (from {f.cfg.mode_source})")]
    else:
        lines = [Check("warn", "config", "no llm.yaml here", "moai init")]
    return lines + [Check("warn", "config", line) for line in f.cfg.warnings]


def template_lines(f: Facts) -> list[Check]:
    """The GLM template and whether its endpoint is built in or trusted."""
    level: Status = "fail" if f.uses_glm else "warn"
    if f.template is None:
        return [Check(level, "glm template", f.template_error or "")]
    url = f.template["ANTHROPIC_BASE_URL"]
    if trust.is_known_url(url):
        return [Check("ok", "glm endpoint", f"{url} (built in)")]
    if trust.is_trusted(f.wt.main_root, "url", url):
        return [Check("ok", "glm endpoint", f"{url} (trusted here)")]
    return [
        Check(
            level,
            "glm endpoint",
            f"{url} is not built in and not trusted for {f.wt.main_root}",
            "review .moai/llm-configs/glm.json, then: moai trust",
        )
    ]


def key_file_lines(f: Facts) -> list[Check]:
    """The files that may hold the key: readable by the user only."""
    lines = []
    for name in (env_file(), *(env_file(n) for n in f.profiles), credentials_file()):
        path = Path(name)
        if path.exists():
            mode = _mode(path)
            ok = not mode & (stat.S_IRWXG | stat.S_IRWXO)
            lines.append(
                Check(
                    "ok" if ok else "fail",
                    "key file",
                    f"{path}: mode {mode:04o}" + ("" if ok else ", readable by others"),
                    None if ok else f"chmod 600 {path}",
                )
            )
    return lines


def key_lines(f: Facts) -> list[Check]:
    if f.key_error is not None:
        return [Check("fail", "key", f.key_error)]
    if f.key is not None:
        return [Check("ok", "key", f"{mask(f.key.value)} from {f.key.source}")]
    if not f.uses_glm:
        return [Check("info", "key", "no GLM key found; none needed: no branch goes to glm here")]
    return [Check("fail", "key", "no GLM key found", "moai glm --set-key")]


def settings_lines(f: Facts) -> list[Check]:
    """The settings files Claude Code merges (HOME < project < local)."""
    return [check for check, _ in f.settings]


def privacy_lines(f: Facts) -> list[Check]:
    """settings.local.json: neither committed nor readable by others with a token in it."""
    wt, rel = f.wt, SETTINGS_REL
    local = Path(settings_path(wt))
    lines = []
    if git.is_tracked(wt.root, rel):
        lines.append(Check("fail", "privacy", f"{rel} is tracked by git", f"git rm --cached {rel}"))
    elif local.exists() and not git.is_ignored(Path(wt.root), rel):
        lines.append(
            Check("warn", "privacy", f"{rel} is not ignored by git", "moai glm or moai apply")
        )
    if local.exists() and _mode(local) & (stat.S_IRWXG | stat.S_IRWXO):
        env = f.docs[2].get("env")
        if isinstance(env, dict) and "ANTHROPIC_AUTH_TOKEN" in env:
            lines.append(
                Check(
                    "fail",
                    "privacy",
                    f"{rel} holds a token and is readable by others (mode {_mode(local):04o})",
                    f"chmod 600 {local}",
                )
            )
    return lines


def credential_lines(f: Facts) -> list[Check]:
    profile = f.profiles.get(f.expected or "")
    auth_var = profile.auth_var if profile is not None else "ANTHROPIC_AUTH_TOKEN"
    found = credential_check(f.docs, f.expected, f.keys(), f.shown_as(), auth_var)
    return [] if found is None else [found]


def backend_lines(f: Facts) -> list[Check]:
    """Every backend configured in llm.backends: whether moai may send a key to its URL
    (its preset's own endpoint, the user's own llm.local.yaml, or trusted with `moai
    trust`), and its key, masked. A failure where the table routes a branch to it; a
    warning (or a note) where nothing does yet."""
    lines: list[Check] = []
    for name, profile in f.profiles.items():
        used = name in f.used
        level: Status = "fail" if used else "warn"
        shown = f"{name} ({profile.display})" if profile.display != name else name
        url = profile.base_url
        if profile.url_known:
            lines.append(Check("ok", "backend", f"{shown}: {url} (known: {profile.source})"))
        elif url_trusted(f.wt, profile):
            lines.append(Check("ok", "backend", f"{shown}: {url} (trusted here)"))
        else:
            lines.append(
                Check(
                    level,
                    "backend",
                    f"{shown}: {url} is not its preset's endpoint and not trusted for "
                    f"{f.wt.main_root}",
                    f"review llm.backends.{name} in {profile.source}, then: moai trust",
                )
            )
        try:
            key = resolve_key(f.glm_env_var, name)
        except MoaiError as exc:
            lines.append(Check("fail", "backend", f"{shown}: key: {exc}"))
            continue
        bound = None if key is None else binding_problem(key, name, url, profile.source)
        if key is not None and bound is not None:
            # set for another endpoint (or none recorded): moai sends it nowhere here
            lines.append(Check(level, "backend", f"{shown}: key: {bound}", f"moai key set {name}"))
        elif key is not None:
            lines.append(
                Check("ok", "backend", f"{shown}: key {mask(key.value)} from {key.source}")
            )
        else:
            lines.append(
                Check(
                    "fail" if used else "info",
                    "backend",
                    f"{shown}: no key found",
                    f"moai key set {name}",
                )
            )
    return lines


def drift_lines(f: Facts) -> list[Check]:
    """The backend the settings file holds against the one the table expects."""
    try:
        state = read_state(f.wt, stray_spec(f.wt, f.glm_env_var, f.profiles))
    except MoaiError as exc:
        return [Check("fail", "drift", str(exc))]
    active = state.active
    if active is None:
        return []
    if f.cfg is None:
        return [
            Check("info", "drift", f"active {active}; the routing table cannot be read (config)")
        ]
    if f.expected is None:
        return [Check("info", "drift", f"active {active}; detached HEAD: left as is")]
    on_it = f.cfg is not None and active == f.expected not in ("claude", "mixed")
    stale = stale_backend(f.wt, f.cfg, state) if f.cfg is not None and on_it else None
    if stale is not None:
        profile = f.profiles.get(active)
        source = GLM_JSON if profile is None else f"{profile.source}'s llm.backends.{active}"
        return [
            Check(
                "fail",
                "drift",
                f"active {active}, but {', '.join(stale.keys)} differ from what {source} (or "
                "the key) gives now: a merge or pull with no post-merge hook?",
                stale.fix,
            )
        ]
    if active == f.expected:
        return [Check("ok", "drift", f"active {active}, as the table expects")]
    return [
        Check("fail", "drift", f"active {active}, the table expects {f.expected}", "moai apply")
    ]


def main_checkout_lines(f: Facts) -> list[Check]:
    """What the main checkout's settings impose here (settings/main_checkout.py)."""
    found = main_checkout.override(f.wt, f.expected, f.cfg.backends if f.cfg else None)
    if found is not None:
        default = f.cfg.default_branch if f.cfg else "main"
        return [
            Check(
                "fail",
                "main checkout",
                f"{found.path}: {', '.join(found.keys)}: " + found.line(),
                f"git -C {f.wt.main_root} checkout {default}"
                if found.ours
                else f"git -C {f.wt.main_root} rm --cached {SETTINGS_REL}"
                if found.committed
                else "moai settings move-to-user",
            )
        ]
    if f.wt.is_linked:
        return [Check("ok", "main checkout", "its settings.local.json sets no routing key")]
    return []


def claude_code_lines(f: Facts) -> list[Check]:
    """Claude Code's version, and how a `--model` on its command line beats the settings."""
    status, message, fix = claude_version.report(claude_version.installed())
    here = f.expected if f.expected not in (None, "claude") else None
    shown = f.shown_as().get(here, here) if here else "GLM or another provider"
    return [
        Check(status, "claude code", message, fix),  # type: ignore[arg-type]
        Check(
            "info",
            "model",
            f"moai sets the model tier on {shown} (env.ANTHROPIC_MODEL); a `--model` on the "
            "claude command line beats every settings file, so a full id there (claude-...) "
            f"reaches {shown} as is: use --model opus|sonnet|haiku",
        ),
    ]


def hooks_lines(f: Facts) -> list[Check]:
    """moai's git hooks, then its Claude Code hooks."""
    if is_installed(f.wt) and not is_installed(f.wt, "post-merge"):
        lines = [
            Check(
                "warn",
                "hooks",
                "post-checkout installed, post-merge not: a merge or pull that changes "
                f"{GLM_JSON} leaves this worktree's settings behind",
                "moai hooks install",
            )
        ]
    elif is_installed(f.wt):
        lines = [Check("ok", "hooks", "post-checkout and post-merge hooks installed")]
    else:
        lines = [
            Check("warn", "hooks", "not installed: checkouts do not switch", "moai hooks install")
        ]
    for level, message, fix in doctor_lines(Path(f.wt.root)):
        lines.append(Check(level, "claude code hooks", message, fix))
    return lines


def private_lines(f: Facts) -> list[Check]:
    """moai's private folders in ~/.moai/worktrees (settings/private.py): this worktree's
    pointer, and folders whose worktree is gone (removed with plain `git worktree
    remove`, a deleted clone), which only `moai worktree clean` removes."""
    from moai_mashup.paths import PRIVATE_ID
    from moai_mashup.settings import private

    lines = []
    found = private.lookup(str(f.wt.state_dir))
    if found.problem is not None:
        lines.append(
            Check(
                "warn",
                "private",
                f"{found.problem}; moai's record of this worktree is not used, and its next "
                "write starts a new one",
                f"rm {os.path.join(f.wt.state_dir, PRIVATE_ID)}",
            )
        )
    gone = private.orphans(f.wt.common_dir, private.repository_ids(f.wt.common_dir))
    if gone:
        where = gone[0].gitdir or gone[0].folder
        more = f" and {len(gone) - 1} more" if len(gone) > 1 else ""
        lines.append(
            Check(
                "warn",
                "private",
                f"{len(gone)} folder{'s' if len(gone) > 1 else ''} in {private.worktrees_home()} "
                f"keep moai's record of a worktree that is gone ({where}{more})",
                "moai worktree clean",
            )
        )
    return lines


def environment_lines(f: Facts) -> list[Check]:
    """ANTHROPIC_* exported in this shell that the worktree's settings do not match."""
    local_env = f.docs[2].get("env")
    if not isinstance(local_env, dict):
        local_env = {}
    return [Check("warn", "environment", line) for line in env_warnings(local_env)]


def cwd_lines(f: Facts) -> list[Check]:
    if f.cwd.resolve() == Path(f.wt.root):
        return []
    return [
        Check(
            "warn",
            "cwd",
            "Claude Code reads .claude/ only from the directory it starts in",
            f"start claude in {f.wt.root}",
        )
    ]


# In the order `moai doctor` prints them.
STATIC_CHECKS = (
    config_lines,
    template_lines,
    key_file_lines,
    key_lines,
    backend_lines,
    settings_lines,
    privacy_lines,
    credential_lines,
    drift_lines,
    main_checkout_lines,
    claude_code_lines,
    hooks_lines,
    private_lines,
    environment_lines,
    cwd_lines,
)


def static_checks(cwd: Path) -> tuple[list[Check], Context]:
    facts = gather(cwd)
    checks = [check for lines in STATIC_CHECKS for check in lines(facts)]
    urls = {"glm": facts.glm_url} if facts.glm_url else {}
    models = {"glm": facts.glm_models}
    for name, profile in facts.profiles.items():
        urls[name] = profile.base_url
        models[name] = frozenset(profile.models.values())
    ctx = Context(facts.wt, facts.expected, urls, models, facts.shown_as(), facts.docs)
    return checks, ctx


def live_checks(ctx: Context, claude_opt: str | None) -> tuple[list[Check], dict[str, Any]]:
    # Imported here: live_probe brings http.server (socket, ssl, email), ~19 ms CPU, and
    # `moai --help` and the completion of moai's command names import every command
    # module: a quarter of the ~80 ms of either, for a check only --live runs.
    from moai_mashup.claude_code import live_probe

    claude = live_probe.find_claude(claude_opt)
    if claude is None:
        return [
            Check(
                "fail", "live", "claude not found on PATH", "install Claude Code or --claude PATH"
            )
        ], {}
    proxies = live_probe.settings_proxies(ctx.settings_docs)
    if proxies:
        return [
            Check(
                "fail",
                "live",
                f"a settings file sets {', '.join(proxies)}, which beats the probe's proxy; "
                "a live check would really send the request, so it was not run",
            )
        ], {}
    result = live_probe.probe(claude, Path(ctx.wt.root))
    info: dict[str, Any] = result._asdict()
    info["hosts"] = list(result.hosts)
    if not result.hosts:
        return [
            Check(
                "fail",
                "live",
                f"Claude Code ({claude}) made no connection: not logged in, or no credential",
            )
        ], info
    host = result.hosts[0]
    model = (result.model or "").partition("[")[0]
    status, where = live_verdict(ctx, host, model)
    msg = (
        f"Claude Code {result.version or '?'} would send to {host} ({where}), model {result.model}"
    )
    fix = "moai doctor (without --live) for the cause; moai apply" if status == "fail" else None
    return [Check(status, "live", msg, fix)], info


def live_verdict(ctx: Context, host: str, model: str) -> tuple[Status, str]:
    """Whether the host and model Claude Code would use are the expected backend's,
    and which endpoint the host is, as the message names it. Claude Code 2.1.197+
    names the model with its context window (`glm-4.7[1m]`): `model` comes without."""
    hosts = {name: host_of(url) for name, url in ctx.urls.items()}
    named = [n for n, h in hosts.items() if h == host]
    expected = ctx.expected
    if expected is not None and expected != "claude":
        label = ctx.shown_as.get(expected, expected)
        at = host == hosts.get(expected)
        known = ctx.models.get(expected, frozenset())
        good = at and (not known or model in known)
        return ("ok" if good else "fail"), f"{'' if at else 'not '}the {label} endpoint"
    if named:
        where = f"the {ctx.shown_as.get(named[0], named[0])} endpoint"
    elif list(ctx.urls) == ["glm"]:
        where = "not the GLM endpoint"
    else:
        where = "no configured backend's endpoint"
    if expected is None:
        return "info", where
    theirs = any(model in m for m in ctx.models.values())
    return ("fail" if named or theirs else "ok"), where


MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "info": "info"}


@click.command("doctor")
@click.option("--live", is_flag=True, help="Also ask the real Claude Code where it would send.")
@click.option("--claude", "claude_opt", metavar="PATH", help="The claude binary for --live.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(live: bool, claude_opt: str | None, as_json: bool) -> None:
    """Check this worktree's routing setup (and, with --live, what Claude Code does)."""
    checks, ctx = static_checks(Path.cwd())
    live_info: dict[str, Any] = {}
    if live:
        more, live_info = live_checks(ctx, claude_opt)
        checks += more
    failed = any(c.status == "fail" for c in checks)
    if as_json:
        out: dict[str, Any] = {
            "worktree": str(ctx.wt.root),
            "branch": ctx.wt.branch,
            "expected_backend": ctx.expected,
            "ok": not failed,
            "checks": [c._asdict() for c in checks],
        }
        if live:
            out["live"] = live_info
        click.echo(jsontext.dumps(out, indent=2))
    else:
        click.echo(f"moai doctor: {ctx.wt.root} ({ctx.wt.branch or 'detached HEAD'})")
        for c in checks:
            line = f"  {MARKS[c.status]}  {c.name:12} {c.message}"
            click.echo(line + (f"  [fix: {c.fix}]" if c.fix else ""))
    if failed:
        raise SystemExit(1)
