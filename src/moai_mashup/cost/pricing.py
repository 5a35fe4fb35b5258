"""Prices per million tokens, the Claude tier a response stands for, and the counterfactual.

Defaults are the seed's figures (USD per million tokens, input / output):
Opus 15 / 75, Sonnet 3 / 15, Haiku 0.80 / 4, GLM-4.7 0.50 / 0.50.
Cache tokens are priced as each provider does unless `llm.pricing` says otherwise:
- Anthropic: a cache write costs 1.25x the input price, a cache read 0.1x.
- GLM (Z.ai): no surcharge for writing the cache (written tokens cost the input
  price) and a cached read about 1/5 of the input price (Z.ai lists GLM-4.7 at
  $0.60 input, $0.11 cached input).

`llm.pricing` keys are exact model names as the transcript records them
(`claude-sonnet-4-6`, `glm-4.7`) or a family (`opus`, `sonnet`, `haiku`, `glm`).
Lookup for a model: exact name in `llm.pricing`, exact built-in name, then the
family (the tier word in a Claude model's name; the `glm` prefix), the
configured family before the built-in one. A model that matches nothing is
reported as unpriced (its tokens are counted, its cost is 0).

The tier rule (which Claude model a GLM response stood in for). The transcript
records the model the server *answered* with, never the alias Claude Code asked
for nor the base URL (measured with Claude Code 2.1.112, see transcripts.py):
1. a name containing `opus`, `sonnet` or `haiku` is that tier;
2. else the tiers whose `ANTHROPIC_DEFAULT_<TIER>_MODEL` (in the repository's
   `.moai/llm-configs/glm.json` and in each worktree's settings) is this name:
   exactly one -> that tier;
3. else (several tiers map to it, as the seed's template does with `glm-4.7`
   for all three, or none): `sonnet`, the tier Claude Code 2.1.112 asks for when
   no model is chosen and a token is configured (measured: `claude-sonnet-4-6`).
   `moai cost --claude-tier opus|sonnet|haiku` overrides this last step.
The counterfactual "all on Claude" prices the same tokens at that tier's price;
for a response Claude served it is its actual price.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Tier = Literal["opus", "sonnet", "haiku"]
TIERS: tuple[Tier, ...] = ("opus", "sonnet", "haiku")
DEFAULT_TIER: Tier = "sonnet"

ANTHROPIC_CACHE_WRITE = 1.25
ANTHROPIC_CACHE_READ = 0.1
GLM_CACHE_WRITE = 1.0
GLM_CACHE_READ = 0.2


class Price(NamedTuple):
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float


def _anthropic(inp: float, out: float) -> Price:
    return Price(inp, out, inp * ANTHROPIC_CACHE_WRITE, inp * ANTHROPIC_CACHE_READ)


def _glm(inp: float, out: float) -> Price:
    return Price(inp, out, inp * GLM_CACHE_WRITE, inp * GLM_CACHE_READ)


BUILTIN: dict[str, Price] = {
    "opus": _anthropic(15.0, 75.0),
    "sonnet": _anthropic(3.0, 15.0),
    "haiku": _anthropic(0.80, 4.0),
    "glm": _glm(0.50, 0.50),
    "glm-4.7": _glm(0.50, 0.50),
}


def valid_tier_name(name: str) -> Tier:
    for tier in TIERS:
        if tier == name:
            return tier
    raise ValueError(f"not a Claude tier: {name!r}")


def backend_of(model: str) -> str:
    """`claude` for Anthropic model names, `glm` for GLM ones, else `other`."""
    low = model.lower()
    if low.startswith("claude"):
        return "claude"
    if low.startswith("glm"):
        return "glm"
    return "other"


def tier_in_name(model: str) -> Tier | None:
    low = model.lower()
    for tier in TIERS:
        if tier in low:
            return tier
    return None


def family_of(model: str) -> str | None:
    tier = tier_in_name(model)
    if tier is not None:
        return tier
    return "glm" if model.lower().startswith("glm") else None


def _from_config(raw: dict[str, float | None], family: str | None) -> Price:
    """A `llm.pricing` entry; missing cache prices follow the provider's rule."""
    inp = float(raw["input"] or 0.0)
    out = float(raw["output"] or 0.0)
    glm = family == "glm"
    write = raw.get("cache_write")
    read = raw.get("cache_read")
    if write is None:
        write = inp * (GLM_CACHE_WRITE if glm else ANTHROPIC_CACHE_WRITE)
    if read is None:
        read = inp * (GLM_CACHE_READ if glm else ANTHROPIC_CACHE_READ)
    return Price(inp, out, float(write), float(read))


class PriceTable:
    """Built-in prices overlaid with `llm.pricing`; memoised per model name."""

    def __init__(self, configured: dict[str, dict[str, float | None]] | None = None) -> None:
        self.configured = dict(configured or {})
        self._memo: dict[str, Price | None] = {}

    def price(self, model: str) -> Price | None:
        if model in self._memo:
            return self._memo[model]
        found = self._lookup(model)
        self._memo[model] = found
        return found

    def _lookup(self, model: str) -> Price | None:
        family = family_of(model)
        if model in self.configured:
            return _from_config(self.configured[model], family)
        if model in BUILTIN:
            return BUILTIN[model]
        if family is None:
            return None
        if family in self.configured:
            return _from_config(self.configured[family], family)
        return BUILTIN[family]

    def tier_price(self, tier: Tier) -> Price:
        found = self.price(tier)
        assert found is not None  # every tier has a built-in price
        return found


def cost(price: Price | None, inp: int, out: int, cache_write: int, cache_read: int) -> float:
    """USD for these token counts at `price` (0 when unpriced)."""
    if price is None:
        return 0.0
    return (
        inp * price.input
        + out * price.output
        + cache_write * price.cache_write
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
    tiers = template_tiers.get(model, frozenset())
    if len(tiers) == 1:
        return TierRule(next(iter(tiers)), "template")
    return TierRule(fallback, "default")
