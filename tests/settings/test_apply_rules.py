"""apply.py in-process on real repositories: reading the files, what GLM writes, privacy.

Fast enough to run for every mutant of apply.py (scripts/mutation.sh); the
`moai` subprocess view is tests/settings/test_core_settings.py.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from moai_mashup import paths
from moai_mashup.errors import BadInput, Refused
from moai_mashup.settings import apply
from moai_mashup.workspace import Workspace, open_workspace
from tests.core_fixtures import record_path
from tests.gitrepo import FAKE_KEY, GLM_JSON, LLM_YAML, SEED_GLM_JSON, SETTINGS, aged, git, write

RECORD = "ownership.json"


def reopen(ws: Workspace) -> Workspace:
    return open_workspace(ws.wt.root, warn=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "invalid JSON"),
        ('{"a": NaN}', "invalid JSON"),
        ('{"a": Infinity}', "invalid JSON"),
        ("[]", "expected a JSON object"),
        ('"x"', "expected a JSON object"),
        ('{"env": []}', "env: must be a JSON object of variables"),
        ('{"env": "x"}', "env: must be a JSON object of variables"),
    ],
)
def test_bad_settings_named_and_left_alone(ws: Workspace, text: str, message: str) -> None:
    path = aged(write(Path(ws.wt.root) / SETTINGS, text))  # not a save in progress
    with pytest.raises(BadInput) as err:
        apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert str(err.value).startswith(f"{path}: {message}")
    assert "moai left it untouched" in str(err.value)
    assert path.read_text() == text


def test_settings_read_as_bytes(ws: Workspace) -> None:
    path = Path(ws.wt.root) / SETTINGS
    state = apply.read_state(ws.wt)
    assert (state.path, state.text, state.doc, state.record) == (str(path), None, {}, None)
    path.parent.mkdir()
    path.write_bytes(b'{"a": 1}\r\n')
    state = apply.read_state(ws.wt)
    assert state.text == '{"a": 1}\r\n' and state.doc == {"a": 1}
    path.write_bytes(b"  \n")
    assert apply.read_state(ws.wt).doc == {}
    path.write_bytes(b"\xff")
    with pytest.raises(BadInput, match=r"not UTF-8 text \(byte 0\); moai left it"):
        apply.read_state(ws.wt)


def _record(ws: Workspace) -> Path:
    """The worktree's ownership record, in its private folder in ~/.moai."""
    return record_path(Path(ws.wt.root), dict(os.environ))


@pytest.mark.parametrize("text", ["{", '{"version": 2}', '{"version": 1}', "[]"])
def test_unreadable_record_named(ws: Workspace, text: str) -> None:
    """(One an earlier moai left in the git dir: read until moved, tests/settings/
    test_private_state.py.)"""
    write(Path(ws.wt.state_dir) / RECORD, text)
    with pytest.raises(BadInput) as err:
        apply.read_record(ws.wt)
    assert str(err.value) == (
        f"{Path(ws.wt.state_dir) / RECORD}: unreadable ownership record; remove it, then check "
        f"the env keys of {SETTINGS} by hand"
    )


