"""core/settings_plan.py, one rule at a time (the round trips are in test_core_settings.py).

Fast enough to run for every mutant of the planner (scripts/mutation.sh).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from moai_mashup.core import settings_plan as plan
from moai_mashup.core.settings_plan import ABSENT, Entry, OwnershipRecord

URL = ("env", "ANTHROPIC_BASE_URL")
TOKEN = ("env", "ANTHROPIC_AUTH_TOKEN")
HELPER = ("apiKeyHelper",)


def fp(value: Any) -> str:
    return plan.fingerprint(value)


def record(*entries: Entry, created_env: bool = False, text: str | None = None) -> OwnershipRecord:
    return OwnershipRecord("glm", tuple(entries), created_env, text is not None, text)


def test_absent_is_one_marker() -> None:
    assert plan.Absent() is ABSENT and repr(ABSENT) == "ABSENT"


def test_fingerprint_is_sha256_of_sorted_json() -> None:
    value = {"b": 1, "a": "ü"}
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")
    assert fp(value) == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert fp({"a": "ü", "b": 1}) == fp(value)
    assert fp("x") != fp("y") and fp(None) != fp("")


def test_record_json_round_trip() -> None:
    rec = OwnershipRecord(
        "glm",
        (Entry(URL, "sha256:1", ABSENT), Entry(TOKEN, "sha256:2", None), Entry(HELPER, "h", "x")),
        True,
        False,
        None,
    )
    data = rec.to_json()
    assert data == {
        "version": 1,
        "backend": "glm",
        "entries": [
            {"path": ["env", "ANTHROPIC_BASE_URL"], "ours": "sha256:1"},
            {"path": ["env", "ANTHROPIC_AUTH_TOKEN"], "ours": "sha256:2", "prev": None},
            {"path": ["apiKeyHelper"], "ours": "h", "prev": "x"},
        ],
        "created_env": True,
        "original_existed": False,
        "original_text": None,
    }
    assert OwnershipRecord.from_json(json.loads(json.dumps(data))) == rec
    data2 = dict(data, created_env=0, original_existed=1, original_text="{}")
    back = OwnershipRecord.from_json(data2)
    assert back.created_env is False and back.original_existed is True
    assert back.original_text == "{}"
    del data2["original_text"]
    assert OwnershipRecord.from_json(data2).original_text is None


@pytest.mark.parametrize("data", [None, [], {"version": 2}, {"version": "1"}, {}])
def test_unknown_record_format_refused(data: Any) -> None:
    with pytest.raises(ValueError, match="unknown ownership record format"):
        OwnershipRecord.from_json(data)


def test_get_set_delete_by_path() -> None:
    doc: dict[str, Any] = {"env": {"A": "1"}, "flat": "x"}
    assert plan._get(doc, ("env", "A")) == "1"
    assert plan._get(doc, ("env", "B")) is ABSENT
    assert plan._get(doc, ("flat", "A")) is ABSENT
    assert plan._get(doc, ("nope", "A")) is ABSENT
    assert plan._get(doc, ("flat",)) == "x"
    plan._set(doc, ("env", "B"), None)
    plan._set(doc, ("flat", "C"), "c")  # a non-object on the way becomes one
    plan._set(doc, ("new", "D"), "d")
    assert doc == {"env": {"A": "1", "B": None}, "flat": {"C": "c"}, "new": {"D": "d"}}
    plan._delete(doc, ("env", "A"))
    plan._delete(doc, ("env", "missing"))
    plan._delete(doc, ("nope", "x"))
    plan._delete(doc, ("new", "D", "deeper"))
    plan._delete(doc, ("flat",))
    assert doc == {"env": {"B": None}, "new": {"D": "d"}}


def test_copy_is_deep() -> None:
    doc = {"env": {"A": "1"}}
    new = plan._copy(doc)
    new["env"]["A"] = "2"
    assert doc == {"env": {"A": "1"}}


def test_plan_glm_records_what_each_write_replaced() -> None:
    doc: dict[str, Any] = {"env": {"ANTHROPIC_BASE_URL": "https://mine.example"}, "model": "opus"}
    desired = {URL: "https://api.z.ai/api/anthropic", TOKEN: "k", HELPER: ""}
    new, rec = plan.plan_glm(doc, desired, None, "TEXT")
    assert new == {
        "env": {
            "ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic",
            "ANTHROPIC_AUTH_TOKEN": "k",
        },
        "model": "opus",
        "apiKeyHelper": "",
    }
    assert doc["env"]["ANTHROPIC_BASE_URL"] == "https://mine.example"  # input untouched
    assert rec == OwnershipRecord(
        "glm",
        (
            Entry(URL, fp("https://api.z.ai/api/anthropic"), "https://mine.example"),
            Entry(TOKEN, fp("k"), ABSENT),
            Entry(HELPER, fp(""), ABSENT),
        ),
        False,
        True,
        "TEXT",
    )
    assert plan.active_backend(new, rec) == "glm"


def test_plan_glm_created_env_only_when_there_was_none() -> None:
    assert plan.plan_glm({}, {TOKEN: "k"}, None, None)[1].created_env is True
    assert plan.plan_glm({"env": "odd"}, {TOKEN: "k"}, None, None)[1].created_env is True
    assert plan.plan_glm({"env": {}}, {TOKEN: "k"}, None, None)[1].created_env is False
    assert plan.plan_glm({}, {HELPER: "h"}, None, None)[1].created_env is False
    _, first = plan.plan_glm({}, {TOKEN: "k"}, None, None)
    assert first.original_existed is False and first.original_text is None
    new, _ = plan.plan_glm({}, {TOKEN: "k"}, None, None)
    # A second plan on top of our own write keeps the first record's facts.
    _, second = plan.plan_glm(new, {TOKEN: "k2"}, first, "{ later }")
    assert second.created_env is True
    assert (second.original_existed, second.original_text) == (False, None)


def test_plan_glm_again_keeps_the_original_prev_of_keys_still_ours() -> None:
    doc = {"env": {"ANTHROPIC_AUTH_TOKEN": "theirs", "X": "1"}}
    new, rec = plan.plan_glm(doc, {TOKEN: "k1", URL: "u1"}, None, "T0")
    new["env"]["ANTHROPIC_BASE_URL"] = "user-edit"  # the user changed one of ours
    again, rec2 = plan.plan_glm(new, {TOKEN: "k2", URL: "u2"}, rec, "T1")
    assert again["env"] == {"ANTHROPIC_AUTH_TOKEN": "k2", "X": "1", "ANTHROPIC_BASE_URL": "u2"}
    assert [(e.path, e.prev) for e in rec2.entries] == [(TOKEN, "theirs"), (URL, "user-edit")]
    assert (rec2.original_existed, rec2.original_text) == (True, "T0")


def test_plan_glm_puts_back_keys_the_template_no_longer_writes() -> None:
    doc = {"env": {"API_TIMEOUT_MS": "5"}}
    new, rec = plan.plan_glm(doc, {TOKEN: "k", ("env", "API_TIMEOUT_MS"): "9"}, None, None)
    again, rec2 = plan.plan_glm(new, {TOKEN: "k"}, rec, None)
    assert again["env"] == {"API_TIMEOUT_MS": "5", "ANTHROPIC_AUTH_TOKEN": "k"}
    assert [e.path for e in rec2.entries] == [TOKEN]


def test_plan_glm_ignores_a_stale_record() -> None:
    stale = record(Entry(TOKEN, fp("gone"), "ancient"), created_env=True, text="OLD")
    doc = {"env": {"ANTHROPIC_AUTH_TOKEN": "user"}}
    _, rec = plan.plan_glm(doc, {TOKEN: "k"}, stale, "NOW")
    assert rec.entries[0].prev == "user"
    assert (rec.created_env, rec.original_text) == (False, "NOW")


def test_plan_claude_restores_and_removes_only_ours() -> None:
    doc = {"env": {"X": "1"}, "model": "opus"}
    desired = {TOKEN: "k", ("env", "X"): "ours", HELPER: "h"}
    glm, rec = plan.plan_glm(doc, desired, None, None)
    glm["env"]["NEW"] = "user"
    glm["apiKeyHelper"] = "user's helper"  # edited since: theirs now
    back = plan.plan_claude(glm, rec)
    assert back == {
        "env": {"X": "1", "NEW": "user"},
        "model": "opus",
        "apiKeyHelper": "user's helper",
    }
    assert glm["env"]["ANTHROPIC_AUTH_TOKEN"] == "k"  # input untouched


def test_plan_claude_drops_the_env_it_created_only_when_empty() -> None:
    glm, rec = plan.plan_glm({"model": "m"}, {TOKEN: "k"}, None, None)
    assert plan.plan_claude(glm, rec) == {"model": "m"}
    glm["env"]["MINE"] = "1"
    assert plan.plan_claude(glm, rec) == {"model": "m", "env": {"MINE": "1"}}
    glm2, rec2 = plan.plan_glm({"env": {}}, {TOKEN: "k"}, None, None)
    assert plan.plan_claude(glm2, rec2) == {"env": {}}


def test_plan_claude_without_a_live_record_changes_nothing() -> None:
    doc = {"env": {"ANTHROPIC_AUTH_TOKEN": "k"}}
    assert plan.plan_claude(doc, None) == doc
    assert plan.plan_claude(doc, record(Entry(TOKEN, fp("other"), ABSENT))) == doc
    assert plan.live_record(doc, record(Entry(TOKEN, fp("other"), ABSENT))) is None
    live = record(Entry(TOKEN, fp("k"), ABSENT))
    assert plan.live_record(doc, live) is live


def test_plan_claude_with_a_stale_record_keeps_an_empty_env() -> None:
    stale = record(Entry(TOKEN, fp("gone"), ABSENT), created_env=True)
    assert plan.plan_claude({"env": {}}, stale) == {"env": {}}


def test_render_gives_back_a_blank_original_even_with_no_file_now() -> None:
    blank = record(Entry(TOKEN, "x", ABSENT), text="  \n")
    assert plan.render({}, None, blank) == "  \n"


def test_active_backend() -> None:
    doc = {"env": {"A": "1", "B": "2"}}
    both = record(Entry(("env", "A"), fp("1"), ABSENT), Entry(("env", "B"), fp("2"), ABSENT))
    one = record(Entry(("env", "A"), fp("1"), ABSENT), Entry(("env", "B"), fp("x"), ABSENT))
    none = record(Entry(("env", "A"), fp("x"), ABSENT))
    assert plan.active_backend(doc, both) == "glm"
    assert plan.active_backend(doc, one) == "mixed"
    assert plan.active_backend(doc, none) == "claude"
    assert plan.active_backend(doc, None) == "claude"


@pytest.mark.parametrize(
    ("text", "indent"),
    [
        (None, "  "),
        ("", "  "),
        ("{}", "  "),
        ('    {\n"a": 1}', "  "),  # the first line never counts
        ('{\n    "a": 1\n}', "    "),
        ('{\n\t"a": 1\n}', "\t"),
        ('{\n\n \t "a": 1\n}', " \t "),
        ('{\n"a":\n   1}', "   "),
    ],
)
def test_detect_indent(text: str | None, indent: str) -> None:
    assert plan.detect_indent(text) == indent


def test_render_keeps_bytes_when_the_document_is_the_same() -> None:
    text = '{"b": 1,   "a": "ü"}'
    assert plan.render({"b": 1, "a": "ü"}, text, None) == text
    # Same keys, another order: the user's order is the document; re-rendered.
    assert plan.render({"a": "ü", "b": 1}, text, None) == '{\n  "a": "ü",\n  "b": 1\n}\n'
    assert plan.render({"a": 1}, '{\n\t"x": 0\n}', None) == '{\n\t"a": 1\n}\n'
    assert plan.render({"a": 1}, "not json", None) == '{\n  "a": 1\n}\n'


def test_render_no_file_and_empty_files() -> None:
    assert plan.render({}, None, None) is None
    assert plan.render({}, "", None) == ""
    assert plan.render({}, " \n", None) == " \n"
    assert plan.render({}, "{}", None) == "{}"
    assert plan.render({"a": 1}, None, None) == '{\n  "a": 1\n}\n'


def test_render_back_to_the_original_bytes() -> None:
    original = '{ "model" : "opus" }\r\n'
    rec = record(Entry(TOKEN, "x", ABSENT), text=original)
    assert plan.render({"model": "opus"}, '{\n  "model": "opus"\n}\n', rec) == original
    assert plan.render({"model": "x"}, None, rec) == '{\n  "model": "x"\n}\n'
    blank = record(Entry(TOKEN, "x", ABSENT), text="  \n")
    assert plan.render({}, "{}", blank) == "  \n"
    broken = record(Entry(TOKEN, "x", ABSENT), text="{broken")
    assert plan.render({}, "{}", broken) == "{}"
    never = OwnershipRecord("glm", (), False, False, None)
    assert plan.render({}, "{}", never) is None
    existed = OwnershipRecord("glm", (), False, True, None)
    assert plan.render({}, "{}", existed) == "{}"
    assert plan.render({}, None, existed) is None


def test_same_sees_key_order() -> None:
    assert plan._same({"a": 1, "b": 2}, {"a": 1, "b": 2})
    assert not plan._same({"a": 1, "b": 2}, {"b": 2, "a": 1})
    assert not plan._same({"a": 1}, None)


@pytest.mark.parametrize(
    ("mode", "kept"), [(0, 0), (0o644, 0o644), (0o7777, 0o7777), (0o10000, None), (-1, None)]
)
def test_record_keeps_a_permission_mode_and_nothing_else(mode: int, kept: int | None) -> None:
    """A file's mode before moai (0000 too); anything past the permission bits is no mode."""
    data = OwnershipRecord("glm", (), False, True, "{}", mode).to_json()
    assert data["original_mode"] == mode
    assert OwnershipRecord.from_json(data).original_mode == kept


