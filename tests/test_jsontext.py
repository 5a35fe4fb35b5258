"""jsontext is json for the values JSON holds: the same text out, the same values
and errors in (it uses json's C parts without importing the json package)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup import jsontext

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(_values, st.sampled_from([None, 0, 1, 2, 4, "\t", ""]), st.booleans(), st.booleans())
def test_dumps_is_json_dumps(
    value: Any, indent: int | str | None, sort: bool, ascii_: bool
) -> None:
    expected = json.dumps(value, indent=indent, sort_keys=sort, ensure_ascii=ascii_)
    assert jsontext.dumps(value, indent=indent, sort_keys=sort, ensure_ascii=ascii_) == expected


@settings(max_examples=150, deadline=None)
@given(_values, st.sampled_from([None, 2]), st.sampled_from(["", " ", "\n\t", "\r\n "]))
def test_loads_is_json_loads(value: Any, indent: int | None, space: str) -> None:
    text = space + json.dumps(value, indent=indent) + space
    got, expected = jsontext.loads(text), json.loads(text)
    assert json.dumps(got) == json.dumps(expected)  # NaN != NaN: compare the texts


@pytest.mark.parametrize(
    "text",
    ["", "   ", "{", '{"a": 1,}', "[1] [2]", '{"a" 1}', "nul", '"\\x"', "[1,]", "1 x", "\ufeff{}"],
)
def test_malformed_text_fails_as_json_does(text: str) -> None:
    with pytest.raises(ValueError) as ours:
        jsontext.loads(text)
    with pytest.raises(ValueError) as theirs:
        json.loads(text)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def test_hooks_and_constants_behave_as_json() -> None:
    def pairs(items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return items

    text = '{"a": 1, "a": [NaN, Infinity, -Infinity], "b": {"c": 2}}'
    assert repr(jsontext.loads(text, object_pairs_hook=pairs)) == repr(
        json.loads(text, object_pairs_hook=pairs)
    )
    assert math.isnan(jsontext.loads("NaN"))

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} refused")

    with pytest.raises(ValueError, match="Infinity refused"):
        jsontext.loads("[1, Infinity]", parse_constant=refuse)
    with pytest.raises(TypeError):
        jsontext.loads(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "codec",
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"],
)
@pytest.mark.parametrize("text", ['{"a": "\u00e9\u4e2d"}', "1", "[]", '"x"'])
def test_bytes_decode_as_json_does(codec: str, text: str) -> None:
    data = text.encode(codec)
    assert jsontext.loads(data) == json.loads(data)
    assert jsontext.loads(bytearray(data)) == json.loads(bytearray(data))


def test_what_json_refuses_to_write_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    for indent in (None, 2):
        with pytest.raises(TypeError, match="not JSON serializable"):
            jsontext.dumps({"a": {1, 2}}, indent=indent)
        with pytest.raises(ValueError, match="Circular"):
            jsontext.dumps(loop, indent=indent)
    assert jsontext.dumps({1: "a", 2.5: "b", False: 1, None: 2}, indent=1) == json.dumps(
        {1: "a", 2.5: "b", False: 1, None: 2}, indent=1
    )
    assert jsontext.dumps(("a", 1), indent=2) == json.dumps(("a", 1), indent=2)


def test_importing_it_costs_neither_json_nor_re() -> None:
    code = (
        "import sys; import moai_mashup.jsontext as j; "
        "j.dumps(j.loads('{\"a\": [1.5]}'), indent=2); "
        "print(sorted(m for m in ('json', 're', 'enum', 'functools') if m in sys.modules)); "
        "print(repr(j.loads('{\"a\": 1,}')))"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"import sys; sys.path[:0] = {sys.path!r}; {code}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.strip() == "[]", proc.stdout
    # A malformed text, with json not imported: json's own error, as json words it.
    assert "JSONDecodeError: Expecting property name enclosed in double quotes" in proc.stderr
