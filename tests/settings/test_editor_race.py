"""An editor that saves by truncating and rewriting in place never loses its save to moai.

The editor is a real process: it truncates the settings file, pauses as a
slow save would, then writes its buffer into the same file (the same inode);
meanwhile `moai glm` or a `git checkout` through the installed hook switches
the worktree. Then the guard around the rename itself, with a writer that
strikes between moai's check and its rename.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from moai_mashup.files import replace_guarded
from tests.gitrepo import FAKE_KEY, SETTINGS, moai, settings, write
from tests.hooks_support import install, run_git

EDITOR = """
import os, sys, time
path, delay, text = sys.argv[1], float(sys.argv[2]), sys.argv[3]
fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # the save begins: the file is empty now
print("truncated", flush=True)
time.sleep(delay)
os.write(fd, text.encode())  # ...and ends, in the inode it opened
os.close(fd)
"""
BEFORE = '{\n  "model": "opus"\n}\n'
SAVED = '{\n  "model": "sonnet",\n  "env": {"MY_FLAG": "1"}\n}\n'


@pytest.mark.parametrize("via", ["moai glm", "git checkout"])
def test_a_save_in_progress_is_waited_for_not_lost(
    repo: Path, env: dict[str, str], keyed_home: str, via: str
) -> None:
    write(repo / SETTINGS, BEFORE)
    if via == "git checkout":
        install(repo, env)
        run_git(repo, "branch", "feature/SPEC-E1", env=env)
    editor = subprocess.Popen(
        [sys.executable, "-c", EDITOR, str(repo / SETTINGS), "1.2", SAVED],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert editor.stdout is not None and editor.stdout.readline().strip() == "truncated"
    if via == "moai glm":
        r = moai(repo, "glm", env=env)
        assert r.returncode == 0, r.stderr
    else:
        run_git(repo, "checkout", "-q", "feature/SPEC-E1", env=env)
    assert editor.wait(timeout=30) == 0
    doc = settings(repo)
    assert doc["model"] == "sonnet" and doc["env"]["MY_FLAG"] == "1", "the editor's save is there"
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY, "and the switch too"


def test_a_file_left_empty_is_planned_from_once_it_settled(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / SETTINGS, "")
    past = os.stat(repo / SETTINGS).st_mtime - 10
    os.utime(repo / SETTINGS, (past, past))
    r = moai(repo, "glm", env=env)
    assert r.returncode == 0, r.stderr
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_a_write_between_the_check_and_the_rename_is_put_back(tmp_path: Path) -> None:
    path = tmp_path / "settings.local.json"
    path.write_text(BEFORE)
    tmp = tmp_path / ".settings.local.json.1.tmp"
    tmp.write_text('{"env": {"ANTHROPIC_AUTH_TOKEN": "x"}}\n')

    def holds_then_editor_saves(data: bytes | None) -> bool:
        ok = data == BEFORE.encode()
        with open(path, "r+b") as fh:  # the editor's save lands right after moai looked
            fh.truncate(0)
            fh.write(SAVED.encode())
        return ok

    assert replace_guarded(str(tmp), str(path), holds_then_editor_saves) is False
    assert path.read_text() == SAVED, "the editor's file, with its save, is back"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.local.json"]
    # undisturbed: replaced, no leftovers
    tmp.write_text("{}\n")
    assert replace_guarded(str(tmp), str(path), lambda data: data == SAVED.encode())
    assert path.read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.local.json"]


def test_creating_never_replaces_a_file_another_writer_created_first(tmp_path: Path) -> None:
    path = tmp_path / "settings.local.json"
    tmp = tmp_path / ".settings.local.json.1.tmp"
    tmp.write_text("{}\n")

    def absent_then_created(data: bytes | None) -> bool:
        path.write_text(SAVED)  # created right after moai saw no file
        return data is None

    assert replace_guarded(str(tmp), str(path), absent_then_created) is False
    assert path.read_text() == SAVED and not tmp.exists()
    assert json.loads(path.read_text())["model"] == "sonnet"
