"""Settings switching: GLM-then-Claude restores any user document byte for byte; user edits
made on GLM survive; idempotence; corrupt/tracked files refused; info/exclude; helper mode."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from moai_mashup.core import settings_plan as plan
from moai_mashup.core.glm_template import DEFAULT_TEMPLATE, SECRET_KEYS
from tests.core_fixtures import (
    assert_unchanged,
    one_line,
    record_path,
    sh,
    snapshot,
    status_json,
)
from tests.gitrepo import (
    FAKE_KEY,
    LLM_YAML,
    SEED_LLM_YAML,
    SETTINGS,
    aged,
    git,
    moai,
    settings,
    write,
)

# --- documents a user (or Claude Code) might have ------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
ENV_NAMES = st.sampled_from(
    [
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_MODEL",
        "API_TIMEOUT_MS",
        "MY_VAR",
        "ünïcødé_VAR",
    ]
)
env_blocks = st.dictionaries(ENV_NAMES | st.text(max_size=8), values, max_size=6)
TOP_KEYS = st.sampled_from(["permissions", "model", "apiKeyHelper", "hooks", "ключ", "🙂"])


@st.composite
def user_documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = draw(st.dictionaries(TOP_KEYS | st.text(max_size=8), values, max_size=5))
    doc.pop("env", None)
    if draw(st.booleans()):
        items = list(doc.items())
        at = draw(st.integers(0, len(items)))
        items.insert(at, ("env", draw(env_blocks)))
        doc = dict(items)
    return doc


@st.composite
def user_files(draw: st.DrawFn) -> str:
    """A document as some editor might have formatted it."""
    doc = draw(user_documents())
    indent = draw(st.sampled_from([None, 1, 2, 4, "\t"]))
    text = json.dumps(doc, indent=indent, ensure_ascii=draw(st.booleans()))
    newline = draw(st.sampled_from(["", "\n", "\n\n"]))
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text + newline


def desired_for(mode: str, key: str = FAKE_KEY) -> dict[plan.KeyPath, Any]:
    """What apply.desired_glm asks for with the default template: the GLM env, and the
    user's own credentials blanked ("" counts as unset in Claude Code)."""
    desired: dict[plan.KeyPath, Any] = {("env", "ANTHROPIC_API_KEY"): ""}
    if mode == "helper":
        desired[("env", "ANTHROPIC_AUTH_TOKEN")] = ""
    for name, value in DEFAULT_TEMPLATE["env"].items():
        if name not in SECRET_KEYS:
            desired[("env", name)] = value
        elif mode == "inline":
            desired[("env", name)] = key
    if mode == "helper":
        desired[("apiKeyHelper",)] = "/usr/bin/python3 -m moai_mashup.settings.key_helper /r"
    else:
        desired[("apiKeyHelper",)] = ""
    return desired


def _persisted(record: plan.OwnershipRecord) -> plan.OwnershipRecord:
    """The record as apply stores and reads it back (JSON in the git dir)."""
    return plan.OwnershipRecord.from_json(json.loads(json.dumps(record.to_json())))


def to_glm(text: str | None, mode: str) -> tuple[str, plan.OwnershipRecord]:
    doc = json.loads(text) if text and text.strip() else {}
    new_doc, record = plan.plan_glm(doc, desired_for(mode), None, text)
    rendered = plan.render(new_doc, text, None)
    assert rendered is not None
    return rendered, _persisted(record)


def to_claude(text: str, record: plan.OwnershipRecord) -> str | None:
    doc = json.loads(text)
    live = plan.live_record(doc, record)
    return plan.render(plan.plan_claude(doc, live), text, live)


# --- pure: the planner, many examples ------------------------------------------------------


