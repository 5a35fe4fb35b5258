"""Config: llm.yaml (the seed's, unchanged), llm.local.yaml, $MOAI_LLM_MODE, policy locks,
unknown keys, bad input (one line, exit 2, nothing written) and the never-stale cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from moai_mashup.config import load_config
from tests.core_fixtures import (
    assert_unchanged,
    one_line,
    record_path,
    snapshot,
    status_json,
)
from tests.gitrepo import (
    GLM_JSON,
    LLM_LOCAL_YAML,
    LLM_YAML,
    SEED_GLM_JSON,
    SEED_LLM_YAML,
    SETTINGS,
    moai,
    write,
)

FULL_LLM_YAML = """\
llm:
  mode: glm-only
  glm_env_var: MY_GLM
  auto_worktree:
    enabled: false
    copy_glm_config: false
  default_branch: trunk
  spec_branch_pattern: "spec/*"
  credential_mode: helper
  worktree:
    root: "/tmp/wt/{project}"
    copy: [".env"]
    on_create: ["make setup"]
  policy:
    locked: [mode, credential_mode]
    enforce_locations: true
    plan_paths: ["docs/**"]
    require_backend_match: true
    commit_trailer: true
  pricing:
    glm-4.7: {input: 0.6, output: 2.2, cache_read: 0.11}
  telemetry:
    otlp_endpoint: https://otel.example.invalid:4318
    protocol: grpc
    resource_attributes: {team: platform}