def test_plan_backend_records_the_backend_by_name_and_active_says_it() -> None:
    new, rec = plan.plan_backend({}, {TOKEN: "k", URL: "u"}, None, None, "kimi")
    assert rec.backend == "kimi" and rec.to_json()["backend"] == "kimi"
    assert plan.active_backend(new, rec) == "kimi"
    assert OwnershipRecord.from_json(rec.to_json()) == rec


def test_one_provider_to_another_keeps_what_the_first_replaced() -> None:
    """glm -> kimi: a key both write keeps the user's value from before glm; a key only
    glm wrote gets the user's value back; a key only kimi writes remembers the user's."""
    timeout, window = ("env", "API_TIMEOUT_MS"), ("env", "CLAUDE_CODE_MAX_CONTEXT_TOKENS")
    doc = {"env": {"ANTHROPIC_AUTH_TOKEN": "mine", "API_TIMEOUT_MS": "5", "X": "1"}}
    on_glm, glm_rec = plan.plan_backend(doc, {TOKEN: "g", timeout: "9"}, None, "T", "glm")
    on_kimi, kimi_rec = plan.plan_backend(
        on_glm, {TOKEN: "k", window: "256000"}, glm_rec, "T2", "kimi"
    )
    assert on_kimi["env"] == {
        "ANTHROPIC_AUTH_TOKEN": "k",
        "API_TIMEOUT_MS": "5",
        "X": "1",
        "CLAUDE_CODE_MAX_CONTEXT_TOKENS": "256000",
    }
    assert kimi_rec.backend == "kimi" and kimi_rec.original_text == "T"
    assert {e.path: e.prev for e in kimi_rec.entries} == {TOKEN: "mine", window: ABSENT}
    assert plan.plan_claude(on_kimi, kimi_rec) == doc