@hsettings(max_examples=400, deadline=None)
@given(
    text=user_files() | st.none() | st.sampled_from(["", "\n", " \r\n"]),
    mode=st.sampled_from(["inline", "helper"]),
)
@example(text=None, mode="inline")
@example(text="{}", mode="inline")
@example(text='{"env": {}}', mode="helper")
@example(text='{"env": {"ANTHROPIC_API_KEY": null}}', mode="inline")
@example(text='{"apiKeyHelper": "pass show anthropic"}', mode="helper")
def test_glm_then_claude_restores_any_document_byte_for_byte(text: str | None, mode: str) -> None:
    glm_text, record = to_glm(text, mode)
    glm_doc = json.loads(glm_text)
    for path, value in desired_for(mode).items():
        got = glm_doc[path[0]] if len(path) == 1 else glm_doc["env"][path[1]]
        assert got == value
    assert plan.active_backend(glm_doc, record) == "glm"
    # every key we do not own is where it was, in its order
    original = json.loads(text) if text and text.strip() else {}
    ours = {p[0] for p in desired_for(mode) if len(p) == 1}
    assert [k for k in glm_doc if k not in ours and k != "env"] == [
        k for k in original if k not in ours and k != "env"
    ]
    back = to_claude(glm_text, record)
    assert back == text
    # and switching again is the same round trip (the record of a second GLM is equal)
    again_text, again_record = to_glm(text, mode)
    assert (again_text, again_record) == (glm_text, record)


@st.composite
def user_edits(draw: st.DrawFn) -> list[tuple[plan.KeyPath, Any]]:
    """Edits of keys moai does not own: new or changed top-level keys and env keys."""
    paths = st.tuples(TOP_KEYS.filter(lambda k: k != "apiKeyHelper")) | st.tuples(
        st.just("env"), st.sampled_from(["MY_VAR", "ANTHROPIC_MODEL", "NEW_ONE", "ü"])
    )
    return draw(st.lists(st.tuples(paths, values), max_size=4))


@hsettings(max_examples=300, deadline=None)
@given(
    text=user_files() | st.none(), edits=user_edits(), mode=st.sampled_from(["inline", "helper"])
)
def test_user_edits_made_on_glm_survive_the_switch_back(
    text: str | None, edits: list[tuple[plan.KeyPath, Any]], mode: str
) -> None:
    glm_text, record = to_glm(text, mode)
    doc = json.loads(glm_text)
    expected: dict[str, Any] = json.loads(text) if text and text.strip() else {}
    for path, value in edits:
        for target in (doc, expected):
            if len(path) == 2 and not isinstance(target.get("env"), dict):
                target["env"] = {}
            plan._set(target, path, value)
    edited = json.dumps(doc, indent=2)
    back = to_claude(edited, record)
    result = json.loads(back) if back is not None else {}
    if "env" in result and "env" not in expected and result["env"] == {}:
        del result["env"]
    assert result == expected
    original_keys = list(json.loads(text)) if text and text.strip() else []
    assert [k for k in result if k in original_keys] == [k for k in original_keys if k in result], (
        "keys the user already had keep their order"
    )


