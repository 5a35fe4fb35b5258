"""Prices per million tokens, the Claude tier a response stands for, and the counterfactual.

The price table (LISTED) holds each model's list price in USD per million
tokens, with its source and the date it was read. Cache tokens follow each
provider's rule unless an entry or `llm.pricing` says otherwise:
- Anthropic: a 5-minute cache write costs 1.25x the input price, a 1-hour one
  2x, a cache read 0.1x.
- Z.ai (GLM): writing the cache costs the input price (no surcharge) and a
  cached read is listed per model (GLM-4.7: $0.11 against $0.60 input).
- DeepSeek, Moonshot (Kimi): the cache fills itself; a miss is billed as
  input (no write surcharge), a hit at its listed price. DeepSeek bills half
  off-peak: the table holds the peak price, an upper bound.
- MiniMax: a cache write is listed at 1.25x the input price, a read per model.
- OpenRouter's `anthropic/...` models cost what the Claude model they name
  costs (OpenRouter passes Anthropic's price through).
The rows of the built-in presets' models (core/backends.PRESETS) have their own
source and date; Qwen's (qwen3.7-max, qwen3.6-flash) are not listed: no
Alibaba Cloud price page for them could be read (`llm.pricing` prices them).

Lookup for a model name, first that applies (`how` in the report):
1. `configured`: `llm.pricing` names the model (exactly, or without a
   `[1m]`-style suffix and date), or its family (`opus`, `sonnet`, `haiku`,
   `glm`, `deepseek`, `kimi`, `qwen`, `minimax`: FAMILY_VERSION);
2. `listed`: the table lists the model (same normalisation);
3. `family`: a guess: the newest listed model of the same family (and
   variant: `glm-4.6-air` goes with `glm-4.5-air`), since a name the table does
   not know is most likely a newer release, e.g. `claude-haiku-5-5` is priced
   as `claude-haiku-4-5`; the Prometheus rules (teamview.py) guess the same way;
4. `seed`: a guess: the family's figure from moai's first release (SEED: Claude's
   tiers and GLM), when no version can be read from the name or nothing of its
   variant is listed;
otherwise the model is unpriced (its tokens are counted, its cost is 0).
Guessed models are listed in every report.

Cache writes: `usage.cache_creation.ephemeral_5m_input_tokens` and
`ephemeral_1h_input_tokens` when they add up to more than 0, else the flat
`cache_creation_input_tokens` as 5-minute writes (Claude Code 2.1.332 writes an
all-zero breakdown beside the flat count when the server sent no breakdown;
see transcripts.py).

The tier rule (which Claude model a GLM response stood in for). The transcript
records the model the server *answered* with, never the alias Claude Code asked
for nor the base URL (measured with Claude Code 2.1.112 and 2.1.332, see
transcripts.py):
1. a name containing `opus`, `sonnet` or `haiku` is that tier;
2. else the tiers whose `ANTHROPIC_DEFAULT_<TIER>_MODEL` (in the repository's
   `.moai/llm-configs/glm.json` and in each worktree's settings) is this name
   (a `[1m]` suffix there is ignored: Claude Code strips it from the request):
   exactly one -> that tier;
3. else (several tiers map to it, as the seed's template does with `glm-4.7`
   for all three, or none): `sonnet`, the tier Claude Code 2.1.112 asks for when
   no model is chosen and a token is configured (measured: `claude-sonnet-4-6`).
   `moai cost --claude-tier opus|sonnet|haiku` overrides this last step.
The counterfactual "all on Claude" prices the same tokens at the price of the
Claude model the tier's alias stands for today (TIER_MODELS: what Claude Code
2.1.332 sends for `--model opus|sonnet|haiku`, measured against a local fake
server); `--claude-model TIER=MODEL` overrides it. For a response Claude
served it is its actual price.
"""

from __future__ import annotations

import re

from moai_mashup.lean import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Literal

    Tier = Literal["opus", "sonnet", "haiku"]
else:
    Tier = str  # the annotations' Literal, without `typing` at run time
