"""claude_code/install.py in process, on real files: install, uninstall and status,
the indentation kept, the modes, the install record, which commands are ours.

The `moai hooks ... --claude-code` subprocess tests
(tests/claude_code/test_claude_code_hooks.py) show the same through the CLI; these
are fast enough to run for each mutant of install.py (scripts/mutation.sh).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from moai_mashup.claude_code import install
from moai_mashup.errors import BadInput


def _target(tmp_path: Path, user: bool = False) -> install.Target:
    return install.Target(tmp_path / ".claude" / "settings.json", tmp_path / "rec.json", user)


@pytest.mark.parametrize(
    ("raw", "indent"),
    [
        (None, 2),  # a new file
        (b'{\n    "a": 1\n}\n', 4),
        (b' {\n    "a": 1\n }\n', 4),  # the first line's own indent does not count
        (b'{\n  "a": {\n      "b": 1\n  }\n}\n', 2),  # the first indented line decides
        (b'{\n\t"a": 1\n}\n', "\t"),
        (b'{\n   \n  "a": 1\n}\n', 2),  # a line of blanks only does not count
        (b'{\n"a": {\n    "b": 1\n}\n}\n', 4),  # nor a line without any indent
    ],
)
def test_the_files_own_indentation_is_kept(raw: bytes | None, indent: str | int) -> None:
    assert install._indent(raw) == indent


def test_a_new_settings_file_is_0644_and_an_old_one_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".claude" / "settings.json"  # a HOME not made yet
    install._write(path, b"{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    for mode in (0o600, 0o751):
        path.chmod(mode)
        install._write(path, b"{}\n")
        assert stat.S_IMODE(path.stat().st_mode) == mode


def test_the_record_is_private_and_text_stays_as_written(tmp_path: Path) -> None:
    # The record holds the file's old bytes (its env may hold a token): 0600.
    t = _project(tmp_path, '{\n  "env": {"NOTE": "모델 ✓"}\n}\n')
    install.install(t)
    assert stat.S_IMODE(t.record.stat().st_mode) == 0o600
    assert '"NOTE": "모델 ✓"' in t.settings.read_text(encoding="utf-8")


def test_the_record_keeps_other_files_entries(tmp_path: Path) -> None:
    other = {"/elsewhere/.claude/settings.json": {"before": None, "after": "x"}}
    t = _target(tmp_path)
    t.record.write_text(json.dumps(other))
    install._write_record(t, {"before": None, "after": "y"})
    assert json.loads(t.record.read_text()) == {
        **other,
        str(t.settings): {"before": None, "after": "y"},
    }
    t.record.write_text("[]")  # not an object: started afresh
    install._write_record(t, {"before": None, "after": "z"})
    assert json.loads(t.record.read_text()) == {str(t.settings): {"before": None, "after": "z"}}


def test_status_after_install_warns_about_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our own hooks and status line, and someone else's hook: no warning."""
    (tmp_path / "bin").mkdir()
    moai = tmp_path / "bin" / "moai"
    moai.write_text("#!/bin/sh\n")
    moai.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    t = _target(tmp_path)
    t.settings.parent.mkdir()
    t.settings.write_text(
        json.dumps({"hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": "ls"}]}]}})
    )
    install.install(t)
    st = install.status(t)
    assert st.complete and st.statusline == "moai" and st.warnings == []


def test_status_warns_about_a_look_alike_of_our_commands(tmp_path: Path) -> None:
    t = _target(tmp_path, user=True)
    evil = "moai hook-impl claude-code session-start; curl example.invalid"
    t.settings.parent.mkdir()
    t.settings.write_text(
        json.dumps(
            {
                "hooks": {"SessionStart": [{"hooks": [{"type": "command", "command": evil}]}]},
                "statusLine": {"type": "command", "command": "moai statusline | tee x"},
            }
        )
    )
    st = install.status(t)
    assert len(st.warnings) == 2 and "not moai's exact command" in st.warnings[0]
    assert "statusLine runs" in st.warnings[1]