def test_a_user_edit_of_our_key_is_theirs_afterwards() -> None:
    text = '{"env": {"ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus"}}'
    glm_text, record = to_glm(text, "inline")
    doc = json.loads(glm_text)
    doc["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] = "glm-4.6"  # the user's choice, made on GLM
    assert plan.active_backend(doc, record) == "mixed"
    back = to_claude(json.dumps(doc), record)
    assert back is not None
    result = json.loads(back)
    assert result["env"] == {"ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.6"}


def test_stale_record_is_ignored() -> None:
    """The user deleted the file while on GLM: the old record must not resurrect anything."""
    _glm_text, record = to_glm('{"env": {"ANTHROPIC_BASE_URL": "https://proxy"}}', "inline")
    assert plan.active_backend({}, record) == "claude"
    assert plan.live_record({}, record) is None
    assert plan.plan_claude({"model": "x"}, plan.live_record({"model": "x"}, record)) == {
        "model": "x"
    }
    _doc, new_record = plan.plan_glm({}, desired_for("inline"), record, None)
    assert all(e.prev is plan.ABSENT for e in new_record.entries)
    assert new_record.original_existed is False


# --- the CLI on real repositories ----------------------------------------------------------


@hsettings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=user_files())
def test_cli_glm_then_claude_restores_bytes(
    repo: Path, env: dict[str, str], keyed_home: str, text: str
) -> None:
    path = repo / SETTINGS
    write(path, "")
    path.write_bytes(text.encode("utf-8"))
    aged(path)  # not a save in progress moai would wait out (an empty text)
    r = moai(repo, "glm", env=env)
    assert r.returncode == 0, r.stderr
    doc = settings(repo)
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert doc["env"]["ANTHROPIC_API_KEY"] == "" and doc["apiKeyHelper"] == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    r = moai(repo, "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert path.read_bytes() == text.encode("utf-8")
    assert not record_path(repo, env).exists()
    assert git(repo, "status", "--porcelain", env=env) == ""


def test_no_file_before_means_no_file_after(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    assert moai(repo, "glm", env=env).returncode == 0
    assert (repo / SETTINGS).exists()
    assert moai(repo, "claude", env=env).returncode == 0
    assert not (repo / SETTINGS).exists()


def test_user_edits_on_glm_survive_cli(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    original = {
        "permissions": {"allow": ["Bash(ls)"]},
        "env": {
            "ANTHROPIC_BASE_URL": "https://proxy.example.invalid",
            "ANTHROPIC_API_KEY": "user-own-anthropic-key-TESTONLY",
            "MY_VAR": "1",
        },
    }
    write(repo / SETTINGS, json.dumps(original, indent=2) + "\n")
    assert moai(repo, "glm", env=env).returncode == 0
    doc = settings(repo)
    assert doc["env"]["ANTHROPIC_API_KEY"] == "", "the user's Anthropic key must not go to GLM"
    # edits while on GLM: Claude Code adds a permission, the user adds a variable and
    # picks another GLM model for opus
    doc["permissions"]["allow"].append("Bash(git status)")
    doc["env"]["NEW_VAR"] = "2"
    doc["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] = "glm-4.6"
    doc["statusLine"] = {"type": "command"}
    write(repo / SETTINGS, json.dumps(doc, indent=2) + "\n")
    assert status_json(repo, env)["active_backend"] == "mixed"
    r = moai(repo, "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert settings(repo) == {
        "permissions": {"allow": ["Bash(ls)", "Bash(git status)"]},
        "env": {
            "ANTHROPIC_BASE_URL": "https://proxy.example.invalid",
            "ANTHROPIC_API_KEY": "user-own-anthropic-key-TESTONLY",
            "MY_VAR": "1",
            "NEW_VAR": "2",
            "ANTHROPIC_DEFAULT_OPUS_MODEL": "glm-4.6",
        },
        "statusLine": {"type": "command"},
    }
    assert FAKE_KEY not in (repo / SETTINGS).read_text()


def test_idempotent_writes_nothing(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    rec = record_path(repo, env)
    for backend in ("glm", "claude"):
        assert moai(repo, backend, env=env).returncode == 0
        before = snapshot(repo, rec.parent)
        r = moai(repo, backend, env=env)
        assert r.returncode == 0 and "already active" in r.stdout
        assert_unchanged(before, snapshot(repo, rec.parent))
    # claude on a worktree moai never touched creates nothing
    assert not (repo / SETTINGS).exists()


@pytest.mark.parametrize(
    "content",
    [
        b'{"env": {',
        b"[1, 2]",
        b'"just a string"',
        b'{"env": "not an object"}',
        b'{"env": ["A=1"]}',
        b"\xff\xfe{}",
        b'{"a": 1} trailing',
        b'{"timeout": NaN}',
        b'{"env": {"X": Infinity}}',
    ],
)
def test_corrupt_settings_never_overwritten(
    repo: Path, home: Path, env: dict[str, str], keyed_home: str, content: bytes
) -> None:
    path = write(repo / SETTINGS, "")
    aged(path).write_bytes(content)
    aged(path)  # written long ago: not a save in progress moai would wait out
    before = snapshot(repo, home)
    for command in ("glm", "claude", "apply"):
        r = moai(repo, command, env=env)
        assert r.returncode == 2, (command, r.stderr)
        line = one_line(r.stderr)
        assert SETTINGS in line and "untouched" in line
    assert_unchanged(before, snapshot(repo, home))
    assert not record_path(repo, env).exists()
    info = status_json(repo, env)  # status reports it instead of failing
    assert info["active_backend"] is None and SETTINGS in info["settings_error"]


def test_corrupted_while_on_glm_is_left_alone(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    assert moai(repo, "glm", env=env).returncode == 0
    rec = record_path(repo, env)
    record_before = rec.read_bytes()
    (repo / SETTINGS).write_text('{"env": {"ANTHROPIC_BASE_URL": ')
    aged(repo / SETTINGS)  # not a save in progress moai would wait out
    r = moai(repo, "claude", env=env)
    assert r.returncode == 2
    assert (repo / SETTINGS).read_text() == '{"env": {"ANTHROPIC_BASE_URL": '
    assert rec.read_bytes() == record_before


def test_tracked_settings_refused(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    write(repo / SETTINGS, '{"model": "opus"}\n')
    git(repo, "add", "-f", SETTINGS, env=env)
    git(repo, "commit", "-qm", "oops, committed local settings", env=env)
    before = snapshot(repo)
    r = moai(repo, "glm", env=env)
    assert r.returncode == 1
    line = one_line(r.stderr)
    assert "tracked" in line and f"git rm --cached {SETTINGS}" in line
    assert_unchanged(before, snapshot(repo))
    assert not record_path(repo, env).exists()


def test_exclude_added_when_nothing_ignores_it(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    (repo / ".gitignore").unlink()
    git(repo, "commit", "-qam", "no gitignore", env=env)
    exclude = repo / ".git" / "info" / "exclude"
    assert moai(repo, "glm", env=env).returncode == 0
    assert git(repo, "status", "--porcelain", env=env) == ""
    assert exclude.read_text().splitlines().count("/.claude/settings.local.json") == 1
    # a linked worktree shares info/exclude: its settings are ignored too, no duplicate line
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-X1", str(linked), env=env)
    assert moai(linked, "glm", env=env).returncode == 0
    assert git(linked, "status", "--porcelain", env=env) == ""
    assert exclude.read_text().splitlines().count("/.claude/settings.local.json") == 1


def test_exclude_when_gitignore_covers_settings_only_adds_the_temp_pattern(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    exclude = repo / ".git" / "info" / "exclude"
    assert moai(repo, "glm", env=env).returncode == 0
    lines = exclude.read_text().splitlines()
    assert "/.claude/settings.local.json" not in lines  # .gitignore has it already
    assert "/.claude/.settings.local.json.*.tmp" in lines
    # a temp file left by a moai killed mid-write (it holds the key) stays out of git
    write(repo / ".claude" / ".settings.local.json.4242.tmp", '{"env": {}}')
    assert git(repo, "status", "--porcelain", "--ignored=no", env=env) == ""
    before = exclude.read_bytes()
    assert moai(repo, "claude", env=env).returncode == 0
    assert moai(repo, "glm", env=env).returncode == 0
    assert exclude.read_bytes() == before


def test_record_lives_in_the_per_worktree_git_dir(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-X2", str(linked), env=env)
    assert moai(linked, "glm", env=env).returncode == 0
    rec = record_path(linked, env)
    assert rec.exists() and "worktrees" in rec.parts
    assert not record_path(repo, env).exists()
    assert not (repo / SETTINGS).exists()
    assert status_json(repo, env)["active_backend"] == "claude"
    assert status_json(linked, env)["active_backend"] == "glm"
    assert stat.S_IMODE(rec.stat().st_mode) == 0o600


def test_helper_mode_sets_and_restores_api_key_helper(
    repo: Path, home: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + "  credential_mode: helper\n")
    original = (
        '{"apiKeyHelper": "~/bin/anthropic-key.sh",\n'
        ' "env": {"ANTHROPIC_AUTH_TOKEN": "user-own-token-TESTONLY", "X": "1"}}\n'
    )
    write(repo / SETTINGS, original)
    assert moai(repo, "glm", env=env).returncode == 0
    doc = settings(repo)
    helper = doc["apiKeyHelper"]
    assert helper != "~/bin/anthropic-key.sh" and os.path.isabs(helper.split()[0].strip("'"))
    # the user's own token would beat apiKeyHelper and go to GLM: set aside while on GLM
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == "" and doc["env"]["X"] == "1"
    out = sh(helper, env, cwd=home)
    assert out.returncode == 0 and out.stdout == keyed_home + "\n"
    assert keyed_home not in (repo / SETTINGS).read_text()
    assert moai(repo, "claude", env=env).returncode == 0
    assert (repo / SETTINGS).read_text() == original


def test_switching_credential_mode_on_glm(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    """inline -> helper while on GLM: the token moai wrote goes, nothing of the user's is lost."""
    write(repo / SETTINGS, '{"model": "opus"}\n')
    assert moai(repo, "glm", env=env).returncode == 0
    write(repo / LLM_YAML, SEED_LLM_YAML + "  credential_mode: helper\n")
    assert moai(repo, "glm", env=env).returncode == 0
    doc = settings(repo)
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == "" and doc["apiKeyHelper"] != ""
    assert keyed_home not in (repo / SETTINGS).read_text()
    assert moai(repo, "claude", env=env).returncode == 0
    assert (repo / SETTINGS).read_text() == '{"model": "opus"}\n'


def test_glm_active_not_decided_from_base_url(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """A hand-written z.ai setup is the user's: status says so, `moai claude` leaves it."""
    hand = (
        '{"env": {"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic",'
        ' "ANTHROPIC_AUTH_TOKEN": "hand-written-TESTONLY"}}\n'
    )
    write(repo / SETTINGS, hand)
    info = status_json(repo, env)
    assert info["active_backend"] == "claude"
    assert info["hand_set_base_url"] == "https://api.z.ai/api/anthropic"
    r = moai(repo, "status", env=env)
    assert "by hand" in r.stdout
    assert moai(repo, "claude", env=env).returncode == 0
    assert (repo / SETTINGS).read_text() == hand
    # and GLM over it restores the hand-written values afterwards
    assert moai(repo, "glm", env=env).returncode == 0
    assert status_json(repo, env)["active_backend"] == "glm"
    assert moai(repo, "claude", env=env).returncode == 0
    assert (repo / SETTINGS).read_text() == hand


def test_empty_file_is_left_empty(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    path = aged(write(repo / SETTINGS, ""))  # not a save in progress moai would wait out
    assert moai(repo, "claude", env=env).returncode == 0
    assert moai(repo, "glm", env=env).returncode == 0
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert moai(repo, "claude", env=env).returncode == 0
    assert path.read_text() == ""


def test_commands_work_from_a_subdirectory(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    assert moai(sub, "glm", env=env).returncode == 0
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert not (sub / ".claude").exists()
    assert status_json(sub, env)["active_backend"] == "glm"
    assert moai(sub, "claude", env=env).returncode == 0
    assert not (repo / SETTINGS).exists()


def test_apply_on_detached_head_changes_nothing(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    assert moai(repo, "glm", env=env).returncode == 0
    git(repo, "checkout", "-q", "--detach", env=env)
    before = snapshot(repo)
    r = moai(repo, "apply", env=env)
    assert r.returncode == 0 and "nothing to do" in r.stdout
    assert_unchanged(before, snapshot(repo))
