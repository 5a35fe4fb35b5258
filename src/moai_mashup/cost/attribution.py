"""Which worktree, SPEC, phase and backend each response belongs to; de-duplication.

Worktrees: the main worktree and every linked one (`git worktree list
--porcelain`), plus the configured worktree root (`llm.worktree.root`), so the
sessions of a SPEC worktree that was removed after its merge still count.
A response belongs to the worktree whose path is the longest prefix of the
record's `cwd` (Claude Code writes the directory it was started in); folders
are only a prefilter, since `/a/b-c` and `/a/b/c` share a folder name.

SPEC: the record's own `gitBranch` (the branch at that moment), through
`spec_branch_pattern`; else the SPEC named by the session's phase command.

Phase, first that applies:
1. a MoAI slash command earlier in the same session (`/moai:1-plan`,
   `/moai:2-run`, `/moai:3-sync`; `alfred:` is the older prefix) holds until
   the next one; subagents inherit their session's;
2. the worktree's phase record (phase_record.py) at the response's time;
3. the location: the default branch -> plan, a SPEC branch -> run, any other
   branch -> other.

Backend: from the model name the server answered with, since Claude Code
records neither the base URL nor the requested alias (see transcripts.py) and
each provider answers with its own model names. A backend is named as the
repository names it (BackendNames), first that applies:
1. `record`: the worktree's ownership record (moai's, now) says it is on
   backend B, and B's models (or the model keys of its settings file) name
   the model -> B;
2. `name`: a Claude model name (`claude-*`) -> claude;
3. `configured`: the backends whose models name it: each of `llm.backends`
   (its tiers' models) and glm (the `.moai/llm-configs/glm.json` template's).
   One -> that one; several (two presets serving `kimi-k3`) -> `route`: the
   first `llm.routes` line matching the response's branch, when it names one
   of them, else the first of them (glm, then `llm.backends` in order);
4. `family`: the preset family the name begins with (`deepseek-*`, `kimi-*`,
   `qwen*`, `minimax-*`, `glm*`; pricing.backend_of), for a model no backend
   of this repository names (one since removed from `llm.backends`);
5. `other`.
Model names compare as the price table's keys (pricing.base_id: no `[1m]`,
no date, lower case).

De-duplication: the first record of each (message id, request id) counts; a
later copy with more output tokens (a streamed update) adds the difference.
The key is stored as a 64-bit hash (collision odds ~3e-8 for a million
responses) in a compact table (SeenTable): memory grows by ~30-50 bytes per
distinct response, never per line.
"""

from __future__ import annotations

import re
from array import array
from pathlib import Path

from moai_mashup import files, jsontext
from moai_mashup.core.backends import GLM, Profile
from moai_mashup.core.routing import (
    branch_kind,
    glob_matches,
    is_valid_spec_id,
    spec_id_from_branch,
)
from moai_mashup.cost.phase_record import PhaseMark, phase_at
from moai_mashup.cost.pricing import Tier, backend_of, base_id, strip_suffix, tier_for
from moai_mashup.cost.transcripts import (
    BAD_USAGE,
    SYNTHETIC,
    Found,
    Response,
    ScanStats,
    phase_command_of,
    response_of,
)
from moai_mashup.errors import MoaiError
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_SETTINGS_BYTES, too_deep

if TYPE_CHECKING:
    from typing import Any

PHASE_COMMAND = re.compile(r"^/(?:moai|alfred):[0-9]*-?(plan|run|sync)$")
TEMPLATE_MODEL_KEYS: dict[str, Tier] = {
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "opus",
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "sonnet",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "haiku",
}


_MASK = 0xFFFFFFFF
_NOWHERE = 0xFFFFFFFF  # bucket id of responses seen but not counted (outside, filtered)
# (phase, spec, backend, backend rule, tier, tier rule), or _OUTSIDE for a cwd in no
# worktree of ours.
_Where = tuple[str, str | None, str, str, str, str]
_OUTSIDE: _Where = ("", None, "", "", "", "")


