"""The git hook with backends beside GLM (llm.backends + llm.routes): each branch on
its backend, through the engine and through the prepared switch (githooks/fast.py),
with the real installed hooks.

The repository routes `exp/*` to kimi (preset moonshot), `feature/SPEC-*` to GLM,
`lab/*` and `gw/*` to custom endpoints, anything else to Claude.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.backends_support import (
    GW_KEY,
    KIMI_KEY,
    KIMI_URL,
    LAB_KEY,
    LAB_URL,
    TEAM,
    save_backend_key,
    use_backends,
)
from tests.core_fixtures import ready_dir, record_path
from tests.gitrepo import (
    FAKE_KEY,
    SETTINGS,
    git,
    make_repo,
    moai,
    settings,
    write,
)
from tests.hooks_support import (
    age,
    age_inputs,
    break_engine,
    hook_path,
    install,
    moai_lines,
    moai_written,
    run_git,
    took_slow_path,
)

STATE = Path(".git") / "moai"
# The user's own settings: their credentials, endpoint and a timeout kimi's profile
# sets too (GLM's template does not), CRLF.
USER = (
    '{\r\n  "model": "opus",\r\n  "env": {\r\n'
    '    "ANTHROPIC_BASE_URL": "https://proxy.example.invalid",\r\n'
    '    "ANTHROPIC_AUTH_TOKEN": "user-own-token-TESTONLY",\r\n'
    '    "API_TIMEOUT_MS": "5",\r\n'
    '    "MY_FLAG": "1"\r\n  }\r\n}\r\n'
)
KIMI_TIMEOUT = TEAM.replace(
    "kimi: {preset: moonshot}", "kimi: {preset: moonshot, env: {API_TIMEOUT_MS: '600000'}}"
)
BRANCHES = ("exp/a", "exp/b", "feature/SPEC-1", "feature/SPEC-2", "lab/one", "gw/one", "other")


@pytest.fixture
def brepo(repo: Path, env: dict[str, str], home: Path, keyed_home: str) -> Path:
    use_backends(repo, env, KIMI_TIMEOUT)
    save_backend_key(home, "kimi", KIMI_KEY)
    for branch in BRANCHES:
        run_git(repo, "branch", branch, env=env)
    install(repo, env)
    return repo


def _text(repo: Path) -> str:
    path = repo / SETTINGS
    return path.read_bytes().decode("utf-8") if path.exists() else ""


def _settle(repo: Path, env: dict[str, str], home: Path, branches: tuple[str, ...]) -> None:
    """The engine decides on each of `branches` in turn (the last one stays), then the
    stamp, what moai wrote and every input are dated back (tests/githooks/
    test_hooks_prepared.py does the same)."""
    for branch in branches:
        age_inputs(repo, home)
        (repo / STATE / "hook-stamp").unlink(missing_ok=True)
        run_git(repo, "checkout", "-q", branch, env=env)
    assert (repo / STATE / "hook-stamp").exists()
    age(*moai_written(repo, home), seconds=59)


def _checkout(repo: Path, branch: str, env: dict[str, str]) -> tuple[bool, list[str]]:
    """Check out `branch`; (True when the prepared switch did it, moai's lines)."""
    stamp = repo / STATE / "hook-stamp"
    proc = run_git(repo, "checkout", "-q", branch, env=env)
    prepared = stamp.exists() and stamp.stat().st_mtime < time.time() - 30
    return prepared, moai_lines(proc.stderr)


def test_each_branch_gets_its_backend_and_only_its_key(brepo: Path, env: dict[str, str]) -> None:
    repo = brepo
    write(repo / SETTINGS, USER)
    proc = run_git(repo, "checkout", "-q", "main", env=env)
    assert moai_lines(proc.stderr) == [] and _text(repo) == USER  # main: Claude

    lines = moai_lines(run_git(repo, "checkout", "-q", "feature/SPEC-1", env=env).stderr)
    assert lines == ["moai: this worktree now uses GLM (route 'feature/SPEC-*' (llm.yaml) -> glm)"]
    env_glm = settings(repo)["env"]
    assert env_glm["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert env_glm["ANTHROPIC_BASE_URL"] == "https://api.z.ai/api/anthropic"
    assert KIMI_KEY not in _text(repo) and env_glm["API_TIMEOUT_MS"] == "5"

    lines = moai_lines(run_git(repo, "checkout", "-q", "exp/a", env=env).stderr)
    assert lines == [
        "moai: this worktree now uses Kimi (Moonshot) (route 'exp/*' (llm.yaml) -> kimi)"
    ]
    env_kimi = settings(repo)["env"]
    assert env_kimi["ANTHROPIC_BASE_URL"] == KIMI_URL
    assert env_kimi["ANTHROPIC_AUTH_TOKEN"] == KIMI_KEY and env_kimi["ANTHROPIC_API_KEY"] == ""
    assert env_kimi["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "kimi-k3"
    assert env_kimi["API_TIMEOUT_MS"] == "600000" and env_kimi["MY_FLAG"] == "1"
    text = _text(repo)
    assert FAKE_KEY not in text and "user-own-token" not in text
    assert "api.z.ai" not in text

    # exp -> SPEC: kimi's timeout gives the user's own value back, GLM's keys go in.
    run_git(repo, "checkout", "-q", "feature/SPEC-2", env=env)
    env_glm = settings(repo)["env"]
    assert env_glm["API_TIMEOUT_MS"] == "5" and env_glm["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert KIMI_KEY not in _text(repo) and KIMI_URL not in _text(repo)
    run_git(repo, "checkout", "-q", "exp/b", env=env)
    run_git(repo, "checkout", "-q", "other", env=env)
    assert (repo / SETTINGS).read_bytes() == USER.encode()  # byte for byte
    assert not record_path(repo, env).exists()
    assert git(repo, "status", "--porcelain", env=env) == ""


def test_the_switch_between_glm_and_kimi_is_prepared_and_matches_the_engine(
    brepo: Path, env: dict[str, str], home: Path, tmp_path: Path
) -> None:
    repo = brepo
    write(repo / SETTINGS, USER)
    _settle(repo, env, home, ("feature/SPEC-1", "feature/SPEC-2", "feature/SPEC-1"))
    stamp = (repo / STATE / "hook-stamp").read_text()
    assert "moai-hook-stamp 4\n" in stamp
    key_lines = [line.split(" ")[:2] for line in stamp.splitlines() if line.startswith("key ")]
    assert key_lines == [["key", "glm"], ["key", "kimi"]]
    assert "state kimi " in stamp and "display kimi Kimi (Moonshot)" in stamp
    ready = sorted(p.name for p in ready_dir(repo, env).iterdir())
    assert ready == [
        "claude.settings",
        "glm.record",
        "glm.settings",
        "kimi.record",
        "kimi.settings",
    ]
    for f in ready_dir(repo, env).iterdir():  # no prepared file holds a key
        assert FAKE_KEY.encode() not in f.read_bytes() and KIMI_KEY.encode() not in f.read_bytes()

    twin = make_repo(tmp_path / "twin", env)
    use_backends(twin, env, KIMI_TIMEOUT)
    write(twin / SETTINGS, USER)
    install(twin, env)
    for branch in BRANCHES:
        run_git(twin, "branch", branch, env=env)
    run_git(twin, "checkout", "-q", "feature/SPEC-1", env=env)
    # Each switch to or from the backend the engine applied is prepared; between two
    # others only when planning one from the other gives the same bytes (here not
    # Claude -> kimi: kimi's keys would come in kimi's order, not GLM's): the engine.
    steps = [
        ("exp/a", True),
        ("feature/SPEC-2", True),
        ("exp/b", True),
        ("main", True),  # kimi -> Claude: the user's file, whatever came before
        ("exp/a", False),
        ("feature/SPEC-1", True),
        ("exp/b", True),
    ]
    for branch, expect_prepared in steps:
        prepared, lines = _checkout(repo, branch, env)
        assert prepared == expect_prepared, branch
        if not prepared:  # the engine wrote a new stamp: date what moai wrote back
            age(*moai_written(repo, home), seconds=59)
        if branch.startswith("exp/"):
            assert lines == [
                "moai: this worktree now uses Kimi (Moonshot) (route 'exp/*' (llm.yaml) -> kimi)"
            ]
            assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == KIMI_KEY
            assert FAKE_KEY not in _text(repo)
        for ready_file in ready_dir(twin, env).glob("*"):
            ready_file.unlink()  # the twin never has a prepared switch
        run_git(twin, "checkout", "-q", branch, env=env)
        for ours, theirs in (
            (repo / SETTINGS, twin / SETTINGS),
            (record_path(repo, env), record_path(twin, env)),
        ):
            assert ours.exists() == theirs.exists(), (branch, ours)
            if ours.exists():
                assert ours.read_bytes() == theirs.read_bytes(), (branch, ours)
    assert _checkout(repo, "exp/a", env) == (True, [])  # a no-op, in sh


def test_a_checkout_that_stays_on_kimi_runs_no_python(
    brepo: Path, env: dict[str, str], home: Path
) -> None:
    _settle(brepo, env, home, ("exp/a", "exp/b", "exp/a"))
    break_engine(hook_path(brepo))
    proc = run_git(brepo, "checkout", "-q", "exp/b", env=env)
    assert not took_slow_path(proc) and moai_lines(proc.stderr) == []
    assert settings(brepo)["env"]["ANTHROPIC_AUTH_TOKEN"] == KIMI_KEY
    save_backend_key(home, "kimi", "sk-fake-kimi-TESTONLY-1111")  # an input of kimi's state
    assert took_slow_path(run_git(brepo, "checkout", "-q", "exp/a", env=env))


def test_a_kimi_key_from_the_environment_is_never_prepared(
    brepo: Path, env: dict[str, str], home: Path
) -> None:
    (home / ".moai" / ".env.kimi").unlink()
    env = dict(env, MOAI_KIMI_API_KEY=KIMI_KEY, MOAI_KIMI_BASE_URL=KIMI_URL)
    _settle(brepo, env, home, ("feature/SPEC-1", "feature/SPEC-2", "feature/SPEC-1"))
    stamp = (brepo / STATE / "hook-stamp").read_text()
    assert "state kimi " not in stamp and "key kimi " not in stamp
    assert not (ready_dir(brepo, env) / "kimi.settings").exists()
    prepared, lines = _checkout(brepo, "exp/a", env)
    assert not prepared and any("Kimi (Moonshot)" in line for line in lines), lines
    assert settings(brepo)["env"]["ANTHROPIC_AUTH_TOKEN"] == KIMI_KEY
    assert FAKE_KEY not in _text(brepo)


def test_an_untrusted_custom_backend_stays_on_claude_until_trusted(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    only_lab = TEAM.replace("    gw:\n", "    gx:\n").replace("backend: gw}", "backend: gx}")
    only_lab = only_lab[: only_lab.index("    gx:")] + only_lab[only_lab.index("  routes:") :]
    only_lab = only_lab.replace('    - {branch: "gw/*", backend: gx}\n', "")
    use_backends(repo, env, only_lab)
    save_backend_key(home, "lab", LAB_KEY)
    save_backend_key(home, "gw", GW_KEY)
    install(repo, env)
    proc = run_git(repo, "checkout", "-q", "-b", "lab/one", env=env)
    lines = moai_lines(proc.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("moai: left this worktree on Claude: ")
    assert "llm.yaml" in lines[0] and "llm.backends.lab.base_url" in lines[0]
    assert "moai trust" in lines[0]
    assert LAB_KEY not in _text(repo)

    r = moai(repo, "trust", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    # which key goes where: the backend's own, masked, with the file it comes from
    masked = f"{LAB_KEY[:4]}…{LAB_KEY[-4:]}"
    assert f"send your 'lab' backend's key ({masked} from ~/.moai/.env.lab) to: {LAB_URL}" in (
        r.stdout
    )
    assert LAB_KEY not in r.stdout + r.stderr
    run_git(repo, "checkout", "-q", "main", env=env)
    lines = moai_lines(run_git(repo, "checkout", "-q", "lab/one", env=env).stderr)
    assert lines == ["moai: this worktree now uses Lab (route 'lab/*' (llm.yaml) -> lab)"]
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == LAB_KEY

    # A second custom backend, trusted on its own: lab's approval stays.
    run_git(repo, "checkout", "-q", "main", env=env)
    use_backends(repo, env, TEAM)
    listed = moai(repo, "trust", "--list", env=env).stdout
    assert f"trusted      url      lab: {LAB_URL}" in listed
    assert "needs trust  url      gw: https://gateway.example.invalid/anthropic" in listed
    # beside other backends, GLM's endpoint is named too
    assert "trusted      url      glm: https://api.z.ai/api/anthropic" in listed
    assert moai(repo, "trust", "--yes", env=env).returncode == 0
    data = json.loads(moai(repo, "trust", "--list", "--json", env=env).stdout)
    rows = {(i["backend"], i["trusted"]) for i in data["items"] if i["kind"] == "url"}
    assert rows == {("glm", True), ("lab", True), ("gw", True)}
    run_git(repo, "checkout", "-q", "-b", "gw/one", env=env)
    assert settings(repo)["env"]["ANTHROPIC_API_KEY"] == GW_KEY
    run_git(repo, "checkout", "-q", "lab/one", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == LAB_KEY
    assert GW_KEY not in _text(repo)


def test_helper_mode_on_kimi_prints_kimis_key_only(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    use_backends(repo, env, TEAM + "  credential_mode: helper\n")
    save_backend_key(home, "kimi", KIMI_KEY)
    install(repo, env)
    run_git(repo, "checkout", "-q", "-b", "exp/a", env=env)
    doc = settings(repo)
    assert KIMI_KEY not in _text(repo) and FAKE_KEY not in _text(repo)
    out = subprocess.run(
        ["/bin/sh", "-c", doc["apiKeyHelper"]], cwd=repo, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == KIMI_KEY + "\n"


def test_the_main_checkout_on_kimi_is_named_where_it_misroutes(
    brepo: Path, env: dict[str, str]
) -> None:
    """Claude Code 2.1.332 applies the main checkout's settings in linked worktrees
    (settings/main_checkout.py): on kimi, it puts the worktrees meant for GLM or
    Claude on kimi."""
    repo = brepo
    run_git(repo, "checkout", "-q", "other", env=env)  # main is free for a worktree
    on_main = repo.parent / "wt-main"
    run_git(repo, "worktree", "add", "-q", str(on_main), "main", env=env)
    proc = run_git(repo, "checkout", "-q", "exp/a", env=env)
    note = [line for line in moai_lines(proc.stderr) if "linked worktree" in line]
    assert note == [
        f"moai: 1 linked worktree(s) meant for Claude ({on_main}) get this checkout's "
        "Kimi (Moonshot) keys in Claude Code 2.1.332; fix: git checkout main "
        "(docs/claude-code.md#main-checkout-settings)"
    ]
    proc = run_git(on_main, "checkout", "-q", "feature/SPEC-1", env=env)
    assert (
        "moai: the main checkout is on Kimi (Moonshot), and Claude Code 2.1.332 reads its "
        ".claude/settings.local.json here too: this worktree will use Kimi (Moonshot); "
        "switch the main checkout to its default branch"
    ) in moai_lines(proc.stderr)


def test_no_key_for_the_next_provider_leaves_the_worktree_on_claude_not_on_the_last(
    brepo: Path, env: dict[str, str], home: Path
) -> None:
    """From GLM to a kimi branch with no kimi key: not left on GLM (the table does not
    send this branch there), but on Claude, with the one line saying what is missing."""
    (home / ".moai" / ".env.kimi").unlink()
    write(brepo / SETTINGS, USER)
    run_git(brepo, "checkout", "-q", "feature/SPEC-1", env=env)
    assert settings(brepo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    lines = moai_lines(run_git(brepo, "checkout", "-q", "exp/a", env=env).stderr)
    assert len(lines) == 1 and lines[0].startswith("moai: left this worktree on Claude: "), lines
    assert "no kimi key" in lines[0] and "moai key set kimi" in lines[0]
    assert (brepo / SETTINGS).read_bytes() == USER.encode()
    # From Claude, the same branch: nothing to leave, the line as for GLM's key.
    run_git(brepo, "checkout", "-q", "main", env=env)
    lines = moai_lines(run_git(brepo, "checkout", "-q", "exp/b", env=env).stderr)
    assert len(lines) == 1 and "no kimi key" in lines[0] and "left" not in lines[0], lines
    assert (brepo / SETTINGS).read_bytes() == USER.encode()
