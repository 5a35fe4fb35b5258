"""Every built-in preset's tier models have a list price in `moai cost`'s table."""

from __future__ import annotations

import pytest

from moai_mashup.core.backends import PRESETS
from moai_mashup.cost.pricing import (
    ANTHROPIC_SOURCE,
    LISTED,
    OPENROUTER_CLAUDE,
    PRESETS_DATE,
    PriceTable,
    base_id,
)

# No price page of Alibaba Cloud's for these could be read (cost/pricing.py's
# docstring): they stay unpriced rather than priced at a made-up figure.
UNPRICED = {"qwen3.7-max", "qwen3.6-flash"}
MODELS = sorted(
    {(name, m) for name, p in PRESETS.items() for m in p.models.values()},
)


@pytest.mark.parametrize(("preset", "model"), MODELS)
def test_preset_models_are_listed_not_guessed(preset: str, model: str) -> None:
    found = PriceTable().priced(model)
    if model in UNPRICED:
        assert found is None, f"{model} is priced now: drop it from UNPRICED"
        return
    assert found is not None, f"{preset}: {model} has no price"
    assert found.how == "listed" and not found.guessed, (preset, model, found)
    row = LISTED[found.basis]
    assert row.source.startswith("https://") and row.date


def test_the_deepseek_override_of_the_issue_is_listed_too() -> None:
    for model in ("deepseek-v4-pro", "deepseek-v4-flash"):
        found = PriceTable().priced(model)
        assert found is not None and found.how == "listed"
    # The retired name is billed as deepseek-flash.
    assert LISTED["deepseek-v4-flash"].price == LISTED["deepseek-flash"].price


def test_openrouter_claude_slugs_cost_what_the_claude_model_costs() -> None:
    table = PriceTable()
    for slug, claude in OPENROUTER_CLAUDE.items():
        assert table.price(slug) == table.price(claude)
        assert LISTED[slug].source == ANTHROPIC_SOURCE and LISTED[slug].date == PRESETS_DATE
    assert set(OPENROUTER_CLAUDE) == set(PRESETS["openrouter"].models.values())


def test_cache_rules_of_the_new_providers() -> None:
    table = PriceTable()
    deepseek = table.price("deepseek-flash")
    assert deepseek is not None and deepseek.cache_write == deepseek.input  # a miss is input
    kimi = table.price("kimi-k3")
    assert kimi is not None and (kimi.input, kimi.output, kimi.cache_read) == (3.0, 15.0, 0.3)
    minimax = table.price("MiniMax-M3")  # the provider's spelling; the table's key is lower case
    assert minimax is not None and minimax.cache_write == pytest.approx(0.375)
    assert base_id("MiniMax-M3") in LISTED


def test_listing_a_preset_model_leaves_the_family_guesses_alone() -> None:
    table = PriceTable()
    guess = table.priced("glm-4.9")
    assert guess is not None and guess.how == "family" and guess.basis == "glm-5"
    haiku = table.priced("claude-haiku-5-5")
    assert haiku is not None and haiku.basis == "claude-haiku-4-5"
