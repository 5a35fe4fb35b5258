"""The files `moai cost` and `moai route` read and write besides the transcripts: the
committed GLM template, each worktree's settings and its phase record. A link to
/dev/zero, a FIFO or a link leading out of the git dir costs one line, never a hang,
the machine's memory, or a write outside."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cost.bounded import run_moai
from tests.costkit import assistant, repo_with_worktree, write_session
from tests.gitrepo import GLM_JSON, git


def test_a_committed_glm_json_linked_to_dev_zero_is_not_read_forever(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    (main / GLM_JSON).unlink()
    (main / GLM_JSON).symlink_to("/dev/zero")
    git(main, "commit", "-qam", "glm.json is a link", env=env)
    write_session(home, main, "s-1", [assistant(cwd=main, branch="main", msg_id="msg_1")])
    r = run_moai(main, "cost", "--json", env=env, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["total"]["responses"] == 1
    assert r.peak_mib < 100


def test_a_fifo_as_the_phase_record_is_one_line_not_a_hang(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    (main / ".git" / "moai").mkdir(exist_ok=True)
    os.mkfifo(main / ".git" / "moai" / "phase")
    write_session(home, main, "s-1", [assistant(cwd=main, branch="main", msg_id="msg_1")])
    r = run_moai(main, "cost", "--json", env=env, timeout=30)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.count("\n") == 1 and "phase: a FIFO" in r.stderr, r.stderr


def test_route_never_appends_through_a_link_leaving_the_git_dir(
    tmp_path: Path, env: dict[str, str]
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    outside = tmp_path / "outside.txt"
    outside.write_text("not moai's\n")
    state = main / ".git" / "moai"
    state.mkdir(exist_ok=True)
    (state / "phase").symlink_to(outside)
    r = run_moai(main, "route", "plan", "--apply", env=env, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "link leading outside" in r.stderr, r.stderr
    assert outside.read_text() == "not moai's\n"
