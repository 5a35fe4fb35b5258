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

import json
import os
import stat
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

import click

from moai_mashup import files, git
from moai_mashup.errors import BadInput, MoaiError
from moai_mashup.limits import MAX_SETTINGS_BYTES, loads_json_unique
from moai_mashup.paths import SETTINGS_REL

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
    docs: list[dict[str, Any]], expected: str | None, glm_key: str | None
) -> Check | None:
    """What Claude Code will send as credentials here, by its measured precedence.

    Measured with Claude Code 2.1.112 (tests/e2e): settings env (local > project >
    HOME) beats the process environment; "" counts as unset; ANTHROPIC_AUTH_TOKEN
    goes out as Bearer and beats apiKeyHelper; ANTHROPIC_API_KEY, else the
    apiKeyHelper's output, goes out as x-api-key.
    """
    from moai_mashup.settings.keys import mask

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

    def shown(value: Any) -> str:
        if value is None:
            return "nothing"
        if glm_key is not None and value == glm_key:
            return f"the GLM key {mask(glm_key)}"
        return f"another credential {mask(str(value))}"

    helper_out = "the GLM key (moai key helper)" if ours else "your apiKeyHelper's output"
    bearer = shown(token) if token else (helper_out if helper else "nothing")
    x_api = shown(api_key) if api_key else (helper_out if helper else "nothing")
    msg = f"Claude Code sends Bearer: {bearer}; x-api-key: {x_api}"
    if expected == "glm":
        bearer_ok = (token is not None and token == glm_key) or (token is None and ours)
        x_ok = (api_key is None and (helper is None or ours)) or api_key == glm_key
        if not (bearer_ok and x_ok):
            return Check(
                "fail", "credential", msg + " (a non-GLM credential would reach GLM)", "moai apply"
            )
        return Check("ok", "credential", msg)
    if expected == "claude":
        leaks = (glm_key is not None and glm_key in (token, api_key)) or ours
        return Check("fail" if leaks else "ok", "credential", msg, "moai apply" if leaks else None)
    return None


class Context(NamedTuple):
    wt: git.Worktree
    expected: str | None  # "claude" | "glm" | None (detached: unchanged)
    glm_url: str | None
    glm_models: frozenset[str]
    settings_docs: list[dict[str, Any]]


