"""Load `llm.yaml` + `llm.local.yaml` + `$MOAI_LLM_MODE` into one ResolvedConfig.

Validation uses pydantic (core/config_model.py) and yaml, which together cost
~100 ms to import. The git hook runs on every checkout, so a validated result
is cached as JSON in the per-worktree git dir; a hit imports neither.

The cache is keyed on the files' *contents* (and the environment override),
not on (size, mtime_ns, inode): a same-size edit within one timestamp tick
(coarse kernel clocks, 1-2 s on some filesystems, `touch -r`, a checkout
restoring an old mtime) keeps all three, and an editor that saves by rename
can get the freed inode number back. The two files are small; reading them
costs microseconds.
"""

from __future__ import annotations

import os
import sys

from moai_mashup import __version__, files, jsontext
from moai_mashup.core.backends import Profile
from moai_mashup.core.routing import Mode
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_CONFIG_BYTES

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from moai_mashup.core.config_model import FileModel

# Relative to a worktree's root. Strings, and os.path on a cache hit: the status line
# and the prompt hook load the config without importing pathlib (with the urllib.parse
# and ipaddress it brings: 10-15 ms CPU, 15-23% of a refresh; claude_code/session.py).
LLM_YAML = ".moai/config/sections/llm.yaml"
LLM_LOCAL_YAML = ".moai/config/sections/llm.local.yaml"
GLM_JSON = ".moai/llm-configs/glm.json"
MODE_ENV = "MOAI_LLM_MODE"
CACHE_NAME = "config-cache.json"
# The cache holds one validated config: a few KiB; anything near this was not written by us.
MAX_CACHE_BYTES = 4 * MAX_CONFIG_BYTES

# Fields a developer's llm.local.yaml may never set: the team owns its policy.
TEAM_ONLY = ("policy",)
# Fields the two files add up instead of the local one overriding the team's.
ADDED = ("backends", "routes")
DEFAULT_MODE = "mashup"


class AutoWorktree(NamedTuple):
    enabled: bool
    copy_glm_config: bool


class WorktreeSettings(NamedTuple):
    root: str
    copy: tuple[str, ...]
    on_create: tuple[str, ...]


class Policy(NamedTuple):
    locked: tuple[str, ...]
    enforce_locations: bool
    plan_paths: tuple[str, ...]
    require_backend_match: bool
    commit_trailer: bool
    strict: bool


class Telemetry(NamedTuple):
    enabled: bool
    otlp_endpoint: str | None  # None: no collector configured, nothing exported
    protocol: str
    resource_attributes: dict[str, str]


class ResolvedConfig(NamedTuple):
    mode: Mode
    mode_source: str  # "llm.yaml", "llm.local.yaml", "MOAI_LLM_MODE" or "default"
    configured: bool  # llm.yaml exists: the hooks act only in configured repositories
    glm_env_var: str
    default_branch: str
    spec_branch_pattern: str
    credential_mode: str
    auto_worktree: AutoWorktree
    worktree: WorktreeSettings
    policy: Policy
    pricing: dict[str, dict[str, float | None]]
    warnings: tuple[str, ...]
    telemetry: Telemetry = Telemetry(False, None, "http/protobuf", {})
    # `llm.backends`, resolved (core/backends.Profile), by name; `glm` and `claude`
    # are built in and never here.
    backends: dict[str, Profile] = {}  # noqa: RUF012 - never mutated: a NamedTuple field
    # `llm.routes` in order (the local file's first), first match wins; empty:
    # table 2 by mode decides.
    routes: tuple[RouteLine, ...] = ()


class RouteLine(NamedTuple):
    """One entry of `llm.routes`: branches matching `branch` (core/routing's glob) go
    to `backend`; `source` is the file that wrote it, for messages."""

    branch: str
    backend: str
    source: str


