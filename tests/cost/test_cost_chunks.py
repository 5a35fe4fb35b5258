"""Lines cut by read chunks: a line is only stitched together when it holds a mark, and
each mark is found wherever the cuts fall (inside it, either side, across three chunks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup.cost import transcripts
from moai_mashup.cost.transcripts import (
    CHUNK,
    COMMAND_MARK,
    USAGE_MARK,
    ScanStats,
    _blocks,
    _interesting_lines,
)


def found_by_scan(path: Path, start: int = 0, stop: int | None = None) -> list[tuple[int, bytes]]:
    """(file offset, line) of each line the scan would parse, through _blocks."""
    out = []
    for buf, lo, hi, at in _blocks(path, ScanStats(), [], start, stop):
        for begin, end, _upos in _interesting_lines(buf, lo, hi):
            out.append((at + begin, buf[begin:end]))
    return out


def found_plainly(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    at = 0
    for line in data.split(b"\n"):
        if USAGE_MARK in line or COMMAND_MARK in line:
            out.append((at, line))
        at += len(line) + 1
    return out


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "s.jsonl"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("mark", [USAGE_MARK, COMMAND_MARK])
def test_a_mark_is_found_wherever_a_chunk_boundary_cuts_it_or_its_line(
    tmp_path: Path, mark: bytes
) -> None:
    for chunks in (1, 2, 3):  # the boundary after the line's first, second, third chunk
        boundary = CHUNK * chunks
        for shift in range(-len(mark) - 2, len(mark) + 3):
            begin = boundary + shift  # where the mark begins
            first = b"x" * 100 + b"\n"  # a line ends before the long one
            pad = b"p" * (begin - len(first) - 3)
            data = first + b"{a:" + pad + mark + b"q" * 50 + b"\n" + b"next" * 10 + b"\n"
            assert data.index(mark) == begin
            got = found_by_scan(_file(tmp_path, data))
            assert got == found_plainly(data) == [(len(first), data[len(first) : -42])], shift


def test_long_lines_without_marks_are_passed_over_and_those_around_them_found(
    tmp_path: Path,
) -> None:
    lines = [
        b'{"usage":1}',
        b"a" * (3 * CHUNK + 17),  # no mark: never stitched
        b'{"b":2,"usage":3}',
        b"c" * (CHUNK - 5),
        b"d" * CHUNK + b"<command-name>/x" + b"e" * CHUNK,
        b"f" * (2 * CHUNK),
        b'{"usage":9}',  # the last line, without a newline
    ]
    data = b"\n".join(lines)
    path = _file(tmp_path, data)
    assert found_by_scan(path) == found_plainly(data)
    assert len(found_plainly(data)) == 4
    stats = ScanStats()
    list(_blocks(path, stats, []))
    assert stats.bytes == len(data)


def test_only_lines_holding_a_mark_are_stitched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line cut by a chunk boundary is handed over (and its pieces joined) only when
    it holds a mark: others are never copied."""
    data = b"a" * (5 * CHUNK // 2) + b"\n" + b"b" * (CHUNK // 2) + b'"usage"' + b"c" * CHUNK + b"\n"
    path = _file(tmp_path, data)
    handed = [(len(buf), lo, hi, at) for buf, lo, hi, at in _blocks(path, ScanStats(), [])]
    second = 5 * CHUNK // 2 + 1  # where the second line begins
    assert handed == [(len(data) - second, 0, len(data) - second, second)]
    monkeypatch.setattr(transcripts, "MEMMEM", None)  # bytes.find finds the same
    assert [(len(b), lo, hi, at) for b, lo, hi, at in _blocks(path, ScanStats(), [])] == handed


PIECES = st.sampled_from([USAGE_MARK, COMMAND_MARK, b"\n", b'"usage', b"<command-name>"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * CHUNK // 2), PIECES | st.binary(max_size=20)), max_size=12
    ),
    st.integers(0, 1 << 30),
)
def test_any_layout_gives_the_plain_lines_whole_or_in_parts(
    tmp_path_factory: pytest.TempPathFactory, layout: list[tuple[int, bytes]], cut_seed: int
) -> None:
    data = b"".join(b"z" * size + piece for size, piece in layout)
    path = tmp_path_factory.mktemp("chunks") / "s.jsonl"
    path.write_bytes(data)
    assert found_by_scan(path) == found_plainly(data)
    cut = 1 + cut_seed % (len(data) + 1)  # scan.plan never cuts at 0
    assert found_by_scan(path, 0, cut) + found_by_scan(path, cut, None) == found_plainly(data)


JSONISH = st.sampled_from(
    [b'{"', b"}", b'"', b":", b",", b"1", b"[", b"]", b" ", b"\n", b"\\", b"\xff", b"\xc3\xa9"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(JSONISH | st.binary(max_size=6), max_size=30), st.booleans())
def test_the_short_loads_is_json_loads(parts: list[bytes], opening: bool) -> None:
    raw = (b'{"' if opening else b"") + b"".join(parts)
    try:
        want: object = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        want = ValueError if isinstance(exc, ValueError) else RecursionError
    try:
        got: object = transcripts._loads(raw)
    except (ValueError, RecursionError) as exc:
        got = ValueError if isinstance(exc, ValueError) else RecursionError
    assert got == want


def test_the_short_loads_on_records() -> None:
    line = json.dumps({"type": "assistant", "message": {"usage": {"input_tokens": 3}}})
    for raw in (line, line + " \r", line + " x", '{"a": 1}{"b": 2}', '{"a":"\\ud800"}'):
        data = raw.encode()
        try:
            want: object = json.loads(data)
        except ValueError:
            want = ValueError
        try:
            got: object = transcripts._loads(data)
        except ValueError:
            got = ValueError
        assert got == want, raw
