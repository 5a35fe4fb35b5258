"""JSON text in and out, through the json package's C parts without the package.

`import json` costs a git hook ~5 ms of CPU: its decoder imports `re`, which
imports `enum` and `functools` (benchmarks/bench_checkout.py). The work itself
is done by `_json`, the C accelerator json uses, which needs none of them. So
the hook's path (settings file, ownership record, config cache, stamp) parses
and renders JSON here: `loads` is json.loads (the same C scanner, the same
whitespace rule, the same errors: JSONDecodeError is built by json itself, so
only a malformed text pays for importing it), and `dumps` is json.dumps for the
values JSON holds (dict with str keys, list, tuple, str, int, float, bool,
None), byte for byte, with json's C encoder when there is no indent and a
small loop of our own when there is (json's is Python too).
tests/test_jsontext.py checks both against json on generated documents.
"""

from __future__ import annotations

import _json

from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_SPACE = " \t\n\r"  # json's WHITESPACE pattern, [ \t\n\r]*
_CONSTANTS = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class _Context:
    """What `_json.make_scanner` reads from json.JSONDecoder, with json's defaults."""

    strict = True
    object_hook = None
    parse_float = float
    parse_int = int

    def __init__(
        self,
        object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None,
        parse_constant: Callable[[str], Any],
    ) -> None:
        self.object_pairs_hook = object_pairs_hook
        self.parse_constant = parse_constant
        self.memo: dict[str, str] = {}


def _error(message: str, text: str, pos: int) -> ValueError:
    from json import JSONDecodeError  # a malformed text only: json's own error, same words

    return JSONDecodeError(message, text, pos)


def _encoding(data: bytes | bytearray) -> str:
    """json.detect_encoding: a BOM, else where the NUL bytes of the first two
    characters are (JSON text starts with an ASCII character), else UTF-8."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if len(data) >= 4:
        if not data[0]:
            return "utf-16-be" if data[1] else "utf-32-be"
        if not data[1]:
            return "utf-16-le" if data[2] or data[3] else "utf-32-le"
    elif len(data) == 2:
        if not data[0]:
            return "utf-16-be"
        if not data[1]:
            return "utf-16-le"
    return "utf-8"


def loads(
    text: str | bytes | bytearray,
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """json.loads(text); ValueError (json.JSONDecodeError, or UnicodeDecodeError for
    bytes that are no text) when malformed."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode(_encoding(text), "surrogatepass")
    elif not isinstance(text, str):
        raise TypeError(
            f"the JSON object must be str, bytes or bytearray, not {type(text).__name__}"
        )
    if text.startswith("\ufeff"):
        raise _error("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    context = _Context(object_pairs_hook, parse_constant or _CONSTANTS.__getitem__)
    scan = _json.make_scanner(context)  # type: ignore[arg-type]
    start = len(text) - len(text.lstrip(_SPACE))
    try:
        value, end = scan(text, start)
    except StopIteration as stop:
        raise _error("Expecting value", text, stop.value) from None
    except SystemError:
        # The scanner words a malformed text with json.decoder's JSONDecodeError,
        # which it takes from sys.modules without importing it (CPython 3.11-3.13):
        # absent, it fails with SystemError. Import it and scan again for the error.
        import json.decoder  # noqa: F401

        value, end = scan(text, start)
    finally:
        context.memo.clear()
    rest = len(text) - len(text[end:].lstrip(_SPACE))
    if rest != len(text):
        raise _error("Extra data", text, rest)
    return value


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key(key: object) -> str | None:
    """An object key as json writes it (None: json would skip or refuse it)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    return None


def _unserializable(value: object) -> TypeError:
    return TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def dumps(
    value: Any,
    *,
    indent: int | str | None = None,
    sort_keys: bool = False,
    ensure_ascii: bool = True,
) -> str:
    """json.dumps(value, indent=..., sort_keys=..., ensure_ascii=...), the same text."""
    quote: Callable[[str], str] = (
        _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    )
    if isinstance(value, str):
        return quote(value)
    if indent is None:
        encode = _json.make_encoder(
            {}, _raise_unserializable, quote, None, ": ", ", ", sort_keys, False, True
        )
        return "".join(encode(value, 0))
    step = " " * indent if isinstance(indent, int) else indent
    parts: list[str] = []
    _pretty(value, parts, quote, step, "\n", sort_keys, set())
    return "".join(parts)


def _raise_unserializable(value: object) -> Any:
    raise _unserializable(value)


def _pretty(
    value: Any,
    parts: list[str],
    quote: Callable[[str], str],
    step: str,
    newline: str,
    sort_keys: bool,
    open_ids: set[int],
) -> None:
    """json's indented layout: `[`/`{`, each item on its own line one step in,
    `,` between them, the closing bracket back on the opening line's level."""
    if isinstance(value, str):
        parts.append(quote(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(_float(value))
    elif isinstance(value, (list, tuple, dict)):
        if not value:
            parts.append("{}" if isinstance(value, dict) else "[]")
            return
        if id(value) in open_ids:
            raise ValueError("Circular reference detected")
        open_ids.add(id(value))
        inner = newline + step
        if isinstance(value, dict):
            items = sorted(value.items()) if sort_keys else value.items()
            parts.append("{")
            first = True
            for key, item in items:
                name = _key(key)
                if name is None:
                    raise TypeError(
                        f"keys must be str, int, float, bool or None, not {key.__class__.__name__}"
                    )
                parts.append(inner if first else "," + inner)
                first = False
                parts.append(quote(name))
                parts.append(": ")
                _pretty(item, parts, quote, step, inner, sort_keys, open_ids)
            parts.append(newline + "}")
        else:
            parts.append("[")
            for index, item in enumerate(value):
                parts.append(inner if index == 0 else "," + inner)
                _pretty(item, parts, quote, step, inner, sort_keys, open_ids)
            parts.append(newline + "]")
        open_ids.discard(id(value))
    else:
        raise _unserializable(value)
