"""`moai cost` in its common forms skips click (moai_mashup.entry): the same output,
errors and exit codes as the click command; anything else is click's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moai_mashup.cost_run import Options, fast_options
from tests.costkit import (
    BRANCH,
    SPEC,
    assistant,
    install_fixtures,
    repo_with_worktree,
    write_session,
)
from tests.gitrepo import moai

CLICK_PATH = "import sys; from moai_mashup.cli import main; sys.argv[0] = 'moai'; main()"
ENTRY_PROBE = (
    "import atexit, sys; from moai_mashup.entry import main; sys.argv[0] = 'moai'\n"
    "atexit.register(lambda: sys.stderr.write(f'click imported: {\"click\" in sys.modules}'))\n"
    "main()"
)


def _run(cwd: Path, env: dict[str, str], code: str, *argv: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _entry(cwd: Path, env: dict[str, str], *argv: str) -> tuple[tuple[int, str, str], bool]:
    """What the entry prints and exits with, and whether it imported click."""
    code, out, err = _run(cwd, env, ENTRY_PROBE, *argv)
    assert err.endswith(("click imported: False", "click imported: True")), err
    clicked = err.endswith("True")
    return (code, out, err.removesuffix(f"click imported: {clicked}")), clicked


FAST = [
    ["cost"],
    ["cost", "--json"],
    ["cost", "--csv", "--by", "model"],
    ["cost", "--by=day", "--json", "--since", "2026-11-01", "--until=2026-11-30"],
    ["cost", "--spec", SPEC, "--json"],
    ["cost", "--json", "--claude-tier", "opus", "--claude-model", "opus=claude-opus-5"],
    ["cost", "--claude-model", "sonnet=a", "--claude-model", "sonnet=b", "--json"],
    # bad input the command itself refuses: the same line and exit code
    ["cost", "--since", "last tuesday"],
    ["cost", "--json", "--csv"],
    ["cost", "--spec", "../x"],
    ["cost", "--since", "2026-11-03", "--until", "2026-11-01"],
    ["cost", "--claude-model", "opus"],
    ["cost", "--since", ""],
]
CLICKS = [
    ["cost", "--help"],
    ["cost", "-h"],
    ["cost", "--by", "nope"],  # click's usage error
    ["cost", "--claude-tier", "big"],
    ["cost", "--json", "--json"],
    ["cost", "--since", "--json"],  # click takes "--json" as the date
    ["cost", "--since"],
    ["cost", "--json=1"],
    ["cost", "extra"],
    ["cost", "--prices"],
    ["cost", "--grafana-dashboard"],
    ["cost", "--"],
]


def test_common_forms_skip_click_and_say_what_click_says(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, wt = repo_with_worktree(tmp_path, env)
    install_fixtures(home, main, wt)
    write_session(home, wt, "s-extra", [assistant(cwd=wt, branch=BRANCH, msg_id="msg_x")])
    for argv in FAST:
        fast, clicked = _entry(main, env, *argv)
        assert not clicked, argv
        assert fast == _run(main, env, CLICK_PATH, *argv), argv
    assert _entry(main, env, "cost", "--json")[0][0] == 0
    assert _entry(main, env, "cost", "--since", "x")[0][0] == 2
    r = moai(main, "cost", "--csv", env=env)  # the installed script goes the same way
    assert [r.returncode, r.stdout, r.stderr] == list(_run(main, env, CLICK_PATH, "cost", "--csv"))
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    fast, clicked = _entry(outside, env, "cost")
    assert not clicked and fast == _run(outside, env, CLICK_PATH, "cost")
    assert fast[0] == 2 and "not inside a git worktree" in fast[2]


def test_everything_else_is_clicks(tmp_path: Path, env: dict[str, str], home: Path) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    for argv in CLICKS:
        got, clicked = _entry(main, env, *argv)
        assert clicked, argv
        assert got == _run(main, env, CLICK_PATH, *argv), argv
    help_text = _entry(main, env, "cost", "--help")[0]
    assert help_text[0] == 0 and "--claude-model TIER=MODEL" in help_text[1]


def test_an_escape_in_a_model_name_is_stripped_as_click_strips_it(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    """click.echo drops terminal codes from output that is not a terminal; so does the
    entry (it hands such text to click)."""
    main, _wt = repo_with_worktree(tmp_path, env)
    rec = assistant(cwd=main, branch="main", msg_id="msg_e", model="glm-\x1b[31mred\x1b[0m")
    write_session(home, main, "s-esc", [rec])
    for argv in (["cost"], ["cost", "--csv", "--by", "model"]):
        fast, _ = _entry(main, env, *argv)
        assert fast == _run(main, env, CLICK_PATH, *argv)
        assert fast[0] == 0 and "glm-red" in fast[1] and "\x1b" not in fast[1]


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        ([], Options()),
        (["--json"], Options(as_json=True)),
        (["--by", "spec", "--csv"], Options(by="spec", as_csv=True)),
        (["--since=2026-01-01", "--spec", SPEC], Options(since="2026-01-01", spec_id=SPEC)),
        (["--since=-1"], Options(since="-1")),  # after `=` it is the value, as for click
        (["--claude-model", "a=b", "--claude-model=c=d"], Options(claude_models=("a=b", "c=d"))),
        (["--html", "r.html"], None),
        (["--by", "Phase"], None),
        (["--spec", SPEC, "--spec", SPEC], None),
        (["--until", "-x"], None),
        (["-h"], None),
    ],
)
def test_fast_options(argv: list[str], options: Options | None) -> None:
    assert fast_options(argv) == options