def test_template_from_the_repository_or_the_default(ws: Workspace) -> None:
    assert apply.load_template(ws.wt)["ANTHROPIC_BASE_URL"] == "https://api.z.ai/api/anthropic"
    write(Path(ws.wt.root) / GLM_JSON, SEED_GLM_JSON.replace('"glm-4.7"', '"glm-5"', 1))
    assert apply.load_template(ws.wt)["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "glm-5"
    (Path(ws.wt.root) / GLM_JSON).unlink()
    assert apply.load_template(ws.wt)["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "glm-4.7"
    write(Path(ws.wt.root) / GLM_JSON, "{oops")
    with pytest.raises(BadInput, match=r"^\.moai/llm-configs/glm\.json: invalid JSON"):
        apply.load_template(ws.wt)


def test_inline_glm_writes_the_key_and_blanks_the_users_credentials(ws: Workspace) -> None:
    desired, key = apply.desired_glm(ws.wt, ws.cfg)
    assert key.value == FAKE_KEY
    assert desired[("env", "ANTHROPIC_API_KEY")] == ""
    assert desired[("env", "ANTHROPIC_AUTH_TOKEN")] == FAKE_KEY
    assert desired[("apiKeyHelper",)] == ""
    assert desired[("env", "ANTHROPIC_BASE_URL")] == "https://api.z.ai/api/anthropic"


def test_helper_glm_keeps_the_key_out(ws: Workspace) -> None:
    write(
        Path(ws.wt.root) / LLM_YAML,
        (Path(ws.wt.root) / LLM_YAML).read_text() + "  credential_mode: helper\n",
    )
    ws = reopen(ws)
    desired, _ = apply.desired_glm(ws.wt, ws.cfg)
    assert FAKE_KEY not in json.dumps([list(desired), list(desired.values())])
    assert desired[("env", "ANTHROPIC_AUTH_TOKEN")] == ""
    assert desired[("env", "ANTHROPIC_API_KEY")] == ""
    assert desired[("apiKeyHelper",)] == apply.key_helper_command(ws.wt)
    assert desired[("env", "ANTHROPIC_BASE_URL")] == "https://api.z.ai/api/anthropic"


def test_key_helper_command_is_absolute_and_quoted(ws: Workspace) -> None:
    cmd = apply.key_helper_command(ws.wt)
    assert cmd.startswith(sys.executable + " ")
    assert "moai_mashup.settings.key_helper" in cmd
    assert cmd.endswith(str(ws.wt.root))


def test_no_key_and_untrusted_url_refused_before_anything_is_written(
    ws: Workspace, home: Path
) -> None:
    write(Path(ws.wt.root) / GLM_JSON, SEED_GLM_JSON.replace("https://api.z.ai", "http://api.z.ai"))
    with pytest.raises(apply.UntrustedUrl, match=r"http://api.z.ai/api/anthropic is not a known"):
        apply.apply_backend(ws.wt, ws.cfg, "glm")
    (home / ".moai" / ".env.glm").unlink()
    with pytest.raises(BadInput, match="no GLM key found"):
        apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert not (Path(ws.wt.root) / SETTINGS).exists()
    assert not _record(ws).exists()


def test_apply_writes_once_then_nothing(ws: Workspace) -> None:
    first = apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert (first.backend, first.changed, first.before) == ("glm", True, "claude")
    assert first.key is not None and first.key.value == FAKE_KEY
    path = Path(ws.wt.root) / SETTINGS
    record = _record(ws)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    state = apply.read_state(ws.wt)
    assert state.record is not None
    assert json.loads(record.read_text()) == state.record.to_json()
    times = path.stat().st_mtime_ns, record.stat().st_mtime_ns
    again = apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert (again.changed, again.before) == (False, "glm")
    assert (path.stat().st_mtime_ns, record.stat().st_mtime_ns) == times
    back = apply.apply_backend(ws.wt, ws.cfg, "claude")
    assert (back.changed, back.before, back.key) == (True, "glm", None)
    assert not path.exists() and not record.exists()
    assert apply.apply_backend(ws.wt, ws.cfg, "claude").changed is False


def test_a_deleted_key_of_ours_is_written_again(ws: Workspace) -> None:
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    path = Path(ws.wt.root) / SETTINGS
    doc = json.loads(path.read_text())
    del doc["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"]
    path.write_text(json.dumps(doc))
    record = _record(ws).read_text()
    assert apply.apply_backend(ws.wt, ws.cfg, "glm").changed
    assert json.loads(path.read_text())["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "glm-4.7"
    assert _record(ws).read_text() == record


def test_a_stale_record_is_removed_on_claude(ws: Workspace) -> None:
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    (Path(ws.wt.root) / SETTINGS).write_text('{"model": "opus"}')  # every key of ours gone
    result = apply.apply_backend(ws.wt, ws.cfg, "claude")
    assert result.changed and result.before == "claude"
    assert not _record(ws).exists()
    assert (Path(ws.wt.root) / SETTINGS).read_text() == '{"model": "opus"}'


def test_record_text_is_what_apply_writes(ws: Workspace) -> None:
    assert apply.record_text(None) is None
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    state = apply.read_state(ws.wt)
    assert apply.record_text(state.record) == _record(ws).read_text()


def test_tracked_settings_refused_with_the_fix(ws: Workspace, env: dict[str, str]) -> None:
    write(Path(ws.wt.root) / SETTINGS, "{}\n")
    git(Path(ws.wt.root), "add", "-f", SETTINGS, env=env)
    git(Path(ws.wt.root), "commit", "-qm", "tracked", env=env)
    with pytest.raises(Refused) as err:
        apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert str(err.value) == (
        f"{SETTINGS} is tracked by git, so a key written there would be committed; "
        f"run: git rm --cached {SETTINGS}"
    )
    assert (Path(ws.wt.root) / SETTINGS).read_text() == "{}\n"
    apply.apply_backend(ws.wt, ws.cfg, "claude")  # Claude writes no key: no refusal


def test_exclude_lines_added_once_when_nothing_ignores_the_file(
    ws: Workspace, env: dict[str, str]
) -> None:
    (Path(ws.wt.root) / ".gitignore").write_text("")
    git(Path(ws.wt.root), "commit", "-qam", "no ignores", env=env)
    exclude = Path(ws.wt.root) / ".git" / "info" / "exclude"
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    lines = exclude.read_text().splitlines()
    assert lines.count("/" + SETTINGS) == 1
    assert lines.count(paths.SETTINGS_TEMP_PATTERN) == 1
    apply.apply_backend(ws.wt, ws.cfg, "claude")
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert exclude.read_text().splitlines() == lines
    assert git(Path(ws.wt.root), "status", "--porcelain", env=env) == ""


def test_settings_state_active(ws: Workspace) -> None:
    assert apply.read_state(ws.wt).active == "claude"
    apply.apply_backend(ws.wt, ws.cfg, "glm")
    assert apply.read_state(ws.wt).active == "glm"
