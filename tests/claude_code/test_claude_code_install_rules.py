"""claude_code/install.py in-process, on real files: the indentation kept, the
modes, the install record, what status warns about.

Each test here fails on a mutant of install.py that the `moai` subprocess tests
(tests/claude_code/test_claude_code_hooks.py) do not notice.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from moai_mashup.claude_code import install


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
    ],
)
def test_the_files_own_indentation_is_kept(raw: bytes | None, indent: str | int) -> None:
    assert install._indent(raw) == indent


def test_a_new_settings_file_is_0644_and_an_old_one_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "settings.json"
    install._write(path, b"{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    path.chmod(0o600)
    install._write(path, b"{}\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


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
