"""The prepared switch (githooks/fast.py): a backend switch without the engine, same result.

Each test settles a repository (the engine decides once, then every input and
the stamp are dated a minute back) and checks out with the real installed
hooks. The prepared switch keeps the stamp's date; the engine writes a new one
(2 s back), which is how a test tells the two paths apart. Timing is in
benchmarks/bench_checkout.py.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from tests.core_fixtures import ready_dir, record_path
from tests.gitrepo import (
    FAKE_KEY,
    GLM_JSON,
    LLM_YAML,
    OTHER_FAKE_KEY,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    make_repo,
    save_fake_key,
    settings,
    write,
)
from tests.hooks_support import (
    age,
    age_inputs,
    install,
    moai_lines,
    moai_written,
    modules_after_import,
    run_git,
)

STATE = Path(".git") / "moai"
USER_SETTINGS = (
    '{\r\n  "model": "opus",\r\n  "env": {"ANTHROPIC_BASE_URL": "https://proxy.example.invalid",'
    ' "MY_FLAG": "1"},\r\n  "permissions": {"allow": ["Bash(ls:*)"]}\r\n}\r\n'
)


def _settle(repo: Path, env: dict[str, str], home: Path) -> None:
    """Branches made, hooks in, the engine's stamp written on main, everything dated back."""
    install(repo, env)
    for branch in ("feature/SPEC-1", "feature/SPEC-2", "other"):
        run_git(repo, "branch", branch, env=env)
    # Twice: the first engine run may add moai's lines to info/exclude (an input).
    for branch in ("other", "main"):
        age_inputs(repo, home)
        (repo / STATE / "hook-stamp").unlink(missing_ok=True)
        run_git(repo, "checkout", "-q", branch, env=env)  # the engine decides: Claude
    assert (repo / STATE / "hook-stamp").exists()
    # The stamp and what the engine wrote, dated back too (a minute after the
    # inputs); the inputs themselves keep the ctime the stamp recorded.
    age(*moai_written(repo, home), seconds=59)


def _checkout(repo: Path, branch: str, env: dict[str, str]) -> tuple[bool, list[str]]:
    """Check out `branch`; (True when the prepared switch did it, moai's lines)."""
    stamp = repo / STATE / "hook-stamp"
    proc = run_git(repo, "checkout", "-q", branch, env=env)
    prepared = stamp.exists() and stamp.stat().st_mtime < time.time() - 30
    return prepared, moai_lines(proc.stderr)


def _files(repo: Path, env: dict[str, str]) -> tuple[bytes | None, bytes | None]:
    def read(path: Path) -> bytes | None:
        return path.read_bytes() if path.exists() else None

    return read(repo / SETTINGS), read(record_path(repo, env))


@pytest.fixture
def user_repo(repo: Path, env: dict[str, str], home: Path, keyed_home: str) -> Path:
    write(repo / SETTINGS, USER_SETTINGS)
    _settle(repo, env, home)
    return repo


def test_switches_both_ways_without_the_engine_and_restores_byte_for_byte(
    user_repo: Path, env: dict[str, str]
) -> None:
    repo = user_repo
    prepared, lines = _checkout(repo, "feature/SPEC-1", env)
    assert prepared
    assert lines == [
        "moai: this worktree now uses GLM (mode mashup + 'feature/SPEC-*' branch -> glm)"
    ]
    doc = settings(repo)
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert doc["env"]["ANTHROPIC_BASE_URL"] == "https://api.z.ai/api/anthropic"
    assert doc["env"]["MY_FLAG"] == "1" and doc["permissions"] == {"allow": ["Bash(ls:*)"]}
    glm_files = _files(repo, env)
    for _ in range(3):
        prepared, lines = _checkout(repo, "main", env)
        assert prepared
        assert lines == [
            "moai: this worktree now uses Claude (mode mashup + default branch 'main' -> claude)"
        ]
        assert (repo / SETTINGS).read_bytes().decode() == USER_SETTINGS
        assert not record_path(repo, env).exists()
        prepared, _ = _checkout(repo, "feature/SPEC-2", env)
        assert prepared and _files(repo, env) == glm_files
    # No-op checkouts stay silent, whichever path decides them.
    assert _checkout(repo, "feature/SPEC-1", env)[1] == []
    assert moai_status(repo, env) == ("glm", "glm")
    assert git(repo, "status", "--porcelain", env=env) == ""


