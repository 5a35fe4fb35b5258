"""The shim's no-Python fast path: taken when nothing changed, never when something did.

Each test settles a repository (the engine's stamp written, every input dated
a minute back), then points the installed shim at a missing interpreter: a
checkout that reaches for Python now says "hook skipped", one that the shim
decides alone stays silent. Timing stays out of here (benchmarks/).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core_fixtures import record_path
from tests.gitrepo import (
    FAKE_KEY,
    GLM_JSON,
    LLM_LOCAL_YAML,
    LLM_YAML,
    OTHER_FAKE_KEY,
    SEED_LLM_YAML,
    SETTINGS,
    save_fake_key,
    settings,
    write,
)
from tests.hooks_support import (
    age,
    age_inputs,
    break_engine,
    hook_path,
    install,
    run_git,
    took_slow_path,
)

Checkout = Callable[..., bool]
CLAUDE_PAIR = ("main", "other")
GLM_PAIR = ("feature/SPEC-1", "feature/SPEC-2")


def _settle(repo: Path, env: dict[str, str], home: Path, pair: tuple[str, str]) -> Checkout:
    install(repo, env)
    for branch in (*CLAUDE_PAIR, *GLM_PAIR):
        if branch != "main":
            run_git(repo, "branch", branch, env=env)
    run_git(repo, "checkout", "-q", pair[0], env=env)
    age_inputs(repo, home)
    (repo / ".git" / "moai" / "hook-stamp").unlink()
    run_git(repo, "checkout", "-q", pair[1], env=env)  # the engine decides, writes the stamp
    assert (repo / ".git" / "moai" / "hook-stamp").exists()
    break_engine(hook_path(repo))

    def checkout(branch: str, **extra_env: str) -> bool:
        """Check out `branch`; True when the shim had to reach for Python."""
        proc: subprocess.CompletedProcess[str] = run_git(
            repo, "checkout", "-q", branch, env=dict(env, **extra_env)
        )
        return took_slow_path(proc)

    return checkout


@pytest.fixture
def claude_pair(repo: Path, env: dict[str, str], home: Path, keyed_home: str) -> Checkout:
    return _settle(repo, env, home, CLAUDE_PAIR)


@pytest.fixture
def glm_pair(repo: Path, env: dict[str, str], home: Path, keyed_home: str) -> Checkout:
    checkout = _settle(repo, env, home, GLM_PAIR)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    return checkout


def test_no_op_checkouts_stay_in_the_shim(claude_pair: Checkout) -> None:
    assert not claude_pair("main")
    assert not claude_pair("other")
    assert not claude_pair("main")


def test_no_op_between_glm_branches_stays_in_the_shim(glm_pair: Checkout) -> None:
    assert not glm_pair("feature/SPEC-1")
    assert not glm_pair("feature/SPEC-2")


def test_switching_backend_goes_to_the_engine(claude_pair: Checkout) -> None:
    assert claude_pair("feature/SPEC-1")


def test_file_checkout_and_detached_head_stay_in_the_shim(
    claude_pair: Checkout, repo: Path, env: dict[str, str]
) -> None:
    write(repo / "README.md", "edited\n")
    proc = run_git(repo, "checkout", "--", "README.md", env=env)
    assert not took_slow_path(proc)
    assert not claude_pair("feature/SPEC-1^0")  # detached, even on a GLM commit


def test_llm_yaml_edit_invalidates(claude_pair: Checkout, repo: Path) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML.replace("mashup", "glm-only"))
    assert claude_pair("main")


def test_llm_local_yaml_created_invalidates(claude_pair: Checkout, repo: Path) -> None:
    write(repo / LLM_LOCAL_YAML, "llm:\n  mode: glm-only\n")
    assert claude_pair("main")


def test_file_renamed_into_place_with_old_mtime_invalidates(
    claude_pair: Checkout, repo: Path, tmp_path: Path
) -> None:
    elsewhere = write(tmp_path / "llm.local.yaml", "llm:\n  mode: glm-only\n")
    age(elsewhere, seconds=3600)
    os.rename(elsewhere, repo / LLM_LOCAL_YAML)  # keeps its hour-old mtime
    assert claude_pair("main")


def test_mode_env_override_invalidates(claude_pair: Checkout) -> None:
    assert claude_pair("main", MOAI_LLM_MODE="glm-only")


def test_settings_edit_and_deletion_invalidate(glm_pair: Checkout, repo: Path) -> None:
    text = (repo / SETTINGS).read_text()
    write(repo / SETTINGS, text.replace("glm-4.7", "hand-edited"))
    assert glm_pair("feature/SPEC-1")
    age_inputs(repo, repo.parent / "home")
    (repo / SETTINGS).unlink()
    assert glm_pair("feature/SPEC-2")


def test_ownership_record_removed_invalidates(
    glm_pair: Checkout, repo: Path, env: dict[str, str]
) -> None:
    record_path(repo, env).unlink()
    assert glm_pair("feature/SPEC-1")


def test_key_change_invalidates_on_glm(glm_pair: Checkout, home: Path) -> None:
    save_fake_key(home, OTHER_FAKE_KEY)
    assert glm_pair("feature/SPEC-1")


def test_key_change_invalidates_on_claude_too(claude_pair: Checkout, home: Path) -> None:
    """On Claude the stamp also vouches for the prepared GLM switch, which holds the key."""
    save_fake_key(home, OTHER_FAKE_KEY)
    assert claude_pair("main")


def test_template_edit_invalidates(glm_pair: Checkout, repo: Path) -> None:
    text = (repo / GLM_JSON).read_text()
    write(repo / GLM_JSON, text.replace('"glm-4.7"', '"glm-5"', 1))
    assert glm_pair("feature/SPEC-1")


def test_trust_change_and_home_change_invalidate(
    glm_pair: Checkout, home: Path, tmp_path: Path
) -> None:
    write(home / ".moai" / "trust.json", '{"entries": []}\n')
    assert glm_pair("feature/SPEC-1")
    assert glm_pair("feature/SPEC-2", HOME=str(tmp_path / "elsewhere"))


def test_key_from_environment_disables_the_fast_path(
    repo: Path, env: dict[str, str], home: Path
) -> None:
    env = dict(env, GLM_API_KEY=FAKE_KEY)
    install(repo, env)
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-1", env=env)
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert not (repo / ".git" / "moai" / "hook-stamp").exists()


def test_after_invalidation_the_engine_applies_the_change(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    """Not only "slow path taken": the result is right (template edit reaches settings)."""
    _settle(repo, env, home, GLM_PAIR)
    install(repo, env)  # a working engine again
    age_inputs(repo, home)
    text = (repo / GLM_JSON).read_text()
    write(repo / GLM_JSON, text.replace('"glm-4.7"', '"glm-5"', 1))
    run_git(repo, "checkout", "-q", "feature/SPEC-1", env=env)
    assert settings(repo)["env"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "glm-5"


def _commit(repo: Path, env: dict[str, str]) -> bool:
    """Commit a change; True when a trailer hook reached for Python."""
    write(repo / "notes.txt", f"{time.time()}\n")
    run_git(repo, "add", "notes.txt", env=env)
    proc = run_git(repo, "commit", "-q", "--no-verify", "-m", "note", env=env)
    return took_slow_path(proc)


@pytest.mark.parametrize("trailer", [False, True])
def test_commit_without_trailer_stays_in_the_shim(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str, trailer: bool
) -> None:
    """prepare-commit-msg and commit-msg read the stamp too: no trailer, no Python."""
    policy = "  policy:\n    commit_trailer: {}\n"
    write(repo / LLM_YAML, SEED_LLM_YAML + policy.format(str(trailer).lower()))
    run_git(repo, "commit", "-qam", "policy", env=env)
    _settle(repo, env, home, CLAUDE_PAIR)
    for hook_type in ("prepare-commit-msg", "commit-msg"):
        break_engine(hook_path(repo, hook_type))
    assert _commit(repo, env) is trailer
    write(repo / LLM_YAML, SEED_LLM_YAML + policy.format("true"))
    assert _commit(repo, env)  # the stamp no longer vouches: Python decides


def test_commit_in_an_unconfigured_repository_stays_in_the_shim(
    repo: Path, env: dict[str, str]
) -> None:
    install(repo, env)
    (repo / LLM_YAML).unlink()
    run_git(repo, "commit", "-qam", "no moai here", env=env)
    for hook_type in ("prepare-commit-msg", "commit-msg"):
        break_engine(hook_path(repo, hook_type))
    assert not _commit(repo, env)