TIERS: tuple[Tier, ...] = ("opus", "sonnet", "haiku")
DEFAULT_TIER: Tier = "sonnet"

ANTHROPIC_CACHE_WRITE = 1.25  # 5-minute cache write
ANTHROPIC_CACHE_WRITE_1H = 2.0
ANTHROPIC_CACHE_READ = 0.1
GLM_CACHE_WRITE = 1.0
GLM_CACHE_READ = 0.2  # only for a configured GLM price without cache_read

TABLE_DATE = "2026-11-30"
ANTHROPIC_SOURCE = "https://docs.anthropic.com/en/docs/about-claude/pricing"
ZAI_SOURCE = "https://docs.z.ai/guides/overview/pricing"
# The built-in presets' models (core/backends.PRESETS), read on PRESETS_DATE.
PRESETS_DATE = "2026-12-06"
DEEPSEEK_SOURCE = "https://api-docs.deepseek.com/quick_start/pricing"
KIMI_SOURCE = "https://platform.kimi.ai/docs/pricing/chat-k3"
KIMI_K25_SOURCE = "https://platform.kimi.ai/docs/pricing/chat-k25"
MINIMAX_SOURCE = "https://platform.minimax.io/docs/guides/pricing-paygo"
MINIMAX_CACHE_WRITE = 1.25
# OpenRouter's slugs for the Claude models the openrouter preset uses -> the
# Claude model each names (its price is that model's, from ANTHROPIC_SOURCE).
OPENROUTER_CLAUDE = {
    "anthropic/claude-opus-5.5": "claude-opus-5-5",
    "anthropic/claude-sonnet-5.5": "claude-sonnet-5-5",
    "anthropic/claude-haiku-4.5": "claude-haiku-4-5",
}

# What Claude Code 2.1.332 asks for with `--model opus|sonnet|haiku` (and with no
# model chosen and a token configured: claude-opus-5-5), measured 2026-11-30.
TIER_MODELS: dict[Tier, str] = {
    "opus": "claude-opus-5-5",
    "sonnet": "claude-sonnet-5-5",
    "haiku": "claude-haiku-5-5",
}
TIER_MODELS_SOURCE = "Claude Code 2.1.332's model aliases"


class Price(NamedTuple):
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float  # 5-minute cache write
    cache_read: float
    cache_write_1h: float


class Listed(NamedTuple):
    """One row of the price table."""

    model: str
    price: Price
    source: str
    date: str


def _anthropic(inp: float, out: float) -> Price:
    return Price(
        inp,
        out,
        inp * ANTHROPIC_CACHE_WRITE,
        inp * ANTHROPIC_CACHE_READ,
        inp * ANTHROPIC_CACHE_WRITE_1H,
    )


def _no_surcharge(inp: float, out: float, read: float) -> Price:
    """A provider whose cache write costs the input price (Z.ai, DeepSeek, Moonshot:
    GLM_CACHE_WRITE is 1.0)."""
    return Price(inp, out, inp * GLM_CACHE_WRITE, read, inp * GLM_CACHE_WRITE)


