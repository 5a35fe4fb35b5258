"""`moai shell-init`: the printed function, run in a real shell, cds where `moai` says."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.gitrepo import MOAI
from tests.tty_support import need

SCRIPT = {
    # each prints the directory after every step, one per line
    "bash": """eval "$(moai shell-init bash)"
cd "$REPO"
moai worktree create SPEC-SH1 >/dev/null 2>&1; echo "create rc=$? pwd=$PWD"
cd "$REPO"
moai worktree go SPEC-SH1; echo "go rc=$? pwd=$PWD"
moai worktree go SPEC-NOPE 2>/dev/null; echo "bad rc=$? pwd=$PWD"
moai worktree remove SPEC-SH1 >/dev/null; echo "remove rc=$? pwd=$PWD"
""",
    "fish": """moai shell-init fish | source
cd $REPO
moai worktree create SPEC-SH1 >/dev/null 2>&1; echo "create rc=$status pwd=$PWD"
cd $REPO
moai worktree go SPEC-SH1; echo "go rc=$status pwd=$PWD"
moai worktree go SPEC-NOPE 2>/dev/null; echo "bad rc=$status pwd=$PWD"
moai worktree remove SPEC-SH1 >/dev/null; echo "remove rc=$status pwd=$PWD"
""",
}
SCRIPT["zsh"] = SCRIPT["bash"].replace("shell-init bash", "shell-init zsh")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_wrapper_cds_on_create_go_and_remove(
    shell: str, repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    exe = need(shell)
    tmpdir = repo.parent / "tmp"
    tmpdir.mkdir()
    env = dict(env, REPO=str(repo), TMPDIR=str(tmpdir), PATH=f"{Path(MOAI).parent}:{env['PATH']}")
    r = subprocess.run(
        [exe, "-c", SCRIPT[shell]], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    wt = home / "worktrees" / "project" / "SPEC-SH1"
    assert r.stdout.splitlines() == [
        f"create rc=0 pwd={wt}",
        f"go rc=0 pwd={wt}",
        f"bad rc=2 pwd={wt}",  # a failed command leaves the shell where it was
        f"remove rc=0 pwd={repo}",  # removing the worktree you stand in takes you home
    ]
    assert list(tmpdir.iterdir()) == [], "the wrapper removes its temp file"


def test_unknown_shell_is_bad_input(repo: Path, env: dict[str, str]) -> None:
    r = subprocess.run([MOAI, "shell-init", "tcsh"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "tcsh" in r.stderr


def test_cd_file_only_written_when_it_exists(
    repo: Path, env: dict[str, str], tmp_path: Path, keyed_home: str
) -> None:
    target = tmp_path / "not-made-by-a-wrapper"
    env = dict(env, MOAI_CD_FILE=str(target))
    r = subprocess.run(
        [MOAI, "worktree", "create", "SPEC-CD1"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert not target.exists()
