"""The template's name and placeholder rules, written without `re` (the git hook's
imports), agree with the regular expressions they replace on any text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup.core import glm_template
from moai_mashup.errors import BadInput
from moai_mashup.settings import keys

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BAD_KEY = re.compile(r"[\s\x00-\x1f\x7f]")
# Text built from the characters that matter here, so generated cases hit them.
_texts = st.text(alphabet=st.sampled_from("${}aZ_09- é\t\n\x00\x7f\u3000"), max_size=24)


@settings(max_examples=500, deadline=None)
@given(_texts)
def test_env_names_are_the_regex(text: str) -> None:
    assert glm_template.is_env_name(text) == bool(_NAME.fullmatch(text))


@settings(max_examples=500, deadline=None)
@given(_texts)
def test_placeholders_are_the_regex(text: str) -> None:
    found = [m.group(1) for m in _PLACEHOLDER.finditer(text)]
    assert [name for _s, _e, name in glm_template._placeholders(text)] == found
    assert glm_template._is_placeholder(text) == bool(_PLACEHOLDER.fullmatch(text))
    assert glm_template._substitute(text, "K\\1") == _PLACEHOLDER.sub(lambda _m: "K\\1", text)


@settings(max_examples=500, deadline=None)
@given(_texts)
def test_key_characters_are_the_regex(text: str) -> None:
    key = "fake" + text + "key0000"
    bad = bool(_BAD_KEY.search(key))
    try:
        keys.validate_key(key, "test")
    except BadInput:  # refused: must be for a bad character
        assert bad
    else:
        assert not bad


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("SPEC-A1z_é Ａ9"), max_size=14))
def test_spec_ids_are_the_pattern(text: str) -> None:
    from moai_mashup.core.routing import SPEC_ID_PATTERN, is_valid_spec_id

    for candidate in (text, "SPEC-" + text):
        assert is_valid_spec_id(candidate) == bool(re.fullmatch(SPEC_ID_PATTERN, candidate))