def _table() -> dict[str, Listed]:
    rows: list[tuple[str, Price, str]] = []
    for model, inp, out in (
        ("claude-opus-4-0", 15.0, 75.0),
        ("claude-opus-4-1", 15.0, 75.0),
        ("claude-opus-4-5", 5.0, 25.0),
        ("claude-opus-4-6", 5.0, 25.0),
        ("claude-opus-5", 5.0, 25.0),
        ("claude-opus-5-5", 4.0, 20.0),
        ("claude-sonnet-4-0", 3.0, 15.0),
        ("claude-sonnet-4-5", 3.0, 15.0),
        ("claude-sonnet-4-6", 3.0, 15.0),
        ("claude-sonnet-5", 2.0, 10.0),
        ("claude-sonnet-5-5", 2.0, 10.0),
        ("claude-3-haiku", 0.25, 1.25),
        ("claude-3-5-haiku", 0.80, 4.0),
        ("claude-haiku-4-5", 1.0, 5.0),
    ):
        rows.append((model, _anthropic(inp, out), ANTHROPIC_SOURCE))
    for model, inp, out, read in (
        ("glm-4.5", 0.60, 2.20, 0.11),
        ("glm-4.5-air", 0.20, 1.10, 0.03),
        ("glm-4.6", 0.60, 2.20, 0.11),
        ("glm-4.7", 0.60, 2.20, 0.11),
        ("glm-5", 1.00, 3.20, 0.20),
    ):
        rows.append((model, _no_surcharge(inp, out, read), ZAI_SOURCE))
    table = {m: Listed(m, p, src, TABLE_DATE) for m, p, src in rows}
    later: list[tuple[str, Price, str]] = [
        # DeepSeek, peak hours (off-peak is half): deepseek-flash is
        # DeepSeek-V4.1-Flash; the retired name deepseek-v4-flash is served and
        # billed as it; deepseek-v4-pro is V4-Pro-0813.
        ("deepseek-flash", _no_surcharge(0.30, 1.20, 0.006), DEEPSEEK_SOURCE),
        ("deepseek-v4-flash", _no_surcharge(0.30, 1.20, 0.006), DEEPSEEK_SOURCE),
        ("deepseek-v4-pro", _no_surcharge(1.32, 3.96, 0.044), DEEPSEEK_SOURCE),
        ("kimi-k3", _no_surcharge(3.00, 15.00, 0.30), KIMI_SOURCE),
        ("kimi-k2.5", _no_surcharge(0.60, 3.00, 0.10), KIMI_K25_SOURCE),
        # Up to 512K input tokens (more costs twice that). The 1.25x write is the
        # page's for MiniMax-M2.7 (0.375 against 0.30); M3's own is not confirmed.
        (
            "minimax-m3",
            Price(0.30, 1.20, 0.30 * MINIMAX_CACHE_WRITE, 0.06, 0.30 * MINIMAX_CACHE_WRITE),
            MINIMAX_SOURCE,
        ),
    ]
    later += [
        (slug, table[claude].price, ANTHROPIC_SOURCE) for slug, claude in OPENROUTER_CLAUDE.items()
    ]
    table.update({m: Listed(m, p, src, PRESETS_DATE) for m, p, src in later})
    return table


LISTED: dict[str, Listed] = _table()

# moai's first figures (2025), the last resort for a family member whose version is unreadable.
SEED: dict[str, Price] = {
    "opus": _anthropic(15.0, 75.0),
    "sonnet": _anthropic(3.0, 15.0),
    "haiku": _anthropic(0.80, 4.0),
    "glm": _no_surcharge(0.50, 0.50, 0.10),
}

_SUFFIX = re.compile(r"\[[^\]]*\]$")
_DATE = re.compile(r"-(?:\d{8}|latest)$")


def strip_suffix(model: str) -> str:
    """`glm-4.7[1m]` -> `glm-4.7` (Claude Code's context-size suffix)."""
    return _SUFFIX.sub("", model.strip())


def base_id(model: str) -> str:
    """The table's key for a model name: no `[1m]` suffix, no date, lower case."""
    return _DATE.sub("", strip_suffix(model).lower())


def valid_tier_name(name: str) -> Tier:
    for tier in TIERS:
        if tier == name:
            return tier
    raise ValueError(f"not a Claude tier: {name!r}")


def backend_of(model: str) -> str:
    """The backend a model name alone points to: `claude` for Anthropic model names,
    else the family it begins with (`glm`, `deepseek`, `kimi`, `qwen`, `minimax`:
    FAMILY_VERSION, the families of core/backends' presets), else `other`.
    attribution.BackendNames asks this last, after the repository's backends."""
    low = model.strip().lower()
    if low.startswith("claude"):
        return "claude"
    for family in FAMILY_VERSION:
        if low.startswith(family):
            return family
    return "other"


