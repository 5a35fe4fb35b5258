"""The price table (cost/pricing.LISTED), row by row, restated from the provider pages
each row names: a price changed in the module without changing it here (or the other
way round) is caught, and a change of price is made twice, on purpose."""

from __future__ import annotations

import pytest

from moai_mashup.cost.pricing import (
    ANTHROPIC_SOURCE,
    DEEPSEEK_SOURCE,
    KIMI_K25_SOURCE,
    KIMI_SOURCE,
    LISTED,
    MINIMAX_SOURCE,
    PRESETS_DATE,
    SEED,
    TABLE_DATE,
    ZAI_SOURCE,
    Listed,
    Price,
    PriceTable,
    Version,
    backend_of,
    cost,
    newest_listed,
    version_of,
)

# USD per million tokens: input, output, 5-minute cache write, cache read, 1-hour cache
# write. Anthropic: writes 1.25x and 2x the input, reads 0.1x; Z.ai, DeepSeek,
# Moonshot: writes at the input price, reads as listed; MiniMax: writes 1.25x.
ANTHROPIC = {
    "claude-opus-4-0": (15.0, 75.0, 18.75, 1.5, 30.0),
    "claude-opus-4-1": (15.0, 75.0, 18.75, 1.5, 30.0),
    "claude-opus-4-5": (5.0, 25.0, 6.25, 0.5, 10.0),
    "claude-opus-4-6": (5.0, 25.0, 6.25, 0.5, 10.0),
    "claude-opus-5": (5.0, 25.0, 6.25, 0.5, 10.0),
    "claude-opus-5-5": (4.0, 20.0, 5.0, 0.4, 8.0),
    "claude-sonnet-4-0": (3.0, 15.0, 3.75, 0.3, 6.0),
    "claude-sonnet-4-5": (3.0, 15.0, 3.75, 0.3, 6.0),
    "claude-sonnet-4-6": (3.0, 15.0, 3.75, 0.3, 6.0),
    "claude-sonnet-5": (2.0, 10.0, 2.5, 0.2, 4.0),
    "claude-sonnet-5-5": (2.0, 10.0, 2.5, 0.2, 4.0),
    "claude-3-haiku": (0.25, 1.25, 0.3125, 0.025, 0.5),
    "claude-3-5-haiku": (0.8, 4.0, 1.0, 0.08, 1.6),
    "claude-haiku-4-5": (1.0, 5.0, 1.25, 0.1, 2.0),
}
ZAI = {
    "glm-4.5": (0.6, 2.2, 0.6, 0.11, 0.6),
    "glm-4.5-air": (0.2, 1.1, 0.2, 0.03, 0.2),
    "glm-4.6": (0.6, 2.2, 0.6, 0.11, 0.6),
    "glm-4.7": (0.6, 2.2, 0.6, 0.11, 0.6),
    "glm-5": (1.0, 3.2, 1.0, 0.2, 1.0),
}
PRESETS = {  # the built-in presets' models, with the page each price is from
    "deepseek-flash": ((0.3, 1.2, 0.3, 0.006, 0.3), DEEPSEEK_SOURCE),
    "deepseek-v4-flash": ((0.3, 1.2, 0.3, 0.006, 0.3), DEEPSEEK_SOURCE),
    "deepseek-v4-pro": ((1.32, 3.96, 1.32, 0.044, 1.32), DEEPSEEK_SOURCE),
    "kimi-k3": ((3.0, 15.0, 3.0, 0.3, 3.0), KIMI_SOURCE),
    "kimi-k2.5": ((0.6, 3.0, 0.6, 0.1, 0.6), KIMI_K25_SOURCE),
    "minimax-m3": ((0.3, 1.2, 0.375, 0.06, 0.375), MINIMAX_SOURCE),
    # OpenRouter passes Anthropic's price through.
    "anthropic/claude-opus-5.5": ((4.0, 20.0, 5.0, 0.4, 8.0), ANTHROPIC_SOURCE),
    "anthropic/claude-sonnet-5.5": ((2.0, 10.0, 2.5, 0.2, 4.0), ANTHROPIC_SOURCE),
    "anthropic/claude-haiku-4.5": ((1.0, 5.0, 1.25, 0.1, 2.0), ANTHROPIC_SOURCE),
}


def test_every_row_of_the_price_table_as_its_page_gives_it() -> None:
    want = {
        **{m: (p, ANTHROPIC_SOURCE, TABLE_DATE) for m, p in ANTHROPIC.items()},
        **{m: (p, ZAI_SOURCE, TABLE_DATE) for m, p in ZAI.items()},
        **{m: (p, src, PRESETS_DATE) for m, (p, src) in PRESETS.items()},
    }
    assert list(LISTED) == list(want)
    for model, (price, source, date) in want.items():
        row = LISTED[model]
        assert (row.model, row.source, row.date) == (model, source, date), model
        assert tuple(row.price) == pytest.approx(price), model
        # and `moai cost` prices the model by that row
        assert PriceTable().price(model) == row.price, model


