"""`moai trust`: allow this repository's committed endpoints, extra env keys and on-create commands.

A committed config decides where your key is sent and what runs in a new
worktree; as `direnv allow` does, nothing outside the built-in list is used
until you have looked at it and trusted it here. A change asks again. Each
backend's endpoint and env are trusted on their own (settings/trust.py): GLM's
from glm.json, and those of every `llm.backends` entry whose base URL is not its
preset's own (or that sets variables beyond the ones that route the model).
"""

from __future__ import annotations

import click

from moai_mashup import jsontext
from moai_mashup.core.backends import GLM
from moai_mashup.core.glm_template import extra_env_trust_value, split_routing
from moai_mashup.errors import MoaiError, Refused
from moai_mashup.settings import keys, trust
from moai_mashup.settings.apply import load_template, profile_env_for_trust
from moai_mashup.workspace import open_workspace

_WHAT = {
    "url": "send your {name} key{which} to",
    "env": "set for Claude Code beside your {name} key",
    "command": "run in each new worktree",
    "telemetry": "send Claude Code's usage metrics and events to",
}

# (kind, value, backend): backend is GLM's for the kinds not kept per backend.
Item = tuple[str, str, str]


def _shown(kind: str, value: str, backend: str, name_glm: bool = False) -> list[str]:
    """One line per item; an env set shows each exact NAME=value (repr when odd); a
    backend other than GLM is named first, and GLM too when `name_glm` (other
    backends are listed beside it)."""
    named = kind in trust.PER_BACKEND and (backend != GLM or name_glm)
    label = f"{backend}: " if named else ""
    if kind != "env":
        # the config refuses control characters here already; shown escaped if any get by
        return [label + (value if value.isprintable() else repr(value))]
    out = []
    for name, v in jsontext.loads(value).items():
        plain = v.isprintable() and v == v.strip()
        out.append(label + (f"{name}={v}" if plain else f"{name}={v!r}"))
    return out


@click.command("trust")
@click.option("--yes", "-y", is_flag=True, help="Trust without asking.")
@click.option("--list", "list_only", is_flag=True, help="Show what needs trust; change nothing.")
@click.option("--revoke", is_flag=True, help="Forget every approval for this repository.")
@click.option("--json", "as_json", is_flag=True, help="With --list: one JSON object.")
def command(yes: bool, list_only: bool, revoke: bool, as_json: bool) -> None:
    """Trust this repository's backend base URLs (GLM's and llm.backends'), their extra env
    keys, on_create commands and telemetry endpoint."""

    ws = open_workspace()
    repo = ws.wt.main_root
    if revoke:
        n = trust.revoke(repo)
        click.echo(f"revoked {n} approval(s) for {repo}")
        return

    env = load_template(ws.wt)
    items: list[Item] = [("url", env["ANTHROPIC_BASE_URL"], GLM)]
    _routing, extra = split_routing(env)
    if extra:  # one item: the exact set of names and values, so any change asks again
        items.append(("env", extra_env_trust_value(extra), GLM))
    for name, profile in ws.cfg.backends.items():
        if not profile.url_known:
            items.append(("url", profile.base_url, name))
        _routing, extra = split_routing(profile_env_for_trust(profile))
        if extra:
            items.append(("env", extra_env_trust_value(extra), name))
    items += [("command", c, GLM) for c in ws.cfg.worktree.on_create]
    if ws.cfg.telemetry.otlp_endpoint:
        items.append(("telemetry", ws.cfg.telemetry.otlp_endpoint, GLM))
    needed = [item for item in items if not trust.is_trusted(repo, *item)]
    if list_only:
        if as_json:
            rows = [
                {"kind": k, "value": v, "trusted": (k, v, b) not in needed}
                | ({"backend": b} if k in trust.PER_BACKEND else {})
                for k, v, b in items
            ]
            click.echo(jsontext.dumps({"repository": str(repo), "items": rows}, indent=2))
            return
        for k, v, b in items:
            state = "needs trust" if (k, v, b) in needed else "trusted"
            for shown in _shown(k, v, b, bool(ws.cfg.backends)):
                click.echo(f"{state:12} {k:8} {shown}")
        return
    if not needed:
        click.echo("nothing to trust: every endpoint and command here is trusted or built in")
        return
    click.echo(f"{repo} asks to:")
    for k, v, b in needed:
        # which key exactly, for an endpoint: the one moai keeps for that backend
        which = f" ({_which_key(ws.cfg.glm_env_var, b)})" if k == "url" else ""
        what = _WHAT[k].format(name="GLM" if b == GLM else f"{b!r} backend's", which=which)
        for shown in _shown(k, v, GLM):
            click.echo(f"  {what}: {shown}")
    if not yes and not click.confirm("Trust these for this repository?", err=True):
        raise Refused("not trusted; nothing changed")
    for k, v, b in needed:
        trust.trust(repo, k, v, b)
    click.echo(
        f"trusted {len(needed)} item(s); a change to any of them asks again. "
        "`moai apply` uses them in this worktree now (the next checkout does anyway)"
    )


def _which_key(glm_env_var: str, backend: str) -> str:
    """The key a backend's endpoint would receive, masked with where it comes from
    (`moai key set` saves it), so the prompt says which key goes where."""
    try:
        found = keys.resolve_key(glm_env_var, backend)
    except MoaiError as exc:
        return f"unreadable: {exc}"
    if found is None:
        return f"none yet; `moai key set {backend}` saves it"
    return f"{keys.mask(found.value)} from {found.source}"