def _from_dump(
    llm: dict[str, Any],
    mode_source: str,
    configured: bool,
    warnings: list[str],
    backends: dict[str, dict[str, Any]],
    routes: list[dict[str, str]],
) -> ResolvedConfig:
    wt = llm["worktree"]
    pol = llm["policy"]
    return ResolvedConfig(
        mode=llm["mode"],
        mode_source=mode_source,
        configured=configured,
        glm_env_var=llm["glm_env_var"],
        default_branch=llm["default_branch"],
        spec_branch_pattern=llm["spec_branch_pattern"],
        credential_mode=llm["credential_mode"],
        auto_worktree=AutoWorktree(**llm["auto_worktree"]),
        worktree=WorktreeSettings(wt["root"], tuple(wt["copy"]), tuple(wt["on_create"])),
        policy=Policy(
            locked=tuple(pol["locked"]),
            enforce_locations=pol["enforce_locations"],
            plan_paths=tuple(pol["plan_paths"]),
            require_backend_match=pol["require_backend_match"],
            commit_trailer=pol["commit_trailer"],
            strict=pol["strict"],
        ),
        pricing=llm["pricing"],
        warnings=tuple(warnings),
        telemetry=Telemetry(**llm["telemetry"]),
        backends={name: Profile.from_dict(data) for name, data in backends.items()},
        routes=tuple(RouteLine(r["branch"], r["backend"], r["source"]) for r in routes),
    )


def _file_content(path: str, root: str | Path) -> str | None:
    """The file's bytes as text for the cache key (None: absent, "\0error": unreadable,
    not a regular file, too large, or a link leading outside the worktree)."""
    try:
        data = files.read_bytes(path, MAX_CONFIG_BYTES, within=root)
    except BadInput:
        return "\0error"  # never equal to a cached key, so validation reports the problem
    return None if data is None else data.decode("utf-8", "surrogateescape")


def _cache_key(worktree: str | Path) -> dict[str, Any]:
    return {
        "version": __version__,
        "python": list(sys.version_info[:2]),
        "llm": _file_content(os.path.join(worktree, LLM_YAML), worktree),
        "local": _file_content(os.path.join(worktree, LLM_LOCAL_YAML), worktree),
        "env": os.environ.get(MODE_ENV),
    }


# Cache files already read by this process, by their bytes: the worktrees of one
# repository mostly hold the same one, and `moai worktree list` reads them all.
_SEEN: dict[bytes, tuple[dict[str, Any], ResolvedConfig]] = {}


def _read_cache(
    cache_dir: str | Path, key: dict[str, Any]
) -> tuple[dict[str, Any], ResolvedConfig] | None:
    """The cached blob in `cache_dir` when it was made for `key`, and the config it holds
    (None: absent, stale, broken)."""
    try:
        raw = files.read_bytes(os.path.join(cache_dir, CACHE_NAME), MAX_CACHE_BYTES)
        if raw is None:
            return None
        seen = _SEEN.get(raw)
        if seen is not None:
            return (dict(seen[0]), seen[1]) if seen[0]["key"] == key else None
        cached = jsontext.loads(raw)
        if isinstance(cached, dict) and cached["key"] == key:
            parsed = dict(cached), _from_blob(cached)  # every field there, or a miss
            _SEEN[raw] = parsed
            return dict(parsed[0]), parsed[1]
    except (BadInput, OSError, ValueError, RecursionError, KeyError, TypeError):
        pass
    return None


def _from_blob(blob: dict[str, Any]) -> ResolvedConfig:
    return _from_dump(
        blob["llm"],
        blob["mode_source"],
        blob["configured"],
        blob["warnings"],
        blob["backends"],
        blob["routes"],
    )


def _write_cache(cache_dir: str | Path, blob: dict[str, Any]) -> None:
    try:
        files.write_text(
            os.path.join(cache_dir, CACHE_NAME),
            jsontext.dumps(blob, ensure_ascii=False),
            0o600,
            within=cache_dir,
        )
    except (BadInput, OSError, UnicodeEncodeError):
        return  # a cache we cannot write only costs time (contextlib stays off the hook's path)