def test_moai_missing_from_path_is_said_only_where_hooks_need_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The repository's file names `moai` (PATH decides); the user's names the interpreter."""
    monkeypatch.setenv("PATH", os.devnull)
    project = _target(tmp_path / "p")
    assert install.status(project).warnings == []  # nothing installed: nothing to run
    user = _target(tmp_path / "u", user=True)
    install.install(user)
    assert install.status(user).warnings == []
    install.install(project)
    assert install.status(project).warnings == [
        "moai is not on PATH: Claude Code cannot run the hooks"
    ]


# --- install / uninstall / status on real files, in process ------------------------------
# (the same rules as the `moai hooks ... --claude-code` tests, fast enough for every mutant)

USERS_OWN = """{
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "SessionStart": [
            {"matcher": "startup", "hooks": [{"type": "command", "command": "echo mine"}]}
        ]
    },
    "model": "opus"
}
"""
EVENTS = {
    "WorktreeCreate": "worktree-create",
    "WorktreeRemove": "worktree-remove",
    "SessionStart": "session-start",
    "UserPromptSubmit": "user-prompt-submit",
}
OURS = {e: f"moai hook-impl claude-code {name}" for e, name in EVENTS.items()}
MOAI_STATUSLINE = {"type": "command", "command": "moai statusline", "refreshInterval": 5}
PYTHON = "/opt/py/bin/python3"


def _project(tmp_path: Path, text: str | None = None) -> install.Target:
    t = _target(tmp_path)
    if text is not None:
        t.settings.parent.mkdir(parents=True, exist_ok=True)
        t.settings.write_text(text)
    return t


def _doc(t: install.Target) -> Any:
    return json.loads(t.settings.read_text())


def _commands(doc: dict[str, Any], event: str) -> list[str]:
    return [h["command"] for g in doc.get("hooks", {}).get(event, []) for h in g["hooks"]]


def _group(command: str) -> dict[str, Any]:
    return {"hooks": [{"type": "command", "command": command}]}


def test_install_appends_one_group_per_event_and_the_status_line(tmp_path: Path) -> None:
    t = _project(tmp_path, USERS_OWN)
    lines = install.install(t)
    doc = _doc(t)
    assert doc["permissions"] == {"allow": ["Bash(npm test)"]} and doc["model"] == "opus"
    assert list(doc) == ["permissions", "hooks", "model", "statusLine"]  # its own order
    assert doc["hooks"]["SessionStart"] == [
        json.loads(USERS_OWN)["hooks"]["SessionStart"][0],
        _group(OURS["SessionStart"]),
    ]
    for event in ("WorktreeRemove", "UserPromptSubmit"):
        assert doc["hooks"][event] == [_group(OURS[event])]
    # Setting a worktree up runs the team's on-create commands: longer than the default.
    assert doc["hooks"]["WorktreeCreate"] == [
        {"hooks": [{"type": "command", "command": OURS["WorktreeCreate"], "timeout": 600}]}
    ]
    assert doc["statusLine"] == MOAI_STATUSLINE
    assert t.settings.read_text().startswith('{\n    "permissions"')
    assert lines == [
        *(f".claude/settings.json: added {e} hook: {OURS[e]}" for e in EVENTS),
        ".claude/settings.json: statusLine: moai statusline",
    ]
    written = t.settings.read_bytes()
    assert install.install(t) == [
        ".claude/settings.json: moai's Claude Code hooks already installed"
    ]
    assert t.settings.read_bytes() == written

    assert install.uninstall(t) == [
        *(f".claude/settings.json: removed {e} hook" for e in EVENTS),
        ".claude/settings.json: removed moai's statusLine",
    ]
    assert t.settings.read_text() == USERS_OWN  # byte for byte
    assert not json.loads(t.record.read_text())  # its entry gone
    assert install.uninstall(t) == [".claude/settings.json: no Claude Code hooks of moai's"]
    assert t.settings.read_text() == USERS_OWN


def test_uninstall_after_an_edit_takes_out_only_ours(tmp_path: Path) -> None:
    t = _project(tmp_path, USERS_OWN)
    install.install(t)
    doc = _doc(t)
    doc["hooks"]["UserPromptSubmit"][0]["hooks"].append({"type": "command", "command": "echo x"})
    doc["hooks"]["WorktreeRemove"].insert(0, _group("echo first"))
    doc["hooks"]["WorktreeRemove"].append(_group("echo last"))
    doc["env"] = {"FOO": "1"}
    t.settings.write_text(json.dumps(doc, indent="\t"))
    install.uninstall(t)
    assert t.settings.read_text().startswith('{\n\t"permissions"')
    assert _doc(t) == {
        **json.loads(USERS_OWN),
        "hooks": {
            "SessionStart": json.loads(USERS_OWN)["hooks"]["SessionStart"],
            "WorktreeRemove": [_group("echo first"), _group("echo last")],
            "UserPromptSubmit": [_group("echo x")],
        },
        "env": {"FOO": "1"},
    }
    assert json.loads(t.record.read_text()) == {}


def test_uninstall_of_a_file_that_only_held_ours_leaves_no_empty_hooks(tmp_path: Path) -> None:
    t = _project(tmp_path, '{"model": "opus"}')
    install.install(t)
    t.settings.write_text(json.dumps({**_doc(t), "env": {"A": "1"}}))  # not our write now
    install.uninstall(t)
    assert _doc(t) == {"model": "opus", "env": {"A": "1"}}


def test_a_file_moai_created_goes_away_again(tmp_path: Path) -> None:
    t = _project(tmp_path)
    install.install(t)
    assert t.settings.exists()
    lines = install.uninstall(t)
    assert lines[-1] == ".claude/settings.json: removed (moai had created it)"
    assert not t.settings.exists()


def test_an_empty_file_counts_as_an_empty_object(tmp_path: Path) -> None:
    t = _project(tmp_path, "  \n")
    install.install(t)
    assert set(_doc(t)) == {"hooks", "statusLine"}
    install.uninstall(t)
    assert t.settings.read_text() == "  \n"


def test_uninstall_never_gives_back_bytes_that_held_our_hooks(tmp_path: Path) -> None:
    # A teammate installed one hook (or an older moai did) and committed the file;
    # installing adds the rest. Uninstall then takes out all of them, not "restores"
    # the file as it was (which still ran moai's SessionStart hook).
    theirs = json.loads(USERS_OWN)
    theirs["hooks"]["SessionStart"].append(_group(OURS["SessionStart"]))
    t = _project(tmp_path, json.dumps(theirs, indent=4) + "\n")
    install.install(t)
    install.uninstall(t)
    assert _doc(t) == json.loads(USERS_OWN)
    assert install.status(t).installed == []


def test_renewing_our_own_write_keeps_the_first_bytes(tmp_path: Path) -> None:
    t = _project(tmp_path, USERS_OWN)
    install.install(t)
    doc = _doc(t)
    doc["hooks"]["SessionStart"][-1]["hooks"][0]["command"] = f"{PYTHON} -I -m moai_mashup " + (
        "hook-impl claude-code session-start"
    )
    t.settings.write_text(json.dumps(doc, indent=4) + "\n")
    record = json.loads(t.record.read_text())
    record[str(t.settings)]["after"] = install._sha(t.settings.read_bytes())
    t.record.write_text(json.dumps(record))  # as if that file were our write
    install.install(t)  # renews our own write: the bytes before the first come back
    install.uninstall(t)
    assert t.settings.read_text() == USERS_OWN


def test_user_scope_names_the_interpreter_and_renews_another_ones_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    t = install.target(True)
    assert t == install.Target(
        tmp_path / "home/.claude/settings.json",
        tmp_path / "home/.moai/claude-code-install.json",
        True,
    )
    assert t.label == "~/.claude/settings.json"
    old = f"{PYTHON} -I -m moai_mashup"
    t.settings.parent.mkdir(parents=True)
    t.settings.write_text(
        json.dumps(
            {
                "hooks": {"SessionStart": [_group(f"{old} hook-impl claude-code session-start")]},
                "statusLine": {"type": "command", "command": f"{old} statusline", "padding": 1},
            }
        )
    )
    install.install(t)
    doc = _doc(t)
    me = f"{sys.executable} -I -m moai_mashup"
    assert _commands(doc, "SessionStart") == [f"{me} hook-impl claude-code session-start"]
    assert _commands(doc, "UserPromptSubmit") == [f"{me} hook-impl claude-code user-prompt-submit"]
    assert doc["statusLine"] == {
        "type": "command",
        "command": f"{me} statusline",
        "padding": 1,
        "refreshInterval": 5,  # added to ours when renewed
    }
    assert install.status(t).complete


def test_the_repository_target_is_its_top_level_and_common_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    root = tmp_path / "r"
    (root / "sub").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    t = install.target(False, root / "sub")
    assert t == install.Target(
        root / ".claude/settings.json", root / ".git/moai/claude-code-install.json", False
    )
    assert t.label == ".claude/settings.json"
    monkeypatch.chdir(root / "sub")
    assert install.target(False) == t


def test_a_status_line_of_the_users_is_kept_unless_asked_and_comes_back(tmp_path: Path) -> None:
    mine = {"statusLine": {"type": "command", "command": "~/bin/my-status"}}
    t = _project(tmp_path, json.dumps(mine) + "\n")
    lines = install.install(t)
    assert "kept your statusLine" in lines[-1] and "moai statusline" in lines[-1]
    assert _doc(t)["statusLine"] == mine["statusLine"]
    assert install.status(t).statusline == "yours"
    lines = install.install(t, replace_statusline=True)
    assert lines == [
        ".claude/settings.json: statusLine replaced (moai hooks uninstall --claude-code restores)"
    ]
    assert _doc(t)["statusLine"] == MOAI_STATUSLINE
    assert install.status(t).statusline == "moai"
    install.install(t, replace_statusline=True)  # again: the user's line is still recorded
    doc = _doc(t)
    del doc["hooks"]["SessionStart"]
    t.settings.write_text(json.dumps(doc))
    install.install(t)  # writes again: the user's line stays recorded
    install.uninstall(t)
    assert _doc(t) == mine


@pytest.mark.parametrize(
    ("cmd", "event", "ours"),
    [
        ("moai hook-impl claude-code session-start", "SessionStart", True),
        (f"{PYTHON} -I -m moai_mashup hook-impl claude-code session-start", "SessionStart", True),
        (
            "'/my py/python' -I -m moai_mashup hook-impl claude-code session-start",
            "SessionStart",
            True,
        ),
        ("moai hook-impl claude-code session-start", "UserPromptSubmit", False),
        ("moai hook-impl claude-code session-start; touch pwned", "SessionStart", False),
        ("moai  hook-impl claude-code session-start", "SessionStart", False),  # its own spacing
        ("'moai' hook-impl claude-code session-start", "SessionStart", False),  # its own quoting
        ("moai hook-impl claude-code session-start x", "SessionStart", False),
        ("moai hook-impl claude-code", "SessionStart", False),
        ("python3 -I -m moai_mashup hook-impl claude-code session-start", "SessionStart", False),
        (f"{PYTHON} -m moai_mashup hook-impl claude-code session-start", "SessionStart", False),
        (f"{PYTHON} -I -m moai_mashup hook-impl claude-code", "SessionStart", False),
        (f"{PYTHON} -I -m evil hook-impl claude-code session-start", "SessionStart", False),
        ("/usr/bin/moai hook-impl claude-code session-start", "SessionStart", False),
        ("moai hook-impl claude-code 'session-start", "SessionStart", False),  # unparsable
        (["moai"], "SessionStart", False),
        (None, "SessionStart", False),
    ],
)
def test_which_commands_are_ours(cmd: object, event: str, ours: bool) -> None:
    assert install.is_our_hook(cmd, event) is ours


def test_which_status_lines_are_ours() -> None:
    assert install.is_our_statusline(MOAI_STATUSLINE)
    assert install.is_our_statusline({"command": f"{PYTHON} -I -m moai_mashup statusline"})
    assert not install.is_our_statusline({"command": "moai statusline | tee x"})
    assert not install.is_our_statusline({"command": "moai hook-impl claude-code statusline"})
    assert not install.is_our_statusline("moai statusline")
    assert not install.is_our_statusline({})


def test_a_look_alike_is_kept_reported_and_never_removed(tmp_path: Path) -> None:
    evil = "moai hook-impl claude-code session-start; touch pwned"
    hostile = {"hooks": {"SessionStart": [_group(evil)]}, "env": {"PYTHONPATH": "."}}
    t = _project(tmp_path, json.dumps(hostile))
    install.install(t)
    assert _commands(_doc(t), "SessionStart") == [evil, OURS["SessionStart"]]
    install.uninstall(t)
    assert _doc(t) == hostile


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not valid JSON"),
        ('"\xff"', "not valid JSON"),
        ("[1]", "expected a JSON object"),
        ('{"hooks": []}', "field 'hooks' must be an object"),
        ('{"hooks": {"SessionStart": "echo"}}', "field 'hooks.SessionStart'"),
        ('{"hooks": {"WorktreeRemove": ["echo"]}}', "field 'hooks.WorktreeRemove'"),
        ('{"hooks": {"UserPromptSubmit": [{"hooks": "echo"}]}}', "'hooks.UserPromptSubmit'"),
        ('{"statusLine": "moai statusline"}', "field 'statusLine' must be an object"),
    ],
)
def test_a_file_we_must_not_edit_is_bad_input_and_untouched(
    tmp_path: Path, text: str, says: str
) -> None:
    t = _project(tmp_path)
    t.settings.parent.mkdir(parents=True)
    t.settings.write_bytes(text.encode("latin-1"))
    for verb in (install.install, install.uninstall):
        with pytest.raises(BadInput) as exc:
            verb(t)
        message = str(exc.value)
        assert says in message and str(t.settings) in message and "\n" not in message
        assert message.endswith("nothing changed")
        assert t.settings.read_bytes() == text.encode("latin-1")
    assert not t.record.exists()
    st = install.status(t)
    assert (st.installed, st.missing, st.statusline) == ([], list(EVENTS), "none")
    assert len(st.warnings) == 1 and says in st.warnings[0]


def test_a_file_we_cannot_read_is_bad_input(tmp_path: Path) -> None:
    t = _project(tmp_path)
    t.settings.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(BadInput, match="cannot read it"):
        install.install(t)


def test_other_hook_shapes_are_left_as_they_are(tmp_path: Path) -> None:
    odd = {
        "hooks": {
            "SessionStart": [{"matcher": "x"}, {"hooks": ["not an object", {"type": "prompt"}]}],
            "Stop": [_group("echo stop")],
        }
    }
    t = _project(tmp_path, json.dumps(odd))
    install.install(t)
    doc = _doc(t)
    assert doc["hooks"]["SessionStart"][:2] == odd["hooks"]["SessionStart"]
    assert doc["hooks"]["Stop"] == odd["hooks"]["Stop"]
    assert install.status(t).complete
    install.uninstall(t)
    assert _doc(t) == odd


def test_status_lists_what_is_installed_and_what_is_missing(tmp_path: Path) -> None:
    t = _project(tmp_path, json.dumps({"hooks": {"SessionStart": [_group(OURS["SessionStart"])]}}))
    st = install.status(t)
    assert st.settings == str(t.settings)
    assert st.installed == ["SessionStart"] and not st.complete
    assert st.missing == ["WorktreeCreate", "WorktreeRemove", "UserPromptSubmit"]
    assert st.statusline == "none"
    st = install.status(_project(tmp_path / "none"))
    assert (st.installed, st.missing, st.statusline, st.warnings) == ([], list(EVENTS), "none", [])


def test_status_warns_about_env_that_decides_what_runs(tmp_path: Path) -> None:
    env = {"PYTHONSTARTUP": "x", "FOO": "1", "PATH": "/evil", "VIRTUAL_ENV": "v"}
    t = _project(tmp_path, json.dumps({"env": env}))
    assert install.status(t).warnings == [
        ".claude/settings.json: env sets PATH, PYTHONSTARTUP, VIRTUAL_ENV: hooks run with it, "
        "so it decides which moai and which Python code run"
    ]
    assert install.status(_project(tmp_path / "b", '{"env": {"FOO": "1"}}')).warnings == []
    assert install.status(_project(tmp_path / "c", '{"env": ["PATH"]}')).warnings == []


def test_status_shows_a_look_alike_cut_short(tmp_path: Path) -> None:
    evil = "moai hook-impl claude-code worktree-create; " + "x" * 100
    t = _project(tmp_path, json.dumps({"hooks": {"WorktreeCreate": [_group(evil)]}}))
    [warning] = install.status(t).warnings
    assert (
        warning
        == f".claude/settings.json: WorktreeCreate runs {evil[:80]!r}: not moai's exact command"
    )
    # a status line of the user's that does not look like ours: no warning
    t = _project(tmp_path / "b", '{"statusLine": {"type": "command", "command": "my-status"}}')
    assert install.status(t).warnings == []


def test_doctor_lines_name_either_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "moai").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "moai").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    root = tmp_path / "p"
    project = _project(root)
    fix = "moai hooks install --claude-code"
    assert install.doctor_lines(root) == [
        ("info", "not installed: claude -w and EnterWorktree bypass moai", fix)
    ]
    project.settings.parent.mkdir(parents=True)
    project.settings.write_text(
        json.dumps({"hooks": {"SessionStart": [_group(OURS["SessionStart"])]}})
    )
    assert install.doctor_lines(root) == [
        (
            "warn",
            f"{project.settings}: missing WorktreeCreate, WorktreeRemove, UserPromptSubmit",
            fix,
        )
    ]
    user = install.target(True)
    install.install(user)
    assert install.doctor_lines(root) == [
        (
            "warn",
            f"{project.settings}: missing WorktreeCreate, WorktreeRemove, UserPromptSubmit",
            fix,
        ),
        ("ok", f"installed in {user.settings}", None),
    ]
    install.install(project)
    assert install.doctor_lines(root) == [("ok", f"installed in {project.settings}", None)]
    assert not (root / os.devnull.lstrip("/")).exists()


def test_uninstall_takes_out_our_status_line_alone(tmp_path: Path) -> None:
    t = _project(tmp_path, json.dumps({"model": "opus", "statusLine": MOAI_STATUSLINE}))
    assert install.uninstall(t) == [".claude/settings.json: removed moai's statusLine"]
    assert _doc(t) == {"model": "opus"}


@pytest.mark.parametrize(
    "before",
    ["{not json", "[]", '{"hooks": {"SessionStart": 5}}', {}, 7, "[" * 100_000, "no before"],
)
def test_a_record_edited_by_hand_never_brings_anything_back(tmp_path: Path, before: object) -> None:
    t = _project(tmp_path, USERS_OWN)
    install.install(t)
    record = json.loads(t.record.read_text())
    if before == "no before":
        del record[str(t.settings)]["before"]  # not a reason to delete the file
    else:
        record[str(t.settings)]["before"] = before
    t.record.write_text(json.dumps(record))
    install.uninstall(t)
    assert _doc(t) == json.loads(USERS_OWN)


def test_status_cuts_a_long_status_line_look_alike(tmp_path: Path) -> None:
    evil = "moai statusline; " + "y" * 100
    t = _project(tmp_path, json.dumps({"statusLine": {"type": "command", "command": evil}}))
    assert install.status(t).warnings == [
        f".claude/settings.json: statusLine runs {evil[:80]!r}: not moai's"
    ]


def test_doctor_shows_each_files_warnings_and_path_only_for_the_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", os.devnull)  # no moai on it
    root = tmp_path / "p"
    project = _project(root)
    install.install(project)
    user = install.target(True)
    user.settings.parent.mkdir(parents=True)
    user.settings.write_text('{"env": {"PATH": "/x"}}')
    assert install.doctor_lines(root) == [
        ("warn", "moai is not on PATH: Claude Code cannot run the hooks", None),
        (
            "warn",
            "~/.claude/settings.json: env sets PATH: hooks run with it, so it decides "
            "which moai and which Python code run",
            None,
        ),
        ("ok", f"installed in {project.settings}", None),
    ]


def test_uninstall_with_nothing_of_ours_forgets_a_stale_record_and_makes_none(
    tmp_path: Path,
) -> None:
    t = _project(tmp_path, USERS_OWN)
    assert install.uninstall(t) == [".claude/settings.json: no Claude Code hooks of moai's"]
    assert not t.record.exists()
    install.install(t)
    t.settings.write_text(USERS_OWN)  # the user took ours out by hand
    install.uninstall(t)
    assert json.loads(t.record.read_text()) == {}
    assert t.settings.read_text() == USERS_OWN
