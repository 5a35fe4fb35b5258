"""`moai init --backend NAME`: a preset written into a new llm.yaml with the routes that
put SPEC worktrees on it, its key asked for (hidden); a name it cannot use refused with
one line and nothing written."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from moai_mashup.config import load_config
from tests.core_fixtures import assert_unchanged, snapshot
from tests.gitrepo import (
    FAKE_KEY,
    GLM_JSON,
    LLM_YAML,
    MOAI,
    SEED_LLM_YAML,
    git,
    make_repo,
    moai,
    settings,
    write,
)
from tests.names_support import DS_KEY, DS_URL, save_backend_key
from tests.tty_support import Tmux


@pytest.fixture
def bare(tmp_path: Path, env: dict[str, str]) -> Path:
    """A repository with one commit and no moai files."""
    return make_repo(tmp_path / "fresh", env, llm_yaml=None, glm_json=None)


@pytest.fixture
def term(tmp_path: Path) -> Iterator[list[Tmux]]:
    started: list[Tmux] = []
    yield started
    for t in started:
        t.close()


def init(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`moai init` with no terminal on stdin: it never asks."""
    return subprocess.run(
        [MOAI, "init", "--no-hooks", "--no-claude-code", "--no-claude-commands", *args],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("mode", "routes"),
    [
        ("mashup", [("feature/SPEC-*", "deepseek"), ("*", "claude")]),
        ("glm-only", [("*", "deepseek")]),
    ],
)
def test_a_preset_goes_into_a_new_llm_yaml_with_the_routes_of_the_mode(
    bare: Path, env: dict[str, str], mode: str, routes: list[tuple[str, str]]
) -> None:
    r = init(bare, env, "--backend", "deepseek", "--mode", mode)
    assert r.returncode == 0, r.stderr
    assert not (bare / GLM_JSON).exists()  # no branch goes to GLM: no template
    cfg = load_config(bare)
    assert cfg.mode == mode and list(cfg.backends) == ["deepseek"]
    assert cfg.backends["deepseek"].preset == "deepseek"
    assert [(line.branch, line.backend) for line in cfg.routes] == routes
    # no key, no terminal: the next step says how to give it
    assert "moai key set deepseek   # your DeepSeek key, saved in ~/.moai/.env.deepseek" in r.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--backend", "lab"), "--backend lab: not a preset (zai, zai-china, deepseek"),
        (("--backend", "Lab!"), "--backend Lab!: 'Lab!' is not a backend name"),
        (("--backend", "claude"), "--backend claude: Claude needs no backend"),
        (("--backend", "deepseek", "--mode", "claude-only"), "mode claude-only puts every branch"),
    ],
)
def test_a_name_a_new_repository_cannot_use_is_refused_and_nothing_written(
    bare: Path, env: dict[str, str], args: tuple[str, ...], said: str
) -> None:
    before = snapshot(bare)
    r = init(bare, env, *args)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert r.stderr.count("\n") == 1 and said in r.stderr, r.stderr
    assert_unchanged(before, snapshot(bare))


def test_with_llm_yaml_there_the_name_must_be_one_of_its_backends(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    before = snapshot(repo)
    r = init(repo, env, "--backend", "deepseek")
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert f"no backend 'deepseek' in {LLM_YAML}; choose one of claude, glm" in r.stderr
    assert_unchanged(before, snapshot(repo))
    write(repo / LLM_YAML, SEED_LLM_YAML + "  backends:\n    ds: {preset: deepseek}\n")
    git(repo, "commit", "-qam", "ds", env=env)
    r = init(repo, env, "--backend", "ds")
    assert r.returncode == 0, r.stderr
    # llm.yaml is never rewritten: the table still sends no branch to ds, and init says so
    assert "the routing table in" in r.stderr and "sends no branch to ds" in r.stderr
    assert "llm.routes" in r.stderr


def test_in_a_terminal_it_asks_for_the_backends_key_hidden(
    bare: Path, env: dict[str, str], home: Path, tmp_path: Path, term: list[Tmux]
) -> None:
    argv = [MOAI, "init", "--backend", "deepseek", "--no-hooks", "--no-claude-code"]
    t = Tmux(tmp_path, [*argv, "--no-claude-commands"], bare, env)
    term.append(t)
    t.wait_for("Mode (claude-only, mashup, glm-only) [mashup]:")
    t.send("Enter")
    t.wait_for("No DeepSeek key found. Paste your DeepSeek API key (hidden; Enter to skip,")
    t.wait_for("DeepSeek API key:")
    t.send(FAKE_KEY, literal=True)
    t.send("Enter")
    screen = t.wait_for("[exit 0]")
    assert FAKE_KEY not in screen, "the key was echoed"
    assert f"saved DeepSeek key {FAKE_KEY[:4]}…{FAKE_KEY[-4:]}" in screen
    key_file = home / ".moai" / ".env.deepseek"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() == (
        f'MOAI_DEEPSEEK_API_KEY="{FAKE_KEY}"\nMOAI_DEEPSEEK_BASE_URL="{DS_URL}"\n'
    )
    assert not (home / ".moai" / ".env.glm").exists()  # GLM's key is not asked for
    assert "moai key set" not in screen.split("next:")[-1]
    r = moai(bare, "init", "--backend", "deepseek", "--no-key", env=env)
    assert r.returncode == 0 and "nothing to do" in r.stdout, r.stderr


def test_a_spec_branch_goes_to_the_backend_init_set_up(
    bare: Path, env: dict[str, str], home: Path
) -> None:
    save_backend_key(home, "deepseek", DS_KEY)
    r = init(bare, env, "--backend", "deepseek", "--hooks")
    assert r.returncode == 0, r.stderr
    assert (
        f"key:         deepseek: {DS_KEY[:4]}…{DS_KEY[-4:]} from ~/.moai/.env.deepseek" in r.stdout
    )
    assert "moai worktree create SPEC-X   # or: git checkout -b feature/SPEC-X; DeepSeek there" in (
        r.stdout
    )
    git(bare, "add", "-A", env=env)
    git(bare, "commit", "-qm", "moai-mashup", env=env)
    git(bare, "checkout", "-q", "-b", "feature/SPEC-X", env=env)
    block = settings(bare)["env"]
    assert block["ANTHROPIC_BASE_URL"] == DS_URL and block["ANTHROPIC_AUTH_TOKEN"] == DS_KEY
    git(bare, "checkout", "-q", "main", env=env)
    assert settings(bare).get("env", {}).get("ANTHROPIC_BASE_URL") is None
