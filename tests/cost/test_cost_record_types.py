"""Record types `moai cost` does not know, among the lines holding a usage key."""

from __future__ import annotations

import json
from pathlib import Path

from moai_mashup.cost.transcripts import ScanStats, scan_file


def test_a_type_that_is_not_a_string_is_an_unknown_type_never_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    lines = [
        {"type": [], "usage": 1},
        {"type": {"a": 1}, "usage": 1},
        {"type": None, "usage": 1},
        {"type": "assistant", "message": {"model": "m", "usage": {}}},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    stats = ScanStats()
    found = list(scan_file(path, stats))
    assert [f.kind for f in found] == ["assistant"]
    assert stats.unknown_type == 3
    assert [s.line for s in stats.samples] == [1, 2, 3]
