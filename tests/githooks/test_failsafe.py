"""Hostile and absurd input at every entry point: one line, non-zero exit, nothing changed.

A table of hostile values (committed files, a user's broken settings, odd
transcripts, a read-only state dir) against the installed `moai` on real
repositories; then hypothesis against the readers those entry points share.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup.core.glm_template import url_problem, validate_template
from moai_mashup.errors import BadInput
from moai_mashup.limits import load_yaml_unique, loads_json_unique, too_deep
from tests.core_fixtures import private_folder, ready_dir
from tests.costkit import assistant, cost_json, repo_with_worktree, write_session
from tests.gitrepo import GLM_JSON, LLM_YAML, SEED_GLM_JSON, SETTINGS, aged, git, moai, write

DEEP_JSON = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n"


def snapshot(root: Path, *more: Path) -> dict[str, str]:
    """Every file of the work tree and moai's state, by content (the config cache aside);
    `more`: other folders whole (~/.moai)."""
    out = {}
    for top in (root, *more):
        for path in sorted(top.rglob("*")):
            rel = path.relative_to(root if top == root else top.parent).as_posix()
            if not path.is_file() or (rel.startswith(".git/") and "/moai/" not in f"/{rel}"):
                continue
            if rel.endswith(("config-cache.json", ".lock")):
                continue  # a cache of validated config, a lock file: neither is a change
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_one_line(r: subprocess.CompletedProcess[str], *, exit_nonzero: bool = True) -> None:
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("moai: "), r.stderr
    if exit_nonzero:
        assert r.returncode != 0


BAD_URLS = [
    "https://[api.z.ai",  # urlsplit: Invalid IPv6 URL
    "https://api.z.ai:99999/api",  # .port: out of range
    "https://api.z.ai:http/",  # .port: not a number
    "api.z.ai/api/anthropic",  # no scheme, no host
    "https://",  # no host
    "ftp://api.z.ai/",  # not http(s)
]
URL_COMMANDS = [("glm",), ("doctor",), ("trust", "--list"), ("worktree", "create", "SPEC-U1")]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_base_url_urllib_cannot_read_is_one_line_everywhere(
    repo: Path, env: dict[str, str], keyed_home: str, url: str
) -> None:
    write(repo / GLM_JSON, SEED_GLM_JSON.replace("https://api.z.ai/api/anthropic", url))
    git(repo, "commit", "-qam", "hostile url", env=env)
    before = snapshot(repo)
    for args in URL_COMMANDS:
        r = moai(repo, *args, env=env)
        assert "Traceback" not in r.stderr, (args, r.stderr)
        assert r.returncode != 0, args
        assert "env.ANTHROPIC_BASE_URL" in r.stdout + r.stderr, (args, r.stdout, r.stderr)
        if args[0] != "doctor":  # doctor lists every check, the URL's among them
            assert_one_line(r)
        assert snapshot(repo) == before, args
    assert git(repo, "worktree", "list", "--porcelain", env=env).count("worktree ") == 1


@pytest.mark.parametrize("command", [("status",), ("status", "--json"), ("claude",), ("glm",)])
def test_a_deeply_nested_settings_file_is_reported_not_raised(
    repo: Path, env: dict[str, str], keyed_home: str, command: tuple[str, ...]
) -> None:
    aged(write(repo / SETTINGS, DEEP_JSON))  # not a save in progress moai would wait out
    before = snapshot(repo)
    r = moai(repo, *command, env=env)
    assert "Traceback" not in r.stderr and "RecursionError" not in r.stdout + r.stderr
    if command[0] == "status":  # status reports a broken file instead of failing
        assert r.returncode == 0
        assert "nested more than 100 levels" in r.stdout
    else:
        assert_one_line(r)
        assert "nested more than 100 levels" in r.stderr
    assert snapshot(repo) == before


def test_cost_survives_hostile_transcript_lines(
    tmp_path: Path, env: dict[str, str], home: Path
) -> None:
    main, _wt = repo_with_worktree(tmp_path, env)
    listed = assistant(cwd=main, branch="main", msg_id="msg_2")
    listed["message"]["id"] = ["not", "a", "string"]
    boxed = assistant(cwd=main, branch="main", msg_id="msg_3")
    boxed["requestId"] = {"an": "object"}
    uuid_list = assistant(cwd=main, branch="main", msg_id="msg_4")
    del uuid_list["message"]["id"], uuid_list["requestId"]
    uuid_list["uuid"] = [1, 2]
    deep = '{"type": "assistant", "usage": 1, "x": ' + "[" * 50_000 + "]" * 50_000 + "}\n"
    write_session(
        home,
        main,
        "s-1",
        [assistant(cwd=main, branch="main", msg_id="msg_1"), listed, boxed, uuid_list, deep],
    )
    data = cost_json(moai(main, "cost", "--json", env=env))
    t = data["transcripts"]
    assert data["total"]["responses"] == 2  # msg_1 and the uuid-keyed one
    assert (t["malformed"], t["bad_usage"]) == (1, 2)
    table = moai(main, "cost", env=env)
    assert table.returncode == 0 and "Traceback" not in table.stderr


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` cannot be written, also by root (who ignores modes): chattr +i then."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    assert chattr, "chattr (e2fsprogs) is needed to make a directory read-only for root"
    subprocess.run([chattr, "+i", str(path)], check=True)
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


@pytest.mark.parametrize("command", [("glm",), ("apply",), ("claude",)])
def test_a_read_only_state_dir_is_one_line(
    repo: Path, env: dict[str, str], keyed_home: str, command: tuple[str, ...]
) -> None:
    """The git dir's state (the lock, the private folder's id) or the private folder in
    ~/.moai (the record: settings/private.py) read-only: one line naming it, nothing
    written."""
    state = repo / ".git" / "moai"
    if command == ("glm",):
        git(repo, "switch", "-qc", "feature/SPEC-RO1", env=env)
    else:  # on main, from GLM: apply / claude must remove the keys and the record
        assert moai(repo, "glm", env=env).returncode == 0
        state = private_folder(repo, env)
    state.mkdir(exist_ok=True)
    home = Path(env["HOME"])
    before = snapshot(repo, home / ".moai")
    with read_only(state):
        r = moai(repo, *command, env=env)
    assert_one_line(r)
    assert str(state) in r.stderr
    assert snapshot(repo, home / ".moai") == before


# --- the readers every entry point shares, against anything ----------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_url_problem_never_raises(url: str) -> None:
    assert url_problem(url) is None or isinstance(url_problem(url), str)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_template_reader_raises_only_bad_input(text: str) -> None:
    with contextlib.suppress(BadInput):
        validate_template(loads_json_unique(text, "glm.json"), "glm.json")


JSON_ATOMS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON_ATOMS), st.text(max_size=40))
def test_template_shapes_raise_only_bad_input(env: dict[str, object], url: str) -> None:
    with contextlib.suppress(BadInput):
        validate_template({"env": {**env, "ANTHROPIC_BASE_URL": url}}, "glm.json")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_yaml_reader_raises_only_yaml_errors_or_bad_input(text: str) -> None:
    import yaml

    with contextlib.suppress(BadInput, yaml.YAMLError):
        load_yaml_unique(text, "llm.yaml")


def test_depth_check_handles_aliases_and_cycles() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    import yaml

    assert not too_deep(yaml.safe_load(laughs))  # 9 objects, not 9**9 paths
    # ... and not a config either: written out it would be 9**9 entries
    with pytest.raises(BadInput, match=r"expands \(through YAML aliases\) past 4 MiB"):
        load_yaml_unique(laughs, "llm.yaml")
    with pytest.raises(BadInput, match="nested more than"):
        load_yaml_unique("a: &a [*a]\n", "llm.yaml")
    with pytest.raises(BadInput, match="nested more than"):
        loads_json_unique("[" * 101 + "]" * 101, "glm.json")
    assert json.loads("[" * 100 + "]" * 100) and not too_deep(json.loads("[" * 100 + "]" * 100))


# --- duplicate keys and absurd sizes --------------------------------------------------


def test_llm_yaml_key_given_twice_is_an_error_naming_key_and_line(
    repo: Path, env: dict[str, str]
) -> None:
    write(repo / LLM_YAML, "llm:\n  mode: mashup\n  glm_env_var: X\n  mode: glm-only\n")
    before = snapshot(repo)
    for args in (("status",), ("apply",), ("glm",)):
        r = moai(repo, *args, env=env)
        assert_one_line(r)
        assert r.returncode == 2
        assert "line 4: key 'mode' appears twice (first on line 2)" in r.stderr
        assert LLM_YAML in r.stderr
    assert snapshot(repo) == before
    # a YAML merge key and its override is YAML's own way to override, not a duplicate
    write(repo / LLM_YAML, "base: &b {mode: mashup}\nllm:\n  <<: *b\n  mode: glm-only\n")
    r = moai(repo, "status", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mode"] == "glm-only"


def test_glm_json_key_given_twice_is_an_error(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    twice = SEED_GLM_JSON.replace(
        '"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic",',
        '"ANTHROPIC_BASE_URL": "https://api.z.ai/api/anthropic",\n'
        '    "ANTHROPIC_BASE_URL": "https://elsewhere.example.invalid",',
    )
    write(repo / GLM_JSON, twice)
    git(repo, "switch", "-qc", "feature/SPEC-D1", env=env)
    r = moai(repo, "apply", env=env)
    assert_one_line(r)
    assert "key 'ANTHROPIC_BASE_URL' appears twice on line 5" in r.stderr
    assert not (repo / SETTINGS).exists()


@pytest.mark.parametrize(
    ("rel", "command"),
    [(LLM_YAML, "status"), (GLM_JSON, "glm"), (SETTINGS, "glm"), (SETTINGS, "claude")],
)
def test_absurd_sizes_are_refused_with_one_line(
    repo: Path, env: dict[str, str], keyed_home: str, rel: str, command: str
) -> None:
    if rel == LLM_YAML:  # 10 MB of comments: pyyaml would take ~20 s to read it
        text = "llm:\n  mode: mashup\n" + "# padding padding padding padding\n" * 320_000
    elif rel == GLM_JSON:
        text = SEED_GLM_JSON[:-3] + ',\n    "PAD": "' + "x" * (2 << 20) + '"\n  }\n}\n'
    else:
        text = '{"permissions": {"allow": [' + ", ".join(['"Bash(ls)"'] * 500_000) + "]}}\n"
    write(repo / rel, text)
    git(repo, "switch", "-qc", "feature/SPEC-S1", env=env)
    if command == "claude":
        git(repo, "switch", "-q", "main", env=env)
    before = snapshot(repo)
    r = moai(repo, command, env=env)
    assert_one_line(r)
    assert rel in r.stderr and "larger than" in r.stderr
    assert snapshot(repo) == before


def test_a_big_settings_file_is_switched_but_not_prepared(
    repo: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    from tests.hooks_support import install, moai_lines, run_git

    big = '{"permissions": {"allow": [' + ", ".join(['"Bash(ls)"'] * 100_000) + "]}}\n"
    assert 1 << 20 < len(big) < 2 << 20  # over the 256 KiB prepared, under the 4 MiB planned
    write(repo / SETTINGS, big)
    install(repo, env)
    for branch in ("feature/SPEC-B1", "main", "feature/SPEC-B1", "main"):
        create = ["-b"] if not git(repo, "branch", "--list", branch, env=env) else []
        proc = run_git(repo, "checkout", "-q", *create, branch, env=env)
        assert len(moai_lines(proc.stderr)) == 1, proc.stderr
        ready = ready_dir(repo, env)
        kept = sum(p.stat().st_size for p in ready.rglob("*") if p.is_file())
        assert kept == 0, f"{kept} bytes prepared in {ready}"
        doc = json.loads((repo / SETTINGS).read_text())
        assert len(doc["permissions"]["allow"]) == 100_000
        assert ("env" in doc) == (branch != "main")
    assert (repo / SETTINGS).read_text() == big