def claude_model(model: str) -> bool:
    """A Claude model, from Anthropic or through a gateway (`anthropic/claude-opus-4.5`):
    its all-Claude price is its own."""
    return model.strip().lower().rpartition("/")[2].startswith("claude")


def tier_in_name(model: str) -> Tier | None:
    low = model.lower()
    for tier in TIERS:
        if tier in low:
            return tier
    return None


# What comes before the version number in each other family's model names
# (glm-4.7, deepseek-v4-pro, kimi-k2.5, minimax-m3, qwen3-max), after base_id's
# lower-casing; teamview.py builds its family labels from the same table.
FAMILY_VERSION: dict[str, str] = {
    "glm": "glm-",
    "deepseek": "deepseek-v",
    "kimi": "kimi-k",
    "minimax": "minimax-m",
    "qwen": "qwen",
}
# A variant after the version (`-air`, `-pro`, `-coder-flash`): only the same
# variant is a near neighbour.
VARIANT = r"((?:-[a-z][a-z0-9]*)*)"


def family_of(model: str) -> str | None:
    """`opus`, `sonnet`, `haiku` (a Claude tier in the name), else the family of
    FAMILY_VERSION the name begins with, else None."""
    tier = tier_in_name(model)
    if tier is not None:
        return tier
    low = model.strip().lower()
    for family in FAMILY_VERSION:
        if low.startswith(family):
            return family
    return None


class Version(NamedTuple):
    family: str
    variant: str  # "" or e.g. "air" (glm-4.5-air): only the same variant is a near neighbour
    number: tuple[int, ...]


def version_of(model: str) -> Version | None:
    """Family, variant and version number of a model id, or None when unreadable."""
    key = base_id(model)
    family = family_of(key)
    if family is None:
        return None
    if family in FAMILY_VERSION:
        before = re.escape(FAMILY_VERSION[family])
        m = re.fullmatch(before + r"(\d+)(?:\.(\d+))?" + VARIANT, key)
        if m is None:
            return None
        number = tuple(int(g) for g in m.group(1, 2) if g is not None)
        return Version(family, m.group(3).lstrip("-"), number)
    parts = key.split("-")
    digits = tuple(int(p) for p in parts if p.isdigit() and len(p) <= 2)
    if not digits:
        return None
    return Version(family, "", digits[:2] + (0,) * (2 - len(digits[:2])))


def family_key(v: Version) -> str:
    """`opus`, `glm`, `glm-air`, `deepseek-pro`: what a model not in the table is priced by."""
    return f"{v.family}-{v.variant}" if v.variant else v.family


def newest_listed(key: str) -> Listed | None:
    """The listed model of the highest version in this family (and variant)."""
    peers = [
        (ver.number, row)
        for row in LISTED.values()
        if (ver := version_of(row.model)) is not None and family_key(ver) == key
    ]
    return max(peers, key=lambda p: p[0])[1] if peers else None


def _nearest_listed(v: Version) -> Listed | None:
    """The same version when listed under another spelling, else the family's newest."""
    for row in LISTED.values():
        if version_of(row.model) == v:
            return row
    return newest_listed(family_key(v))


# Families whose provider bills a cache write as plain input (Z.ai, DeepSeek, Moonshot).
NO_WRITE_SURCHARGE = ("glm", "deepseek", "kimi")


def _from_config(raw: dict[str, float | None], family: str | None) -> Price:
    """A `llm.pricing` entry; missing cache prices follow the provider's rule: GLM,
    DeepSeek and Kimi write the cache at the input price (GLM reads at 0.2x), every
    other family at Anthropic's 1.25x (2x for an hour), reads at 0.1x."""
    inp = float(raw["input"] or 0.0)
    out = float(raw["output"] or 0.0)
    flat = family in NO_WRITE_SURCHARGE
    write = raw.get("cache_write")
    write_1h = raw.get("cache_write_1h")
    read = raw.get("cache_read")
    if write is None:
        write = inp * (GLM_CACHE_WRITE if flat else ANTHROPIC_CACHE_WRITE)
    if write_1h is None:
        write_1h = inp * (GLM_CACHE_WRITE if flat else ANTHROPIC_CACHE_WRITE_1H)
    if read is None:
        read = inp * (GLM_CACHE_READ if family == "glm" else ANTHROPIC_CACHE_READ)
    return Price(inp, out, float(write), float(read), float(write_1h))