class SeenTable:
    """int -> int for every distinct response: open addressing over two `array('Q')`.

    A dict of ints costs ~115 bytes per entry; this costs 16 bytes per slot at
    a load of 0.3-0.6 (27-53 bytes per response), so a year of transcripts fits
    well under the 100 MB budget. Keys are 64-bit hashes; 0 marks an empty slot.
    """

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._mask = capacity - 1
        self._keys = array("Q", bytes(8 * capacity))
        self._vals = array("Q", bytes(8 * capacity))
        self.count = 0

    @staticmethod
    def _norm(key: int) -> int:
        # hash() values are signed 64-bit; 0 marks an empty slot, so hash 0 moves aside.
        return (key & 0xFFFFFFFFFFFFFFFF) or 0x9E3779B97F4A7C15

    def get(self, key: int) -> int | None:
        key = self._norm(key)
        keys, mask = self._keys, self._mask
        i = key & mask
        while True:
            k = keys[i]
            if k == key:
                return self._vals[i]
            if k == 0:
                return None
            i = (i + 1) & mask

    def put(self, key: int, value: int) -> None:
        key = self._norm(key)
        keys, mask = self._keys, self._mask
        i = key & mask
        while keys[i] not in (0, key):
            i = (i + 1) & mask
        if keys[i] == 0:
            self.count += 1
        keys[i] = key
        self._vals[i] = value
        if self.count * 5 > len(keys) * 3:
            self._grow()

    def _grow(self) -> None:
        old_keys, old_vals = self._keys, self._vals
        capacity = len(old_keys) * 2
        self._mask = capacity - 1
        self._keys = array("Q", bytes(8 * capacity))
        self._vals = array("Q", bytes(8 * capacity))
        keys, vals, mask = self._keys, self._vals, self._mask
        for k, v in zip(old_keys, old_vals, strict=True):
            if k:
                i = k & mask
                while keys[i]:
                    i = (i + 1) & mask
                keys[i] = k
                vals[i] = v


class Place(NamedTuple):
    """A worktree (or the root where removed worktrees lived)."""

    path: str
    branch: str | None
    marks: tuple[PhaseMark, ...]
    backend: str | None = None  # the backend its ownership record says it is on (now)
    models: frozenset[str] = frozenset()  # the model names its settings file's env gives


class OnBackend(NamedTuple):
    """What a worktree's settings say it runs on: `Place.backend` and `Place.models`."""

    backend: str | None
    models: frozenset[str]


NOT_ON: OnBackend = OnBackend(None, frozenset())


class Bucket(NamedTuple):
    """The finest grouping; reports sum buckets."""

    day: str
    phase: str
    spec: str
    model: str
    backend: str
    backend_how: str  # which rule named the backend (module doc): record, name, configured, ...
    tier: str
    tier_how: str


class Filters(NamedTuple):
    since: str | None  # ISO prefix compared with timestamps; inclusive
    until: str | None  # exclusive upper bound
    spec: str | None


def template_tiers(
    envs: list[dict[str, Any]], profiles: dict[str, Profile] | None = None
) -> dict[str, frozenset[Tier]]:
    """model name -> the tiers it is configured for in any of these env blocks (glm.json,
    settings files) or by any configured backend (`llm.backends`: its tiers' models)."""
    out: dict[str, set[Tier]] = {}
    for env in envs:
        for key, tier in TEMPLATE_MODEL_KEYS.items():
            value = env.get(key)
            if isinstance(value, str) and value:
                out.setdefault(strip_suffix(value), set()).add(tier)
    for profile in (profiles or {}).values():
        for tier in TEMPLATE_MODEL_KEYS.values():
            value = profile.models.get(tier)
            if value:
                out.setdefault(strip_suffix(value), set()).add(tier)
    return {k: frozenset(v) for k, v in out.items()}


def read_env_block(path: Path, within: Path | None = None) -> dict[str, Any]:
    """The `env` block of a settings-shaped JSON file ({}: absent, unreadable, not a
    regular file inside `within`, past MAX_SETTINGS_BYTES, not JSON, nested absurdly)."""

    try:
        text = files.read_text(path, MAX_SETTINGS_BYTES, within=within)
        data = jsontext.loads(text) if text is not None else None
    except (MoaiError, OSError, ValueError, RecursionError):
        return {}
    if too_deep(data):
        return {}
    env = data.get("env") if isinstance(data, dict) else None
    return env if isinstance(env, dict) else {}


def model_ids(env: dict[str, Any]) -> frozenset[str]:
    """The model names (as base_id) an env block sets for the tiers."""
    values = (env.get(key) for key in TEMPLATE_MODEL_KEYS)
    return frozenset(base_id(v) for v in values if isinstance(v, str) and v.strip())