def load_config(worktree: str | Path, cache_dir: str | Path | None = None) -> ResolvedConfig:
    """The effective config of a worktree; raises BadInput with one line on any problem.

    `cache_dir` is the per-worktree git dir's `moai/` folder; None disables the cache.
    """
    key = _cache_key(worktree) if cache_dir is not None else None
    if cache_dir is not None and key is not None:
        hit = _read_cache(cache_dir, key)
        if hit is not None:
            return hit[1]
    from pathlib import Path  # a miss validates: pydantic and yaml, far more than pathlib

    # llm, mode_source, configured, warnings (unknown keys keep being reported on
    # every run), backends (Profile.as_dict by name), routes (RouteLine as dicts)
    blob: dict[str, Any] = {"key": key, **_validate(Path(worktree))}
    if cache_dir is not None:
        _write_cache(cache_dir, blob)
    return _from_blob(blob)


def fallback_config() -> ResolvedConfig:
    """Every default, no backends and no routes: what taking moai's own keys out of a
    worktree (applying Claude) reads when llm.yaml or llm.local.yaml cannot be: the
    ownership record says what to remove, the config nothing."""
    from moai_mashup.core.config_model import FileModel

    llm = FileModel().llm.model_dump(mode="json", by_alias=True, exclude=set(ADDED))
    return _from_dump(llm, "default", True, [], {}, [])


def load_config_like(worktree: Path, cache_dir: Path, like_cache_dir: Path) -> ResolvedConfig:
    """`load_config` for a new worktree, reusing the validated cache of the one it came from.

    `moai worktree create` would pay ~100 ms of pydantic + yaml imports to
    validate files it has just validated in the worktree it runs from; the
    cache is keyed on the files' contents, so when they match it holds as is.
    """
    key = _cache_key(worktree)
    hit = _read_cache(like_cache_dir, key)
    if hit is None:
        return load_config(worktree, cache_dir)
    _write_cache(cache_dir, hit[0])
    return hit[1]


