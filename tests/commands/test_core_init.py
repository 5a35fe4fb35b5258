"""`moai init`: writes the team config only if absent, never overwrites, ignores the
per-developer files; the seed's llm.yaml survives it and everything else byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

from moai_mashup.config import load_config
from moai_mashup.core.glm_template import DEFAULT_TEMPLATE
from tests.core_fixtures import assert_unchanged, snapshot
from tests.gitrepo import (
    GLM_JSON,
    LLM_LOCAL_YAML,
    LLM_YAML,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    make_repo,
    moai,
    write,
)


def _bare_project(tmp_path: Path, env: dict[str, str]) -> Path:
    repo = make_repo(tmp_path / "fresh", env, llm_yaml=None, glm_json=None)
    (repo / ".gitignore").unlink()
    git(repo, "commit", "-qam", "no gitignore", env=env)
    return repo


def test_init_writes_config_and_ignores_personal_files(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _bare_project(tmp_path, env)
    r = moai(repo, "init", env=env)
    assert r.returncode == 0, r.stderr
    assert f"wrote {LLM_YAML}" in r.stdout and f"wrote {GLM_JSON}" in r.stdout
    cfg = load_config(repo)
    assert (cfg.mode, cfg.mode_source, cfg.default_branch) == ("mashup", LLM_YAML, "main")
    assert cfg.warnings == ()
    assert json.loads((repo / GLM_JSON).read_text()) == DEFAULT_TEMPLATE
    for rel in (LLM_LOCAL_YAML, SETTINGS):
        write(repo / rel, "x: 1\n")
        assert git(repo, "check-ignore", rel, env=env).strip() == rel
    # the team files are meant to be committed: not ignored
    for rel in (LLM_YAML, GLM_JSON):
        assert git(repo, "check-ignore", rel, env=env, check=False) == ""
    git(repo, "add", "-A", env=env)
    staged = git(repo, "diff", "--cached", "--name-only", env=env).split()
    assert sorted(staged) == sorted([".gitignore", LLM_YAML, GLM_JSON])


def test_init_never_overwrites(repo: Path, env: dict[str, str]) -> None:
    custom_glm = '{"env": {"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic"}}\n'
    write(repo / GLM_JSON, custom_glm)
    before = snapshot(repo)
    r = moai(repo, "init", env=env)
    assert r.returncode == 0, r.stderr
    assert "nothing to do" in r.stdout
    assert_unchanged(before, snapshot(repo))
    assert (repo / LLM_YAML).read_text() == SEED_LLM_YAML


def test_init_twice_changes_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _bare_project(tmp_path, env)
    assert moai(repo, "init", env=env).returncode == 0
    before = snapshot(repo)
    r = moai(repo, "init", env=env)
    assert r.returncode == 0 and "nothing to do" in r.stdout
    assert_unchanged(before, snapshot(repo))


def test_init_keeps_gitignore_and_existing_ignores(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _bare_project(tmp_path, env)
    write(repo / ".gitignore", "node_modules/\n.claude/")  # no final newline; covers settings
    assert moai(repo, "init", env=env).returncode == 0
    text = (repo / ".gitignore").read_text()
    assert text.startswith("node_modules/\n.claude/\n")
    assert "/" + LLM_LOCAL_YAML in text
    assert "settings.local.json" not in text, "already ignored by .claude/"


def test_init_in_a_subdirectory_writes_at_the_top(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _bare_project(tmp_path, env)
    sub = repo / "src" / "pkg"
    sub.mkdir(parents=True)
    assert moai(sub, "init", env=env).returncode == 0
    assert (repo / LLM_YAML).exists() and not (sub / ".moai").exists()


def test_init_on_a_feature_branch_still_names_the_trunk(
    tmp_path: Path, env: dict[str, str]
) -> None:
    repo = _bare_project(tmp_path, env)
    git(repo, "checkout", "-q", "-b", "feature/SPEC-A1", env=env)
    assert moai(repo, "init", env=env).returncode == 0
    assert load_config(repo).default_branch == "main"


def test_init_names_master_when_that_is_the_trunk(tmp_path: Path, env: dict[str, str]) -> None:
    repo = _bare_project(tmp_path, env)
    git(repo, "branch", "-m", "main", "master", env=env)
    git(repo, "checkout", "-q", "-b", "topic", env=env)
    assert moai(repo, "init", env=env).returncode == 0
    assert load_config(repo).default_branch == "master"


def test_seed_config_round_trips_through_a_whole_session(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    """The seed's llm.yaml (and glm.json) are never rewritten by anything moai does."""
    team_files = {rel: (repo / rel).read_bytes() for rel in (LLM_YAML, GLM_JSON)}
    for args in (
        ("init",),
        ("status",),
        ("glm",),
        ("apply",),
        ("claude",),
        ("status", "--json"),
    ):
        assert moai(repo, *args, env=env).returncode == 0, args
    assert {rel: (repo / rel).read_bytes() for rel in team_files} == team_files
    assert git(repo, "status", "--porcelain", env=env) == ""
