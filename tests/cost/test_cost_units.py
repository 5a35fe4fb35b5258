"""The pure parts of `moai cost`: path encoding, line finding, pricing, tiers, phase records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup.commands.cost import parse_when
from moai_mashup.cost.attribution import template_tiers
from moai_mashup.cost.phase_record import append_phase, phase_at, read_phases
from moai_mashup.cost.pricing import (
    LISTED,
    SEED,
    TIER_MODELS,
    Price,
    PriceTable,
    Tier,
    cost,
    tier_for,
)
from moai_mashup.cost.transcripts import (
    ScanStats,
    cache_writes,
    command_of,
    encode_project_path,
    folder_matches,
    scan_file,
)
from moai_mashup.errors import BadInput


def test_folder_names_as_claude_code_writes_them() -> None:
    # Measured with 2.1.112: /tmp/cc/work/my.proj_1 -> -tmp-cc-work-my-proj-1
    assert encode_project_path("/tmp/cc/work/my.proj_1") == "-tmp-cc-work-my-proj-1"
    assert folder_matches("-tmp-cc-work-my-proj-1-sub", "/tmp/cc/work/my.proj_1")
    assert not folder_matches("-tmp-cc-work-my-proj-10", "/tmp/cc/work/my.proj_1")
    long_root = "/w/" + "x" * 250
    cut = encode_project_path(long_root)[:200] + "-1a2b3c"
    assert folder_matches(cut, long_root)
    assert encode_project_path("/home/ü") == "-home--"
    assert encode_project_path("/a/\U0001f600") == "-a---"  # two UTF-16 units, two dashes


def test_only_usage_and_command_lines_are_parsed(tmp_path: Path) -> None:
    text_with_key = json.dumps({"type": "user", "message": {"content": 'say "usage" please'}})
    assert '"usage"' not in text_with_key  # JSON escapes the quotes: never a false hit
    lines = [
        text_with_key,
        json.dumps({"type": "assistant", "message": {"model": "m", "usage": {}}}),
        json.dumps({"type": "queue-operation", "content": "/moai:3-sync SPEC-X"}),
        json.dumps(
            {
                "type": "user",
                "message": {"content": "<command-name>/moai:3-sync</command-name>"},
            }
        ),
    ]
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stats = ScanStats()
    found = list(scan_file(path, stats))
    assert [f.kind for f in found] == ["assistant", "command"]
    assert stats.usage_lines == 1 and stats.bytes == path.stat().st_size
    assert command_of(found[1].record) == ("/moai:3-sync", "")


def test_lines_longer_than_a_chunk(tmp_path: Path) -> None:
    big = {"type": "assistant", "message": {"model": "m", "usage": {}, "pad": "p" * 3_000_000}}
    path = tmp_path / "s.jsonl"
    path.write_text("x\n" + json.dumps(big) + "\n" + json.dumps(big), encoding="utf-8")
    stats = ScanStats()
    assert len(list(scan_file(path, stats))) == 2
    assert stats.skipped == 0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=80) | st.sampled_from([b'"usage"', b"\n", b"{", b'"'])))
def test_scanning_never_raises(
    tmp_path_factory: pytest.TempPathFactory, parts: list[bytes]
) -> None:
    path = tmp_path_factory.mktemp("scan") / "s.jsonl"
    path.write_bytes(b"".join(parts))
    stats = ScanStats()
    list(scan_file(path, stats))
    assert stats.bytes == path.stat().st_size


def _how(table: PriceTable, model: str) -> tuple[str, str]:
    found = table.priced(model)
    assert found is not None, model
    return found.how, found.basis


def test_prices_come_from_the_table_then_family_then_seed() -> None:
    table = PriceTable()
    opus55 = table.priced("claude-opus-5-5")
    assert opus55 is not None and opus55.how == "listed"
    assert opus55.price == Price(4.0, 20.0, 5.0, 0.4, 8.0)  # 5-minute write 1.25x, 1-hour 2x
    assert table.price("claude-opus-4-1") == Price(15.0, 75.0, 18.75, 1.5, 30.0)
    # A date, a `[1m]` suffix or upper case name the same model.
    assert table.priced("claude-haiku-4-5-20251001") == table.priced("claude-haiku-4-5")
    assert table.price("claude-sonnet-5-5[1m]") == LISTED["claude-sonnet-5-5"].price
    assert _how(table, "claude-opus-4-20250514") == ("listed", "claude-opus-4-0")
    # Not listed: the same family's newest listed model, as a guess.
    guess = table.priced("claude-opus-4-7")
    assert guess is not None and guess.guessed and guess.basis == "claude-opus-5-5"
    assert _how(table, "claude-haiku-5-5") == ("family", "claude-haiku-4-5")
    assert _how(table, "claude-opus-3") == ("family", "claude-opus-5-5")
    assert _how(table, "glm-4.9") == ("family", "glm-5")
    assert _how(table, "glm-4.6-air") == ("family", "glm-4.5-air")
    # No version to read: the seed's figure, the last resort.
    assert _how(table, "glm-4.6-flash") == ("seed", "seed glm")  # no listed flash variant
    seed = table.priced("claude-opus-latest-preview")
    assert seed is not None and seed.how == "seed" and seed.price == SEED["opus"]
    glm = table.price("glm-4.7")
    assert glm == pytest.approx(Price(0.6, 2.2, 0.6, 0.11, 0.6))  # Z.ai: no cache-write surcharge
    assert table.price("gpt-5") is None
    # llm.pricing beats the table, by name (with or without suffix/date) or by family.
    mine = PriceTable(
        {
            "glm": {"input": 1.0, "output": 1.0, "cache_write": None, "cache_read": 0.0},
            "claude-opus-5-5[1m]": {"input": 6.0, "output": 30.0},
        }
    )
    assert mine.price("glm-4.5-air") == Price(1.0, 1.0, 1.0, 0.0, 1.0)
    assert mine.price("glm-4.7") == Price(1.0, 1.0, 1.0, 0.0, 1.0)
    assert _how(mine, "claude-opus-5-5") == ("configured", "claude-opus-5-5[1m]")
    assert mine.price("claude-opus-5-5") == pytest.approx(Price(6.0, 30.0, 7.5, 0.6, 12.0))
    # The all-Claude side: the model each tier's alias asks for, overridable.
    assert mine.tier_price("opus") == mine.price("claude-opus-5-5")
    other = PriceTable(tier_models={"opus": "claude-opus-4-1"})
    assert other.tier_model("opus") == "claude-opus-4-1"
    assert other.tier_price("opus").input == 15.0
    assert TIER_MODELS["sonnet"] == "claude-sonnet-5-5"


def test_cost_splits_cache_writes() -> None:
    p = Price(3, 15, 3.75, 0.3, 6.0)
    assert cost(p, 1_000_000, 0, 0, 1_000_000) == pytest.approx(3.3)
    # 3M cache writes of which 1M were 1-hour ones: 2M x 3.75 + 1M x 6
    assert cost(p, 0, 0, 3_000_000, 0, 1_000_000) == pytest.approx(13.5)
    assert cost(None, 5, 5, 5, 5) == 0.0


def test_cache_write_breakdown_and_its_fallback() -> None:
    def usage(flat: int, split: dict[str, object] | None) -> dict[str, object]:
        u: dict[str, object] = {"input_tokens": 1, "output_tokens": 1}
        u["cache_creation_input_tokens"] = flat
        if split is not None:
            u["cache_creation"] = split
        return u

    both: dict[str, object] = {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200}
    zero: dict[str, object] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    assert cache_writes(usage(300, both), 300) == (300, 200)
    assert cache_writes(usage(500, zero), 500) == (500, 0)  # ccusage 20 counts 0 here
    assert cache_writes(usage(500, None), 500) == (500, 0)
    assert cache_writes(usage(500, {"ephemeral_1h_input_tokens": "x"}), 500) == (500, 0)
    assert cache_writes(usage(0, zero), 0) == (0, 0)


def test_tier_rule() -> None:
    seed: dict[str, frozenset[Tier]] = {"glm-4.7": frozenset({"opus", "sonnet", "haiku"})}
    assert tier_for("claude-opus-4-7", seed) == ("opus", "name")
    assert tier_for("glm-4.7", seed) == ("sonnet", "default")
    assert tier_for("glm-4.7", seed, "opus") == ("opus", "default")
    split: dict[str, frozenset[Tier]] = {
        "glm-4.7": frozenset({"opus"}),
        "glm-4.5-air": frozenset({"haiku"}),
    }
    assert tier_for("glm-4.7", split) == ("opus", "template")
    assert tier_for("glm-4.5-air", split) == ("haiku", "template")
    assert tier_for("glm-5", split) == ("sonnet", "default")
    # A `[1m]` suffix in the template names the model the server answers with.
    tiers = template_tiers([{"ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.7[1m]"}])
    assert tier_for("glm-4.7", tiers) == ("opus", "template")


def test_phase_record_round_trip(tmp_path: Path) -> None:
    state = tmp_path / "moai"
    append_phase(state, "run", "SPEC-A", at="2026-11-20T10:00:00Z")
    append_phase(state, "sync", "SPEC-A", at="2026-11-20T12:00:00Z")
    with (state / "phase").open("a") as fh:
        fh.write('{"at": "2026-11-20T13:00:00Z", "phase": "deploy"}\n{"at": "2026-11-2')
    marks = read_phases(state)
    assert [m.phase for m in marks] == ["run", "sync"]
    assert phase_at(marks, "2026-11-20T09:00:00.000Z") is None
    assert phase_at(marks, "2026-11-20T11:59:59.999Z") == marks[0]
    assert phase_at(marks, "2026-11-20T12:00:00.400Z") == marks[1]
    assert (state / "phase").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError):
        append_phase(state, "deploy", None)


def test_dates() -> None:
    assert parse_when("2026-11-02", "--since", end=False) == "2026-11-02T00:00:00"
    assert parse_when("2026-11-02", "--until", end=True) == "2026-11-03T00:00:00"
    assert parse_when("2026-11-02T10:00:00+02:00", "--since", end=False) == "2026-11-02T08:00:00"
    assert parse_when("2026-11-02T10:00Z", "--until", end=True) == "2026-11-02T10:00:00"
    with pytest.raises(BadInput, match="not a date"):
        parse_when("yesterday", "--since", end=False)


def test_chunk_boundaries_and_line_numbers(tmp_path: Path) -> None:
    """Lines cut by 1 MiB chunk boundaries are stitched; a bad line is reported by number."""
    path = tmp_path / "s.jsonl"
    lines = []
    for i in range(900):
        pad = "p" * (1000 + (i * 7919) % 5000)
        rec = {"type": "assistant", "message": {"id": f"m{i}", "model": "m", "usage": {}}}
        lines.append(json.dumps({**rec, "requestId": f"r{i}", "pad": pad}, separators=(",", ":")))
    lines[700] = '{"type":"assistant","usage":{'
    path.write_text("\n".join(lines), encoding="utf-8")  # no final newline
    stats = ScanStats()
    found = list(scan_file(path, stats))
    assert [f.record["message"]["id"] for f in found] == [f"m{i}" for i in range(900) if i != 700]
    assert stats.malformed == 1
    assert stats.samples[0].line == 701
    seen: set[int] = set()

    def known(key: int, _out: int) -> bool:
        hit = key in seen
        seen.add(key)
        return hit

    again = ScanStats()
    assert len(list(scan_file(path, again, known))) == 899
    assert len(list(scan_file(path, again, known))) == 0  # every copy recognised unparsed


def test_seen_table_is_a_map() -> None:
    import random

    from moai_mashup.cost.attribution import SeenTable

    rng = random.Random(7)
    table = SeenTable(capacity=4)
    truth: dict[int, int] = {}
    for n in range(20_000):
        key = (
            rng.choice([0, -1, 1, 2**63 - 1, -(2**63)])
            if n % 1000 == 0
            else rng.getrandbits(64) - 2**63
        )
        value = rng.getrandbits(64)
        table.put(key, value)
        truth[key] = value
    assert table.count == len(truth)
    assert all(table.get(k) == v for k, v in truth.items())
    assert sum(table.get(rng.getrandbits(63)) is not None for _ in range(1000)) == 0
