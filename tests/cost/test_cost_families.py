"""The presets' model families in pricing: the backend a name alone points to, family
keys in llm.pricing, the cache rule of a configured price, family guesses."""

from __future__ import annotations

import pytest

from moai_mashup.core.backends import PRESETS
from moai_mashup.cost.pricing import PriceTable, backend_of, family_of, version_of


@pytest.mark.parametrize(
    ("preset", "model"),
    sorted({(n, m) for n, p in PRESETS.items() for m in p.models.values() if n != "openrouter"}),
)
def test_every_preset_model_names_its_family(preset: str, model: str) -> None:
    family = PRESETS[preset].family
    assert backend_of(model) == family
    assert family_of(model) == family
    assert version_of(model) is not None or model == "deepseek-flash"  # no version in it


def test_names_no_family_claims() -> None:
    assert backend_of("claude-sonnet-4-6") == "claude"
    assert backend_of("anthropic/claude-opus-5.5") == "other"  # a gateway's: configure it
    assert backend_of("gpt-9") == "other" and family_of("gpt-9") is None
    kimi, deepseek = version_of("kimi-k2.5"), version_of("deepseek-v4-pro")
    assert kimi is not None and kimi.number == (2, 5)
    assert deepseek is not None and deepseek.variant == "pro"  # priced with -pro models


def test_a_family_key_in_llm_pricing_prices_the_family() -> None:
    table = PriceTable(
        {"kimi": {"input": 1.0, "output": 4.0}, "deepseek": {"input": 2.0, "output": 3.0}}
    )
    for model in ("kimi-k3", "Kimi-K9[1m]", "kimi-k2.5"):
        found = table.priced(model)
        assert found is not None and (found.how, found.basis) == ("configured", "kimi")
    ds = table.price("deepseek-v9-pro")
    # DeepSeek and Moonshot bill a cache write as input: no surcharge when left out.
    assert ds is not None and (ds.cache_write, ds.cache_write_1h, ds.cache_read) == (2.0, 2.0, 0.2)
    minimax = PriceTable({"MiniMax-M3": {"input": 1.0, "output": 2.0}}).price("minimax-m3")
    assert minimax is not None and minimax.cache_write == 1.25  # Anthropic's rule


def test_a_family_without_a_listed_model_or_seed_is_unpriced() -> None:
    """Qwen's models are not in the table: unpriced, never a made-up figure."""
    assert PriceTable().priced("qwen9-max") is None