def _read_yaml(path: Path, label: str, root: Path) -> dict[str, Any] | None:
    import yaml

    from moai_mashup.limits import load_yaml_unique

    text = files.read_text(path, MAX_CONFIG_BYTES, label, within=root)
    if text is None:
        return None
    try:
        data = load_yaml_unique(text, label)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise BadInput(f"{label}: malformed YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"{label}: expected a mapping with an 'llm:' key, got {type(data).__name__}")
    if "llm" in data and data["llm"] is None:
        data["llm"] = {}  # `llm:` with every key commented out means all defaults
    return data


def _unknown_keys(raw: Any, model: Any, prefix: str, label: str) -> tuple[Any, list[str]]:
    """Drop keys the schema does not know, with a warning each (other MoAI tools add keys)."""
    import difflib

    from pydantic import BaseModel

    if not isinstance(raw, dict):
        return raw, []
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    kept: dict[str, Any] = {}
    warnings: list[str] = []
    for k, v in raw.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if k not in fields:
            near = difflib.get_close_matches(str(k), list(fields), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            warnings.append(f"{label}: {path}: unknown key, ignored{hint}")
            continue
        ann = fields[k].annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            v, sub = _unknown_keys(v, ann, path, label)
            warnings += sub
        elif k == "pricing" and isinstance(v, dict):
            from moai_mashup.core.config_model import PriceModel

            cleaned = {}
            for name, price in v.items():
                cleaned[name], sub = _unknown_keys(price, PriceModel, f"{path}.{name}", label)
                warnings += sub
            v = cleaned
        elif k == "backends" and isinstance(v, dict):
            from moai_mashup.core.config_model import BackendModel

            entries = {}
            for name, entry in v.items():
                entries[name], sub = _unknown_keys(entry, BackendModel, f"{path}.{name}", label)
                warnings += sub
            v = entries
        elif k == "routes" and isinstance(v, list):
            from moai_mashup.core.config_model import RouteModel

            lines = []
            for n, entry in enumerate(v):
                line, sub = _unknown_keys(entry, RouteModel, f"{path}[{n}]", label)
                lines.append(line)
                warnings += sub
            v = lines
        kept[k] = v
    return kept, warnings


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _check(raw: dict[str, Any], label: str) -> FileModel:
    """Validate one file's `llm:` block on its own, so an error names the right file;
    then what the schema checks entry by entry: each backend complete as a whole."""
    from pydantic import ValidationError

    from moai_mashup.core.config_model import FileModel, backend_problem

    try:
        model = FileModel.model_validate(raw)
    except ValidationError as exc:
        raise BadInput(_one_line(exc, label)) from None
    for name, backend in model.llm.backends.items():
        problem = backend_problem(backend)
        if problem is not None:
            field, rest = problem
            raise BadInput(f"{label}: llm.backends.{name}.{field}: {rest}")
    return model


def _loc(parts: tuple[Any, ...]) -> str:
    """pydantic's error location as the entry's path: llm.routes[2].backend,
    llm.backends.kimi (a key's own problem) or llm.backends.kimi.preset."""
    out = ""
    for n, p in enumerate(parts):
        if isinstance(p, int) and parts[n + 1 : n + 2] != ("[key]",):
            out += f"[{p}]"  # an index into a list (a mapping's key stays a key)
        elif not str(p).startswith("function-") and p != "[key]":
            out += f".{p}" if out else str(p)
    return out


# What an entry of these lists or mappings looks like, for a line refusing another shape.
ENTRY_SHAPES = {
    "BackendModel": "a mapping such as {preset: moonshot}",
    "RouteModel": 'a mapping such as {branch: "exp/*", backend: kimi}',
}


def _one_line(exc: Any, label: str) -> str:
    err = exc.errors()[0]
    loc = _loc(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "literal_error":
        msg = msg.replace("Input should be", "must be one of")
    elif err["type"] == "extra_forbidden":
        msg = "not allowed here"
    msg = msg.replace("Input should be", "must be").replace("String should", "must")
    for model, shape in ENTRY_SHAPES.items():
        msg = msg.replace(f"a valid dictionary or instance of {model}", shape)
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or got is None else f" (got {got!r})"
    if isinstance(got, str) and repr(got) in msg:
        shown = ""  # the message names it already
    more = len(exc.errors()) - 1
    tail = f" [+{more} more]" if more else ""
    return f"{label}: {loc}: {msg}{shown}{tail}"


def _validate(worktree: Path) -> dict[str, Any]:
    """The validated config as the cache keeps it (load_config's blob without its key)."""
    from moai_mashup.core.config_model import FileModel

    team_label = str(LLM_YAML)
    local_label = str(LLM_LOCAL_YAML)
    team = _read_yaml(worktree / LLM_YAML, team_label, worktree)
    local = _read_yaml(worktree / LLM_LOCAL_YAML, local_label, worktree)
    warnings: list[str] = []

    team_clean: dict[str, Any] = {}
    team_model = local_model = FileModel()
    if team is not None:
        team_clean, w = _unknown_keys(team, FileModel, "", team_label)
        warnings += w
        team_model = _check(team_clean, team_label)
    local_clean: dict[str, Any] = {}
    if local is not None:
        local_clean, w = _unknown_keys(local, FileModel, "", local_label)
        warnings += w
        local_model = _check(local_clean, local_label)

    # backends and routes add up (the local file's first) instead of overriding
    team_llm = {k: v for k, v in (team_clean.get("llm") or {}).items() if k not in ADDED}
    local_llm = dict(local_clean.get("llm") or {})
    locked = set((team_llm.get("policy") or {}).get("locked", []))
    for field in TEAM_ONLY:
        if field in local_llm:
            raise BadInput(
                f"{local_label}: llm.{field}: only the team's {team_label} may set this; "
                f"remove it from {local_label}"
            )
    for field in sorted(locked & set(ADDED)):
        if local_llm.get(field):
            raise BadInput(
                f"{local_label}: llm.{field}: locked by the team in {team_label} "
                f"(llm.policy.locked); remove it from {local_label}"
            )
    local_llm = {k: v for k, v in local_llm.items() if k not in ADDED}
    for field in sorted(locked & set(local_llm)):
        if local_llm[field] != team_llm.get(field, local_llm[field]) or field not in team_llm:
            raise BadInput(
                f"{local_label}: llm.{field}: locked by the team in {team_label} "
                f"(llm.policy.locked); remove it from {local_label}"
            )
    # llm.local.yaml is the user's own word (a backend there needs no trust for its
    # URL) only when it is the user's: a repository can commit one (`git add -f`),
    # and git checks it out like any other file.
    yours = local is None or not _tracked(worktree, LLM_LOCAL_YAML)
    if not yours and local_model.llm.backends:
        warnings.append(
            f"{local_label}: tracked by git, so it is the repository's file, not yours: "
            f"its backends' endpoints need `moai trust` as {team_label}'s do; to make it "
            f"yours: git rm --cached {local_label}"
        )
    backends, routes = _backends_and_routes(team_model, local_model, team_label, local_label, yours)

    merged = _deep_merge(team_llm, local_llm)
    mode_source = "default"
    if "mode" in local_llm:
        mode_source = local_label
    elif "mode" in team_llm:
        mode_source = team_label
    env_mode = os.environ.get(MODE_ENV)
    if env_mode:
        if "mode" in locked and env_mode != merged.get("mode", DEFAULT_MODE):
            raise BadInput(
                f"{MODE_ENV}={env_mode}: mode is locked by the team in {team_label} "
                f"(llm.policy.locked); unset {MODE_ENV}"
            )
        merged["mode"] = env_mode
        mode_source = MODE_ENV
    try:
        from pydantic import ValidationError

        model = FileModel.model_validate({"llm": merged})
    except ValidationError as exc:
        line = _one_line(exc, MODE_ENV if mode_source == MODE_ENV else team_label)
        raise BadInput(line) from None
    return {
        "llm": model.llm.model_dump(mode="json", by_alias=True, exclude=set(ADDED)),
        "mode_source": mode_source,
        "configured": team is not None,
        "warnings": warnings,
        "backends": backends,
        "routes": routes,
    }


def _tracked(worktree: Path, rel: str) -> bool:
    """git tracks `rel` in this worktree, by its path or where links lead it (False
    outside a repository)."""
    from moai_mashup import git

    return git.tracks(worktree, rel)


def _backends_and_routes(
    team: FileModel,
    local: FileModel,
    team_label: str,
    local_label: str,
    local_yours: bool = True,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:
    """`llm.backends` of both files (a local one may not reuse a team name) as
    core/backends.Profile dicts, and `llm.routes` (the local file's first), each
    naming a defined backend; as the cache keeps them. `local_yours`: the local file
    is the user's own (git does not track it), so its endpoints need no trust."""
    from moai_mashup.core.backends import BUILT_IN, PRESETS, name_problem, resolve_profile
    from moai_mashup.core.config_model import preset_guess
    from moai_mashup.core.routing import covers

    for name in local.llm.backends:
        if name in team.llm.backends:
            raise BadInput(
                f"{local_label}: llm.backends.{name}: the team's {team_label} already "
                f"defines {name!r}; give yours another name (and route to that) or remove it"
            )
    backends: dict[str, dict[str, Any]] = {}
    for model, label, own_word in ((team, team_label, False), (local, local_label, local_yours)):
        for name, entry in model.llm.backends.items():
            data = entry.model_dump(mode="json")
            backends[name] = resolve_profile(name, data, label, own_word).as_dict()
    defined = [*BUILT_IN, *backends]
    routes: list[dict[str, str]] = []
    for model, label in ((local, local_label), (team, team_label)):
        for n, route in enumerate(model.llm.routes):
            name = route.backend
            if name not in defined:
                names = f"{', '.join(defined[:-1])} or {defined[-1]}"
                guess = name if name in PRESETS else preset_guess(name)
                example = (
                    f" ({name}: {{preset: {guess}}})" if guess and not name_problem(name) else ""
                )
                raise BadInput(
                    f"{label}: llm.routes[{n}].backend: no backend is named {name!r}; route "
                    f"to {names}, or define {name!r} under llm.backends{example}"
                )
            for m, before in enumerate(model.llm.routes[:n]):
                # Within one file only: a local route before the team's is the user's
                # own override, meant to take the team's branches.
                if covers(before.branch, route.branch):
                    raise BadInput(
                        f"{label}: llm.routes[{n}].branch: {route.branch!r} never decides a "
                        f"branch: llm.routes[{m}] ({before.branch!r}) comes first and "
                        f"matches every branch it does (first match wins); move it above "
                        f"llm.routes[{m}] or remove it"
                    )
            routes.append({"branch": route.branch, "backend": name, "source": label})
    return backends, routes
