"""Backend state that no ownership record of ours accounts for, as pure functions.

moai knows what it wrote from its record; another writer may put the same
state back where the table wants another backend: an editor that loaded the
settings file on a SPEC branch and saves it after `git checkout main`, a
restored backup, a copied file. Such state holding one of the user's keys (of
GLM or of any backend in `llm.backends`), or moai's key helper, routes traffic
to that backend whoever wrote it, so it is drift: reported, and removed on the
way to any other backend. A proxy or a provider's URL written by hand without
the user's key is theirs, and stays.
"""

from __future__ import annotations

from moai_mashup.core import settings_plan as plan
from moai_mashup.core.model_pin import MODEL_VAR, TIERS
from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

GLM = "glm"
SECRET_KEYS = ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
HELPER_MODULE = "moai_mashup.settings.key_helper"  # in every apiKeyHelper command moai writes


class StraySpec(NamedTuple):
    keys: frozenset[str]  # every GLM key value the user's sources hold
    template: dict[str, str]  # the GLM template's env (placeholders unfilled)
    # Every other configured backend: name -> (the key values the user's sources
    # hold for it, its profile's env with the key as a placeholder).
    backends: dict[str, tuple[frozenset[str], dict[str, str]]] = {}  # noqa: RUF012 - never mutated

    def owners(self, value: str) -> list[str]:
        """The backends whose user key `value` is, GLM first."""
        found = [GLM] if value in self.keys else []
        return found + [name for name, (keys, _env) in self.backends.items() if value in keys]

    def env_of(self, backend: str) -> dict[str, str]:
        return self.template if backend == GLM else self.backends[backend][1]


def helper_backend(command: str, spec: StraySpec) -> str:
    """The backend a key helper command of moai's prints the key of: its last
    argument names it (settings/apply.key_helper_command); GLM's names none."""
    last = command.rsplit(" ", 1)[-1]
    return last if last in spec.backends else GLM


def find_stray(
    doc: dict[str, Any], record: plan.OwnershipRecord | None, spec: StraySpec
) -> tuple[str | None, list[plan.KeyPath]]:
    """(the backend moai's stray state routes to, its paths in `doc`): state of
    moai's that no live record owns; (None, []) when there is none."""
    live = plan.live_record(doc, record)
    owned = {e.path for e in live.entries if plan._is_ours(doc, e)} if live else set()
    env = doc.get("env")
    env = env if isinstance(env, dict) else {}
    helper = doc.get("apiKeyHelper")
    keyed = {
        ("env", n): spec.owners(env[n])
        for n in SECRET_KEYS
        if isinstance(env.get(n), str) and env[n]
    }
    keyed = {path: owners for path, owners in keyed.items() if owners}
    ours_helper = isinstance(helper, str) and HELPER_MODULE in helper
    backends = [b for path, owners in keyed.items() if path not in owned for b in owners]
    if ours_helper and ("apiKeyHelper",) not in owned:
        backends.append(helper_backend(str(helper), spec))
    if not backends:
        return None, []
    backends = list(dict.fromkeys(backends))
    paths: list[plan.KeyPath] = list(keyed)
    # What moai's switch to that backend writes beside the key, with the same values.
    paths += [("env", n) for n in SECRET_KEYS if env.get(n) == ""]
    for backend in backends:
        paths += [
            ("env", n)
            for n, v in spec.env_of(backend).items()
            if n not in SECRET_KEYS and "${" not in v and env.get(n) == v
        ]
    if env.get(MODEL_VAR) in TIERS:  # the tier alias moai's switch pins (model_pin.py)
        paths.append(("env", MODEL_VAR))
    if helper == "" or ours_helper:
        paths.append(("apiKeyHelper",))
    return backends[0], [p for p in dict.fromkeys(paths) if p not in owned]


def stray_glm(
    doc: dict[str, Any], record: plan.OwnershipRecord | None, spec: StraySpec
) -> list[plan.KeyPath]:
    """The paths of `find_stray` (of whichever backend; the name is kept for callers)."""
    return find_stray(doc, record, spec)[1]


def without(doc: dict[str, Any], paths: list[plan.KeyPath]) -> dict[str, Any]:
    """`doc` with `paths` removed (and an `env` they leave empty)."""
    new = plan._copy(doc)
    for path in paths:
        plan._delete(new, path)
    if any(p[0] == "env" for p in paths) and new.get("env") == {}:
        del new["env"]
    return new