def moai_status(repo: Path, env: dict[str, str]) -> tuple[str, str]:
    from tests.gitrepo import moai

    r = moai(repo, "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    return data["active_backend"], data["expected_backend"]


def test_same_files_as_the_engine(
    user_repo: Path, env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    """A twin repository where every switch goes to the engine ends with the same bytes."""
    twin = make_repo(tmp_path / "twin", env)
    write(twin / SETTINGS, USER_SETTINGS)
    install(twin, env)
    for branch in ("feature/SPEC-1", "feature/SPEC-2"):
        run_git(twin, "branch", branch, env=env)
    for branch in ("feature/SPEC-1", "main", "feature/SPEC-2", "main", "feature/SPEC-1"):
        prepared, _ = _checkout(user_repo, branch, env)
        assert prepared
        for ready in ready_dir(twin, env).glob("*"):
            ready.unlink()  # the twin never has a prepared switch
        run_git(twin, "checkout", "-q", branch, env=env)
        assert _files(user_repo, env) == _files(twin, env), branch


def test_key_rotated_on_claude_reaches_the_next_glm_switch(
    user_repo: Path, env: dict[str, str], home: Path
) -> None:
    save_fake_key(home, OTHER_FAKE_KEY)
    prepared, _ = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(user_repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == OTHER_FAKE_KEY


def test_template_edited_on_claude_reaches_the_next_glm_switch(
    user_repo: Path, env: dict[str, str]
) -> None:
    text = (user_repo / GLM_JSON).read_text()
    write(user_repo / GLM_JSON, text.replace('"glm-4.7"', '"glm-5"', 1))
    prepared, _ = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(user_repo)["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "glm-5"


def test_hand_edit_on_claude_is_kept_by_the_engine(user_repo: Path, env: dict[str, str]) -> None:
    """Same size, same second as the stamp: only the content tells, and it does."""
    path = user_repo / SETTINGS
    edited = USER_SETTINGS.replace("Bash(ls:*)", "Bash(cd:*)")
    before = path.stat()
    path.write_text(edited, newline="")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    prepared, _ = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(user_repo)["permissions"] == {"allow": ["Bash(cd:*)"]}
    run_git(user_repo, "checkout", "-q", "main", env=env)
    assert path.read_bytes().decode() == edited


def test_a_torn_ready_file_goes_to_the_engine(user_repo: Path, env: dict[str, str]) -> None:
    ready = ready_dir(user_repo, env) / "glm.settings"
    before = ready.stat()
    ready.write_bytes(ready.read_bytes()[:-10])
    os.utime(ready, ns=(before.st_atime_ns, before.st_mtime_ns))
    prepared, _ = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(user_repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_ready_files_are_private_and_helper_mode_keeps_the_key_out(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + "  credential_mode: helper\n")
    git(repo, "commit", "-qam", "helper mode", env=env)
    _settle(repo, env, home)
    ready = ready_dir(repo, env)
    assert stat.S_IMODE(ready.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(ready.parent.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(ready.stat().st_mode) == 0o700
    files = sorted(ready.iterdir())
    assert [f.name for f in files] == ["glm.record", "glm.settings"]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        assert FAKE_KEY.encode() not in f.read_bytes()
    prepared, _ = _checkout(repo, "feature/SPEC-1", env)
    assert prepared
    assert stat.S_IMODE((repo / SETTINGS).stat().st_mode) == 0o600
    assert FAKE_KEY not in (repo / SETTINGS).read_text()
    assert settings(repo)["apiKeyHelper"]


def test_prepared_glm_file_is_kept_out_of_git_without_a_gitignore(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    (repo / ".gitignore").unlink()
    git(repo, "commit", "-qam", "no gitignore", env=env)
    _settle(repo, env, home)
    prepared, _ = _checkout(repo, "feature/SPEC-1", env)
    assert prepared
    assert git(repo, "status", "--porcelain", env=env) == ""


def test_no_key_means_no_prepared_switch_and_a_clear_line(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    _settle(repo, env, home)
    assert not (ready_dir(repo, env) / "glm.settings").exists()
    proc = run_git(repo, "checkout", "-q", "feature/SPEC-1", env=env)
    assert any("key" in line.lower() for line in moai_lines(proc.stderr)), proc.stderr
    assert (
        not (repo / SETTINGS).exists()
        or "ANTHROPIC_AUTH_TOKEN" not in (repo / SETTINGS).read_text()
    )


def test_hook_fast_imports_nothing_heavy() -> None:
    # core.backends: the presets table, which only the engine needs
    heavy = (
        "json",
        "pathlib",
        "re",
        "typing",
        "moai_mashup.githooks.engine",
        "moai_mashup.core.backends",
    )
    assert modules_after_import("moai_mashup.githooks.fast", heavy) == []


def test_modes_that_never_switch_prepare_nothing(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML.replace("mashup", "claude-only"))
    git(repo, "commit", "-qam", "claude-only", env=env)
    _settle(repo, env, home)
    assert not (ready_dir(repo, env) / "glm.settings").exists()
    save_fake_key(home, OTHER_FAKE_KEY)  # not an input of a claude-only stamp
    assert _checkout(repo, "other", env) == (True, [])  # the shim's no-op: stamp kept


def test_uninstall_forgets_every_prepared_switch(
    user_repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    from tests.gitrepo import moai

    linked = tmp_path / "linked"
    run_git(user_repo, "worktree", "add", "-q", str(linked), "feature/SPEC-2", env=env)
    run_git(linked, "checkout", "-q", "-b", "feature/SPEC-3", env=env)  # engine: stamp + ready
    linked_state = Path(git(linked, "rev-parse", "--absolute-git-dir", env=env).strip()) / "moai"
    assert (linked_state / "hook-stamp").exists() and ready_dir(linked, env).is_dir()
    readies = [ready_dir(user_repo, env), ready_dir(linked, env)]
    r = moai(user_repo, "hooks", "uninstall", env=env)
    assert r.returncode == 0, r.stderr
    for state in (user_repo / STATE, linked_state):
        assert not (state / "hook-stamp").exists() and not (state / "ready").exists()
    for ready in readies:  # the records stay: they say what to take out of the settings
        assert not ready.exists() and ready.parent.is_dir()


def test_a_copied_repository_never_switches_the_original(
    user_repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(user_repo, copy, symlinks=True)
    before = _files(user_repo, env)
    run_git(copy, "checkout", "-q", "feature/SPEC-1", env=env)
    assert _files(user_repo, env) == before
    assert settings(copy)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY  # the engine did it
    # GIT_WORK_TREE elsewhere: that work tree is switched, not the repository's own.
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    elsewhere = dict(env, GIT_DIR=str(user_repo / ".git"), GIT_WORK_TREE=str(deploy))
    run_git(deploy, "checkout", "-q", "-f", "feature/SPEC-2", env=elsewhere)
    assert _files(user_repo, env)[0] == before[0]
    assert settings(deploy)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_settings_file_tracked_meanwhile_goes_to_the_engine_which_refuses(
    user_repo: Path, env: dict[str, str]
) -> None:
    git(user_repo, "add", "-f", SETTINGS, env=env)
    prepared, lines = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert any("tracked by git" in line for line in lines), lines
    assert FAKE_KEY not in (user_repo / SETTINGS).read_text()


def test_key_file_made_readable_by_others_goes_to_the_engine_which_refuses(
    user_repo: Path, env: dict[str, str], home: Path
) -> None:
    (home / ".moai" / ".env.glm").chmod(0o644)  # mtime unchanged: only the ctime tells
    prepared, lines = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert any("readable" in line for line in lines), lines
    assert FAKE_KEY not in (user_repo / SETTINGS).read_text()


def test_reinstalled_engine_plans_afresh(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path
) -> None:
    """Helper mode names the interpreter: a prepared file from another one is not used."""
    import re
    import sys

    write(repo / LLM_YAML, SEED_LLM_YAML + "  credential_mode: helper\n")
    git(repo, "commit", "-qam", "helper mode", env=env)
    _settle(repo, env, home)
    other_venv = tmp_path / "newvenv" / "bin"
    other_venv.mkdir(parents=True)
    (other_venv / "python").symlink_to(os.path.realpath(sys.executable))
    hook = repo / ".git" / "hooks" / "post-checkout"
    python = other_venv / "python"
    hook.write_text(
        re.sub(r"^MOAI_PYTHON=.*$", f"MOAI_PYTHON={python}", hook.read_text(), flags=re.M)
    )
    prepared, _ = _checkout(repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(repo)["apiKeyHelper"].startswith(f"{python} ")


def test_new_key_forgets_the_prepared_files(user_repo: Path, env: dict[str, str]) -> None:
    from tests.gitrepo import moai

    ready = ready_dir(user_repo, env) / "glm.settings"
    assert ready.exists() and FAKE_KEY.encode() not in ready.read_bytes()
    r = moai(user_repo, "glm", "--set-key", env=env, input=OTHER_FAKE_KEY)
    assert r.returncode == 0, r.stderr
    assert not ready.exists() and not (user_repo / STATE / "hook-stamp").exists()
    assert settings(user_repo).get("env", {}).get("ANTHROPIC_AUTH_TOKEN") is None  # still Claude
    prepared, _ = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(user_repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == OTHER_FAKE_KEY


def test_a_record_changed_by_anyone_else_goes_to_the_engine(
    user_repo: Path, env: dict[str, str]
) -> None:
    """The settings file as the stamp says, the ownership record not: no prepared switch.

    (The record is checked under the lock alone: the settings file's own last
    check right before the rename does not look at it.)
    """
    assert _checkout(user_repo, "feature/SPEC-1", env)[0]
    path = record_path(user_repo, env)
    before = path.stat()
    path.write_text(json.dumps(json.loads(path.read_text()), indent=1))  # same record, new bytes
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    prepared, _ = _checkout(user_repo, "main", env)
    assert not prepared
    assert (user_repo / SETTINGS).read_bytes().decode() == USER_SETTINGS


def _hook_env(
    monkeypatch: pytest.MonkeyPatch, repo: Path, env: dict[str, str], branch: str
) -> None:
    """This process as git runs the post-checkout hook in `repo`, for hook_fast in-process."""
    for name in list(os.environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MOAI_HOOK_STATE", str(repo / STATE))
    monkeypatch.setenv("MOAI_HOOK_BRANCH", branch)
    monkeypatch.chdir(repo)


def _switch_in_process(repo: Path, env: dict[str, str]) -> bool:
    from moai_mashup.githooks import fast as hook_fast

    head = git(repo, "rev-parse", "HEAD", env=env).strip()
    return hook_fast.prepared_switch([head, head, "1"])


def test_prepared_switch_in_process(
    user_repo: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness of the next test: called as the hook calls it, the switch is taken."""
    _hook_env(monkeypatch, user_repo, env, "feature/SPEC-1")
    assert _switch_in_process(user_repo, env)
    assert settings(user_repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_a_write_landing_after_the_locked_check_is_kept(
    user_repo: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code (which takes no lock of ours) writes the settings file after the
    check under the lock, while the record is written: the switch backs off.

    The other writer runs at exactly that moment: a trace function writes the
    file when hook_fast returns from writing the record.
    """
    import sys

    from moai_mashup.githooks import fast as hook_fast

    _hook_env(monkeypatch, user_repo, env, "feature/SPEC-1")
    theirs = USER_SETTINGS.replace('"opus"', '"sonnet"')

    def other_writer(frame: Any, event: str, arg: Any) -> Any:
        if event != "return":
            return other_writer
        (user_repo / SETTINGS).write_text(theirs, newline="")
        return None

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if (
            event == "call"
            and frame.f_code is hook_fast._write.__code__
            and str(frame.f_locals["path"]).endswith("ownership.json")
        ):
            return other_writer
        return None

    sys.settrace(tracer)
    try:
        taken = _switch_in_process(user_repo, env)
    finally:
        sys.settrace(None)
    assert not taken
    assert (user_repo / SETTINGS).read_bytes().decode() == theirs
    # The engine, deciding afresh, switches with their change in.
    run_git(user_repo, "checkout", "-q", "feature/SPEC-1", env=env)
    doc = settings(user_repo)
    assert doc["model"] == "sonnet" and doc["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_an_input_dated_exactly_like_the_stamp_is_unchanged(
    user_repo: Path, env: dict[str, str]
) -> None:
    """`file` inputs must not be newer than the stamp: the same time is not newer.

    (The stamp is dated like its newest input; an input itself cannot be
    re-dated without changing its ctime, which the stamp also checks.)
    """
    path = user_repo / STATE / "hook-stamp"
    live = {str(user_repo / SETTINGS), str(record_path(user_repo, env))}
    lines = path.read_text().splitlines()
    inputs = [ln[5:] for ln in lines if ln.startswith("file ") and ln[5:] not in live]
    newest = max(os.stat(p).st_mtime_ns for p in inputs)
    os.utime(path, ns=(newest, newest))
    prepared, _ = _checkout(user_repo, "feature/SPEC-1", env)
    assert prepared


def _stamp(repo: Path) -> tuple[Path, list[str]]:
    path = repo / STATE / "hook-stamp"
    return path, path.read_text().splitlines()


@pytest.mark.parametrize(
    ("old", "flag", "branch"),
    [
        ("head", "0", "main"),  # a file checkout: HEAD did not move
        ("0" * 40, "1", "main"),  # a new worktree or clone
        ("head", "1", ""),  # detached HEAD: the backend stays
        ("head", None, "main"),  # not post-checkout's three arguments
    ],
)
def test_checkouts_that_are_not_a_branch_switch_go_to_the_engine(
    user_repo: Path,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    old: str,
    flag: str | None,
    branch: str,
) -> None:
    """The shim sends none of these to Python today; the prepared switch declines them
    anyway (on GLM, where `main` or a branch-less `other` would switch)."""
    from moai_mashup.githooks import fast as hook_fast

    assert _checkout(user_repo, "feature/SPEC-1", env)[0]
    _hook_env(monkeypatch, user_repo, env, branch)
    head = git(user_repo, "rev-parse", "HEAD", env=env).strip()
    args = [head if old == "head" else old, head] + ([flag] if flag else [])
    before, stamp = _files(user_repo, env), _stamp(user_repo)[1]
    assert not hook_fast.prepared_switch(args)
    assert _files(user_repo, env) == before and _stamp(user_repo)[1] == stamp


def test_a_deleted_key_file_goes_to_the_engine(
    user_repo: Path, env: dict[str, str], home: Path
) -> None:
    """An input that is gone (here the key file): the engine decides, and writes no key."""
    key_file = home / ".moai" / ".env.glm"
    assert any(line == f"file {key_file}" for line in _stamp(user_repo)[1])
    key_file.unlink()
    prepared, lines = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert any("key" in line.lower() for line in lines), lines
    assert FAKE_KEY not in (user_repo / SETTINGS).read_text()


def test_an_edit_its_ctime_does_not_show_is_seen_by_its_mtime(
    user_repo: Path, env: dict[str, str]
) -> None:
    """A filesystem with whole-second times: an input edited in the same second as
    its last change keeps its ctime, but is newer than the stamp (dated back).

    Simulated: the template is edited, and the stamp's `ctime` line for it updated.
    """
    template = user_repo / GLM_JSON
    write(template, template.read_text().replace('"glm-4.7"', '"glm-5"', 1))
    path, lines = _stamp(user_repo)
    before = path.stat()
    ctime = f"ctime {template.stat().st_ctime_ns} {template}"
    lines = [
        ctime if ln.endswith(f" {template}") and ln.startswith("ctime ") else ln for ln in lines
    ]
    assert ctime in lines
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    prepared, _ = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(user_repo)["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "glm-5"


def test_after_prepared_switches_the_shim_decides_the_next_no_op(
    user_repo: Path, env: dict[str, str]
) -> None:
    """The stamp a prepared switch writes lists the live files as they are now
    (`file` or `none`), so the shim can confirm a no-op on either backend."""
    for branch, no_op in (("feature/SPEC-1", "feature/SPEC-2"), ("main", "other")):
        assert _checkout(user_repo, branch, env)[0]
        assert _checkout(user_repo, no_op, env) == (True, [])


def test_a_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    """Any error between the temp file and the rename removes the temp file."""
    from moai_mashup.githooks import fast as hook_fast

    target = tmp_path / "settings.local.json"
    target.mkdir()
    (target / "x").write_text("")  # a directory (not empty) where the file goes
    from moai_mashup.errors import BadInput

    with pytest.raises((OSError, BadInput)):  # a folder there: refused before the temp file
        hook_fast._write(str(target), b"{}\n", (0, 0))
    assert [p.name for p in tmp_path.iterdir()] == ["settings.local.json"]


def test_a_users_file_gets_its_mode_back_on_the_prepared_switch(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    path = write(repo / SETTINGS, USER_SETTINGS)
    path.chmod(0o644)
    _settle(repo, env, home)
    assert _checkout(repo, "feature/SPEC-1", env)[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _checkout(repo, "main", env)[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_mode_set_in_the_environment_since_goes_to_the_engine(
    user_repo: Path, env: dict[str, str]
) -> None:
    prepared, _ = _checkout(user_repo, "feature/SPEC-1", dict(env, MOAI_LLM_MODE="claude-only"))
    assert not prepared
    assert FAKE_KEY not in (user_repo / SETTINGS).read_text()


def test_no_file_before_glm_means_no_file_after_the_prepared_switch_back(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    _settle(repo, env, home)
    assert _checkout(repo, "feature/SPEC-1", env)[0]
    assert _checkout(repo, "main", env)[0]
    assert not (repo / SETTINGS).exists()


def test_no_switch_needed_is_left_alone(
    repo: Path,
    env: dict[str, str],
    home: Path,
    keyed_home: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A checkout to a branch on the backend already applied (here Claude, with no
    settings file: nothing to prepare for it either) is no switch."""
    _settle(repo, env, home)
    _hook_env(monkeypatch, repo, env, "other")
    stamp = _stamp(repo)[1]
    assert not _switch_in_process(repo, env)
    assert capsys.readouterr().err == ""
    assert _stamp(repo)[1] == stamp and _files(repo, env) == (None, None)


def test_the_lock_file_is_private_when_the_switch_makes_it(
    user_repo: Path, env: dict[str, str]
) -> None:
    lock = user_repo / STATE / "settings.lock"
    lock.unlink()
    assert _checkout(user_repo, "feature/SPEC-1", env)[0]
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_a_settings_file_made_a_link_since_goes_to_the_engine(
    user_repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """The same content, now behind a link (a dotfiles manager moved it out of the
    worktree): the engine looks where it leads, and refuses to put the key there."""
    path = user_repo / SETTINGS
    target = write(tmp_path / "dotfiles" / "settings.local.json", path.read_text())
    path.unlink()
    path.symlink_to(target)
    prepared, lines = _checkout(user_repo, "feature/SPEC-1", env)
    assert not prepared
    assert any("symbolic link" in line for line in lines), lines
    assert path.is_symlink() and FAKE_KEY not in target.read_text()
    assert not record_path(user_repo, env).exists()  # nothing written at all


def test_the_prepared_switch_writes_its_own_files_private(
    user_repo: Path, env: dict[str, str]
) -> None:
    assert _checkout(user_repo, "feature/SPEC-1", env)[0]
    for path in (record_path(user_repo, env), user_repo / STATE / "hook-stamp"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_record_goes_only_after_the_file_without_our_keys(
    user_repo: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switching back to Claude: the settings file loses our keys before the record
    goes (a crash in between leaves a stale record, never keys no record knows)."""
    import sys

    from moai_mashup.githooks import fast as hook_fast

    assert _checkout(user_repo, "feature/SPEC-1", env)[0]
    _hook_env(monkeypatch, user_repo, env, "main")
    seen: list[str] = []

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if (
            event == "call"
            and frame.f_code is hook_fast._write.__code__
            and str(frame.f_locals["path"]).endswith("ownership.json")
            and frame.f_locals["data"] is None
        ):
            seen.append((user_repo / SETTINGS).read_text())
        return None

    sys.settrace(tracer)
    try:
        taken = _switch_in_process(user_repo, env)
    finally:
        sys.settrace(None)
    assert taken and len(seen) == 1
    assert FAKE_KEY not in seen[0]


def test_the_stamps_state_lines_give_each_backend_its_mode() -> None:
    from moai_mashup.githooks.stamp import Stamp

    stamp = Stamp("moai-hook-stamp 4\nstate glm a b\nstate claude c d 755\nend\n")
    assert stamp.ok and stamp.modes == {"glm": 0o600, "claude": 0o755}
    assert not Stamp("moai-hook-stamp 4\nstate glm a b\n").ok  # torn: no `end` line


def test_a_stamp_the_prepared_switch_cannot_read_goes_to_the_engine(
    user_repo: Path, env: dict[str, str]
) -> None:
    """Any error in the prepared switch (here a `ctime` line that is no number): the
    engine decides, the checkout succeeds, no traceback."""
    path, lines = _stamp(user_repo)
    before = path.stat()
    path.write_text("\n".join(["ctime not-a-number /nowhere", *lines]) + "\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    proc = run_git(user_repo, "checkout", "-q", "feature/SPEC-1", env=env, check=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert settings(user_repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_an_empty_settings_file_goes_to_the_engine(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    """An empty file may be an editor's save half done: never switched over by the
    prepared switch, the engine decides (here: the file is old, so it is empty)."""
    write(repo / SETTINGS, "")
    _settle(repo, env, home)
    prepared, _ = _checkout(repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY


def test_a_rebase_ending_on_a_branch_takes_the_prepared_switch(
    user_repo: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """post-rewrite after a rebase: the branch checked out at its end, as a checkout."""
    from moai_mashup.githooks import fast as hook_fast

    _hook_env(monkeypatch, user_repo, env, "feature/SPEC-1")
    stamp = user_repo / STATE / "hook-stamp"
    before = stamp.stat().st_mtime_ns
    assert hook_fast.run(["post-rewrite", "rebase"]) == 0
    assert settings(user_repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert stamp.stat().st_mtime_ns == before  # the prepared switch's stamp, not the engine's


def test_no_prepared_state_for_the_target_is_no_switch(
    repo: Path, env: dict[str, str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key, so nothing prepared for GLM: the prepared switch declines (the engine
    then says what is missing)."""
    _settle(repo, env, home)
    assert not any(line.startswith("state glm ") for line in _stamp(repo)[1])
    _hook_env(monkeypatch, repo, env, "feature/SPEC-1")
    assert not _switch_in_process(repo, env)


def test_only_a_rebase_is_read_as_a_checkout_after_post_rewrite(
    user_repo: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An amend stays where it is: no switch, even where the backend differs."""
    from moai_mashup.githooks import fast as hook_fast

    _hook_env(monkeypatch, user_repo, env, "feature/SPEC-1")
    before = _files(user_repo, env)
    assert hook_fast.run(["post-rewrite", "amend"]) == 0
    assert _files(user_repo, env) == before


def test_a_write_landing_before_the_file_is_removed_is_kept(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back to Claude where there was no file before GLM: the file goes, unless another
    writer (Claude Code, no lock of ours) wrote it since the check under the lock."""
    import sys

    from moai_mashup.githooks import fast as hook_fast

    _settle(repo, env, home)
    assert _checkout(repo, "feature/SPEC-1", env)[0]
    _hook_env(monkeypatch, repo, env, "main")
    theirs = '{"model": "sonnet"}\n'

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        if (
            event == "call"
            and frame.f_code is hook_fast._write.__code__
            and str(frame.f_locals["path"]).endswith("settings.local.json")
        ):
            (repo / SETTINGS).write_text(theirs)
        return None

    sys.settrace(tracer)
    try:
        taken = _switch_in_process(repo, env)
    finally:
        sys.settrace(None)
    assert not taken
    assert (repo / SETTINGS).read_text() == theirs


def test_prepared_files_are_taken_only_from_the_private_folders(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, tmp_path: Path
) -> None:
    """The prepared switch reads its files from ~/.moai/worktrees only, whatever the
    stamp names: a stamp sending it elsewhere (files there matching its digests) is
    left to the engine, which switches and writes a stamp of its own."""
    _settle(repo, env, home)
    ready = ready_dir(repo, env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for path in ready.iterdir():
        (elsewhere / path.name).write_bytes(path.read_bytes())
    stamp = repo / STATE / "hook-stamp"
    before = stamp.stat()
    text = stamp.read_text()
    assert f"\nready-dir {ready}\n" in text
    stamp.write_text(text.replace(f"\nready-dir {ready}\n", f"\nready-dir {elsewhere}\n"))
    os.utime(stamp, ns=(before.st_atime_ns, before.st_mtime_ns))
    prepared, _ = _checkout(repo, "feature/SPEC-1", env)
    assert not prepared
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert f"\nready-dir {ready}\n" in stamp.read_text()  # the engine's own stamp