def worktree_backend(state_dir: Path, settings_env: dict[str, Any]) -> OnBackend:
    """The backend moai's ownership record (the worktree's, whose state dir is
    `state_dir`: settings/private.py) says that worktree's settings are on, with the
    models its settings' env names; NOT_ON without a readable record (the report does
    not fail on it: `moai doctor` does)."""
    from moai_mashup.settings import private

    try:
        _path, raw = private.read_record(str(state_dir))
        data = jsontext.loads(raw) if raw is not None else None
    except (MoaiError, OSError, ValueError, RecursionError):
        return NOT_ON
    backend = data.get("backend") if isinstance(data, dict) else None
    if not isinstance(backend, str) or not backend:
        return NOT_ON
    return OnBackend(backend, model_ids(settings_env))


class BackendNames:
    """Which backend served a response, by the model name it answered with (module doc)."""

    def __init__(
        self,
        configured: list[tuple[str, frozenset[str]]] | None = None,
        routes: list[tuple[str, str]] | None = None,
    ) -> None:
        # backend name -> its models (base_id); model -> the backends naming it, in order
        self.models_of: dict[str, frozenset[str]] = {}
        self.by_model: dict[str, list[str]] = {}
        for name, models in configured or []:
            self.models_of[name] = self.models_of.get(name, frozenset()) | models
            for model in sorted(models):
                names = self.by_model.setdefault(model, [])
                if name not in names:
                    names.append(name)
        self.routes = list(routes or [])  # (branch glob, backend), first match wins

    def name(self, model: str, place: Place | None, branch: str | None) -> tuple[str, str]:
        """(backend, the rule that named it) for a response by `model`."""
        key = base_id(model)
        on, mine = (place.backend, place.models) if place is not None else (None, frozenset())
        if on is not None and (key in mine or key in self.models_of.get(on, frozenset())):
            return on, "record"
        guess = backend_of(model)
        if guess == "claude":
            return guess, "name"
        names = self.by_model.get(key)
        if names:
            if len(names) == 1:
                return names[0], "configured"
            for glob, backend in self.routes:
                if branch is not None and glob_matches(branch, glob):
                    if backend in names:
                        return backend, "route"
                    break
            return names[0], "route"
        return guess, "family" if guess != "other" else "other"


def backend_names(
    profiles: dict[str, Profile],
    glm_envs: list[dict[str, Any]],
    routes: list[tuple[str, str]] | None = None,
) -> BackendNames:
    """The names a response's backend can take in this repository: glm with the models
    of its `glm.json` templates (`glm_envs`), each configured backend (`llm.backends`,
    core.backends.Profile) with its tiers' models; `routes`: `llm.routes` as
    (branch glob, backend)."""
    glm: frozenset[str] = frozenset().union(*(model_ids(env) for env in glm_envs))
    configured = [(GLM, glm)] if glm else []
    configured += [
        (name, frozenset(base_id(m) for m in p.models.values() if m))
        for name, p in profiles.items()
    ]
    return BackendNames(configured, routes)