def static_checks(cwd: Path) -> tuple[list[Check], Context]:
    from moai_mashup.config import load_config
    from moai_mashup.core.routing import backend_for_kind, branch_kind
    from moai_mashup.githooks.install import is_installed
    from moai_mashup.settings import trust
    from moai_mashup.settings.apply import load_template, read_state, settings_path
    from moai_mashup.settings.keys import credentials_file, env_file, mask, resolve_key
    from moai_mashup.status import env_warnings

    wt = git.discover(cwd)
    checks: list[Check] = []
    expected: str | None = None
    glm_url: str | None = None
    glm_models: frozenset[str] = frozenset()
    uses_glm = True
    glm_env_var = "GLM_API_KEY"

    # --- config ------------------------------------------------------------------------
    try:
        cfg = load_config(wt.root, wt.state_dir)
    except MoaiError as exc:
        checks.append(Check("fail", "config", str(exc)))
        cfg = None
    if cfg is not None:
        glm_env_var = cfg.glm_env_var
        uses_glm = cfg.mode != "claude-only"
        if cfg.configured:
            checks.append(Check("ok", "config", f"mode {cfg.mode} (from {cfg.mode_source})"))
        else:
            checks.append(Check("warn", "config", "no llm.yaml here", "moai init"))
        for line in cfg.warnings:
            checks.append(Check("warn", "config", line))
        kind = branch_kind(wt.branch, cfg.default_branch, cfg.spec_branch_pattern)
        expected = backend_for_kind(cfg.mode, kind)

    # --- GLM template and its trust -------------------------------------------------------
    try:
        template = load_template(wt)
    except MoaiError as exc:
        checks.append(Check("fail" if uses_glm else "warn", "glm template", str(exc)))
    else:
        glm_url = template["ANTHROPIC_BASE_URL"]
        glm_models = frozenset(
            v for k, v in template.items() if k.startswith("ANTHROPIC_DEFAULT_") and v
        )
        if trust.is_known_url(glm_url):
            checks.append(Check("ok", "glm endpoint", f"{glm_url} (built in)"))
        elif trust.is_trusted(wt.main_root, "url", glm_url):
            checks.append(Check("ok", "glm endpoint", f"{glm_url} (trusted here)"))
        else:
            checks.append(
                Check(
                    "fail" if uses_glm else "warn",
                    "glm endpoint",
                    f"{glm_url} is not built in and not trusted for {wt.main_root}",
                    "review .moai/llm-configs/glm.json, then: moai trust",
                )
            )

    # --- the key and the files holding it ----------------------------------------------
    for path in (env_file(), credentials_file()):
        if path.exists():
            mode = _mode(path)
            ok = not mode & (stat.S_IRWXG | stat.S_IRWXO)
            checks.append(
                Check(
                    "ok" if ok else "fail",
                    "key file",
                    f"{path}: mode {mode:04o}" + ("" if ok else ", readable by others"),
                    None if ok else f"chmod 600 {path}",
                )
            )
    key = None
    try:
        key = resolve_key(glm_env_var)
    except MoaiError as exc:
        checks.append(Check("fail", "key", str(exc)))
    else:
        if key is not None:
            checks.append(Check("ok", "key", f"{mask(key.value)} from {key.source}"))
        else:
            checks.append(
                Check(
                    "fail" if uses_glm else "info",
                    "key",
                    "no GLM key found",
                    "moai glm --set-key",
                )
            )

    # --- the settings Claude Code merges (HOME < project < local) ---------------------------
    home = Path(os.environ.get("HOME") or Path.home())
    docs: list[dict[str, Any]] = []
    for path, label, within in (
        (home / ".claude" / "settings.json", "~/.claude/settings.json", None),  # the user's
        (wt.root / ".claude" / "settings.json", ".claude/settings.json", wt.root),
        (settings_path(wt), SETTINGS_REL, wt.root),
    ):
        check, doc = check_settings_file(path, label, within)
        checks.append(check)
        docs.append(doc)
    local = settings_path(wt)
    rel = SETTINGS_REL
    if git.is_tracked(wt.root, rel):
        checks.append(
            Check("fail", "privacy", f"{rel} is tracked by git", f"git rm --cached {rel}")
        )
    elif local.exists() and not git.is_ignored(wt.root, rel):
        checks.append(
            Check("warn", "privacy", f"{rel} is not ignored by git", "moai glm or moai apply")
        )
    if local.exists() and _mode(local) & (stat.S_IRWXG | stat.S_IRWXO):
        holds_key = (
            isinstance(docs[2].get("env"), dict) and "ANTHROPIC_AUTH_TOKEN" in docs[2]["env"]
        )
        if holds_key:
            checks.append(
                Check(
                    "fail",
                    "privacy",
                    f"{rel} holds a token and is readable by others (mode {_mode(local):04o})",
                    f"chmod 600 {local}",
                )
            )

    credential = credential_check(docs, expected, key.value if key else None)
    if credential is not None:
        checks.append(credential)

    # --- drift ---------------------------------------------------------------------------
    try:
        from moai_mashup.settings.apply import stray_spec

        glm_var = cfg.glm_env_var if cfg is not None else "GLM_API_KEY"
        active: str | None = read_state(wt, stray_spec(wt, glm_var)).active
    except MoaiError as exc:
        checks.append(Check("fail", "drift", str(exc)))
        active = None
    if active is not None:
        if expected is None:
            checks.append(Check("info", "drift", f"active {active}; detached HEAD: left as is"))
        elif active == expected:
            checks.append(Check("ok", "drift", f"active {active}, as the table expects"))
        else:
            checks.append(
                Check(
                    "fail", "drift", f"active {active}, the table expects {expected}", "moai apply"
                )
            )

    # --- what the main checkout's settings impose here (settings/main_checkout.py) ---------
    from moai_mashup.settings import main_checkout

    found = main_checkout.override(wt, expected)
    if found is not None:
        checks.append(
            Check(
                "fail",
                "main checkout",
                f"{found.path}: {', '.join(found.keys)}: " + found.line(),
                f"git -C {wt.main_root} checkout {cfg.default_branch if cfg else 'main'}"
                if found.ours
                else "moai settings move-to-user",
            )
        )
    elif wt.is_linked:
        checks.append(Check("ok", "main checkout", "its settings.local.json sets no routing key"))

    # --- Claude Code itself -----------------------------------------------------------------
    from moai_mashup.claude_code import version as claude_version

    status, message, fix = claude_version.report(claude_version.installed())
    checks.append(Check(status, "claude code", message, fix))  # type: ignore[arg-type]
    checks.append(
        Check(
            "info",
            "model",
            "moai sets the model tier on GLM (env.ANTHROPIC_MODEL); a `--model` on the claude "
            "command line beats every settings file, so a full id there (claude-...) reaches "
            "GLM as is: use --model opus|sonnet|haiku",
        )
    )

    # --- hooks, environment, where Claude Code is started ----------------------------------
    if is_installed(wt):
        checks.append(Check("ok", "hooks", "post-checkout hook installed"))
    else:
        checks.append(
            Check("warn", "hooks", "not installed: checkouts do not switch", "moai hooks install")
        )
    from moai_mashup.claude_code.install import doctor_lines

    for level, message, fix in doctor_lines(wt.root):
        checks.append(Check(level, "claude code hooks", message, fix))
    local_env = docs[2].get("env") if isinstance(docs[2].get("env"), dict) else {}
    assert isinstance(local_env, dict)
    for line in env_warnings(local_env):
        checks.append(Check("warn", "environment", line))
    if cwd.resolve() != wt.root:
        checks.append(
            Check(
                "warn",
                "cwd",
                "Claude Code reads .claude/ only from the directory it starts in",
                f"start claude in {wt.root}",
            )
        )
    return checks, Context(wt, expected, glm_url, glm_models, docs)


def live_checks(ctx: Context, claude_opt: str | None) -> tuple[list[Check], dict[str, Any]]:
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
    result = live_probe.probe(claude, ctx.wt.root)
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
    glm_host = host_of(ctx.glm_url) if ctx.glm_url else None
    where = "the GLM endpoint" if host == glm_host else "not the GLM endpoint"
    msg = (
        f"Claude Code {result.version or '?'} would send to {host} ({where}), model {result.model}"
    )
    status: Status = "info"
    # Claude Code 2.1.197+ names the model with its context window, `glm-4.7[1m]`.
    model = (result.model or "").partition("[")[0]
    if ctx.expected == "glm":
        good = host == glm_host and (not ctx.glm_models or model in ctx.glm_models)
        status = "ok" if good else "fail"
    elif ctx.expected == "claude":
        status = "ok" if host != glm_host and model not in ctx.glm_models else "fail"
    fix = "moai doctor (without --live) for the cause; moai apply" if status == "fail" else None
    return [Check(status, "live", msg, fix)], info


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
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(f"moai doctor: {ctx.wt.root} ({ctx.wt.branch or 'detached HEAD'})")
        for c in checks:
            line = f"  {MARKS[c.status]}  {c.name:12} {c.message}"
            click.echo(line + (f"  [fix: {c.fix}]" if c.fix else ""))
    if failed:
        raise SystemExit(1)
