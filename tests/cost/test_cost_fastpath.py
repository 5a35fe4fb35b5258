"""The fast path's devices find exactly what the plain code finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup.cost import transcripts
from moai_mashup.cost.transcripts import (
    COMMAND_MARK,
    USAGE_MARK,
    _interesting_lines,
    _interesting_lines_find,
)

PIECES = st.sampled_from([USAGE_MARK, COMMAND_MARK, b"\n", b'"', b"usage", b"<command-name>"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40) | PIECES, max_size=60), st.data())
def test_memmem_and_bytes_find_give_the_same_lines(parts: list[bytes], data: st.DataObject) -> None:
    buf = b"".join(parts)
    lo = data.draw(st.integers(0, len(buf)))
    hi = data.draw(st.integers(lo, len(buf)))
    found = list(_interesting_lines(buf, lo, hi))
    assert found == list(_interesting_lines_find(buf, lo, hi))


def test_memmem_is_there_on_linux_and_macos() -> None:
    """Where the tests run (Linux, macOS), the C library's memmem is the one used."""
    assert transcripts.MEMMEM is not None
    buf = b'x\n{"usage":1}\n<command-name>/moai:1-plan\n'
    assert list(_interesting_lines(buf, 0, len(buf))) == [(2, 13, 3), (14, len(buf) - 1, -1)]