class Attributor:
    """Consumes scanned records; keeps per-bucket token sums and the dedup set."""

    def __init__(
        self,
        places: list[Place],
        default_branch: str,
        pattern: str,
        tiers: dict[str, frozenset[Tier]],
        fallback_tier: Tier,
        filters: Filters,
        names: BackendNames | None = None,
    ) -> None:
        # Longest path first: a worktree nested under the root wins over the root.
        self.places = sorted(places, key=lambda p: len(p.path), reverse=True)
        self.default_branch = default_branch
        self.pattern = pattern
        self.tiers = tiers
        self.fallback_tier = fallback_tier
        self.filters = filters
        self.names = names or BackendNames()
        self.buckets: dict[Bucket, int] = {}
        # per bucket id: responses, input, output, cache write, cache read, 1-hour cache write
        self.sums: list[list[int]] = []
        self.seen = SeenTable()  # hash(msg id, request id) -> bucket id << 32 | output
        self.duplicates = 0
        self.outside = 0  # responses whose cwd is in none of this repository's worktrees
        self.filtered = 0
        self.synthetic = 0
        self._anonymous = 0  # responses without ids, each counted as its own
        self.session_phase: dict[str, tuple[str, str | None]] = {}
        self._place_of: dict[str, Place | None] = {}
        self._memo: dict[tuple[Any, ...], _Where] = {}

    def place_of(self, cwd: str) -> Place | None:
        if cwd in self._place_of:
            return self._place_of[cwd]
        found = None
        for place in self.places:
            if cwd == place.path or cwd.startswith(place.path.rstrip("/") + "/"):
                found = place
                break
        self._place_of[cwd] = found
        return found

    def known(self, key: int, output: int) -> bool:
        """Whether response `key` was counted already; a copy with more output adds the rest."""
        prior = self.seen.get(key)
        if prior is None:
            return False
        self.duplicates += 1
        bucket_id, out = prior >> 32, prior & _MASK
        if output > out and bucket_id != _NOWHERE:
            self.sums[bucket_id][2] += output - out
            self.seen.put(key, (bucket_id << 32) | min(output, _MASK))
        return True

    def feed(self, found: Found, stats: ScanStats) -> None:
        rec = found.record
        if found.kind == "command":
            self.command(*phase_command_of(rec))
            return
        self.add(response_of(rec), stats, found.asked)

    def add(self, resp: Response | int, stats: ScanStats, asked: int | None = None) -> None:
        """Count one assistant record (what `response_of` read of it); `asked`: the key
        `known` was just asked with, and did not know."""
        if resp == BAD_USAGE:
            stats.bad_usage += 1
            return
        if resp == SYNTHETIC:
            self.synthetic += 1
            return
        assert not isinstance(resp, int)
        ids, model, inp, out, cache_write, cache_read, cache_1h, ts, cwd, branch, session = resp
        if ids is None:
            self._anonymous += 1  # no ids at all: a response of its own
            key = hash(("anonymous", self._anonymous))
        else:
            key = hash(ids)
        if key != asked and self.known(key, out):
            return
        bucket = self._bucket(ts, cwd, branch, session, model)
        if bucket is None:
            # Outside this repository or filtered out: remember it so copies are not re-examined.
            self.seen.put(key, _NOWHERE << 32)
            return
        new_id = self.buckets.get(bucket)
        if new_id is None:
            new_id = len(self.sums)
            self.buckets[bucket] = new_id
            self.sums.append([0, 0, 0, 0, 0, 0])
        row = self.sums[new_id]
        row[0] += 1
        row[1] += inp
        row[2] += out
        row[3] += cache_write
        row[4] += cache_read
        row[5] += cache_1h
        self.seen.put(key, (new_id << 32) | min(out, _MASK))

    def command(self, cmd: tuple[str, str] | None, session: str | None) -> None:
        """A slash command (command_of) in `session`: a phase command sets its phase."""
        if cmd is None or session is None:
            return
        m = PHASE_COMMAND.match(cmd[0])
        if m is None:
            return
        arg = cmd[1].split()[0] if cmd[1].split() else ""
        self.session_phase[session] = (m.group(1), arg if is_valid_spec_id(arg) else None)

    def _bucket(
        self, ts: str, cwd: str | None, branch: str | None, session: str | None, model: str
    ) -> Bucket | None:
        flt = self.filters
        if (flt.since and ts < flt.since) or (flt.until and ts >= flt.until):
            self.filtered += 1
            return None
        command = self.session_phase.get(session) if session is not None else None
        memo_key = (cwd, branch, command, model)
        where = self._memo.get(memo_key)
        if where is None:
            where, timeless = self._where(cwd, branch, command, model, ts)
            if timeless:
                self._memo[memo_key] = where
        if where is _OUTSIDE:
            self.outside += 1
            return None
        phase, spec, backend, backend_how, tier, how = where
        if flt.spec is not None and spec != flt.spec:
            self.filtered += 1
            return None
        day = ts[:10] or "unknown"
        return Bucket(day, phase, spec or "-", model, backend, backend_how, tier, how)

    def _where(
        self,
        cwd: str | None,
        branch: str | None,
        command: tuple[str, str | None] | None,
        model: str,
        ts: str,
    ) -> tuple[_Where, bool]:
        """(phase, spec, backend, backend rule, tier, tier rule) and whether it holds at
        any time."""
        place = self.place_of(cwd) if cwd is not None else None
        if place is None:
            return _OUTSIDE, True
        branch = branch or place.branch
        spec = spec_id_from_branch(branch, self.pattern) if branch else None
        phase: str | None = None
        timeless = True
        if command is not None:
            phase = command[0]
            spec = spec or command[1]
        elif place.marks:
            timeless = False
            mark = phase_at(list(place.marks), ts)
            if mark is not None:
                phase = mark.phase
                spec = spec or mark.spec
        if phase is None:
            kind = branch_kind(branch, self.default_branch, self.pattern)
            phase = {"default": "plan", "spec": "run"}.get(kind, "other")
        rule = tier_for(model, self.tiers, self.fallback_tier)
        backend, backend_how = self.names.name(model, place, branch)
        return (phase, spec, backend, backend_how, rule.tier, rule.how), timeless