def test_a_number_of_three_digits_or_more_is_no_version() -> None:
    """Claude's version is read from the one- and two-digit parts of the name: a longer
    number (a build, a date the name does not end with) is not part of it."""
    assert version_of("claude-3-opus-20240229-v1") == version_of("claude-3-opus")
    assert version_of("claude-sonnet-4-100") == version_of("claude-sonnet-4")
    assert PriceTable().priced("claude-sonnet-4-100") == PriceTable().priced("claude-sonnet-4-0")


def test_the_seed_figures_are_moais_first_release_ones() -> None:
    """The last resort for a family member whose version cannot be read."""
    want = {
        "opus": (15.0, 75.0, 18.75, 1.5, 30.0),
        "sonnet": (3.0, 15.0, 3.75, 0.3, 6.0),
        "haiku": (0.8, 4.0, 1.0, 0.08, 1.6),
        "glm": (0.5, 0.5, 0.5, 0.1, 0.5),
    }
    assert list(SEED) == list(want)
    for family, price in want.items():
        assert tuple(SEED[family]) == pytest.approx(price), family
    for model, family in (
        ("claude-opus-latest", "opus"),
        ("claude-sonnet-next", "sonnet"),
        ("claude-haiku-x", "haiku"),
        ("glm-next", "glm"),
    ):
        assert PriceTable().priced(model) == (SEED[family], "seed", f"seed {family}"), model


def test_a_configured_price_follows_its_providers_cache_rules() -> None:
    table = PriceTable(
        {
            "glm-9": {"input": 2.0, "output": 4.0},
            "deepseek-v9": {"input": 2.0, "output": 4.0},
            "kimi-k9": {"input": 2.0, "output": 4.0, "cache_read": 0.5},
            "minimax-m9": {"input": 2.0, "output": 4.0},
            "lab-large": {"input": 2.0, "output": 4.0},
            "local-free": {"input": 0.0, "output": 0.0},
        }
    )
    # Z.ai: written at the input price, read at 0.2x when no cache_read is given.
    assert table.price("glm-9") == pytest.approx(Price(2.0, 4.0, 2.0, 0.4, 2.0))
    # DeepSeek and Moonshot: written at the input price, read at 0.1x or as given.
    assert table.price("deepseek-v9") == pytest.approx(Price(2.0, 4.0, 2.0, 0.2, 2.0))
    assert table.price("kimi-k9") == pytest.approx(Price(2.0, 4.0, 2.0, 0.5, 2.0))
    # Every other family: Anthropic's 1.25x and 2x writes, 0.1x reads.
    assert table.price("minimax-m9") == pytest.approx(Price(2.0, 4.0, 2.5, 0.2, 4.0))
    assert table.price("lab-large") == pytest.approx(Price(2.0, 4.0, 2.5, 0.2, 4.0))
    # A model that costs nothing (one run on the team's own machines) costs nothing.
    assert table.price("local-free") == Price(0.0, 0.0, 0.0, 0.0, 0.0)
    assert cost(table.price("local-free"), 10**6, 10**6, 10**6, 10**6, 10**6) == 0.0


def test_the_backend_a_model_name_points_to() -> None:
    for model, backend in (
        ("claude-opus-4-5", "claude"),
        (" Claude-Sonnet-5-5 ", "claude"),
        ("glm-4.7", "glm"),
        ("GLM-5", "glm"),
        ("deepseek-v4-pro", "deepseek"),
        ("kimi-k3", "kimi"),
        ("qwen3-max", "qwen"),
        ("MiniMax-M3", "minimax"),
        ("gpt-5", "other"),
        ("anthropic/claude-opus-5.5", "other"),  # a gateway's slug: its backend names it
    ):
        assert backend_of(model) == backend, model


def test_versions_are_numbers_not_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A two-digit part is a version part, and `4-10` is newer than `4-9` and `5` older
    than `10`: a release the table lists later is the family's newest by its number."""
    assert version_of("claude-opus-4-10") == Version("opus", "", (4, 10))
    assert version_of("claude-opus-4-9") == Version("opus", "", (4, 9))
    # Major and minor only: a third number is priced as the release it patches.
    assert version_of("claude-opus-4-1-1") == Version("opus", "", (4, 1))
    assert PriceTable().priced("claude-opus-4-1-1") == (
        LISTED["claude-opus-4-1"].price,
        "listed",
        "claude-opus-4-1",
    )
    assert newest_listed("opus") == LISTED["claude-opus-5-5"]
    ten = Listed("claude-opus-10", Price(1.0, 2.0, 1.25, 0.1, 2.0), ANTHROPIC_SOURCE, TABLE_DATE)
    monkeypatch.setitem(LISTED, ten.model, ten)
    assert newest_listed("opus") == ten
    assert PriceTable().priced("claude-opus-11") == (ten.price, "family", "claude-opus-10")