class Priced(NamedTuple):
    price: Price
    how: str  # "configured", "listed", "family", "seed"
    basis: str  # the llm.pricing key, the table row or the seed family used

    @property
    def guessed(self) -> bool:
        return self.how in ("family", "seed")


class PriceTable:
    """The table overlaid with `llm.pricing`; memoised per model name."""

    def __init__(
        self,
        configured: dict[str, dict[str, float | None]] | None = None,
        tier_models: dict[Tier, str] | None = None,
    ) -> None:
        self.configured = dict(configured or {})
        self._configured_base = {base_id(k): k for k in self.configured}
        self.tier_models: dict[Tier, str] = {**TIER_MODELS, **(tier_models or {})}
        self._memo: dict[str, Priced | None] = {}

    def priced(self, model: str) -> Priced | None:
        if model in self._memo:
            return self._memo[model]
        found = self._lookup(model)
        self._memo[model] = found
        return found

    def price(self, model: str) -> Price | None:
        found = self.priced(model)
        return None if found is None else found.price

    def _lookup(self, model: str) -> Priced | None:
        key = base_id(model)
        family = family_of(key)
        name = model if model in self.configured else self._configured_base.get(key)
        if name is not None:
            return Priced(_from_config(self.configured[name], family), "configured", name)
        if family is not None and family in self.configured:
            return Priced(_from_config(self.configured[family], family), "configured", family)
        if key in LISTED:
            return Priced(LISTED[key].price, "listed", key)
        if family is None:
            return None
        version = version_of(key)
        near = _nearest_listed(version) if version is not None else None
        if near is not None:
            # `claude-opus-4-20250514` is the table's `claude-opus-4-0`: same version, listed.
            same = version_of(near.model) == version
            return Priced(near.price, "listed" if same else "family", near.model)
        if family not in SEED:
            return None  # nothing of this family listed, and no first-release figure
        return Priced(SEED[family], "seed", f"seed {family}")

    def tier_model(self, tier: Tier) -> str:
        return self.tier_models[tier]

    def tier_price(self, tier: Tier) -> Price:
        found = self.price(self.tier_models[tier])
        return found if found is not None else SEED[tier]

    def rows(self) -> list[tuple[str, Price, str, str]]:
        """(model or llm.pricing key, price, source, date) of every price in effect."""
        out = [
            (key, _from_config(raw, family_of(key)), "llm.pricing", "")
            for key, raw in sorted(self.configured.items())
        ]
        out += [(r.model, r.price, r.source, r.date) for r in LISTED.values()]
        return out


def cost(
    price: Price | None, inp: int, out: int, cache_write: int, cache_read: int, cache_1h: int = 0
) -> float:
    """USD for these token counts at `price` (0 when unpriced).

    `cache_write` counts every cache write; `cache_1h` of them were 1-hour writes.
    """
    if price is None:
        return 0.0
    return (
        inp * price.input
        + out * price.output
        + (cache_write - cache_1h) * price.cache_write
        + cache_1h * price.cache_write_1h
        + cache_read * price.cache_read
    ) / 1_000_000


class TierRule(NamedTuple):
    tier: Tier
    how: str  # "name", "template", "default"


def tier_for(
    model: str, template_tiers: dict[str, frozenset[Tier]], fallback: Tier = DEFAULT_TIER
) -> TierRule:
    """The Claude tier a response by `model` stands for (the rule in this module's doc)."""
    named = tier_in_name(model)
    if named is not None:
        return TierRule(named, "name")
    tiers = template_tiers.get(strip_suffix(model), frozenset())
    if len(tiers) == 1:
        return TierRule(next(iter(tiers)), "template")
    return TierRule(fallback, "default")