"""


def test_seed_llm_yaml_loads_unchanged_with_defaults(repo: Path, env: dict[str, str]) -> None:
    before = (repo / LLM_YAML).read_bytes()
    cfg = load_config(repo)
    assert cfg.mode == "mashup"
    assert cfg.mode_source == LLM_YAML
    assert cfg.configured
    assert cfg.glm_env_var == "GLM_API_TOKEN"
    assert tuple(cfg.auto_worktree) == (True, True)
    # every field this project adds, with its documented default (docs/configuration.md)
    assert cfg.default_branch == "main"
    assert cfg.spec_branch_pattern == "feature/SPEC-*"
    assert cfg.credential_mode == "inline"
    assert cfg.worktree.root == "~/worktrees/{project}"
    assert cfg.worktree.copy == () and cfg.worktree.on_create == ()
    assert cfg.policy.locked == ()
    assert cfg.policy.enforce_locations is False
    assert cfg.policy.plan_paths == (".moai/specs/**", ".moai/config/**")
    assert cfg.policy.require_backend_match is False
    assert cfg.policy.commit_trailer is False
    assert cfg.pricing == {}
    assert cfg.warnings == ()
    r = moai(repo, "status", "--json", env=env)
    assert r.returncode == 0 and r.stderr == ""
    assert (repo / LLM_YAML).read_bytes() == before


def test_every_added_field_loads(repo: Path) -> None:
    write(repo / LLM_YAML, FULL_LLM_YAML)
    cfg = load_config(repo)
    assert (cfg.mode, cfg.glm_env_var, cfg.default_branch) == ("glm-only", "MY_GLM", "trunk")
    assert cfg.spec_branch_pattern == "spec/*" and cfg.credential_mode == "helper"
    assert tuple(cfg.auto_worktree) == (False, False)
    assert cfg.worktree == ("/tmp/wt/{project}", (".env",), ("make setup",))
    assert cfg.policy.locked == ("mode", "credential_mode")
    assert cfg.policy.enforce_locations and cfg.policy.require_backend_match
    assert cfg.policy.commit_trailer and cfg.policy.plan_paths == ("docs/**",)
    assert cfg.pricing == {
        "glm-4.7": {
            "input": 0.6,
            "output": 2.2,
            "cache_read": 0.11,
            "cache_write": None,
            "cache_write_1h": None,
        }
    }
    assert cfg.telemetry == (
        True,
        "https://otel.example.invalid:4318",
        "grpc",
        {"team": "platform"},
    )


def test_missing_llm_yaml_is_defaults_and_unconfigured(tmp_path: Path) -> None:
    cfg = load_config(tmp_path)
    assert (cfg.mode, cfg.mode_source, cfg.configured) == ("mashup", "default", False)


def test_empty_llm_block_means_defaults(repo: Path) -> None:
    write(repo / LLM_YAML, "llm:\n  # mode: glm-only\n")
    cfg = load_config(repo)
    assert (cfg.mode, cfg.mode_source, cfg.glm_env_var) == ("mashup", "default", "GLM_API_KEY")


def test_local_overrides_team_and_env_overrides_both(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_LOCAL_YAML, "llm:\n  mode: glm-only\n  auto_worktree:\n    enabled: false\n")
    cfg = load_config(repo)
    assert (cfg.mode, cfg.mode_source) == ("glm-only", LLM_LOCAL_YAML)
    # deep merge: the team's sibling key survives the local override
    assert tuple(cfg.auto_worktree) == (False, True)
    assert cfg.glm_env_var == "GLM_API_TOKEN"
    info = status_json(repo, env)
    assert (info["mode"], info["mode_source"]) == ("glm-only", LLM_LOCAL_YAML)

    info = status_json(repo, {**env, "MOAI_LLM_MODE": "claude-only"})
    assert (info["mode"], info["mode_source"]) == ("claude-only", "MOAI_LLM_MODE")


def test_locked_mode_refuses_local_and_env_override(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + "  policy:\n    locked: [mode]\n")
    write(repo / LLM_LOCAL_YAML, "llm:\n  mode: glm-only\n")
    r = moai(repo, "status", env=env)
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert LLM_LOCAL_YAML in line and "llm.mode" in line
    assert "locked" in line and LLM_YAML in line and "llm.policy.locked" in line

    (repo / LLM_LOCAL_YAML).unlink()
    r = moai(repo, "status", env={**env, "MOAI_LLM_MODE": "glm-only"})
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "MOAI_LLM_MODE" in line and LLM_YAML in line and "locked" in line

    # restating the team's own value is no override
    assert moai(repo, "status", env={**env, "MOAI_LLM_MODE": "mashup"}).returncode == 0
    # an unlocked field may still be overridden locally
    write(repo / LLM_LOCAL_YAML, "llm:\n  credential_mode: helper\n")
    assert load_config(repo).credential_mode == "helper"


def test_local_file_may_not_set_policy(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_LOCAL_YAML, "llm:\n  policy:\n    enforce_locations: false\n")
    r = moai(repo, "status", env=env)
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert LLM_LOCAL_YAML in line and "llm.policy" in line


@pytest.mark.parametrize(
    ("yaml_text", "warned", "hint"),
    [
        ("llm:\n  mdoe: glm-only\n", "llm.mdoe", "did you mean 'mode'"),
        (
            "llm:\n  auto_worktree:\n    enabeld: false\n",
            "llm.auto_worktree.enabeld",
            "did you mean 'enabled'",
        ),
        ("llm:\n  policy:\n    lockd: [mode]\n", "llm.policy.lockd", "did you mean 'locked'"),
        ("llm:\n  statusline: {theme: dark}\n", "llm.statusline", None),
        ("llm:\n  mode: mashup\nother_tool:\n  x: 1\n", "other_tool", None),
    ],
)
def test_unknown_key_warns_with_did_you_mean_and_never_fails(
    repo: Path, env: dict[str, str], yaml_text: str, warned: str, hint: str | None
) -> None:
    write(repo / LLM_YAML, yaml_text)
    for _run in range(2):  # the second run hits the config cache: still warned
        r = moai(repo, "status", env=env)
        assert r.returncode == 0, r.stderr
        line = one_line(r.stderr)
        assert "warning" in line and LLM_YAML in line and warned in line
        if hint:
            assert hint in line
        else:
            assert "did you mean" not in line
    assert any(warned in w for w in status_json(repo, env)["config_warnings"])


# (file, content, words the one line must name). Each is a wrong type, a bad value,
# or malformed syntax: exit 2, one line naming file + field path + what is allowed.
BAD_INPUTS = [
    (LLM_YAML, "llm:\n  mode: turbo\n", ["llm.mode", "claude-only", "mashup", "glm-only"]),
    (LLM_YAML, "llm:\n  mode: [mashup]\n", ["llm.mode"]),
    (LLM_YAML, "llm:\n  auto_worktree:\n    enabled: maybe\n", ["llm.auto_worktree.enabled"]),
    (LLM_YAML, "llm:\n  auto_worktree: true\n", ["llm.auto_worktree"]),
    (LLM_YAML, "llm:\n  glm_env_var: 1BAD\n", ["llm.glm_env_var"]),
    (LLM_YAML, "llm:\n  glm_env_var: 12\n", ["llm.glm_env_var", "string"]),
    (LLM_YAML, "llm:\n  credential_mode: keychain\n", ["llm.credential_mode", "inline"]),
    (LLM_YAML, "llm:\n  spec_branch_pattern: feature/SPEC\n", ["llm.spec_branch_pattern"]),
    (LLM_YAML, "llm:\n  spec_branch_pattern: 'a/*/*'\n", ["llm.spec_branch_pattern"]),
    (LLM_YAML, "llm:\n  default_branch: ''\n", ["llm.default_branch"]),
    (LLM_YAML, "llm:\n  worktree:\n    copy: .env\n", ["llm.worktree.copy"]),
    (LLM_YAML, "llm:\n  policy:\n    locked: [everything]\n", ["llm.policy.locked", "mode"]),
    (LLM_YAML, "llm:\n  pricing:\n    m: {input: -1, output: 1}\n", ["llm.pricing.m.input"]),
    (LLM_YAML, "llm:\n  pricing:\n    m: {input: 1}\n", ["llm.pricing.m.output"]),
    (LLM_YAML, "llm: [1, 2]\n", ["llm"]),
    (LLM_YAML, "- just\n- a list\n", ["mapping"]),
    (LLM_YAML, "llm:\n  mode: mashup\n   glm_env_var: X\n", ["malformed YAML", "line 3"]),
    (LLM_YAML, "llm: {mode: [\n", ["malformed YAML"]),
    (LLM_LOCAL_YAML, "llm:\n  mode: fast\n", ["llm.mode", "glm-only"]),
    (LLM_LOCAL_YAML, "llm: [\n", ["malformed YAML"]),
    (GLM_JSON, '{"env": {', ["invalid JSON"]),
    (GLM_JSON, "[]", ["JSON object"]),
    (GLM_JSON, '{"env": []}', ["env"]),
    (GLM_JSON, '{"env": {"ANTHROPIC_BASE_URL": 5}}', ["env.ANTHROPIC_BASE_URL", "string"]),
    (GLM_JSON, '{"env": {"ANTHROPIC_AUTH_TOKEN": "${GLM_API_KEY}"}}', ["env.ANTHROPIC_BASE_URL"]),
    (
        GLM_JSON,
        SEED_GLM_JSON.replace("${GLM_API_KEY}", "sk-literal-key-committed"),
        ["env.ANTHROPIC_AUTH_TOKEN", "${GLM_API_KEY}"],
    ),
    (
        GLM_JSON,
        SEED_GLM_JSON.replace("${GLM_API_KEY}", "${HOME}"),
        ["env.ANTHROPIC_AUTH_TOKEN", "unknown placeholder ${HOME}", "${GLM_API_KEY}"],
    ),
    (
        GLM_JSON,
        SEED_GLM_JSON.replace('"glm-4.7"\n', '"glm-4.7",\n    "X_LEAK": "${GLM_API_KEY}"\n'),
        ["env.X_LEAK", "ANTHROPIC_AUTH_TOKEN"],
    ),
    (GLM_JSON, '{"env": {"BAD NAME": "x", "ANTHROPIC_BASE_URL": "https://api.z.ai"}}', ["env."]),
]


@pytest.mark.parametrize(("rel", "content", "words"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    repo: Path,
    home: Path,
    env: dict[str, str],
    keyed_home: str,
    rel: str,
    content: str,
    words: list[str],
) -> None:
    user_settings = '{"model": "opus"}\n'
    write(repo / SETTINGS, user_settings)
    write(repo / rel, content)
    before = snapshot(repo, home)
    r = moai(repo, "glm", env=env)
    assert r.returncode == 2, (r.stdout, r.stderr)
    line = one_line(r.stderr)
    assert rel in line, line
    for word in words:
        assert word in line, (word, line)
    assert keyed_home not in r.stdout + r.stderr
    assert_unchanged(before, snapshot(repo, home))
    assert (repo / SETTINGS).read_text() == user_settings
    assert not record_path(repo, env).exists()


@pytest.mark.parametrize("command", ["glm", "claude", "apply", "status"])
def test_every_command_refuses_bad_config(
    repo: Path, home: Path, env: dict[str, str], keyed_home: str, command: str
) -> None:
    assert moai(repo, "glm", env=env).returncode == 0  # on GLM: claude would have work to do
    write(repo / LLM_YAML, "llm:\n  mode: turbo\n")
    before = snapshot(repo, home)
    r = moai(repo, command, env=env)
    assert r.returncode == 2
    assert LLM_YAML in one_line(r.stderr)
    assert_unchanged(before, snapshot(repo, home))


def test_bad_env_mode_is_one_line(repo: Path, env: dict[str, str]) -> None:
    r = moai(repo, "glm", env={**env, "MOAI_LLM_MODE": "fast"})
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "MOAI_LLM_MODE" in line and "mashup" in line
    assert not (repo / SETTINGS).exists()


# --- the per-worktree cache never serves stale data ------------------------------------


def _same_size(text: str, size: int) -> str:
    """`text` padded with a YAML comment to exactly `size` bytes."""
    pad = size - len(text.encode()) - 2
    assert pad >= 0
    return text + "#" + "x" * pad + "\n"


def test_cache_sees_same_size_edit_within_one_timestamp_tick(
    repo: Path, env: dict[str, str]
) -> None:
    """An in-place, same-size edit with the old mtime restored: same (size, mtime_ns, inode)."""
    path = repo / LLM_YAML
    write(path, _same_size("llm:\n  mode: mashup\n", 80))
    assert status_json(repo, env)["mode"] == "mashup"  # fills the cache
    st = path.stat()
    with path.open("r+b") as fh:  # in place: the inode stays
        fh.write(_same_size("llm:\n  mode: glm-only\n", 80).encode())
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    st2 = path.stat()
    assert (st2.st_size, st2.st_mtime_ns, st2.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
    assert status_json(repo, env)["mode"] == "glm-only"


def test_cache_sees_atomic_rename_edits(repo: Path, env: dict[str, str]) -> None:
    """Editors that save by rename; the old mtime restored, so only the content tells."""
    path = repo / LLM_YAML
    write(path, _same_size("llm:\n  mode: mashup\n", 64))
    mtime = path.stat().st_mtime_ns
    assert status_json(repo, env)["mode"] == "mashup"
    for mode in ("glm-only", "claude-only", "mashup", "glm-only"):
        tmp = path.with_name(".llm.yaml.swp")
        write(tmp, _same_size(f"llm:\n  mode: {mode}\n", 64))
        os.utime(tmp, ns=(mtime, mtime))
        os.replace(tmp, path)
        assert status_json(repo, env)["mode"] == mode


def test_cache_follows_local_file_and_env(repo: Path, env: dict[str, str]) -> None:
    local = repo / LLM_LOCAL_YAML
    assert status_json(repo, env)["mode"] == "mashup"
    write(local, "llm:\n  mode: glm-only\n")
    assert status_json(repo, env)["mode_source"] == LLM_LOCAL_YAML
    assert status_json(repo, {**env, "MOAI_LLM_MODE": "claude-only"})["mode"] == "claude-only"
    assert status_json(repo, env)["mode"] == "glm-only"  # env gone again: back to the file
    local.unlink()
    assert status_json(repo, env)["mode_source"] == LLM_YAML
    # a file that turns bad after a good run is reported, not served from the cache
    write(repo / LLM_YAML, "llm:\n  mode: nope\n")
    r = moai(repo, "status", env=env)
    assert r.returncode == 2 and "llm.mode" in r.stderr
    (repo / LLM_YAML).unlink()
    info = status_json(repo, env)
    assert (info["configured"], info["mode_source"]) == (False, "default")


def test_cache_is_per_worktree_and_outside_the_work_tree(
    repo: Path, env: dict[str, str], tmp_path: Path
) -> None:
    from tests.gitrepo import git

    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "feature/SPEC-A1", str(linked), env=env)
    write(linked / LLM_LOCAL_YAML, "llm:\n  mode: glm-only\n")
    assert status_json(linked, env)["mode"] == "glm-only"
    assert status_json(repo, env)["mode"] == "mashup"
    assert status_json(linked, env)["mode"] == "glm-only"
    assert git(repo, "status", "--porcelain", env=env) == ""
    assert git(linked, "status", "--porcelain", env=env) == ""
