"""guard.scan.as_utf8 at the edges of its rule: which blobs are read as UTF-16.

The rule (its docstring): a byte order mark says UTF-16; without one, a blob
of 4 bytes or more is UTF-16 LE when more than a third of its byte pairs have
a NUL in the odd place and fewer than one in twenty in the even place (BE the
other way round); anything else is scanned as it is. Each case below sits on
one side of one bound, so moving a bound by one flips a case.
"""

from __future__ import annotations

import pytest

from moai_mashup.guard.scan import as_utf8


def _blob(length: int, odd_nuls: int, even_nuls: int) -> bytes:
    """`length` bytes of `a`, with NULs at the first `odd_nuls` odd and `even_nuls` even places."""
    data = bytearray(b"a" * length)
    for i in range(odd_nuls):
        data[2 * i + 1] = 0
    for i in range(even_nuls):
        data[2 * i] = 0
    return bytes(data)


def _as(data: bytes, encoding: str | None) -> bytes:
    if encoding is None:
        return data
    return data.decode(encoding, "replace").encode("utf-8", "replace")


@pytest.mark.parametrize(
    ("length", "odd", "even", "encoding"),
    [
        (12, 2, 0, None),  # a third of 6 pairs exactly: not more than a third
        (12, 3, 0, "utf-16-le"),
        (40, 20, 1, None),  # 1 in 20 pairs exactly: not fewer than one in twenty
        (42, 21, 1, "utf-16-le"),
        (12, 0, 2, None),
        (12, 0, 3, "utf-16-be"),
        (40, 1, 20, None),
        (42, 1, 21, "utf-16-be"),
        (12, 6, 6, None),  # NULs everywhere: binary, not text
        (4, 2, 0, "utf-16-le"),  # the shortest UTF-16 blob it reads
        (4, 0, 2, "utf-16-be"),
    ],
)
def test_utf16_without_a_byte_order_mark(
    length: int, odd: int, even: int, encoding: str | None
) -> None:
    data = _blob(length, odd, even)
    assert as_utf8(data) == _as(data, encoding)


def test_fewer_than_four_bytes_are_never_utf16() -> None:
    assert as_utf8(b"a\x00b") == b"a\x00b"
    assert as_utf8(b"a\x00") == b"a\x00"


def test_without_a_nul_a_blob_is_scanned_as_it_is() -> None:
    assert as_utf8(b"plain text, long enough") == b"plain text, long enough"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_byte_order_mark_decides_and_is_dropped(encoding: str) -> None:
    text = "key=abc\u00e9"
    data = "\ufeff".encode(encoding) + text.encode(encoding)
    assert as_utf8(data) == text.encode("utf-8")
