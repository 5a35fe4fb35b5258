"""`llm.backends` and `llm.routes`: the team's and the local file's resolved into
profiles and route lines, the lock, the cache, and bad input (one line naming the
file, the entry and the fix; exit 2; no file changed; in the git hook one line and
exit 0 with the worktree left as it was)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup.config import CACHE_NAME, RouteLine, load_config
from moai_mashup.core.backends import PRESETS
from moai_mashup.core.config_model import glob_problem
from tests.core_fixtures import assert_unchanged, one_line, snapshot, status_json
from tests.gitrepo import LLM_LOCAL_YAML, LLM_YAML, SEED_LLM_YAML, SETTINGS, git, moai, write
from tests.hooks_support import install, moai_lines, run_git

TEAM = (
    SEED_LLM_YAML
    + """\
  backends:
    kimi: {preset: moonshot}
    ds:
      preset: deepseek
      models: {haiku: ds-small}
    lab:
      base_url: https://llm.internal.example/anthropic
      auth_var: ANTHROPIC_API_KEY
      models: {opus: lab-large, sonnet: lab-large, haiku: lab-small}
      context_window: 128000
      env: {API_TIMEOUT_MS: "600000"}
      display: Lab
    zz: {preset: zai, base_url: "https://api.z.ai/api/anthropic/"}
    moved: {preset: moonshot, base_url: "https://proxy.example/anthropic"}
  routes:
    - {branch: "exp/*", backend: kimi}
    - {branch: "feature/SPEC-*", backend: glm}
    - {branch: "*", backend: claude}
"""
)

LOCAL = """\
llm:
  backends:
    mine:
      base_url: https://mine.example/anthropic
      models: {opus: m-large, sonnet: m-large, haiku: m-small}
  routes:
    - {branch: "me/*", backend: mine}
    - {branch: "exp/*", backend: ds}
"""


def test_team_and_local_backends_and_routes_resolve(repo: Path) -> None:
    write(repo / LLM_YAML, TEAM)
    write(repo / LLM_LOCAL_YAML, LOCAL)
    cfg = load_config(repo)
    assert list(cfg.backends) == ["kimi", "ds", "lab", "zz", "moved", "mine"]

    kimi = cfg.backends["kimi"]
    moonshot = PRESETS["moonshot"]
    assert (kimi.preset, kimi.base_url, kimi.auth_var) == (
        "moonshot",
        moonshot.base_url,
        moonshot.auth_var,
    )
    assert kimi.models == moonshot.models and kimi.windows == moonshot.windows
    assert (kimi.display, kimi.family) == (moonshot.display, moonshot.family)
    assert (kimi.source, kimi.url_known, kimi.env) == (LLM_YAML, True, {})

    ds = cfg.backends["ds"]  # one tier overridden, the others the preset's
    assert ds.models == {**PRESETS["deepseek"].models, "haiku": "ds-small"}

    lab = cfg.backends["lab"]
    assert (lab.preset, lab.base_url, lab.auth_var, lab.display, lab.family) == (
        None,
        "https://llm.internal.example/anthropic",
        "ANTHROPIC_API_KEY",
        "Lab",
        "lab",
    )
    assert lab.models == {"opus": "lab-large", "sonnet": "lab-large", "haiku": "lab-small"}
    assert lab.windows == {"lab-large": 128000, "lab-small": 128000} and lab.window == 128000
    assert lab.env == {"API_TIMEOUT_MS": "600000"}
    assert lab.url_known is False  # a committed endpoint of its own: `moai trust`

    assert cfg.backends["zz"].url_known is True  # the preset's own URL, written out
    assert cfg.backends["moved"].url_known is False  # a preset moved to another URL
    mine = cfg.backends["mine"]
    assert (mine.source, mine.url_known) == (LLM_LOCAL_YAML, True)  # the user's own word
    assert mine.windows == {} and mine.window is None

    assert cfg.routes == (
        RouteLine("me/*", "mine", LLM_LOCAL_YAML),
        RouteLine("exp/*", "ds", LLM_LOCAL_YAML),
        RouteLine("exp/*", "kimi", LLM_YAML),
        RouteLine("feature/SPEC-*", "glm", LLM_YAML),
        RouteLine("*", "claude", LLM_YAML),
    )
    assert cfg.warnings == ()


def test_without_backends_and_routes_nothing_changes(repo: Path, env: dict[str, str]) -> None:
    cfg = load_config(repo)
    assert (cfg.backends, cfg.routes) == ({}, ())
    assert status_json(repo, env)["expected_backend"] == "claude"


def test_unknown_keys_in_an_entry_warn(repo: Path, env: dict[str, str]) -> None:
    write(
        repo / LLM_YAML,
        SEED_LLM_YAML
        + "  backends:\n    kimi: {preset: moonshot, modles: {opus: x}}\n"
        + "  routes:\n    - {branch: main, backend: kimi, why: test}\n",
    )
    cfg = load_config(repo)
    assert cfg.backends["kimi"].models == PRESETS["moonshot"].models
    assert cfg.warnings == (
        f"{LLM_YAML}: llm.backends.kimi.modles: unknown key, ignored (did you mean 'models'?)",
        f"{LLM_YAML}: llm.routes[0].why: unknown key, ignored",
    )


@pytest.mark.parametrize("field", ["backends", "routes"])
def test_locked_backends_and_routes_refuse_local_additions(
    repo: Path, env: dict[str, str], field: str
) -> None:
    write(repo / LLM_YAML, TEAM + f"  policy:\n    locked: [{field}]\n")
    local = {
        "backends": "llm:\n  backends:\n    mine: {preset: qwen}\n",
        "routes": "llm:\n  routes:\n    - {branch: main, backend: kimi}\n",
    }[field]
    write(repo / LLM_LOCAL_YAML, local)
    before = snapshot(repo)
    r = moai(repo, "status", env=env)
    assert r.returncode == 2
    assert one_line(r.stderr) == (
        f"moai: {LLM_LOCAL_YAML}: llm.{field}: locked by the team in {LLM_YAML} "
        f"(llm.policy.locked); remove it from {LLM_LOCAL_YAML}"
    )
    assert_unchanged(before, snapshot(repo))
    # an empty list or mapping adds nothing: no conflict with the lock
    write(repo / LLM_LOCAL_YAML, f"llm:\n  {field}: {'{}' if field == 'backends' else '[]'}\n")
    assert load_config(repo).routes[0] == RouteLine("exp/*", "kimi", LLM_YAML)
    # the other field stays the user's to add to
    if field == "backends":
        write(repo / LLM_LOCAL_YAML, "llm:\n  routes:\n    - {branch: main, backend: kimi}\n")
        assert load_config(repo).routes[0] == RouteLine("main", "kimi", LLM_LOCAL_YAML)
    else:
        write(repo / LLM_LOCAL_YAML, "llm:\n  backends:\n    mine: {preset: qwen}\n")
        assert "mine" in load_config(repo).backends


def test_local_backend_reusing_a_team_name_is_an_error(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, TEAM)
    write(repo / LLM_LOCAL_YAML, "llm:\n  backends:\n    kimi: {preset: moonshot-china}\n")
    before = snapshot(repo)
    r = moai(repo, "route", "run", "SPEC-1", env=env)
    assert r.returncode == 2
    assert one_line(r.stderr) == (
        f"moai: {LLM_LOCAL_YAML}: llm.backends.kimi: the team's {LLM_YAML} already "
        "defines 'kimi'; give yours another name (and route to that) or remove it"
    )
    assert_unchanged(before, snapshot(repo))


def test_a_local_route_may_name_a_team_backend_and_the_team_a_local_one(repo: Path) -> None:
    team = TEAM.replace(
        '    - {branch: "*"', '    - {branch: main, backend: mine}\n    - {branch: "*"'
    )
    write(repo / LLM_YAML, team)
    write(repo / LLM_LOCAL_YAML, LOCAL)
    cfg = load_config(repo)
    assert RouteLine("main", "mine", LLM_YAML) in cfg.routes
    assert RouteLine("exp/*", "ds", LLM_LOCAL_YAML) in cfg.routes


KNOWN = ", ".join(PRESETS)
PATTERN = (
    "; git refuses it in branch names (git help check-ref-format), so this route never matches: "
)

# (file, llm block after `llm:\n`, the line after "moai: <file>: ")
BAD = [
    (
        LLM_YAML,
        "  backends:\n    kimi: {preset: moonshoot}\n",
        f"llm.backends.kimi.preset: unknown preset 'moonshoot' (did you mean moonshot?); "
        f"use one of {KNOWN} "
        "(or leave preset out and give base_url and models)",
    ),
    (
        LLM_YAML,
        "  backends:\n    kimi: {preset: moonshot}\n  routes:\n"
        "    - {branch: 'exp/*', backend: kimi}\n    - {branch: main, backend: claude}\n"
        "    - {branch: '*', backend: kimmi}\n",
        "llm.routes[2].backend: no backend is named 'kimmi'; route to claude, glm or "
        "kimi, or define 'kimmi' under llm.backends (kimmi: {preset: moonshot})",
    ),
    (
        LLM_LOCAL_YAML,
        "  routes:\n    - {branch: 'exp/*', backend: lab}\n",
        "llm.routes[0].backend: no backend is named 'lab'; route to claude or glm, "
        "or define 'lab' under llm.backends",
    ),
    (
        LLM_YAML,
        "  backends:\n    claude: {preset: openrouter}\n",
        "llm.backends.claude: 'claude' is built in (Claude itself: moai writes nothing for "
        "it) and cannot be redefined; give this backend another name (e.g. claude-proxy) and "
        "route to that",
    ),
    (
        LLM_LOCAL_YAML,
        "  backends:\n    glm: {preset: zai-china}\n",
        "llm.backends.glm: 'glm' is built in (from .moai/llm-configs/glm.json) and cannot be "
        "redefined; give this backend another name (e.g. glm-china with preset zai-china) and "
        "route to that",
    ),
    (
        LLM_YAML,
        "  backends:\n    Kimi_2: {preset: moonshot}\n",
        "llm.backends.Kimi_2: 'Kimi_2' is not a backend name: use lower-case letters, digits "
        "and '-', a letter first, at most 32 characters",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab:\n      base_url: https://lab.example/anthropic\n"
        "      models: {opus: big, sonnet: big}\n",
        "llm.backends.lab.models.haiku: missing; a backend without a preset needs a model for "
        "each of opus, sonnet, haiku",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab:\n      models: {opus: a, sonnet: a, haiku: a}\n",
        "llm.backends.lab.base_url: missing; a backend without a preset needs its endpoint "
        f"(base_url), or name a preset ({KNOWN})",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab: {preset: qwen, base_url: 'ftp://lab.example'}\n",
        "llm.backends.lab.base_url: must be an http(s) URL with a host, like "
        "https://api.z.ai/api/anthropic (got 'ftp://lab.example')",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab: {preset: qwen, auth_var: GITHUB_TOKEN}\n",
        "llm.backends.lab.auth_var: must be one of 'ANTHROPIC_AUTH_TOKEN' or "
        "'ANTHROPIC_API_KEY' (got 'GITHUB_TOKEN')",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab: {preset: qwen, context_window: 0}\n",
        "llm.backends.lab.context_window: must be greater than 0 (got 0)",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab: {preset: qwen, env: {ANTHROPIC_BASE_URL: 'https://x.example'}}\n",
        "llm.backends.lab.env: ANTHROPIC_BASE_URL comes from the backend's base_url; "
        "remove it from env",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab: {preset: qwen, env: {ANTHROPIC_DEFAULT_HAIKU_MODEL: x}}\n",
        "llm.backends.lab.env: ANTHROPIC_DEFAULT_HAIKU_MODEL comes from the backend's "
        "models.haiku; remove it from env",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab: {preset: qwen, env: {ANTHROPIC_API_KEY: x}}\n",
        "llm.backends.lab.env: ANTHROPIC_API_KEY comes from the backend's auth_var (and "
        "`moai key set`); remove it from env",
    ),
    (
        LLM_YAML,
        "  backends:\n    lab: {preset: qwen, env: {'BAD NAME': x}}\n",
        "llm.backends.lab.env: 'BAD NAME' is not an environment variable name",
    ),
    (
        LLM_YAML,
        "  routes:\n    - {branch: 'exp/*', backend: glm}\n    - {branch: 'feat ure/*', "
        "backend: glm}\n",
        f"llm.routes[1].branch: 'feat ure/*' holds ' '{PATTERN}remove it",
    ),
    (
        LLM_YAML,
        "  routes:\n    - {branch: 'exp/*/*', backend: glm}\n",
        "llm.routes[0].branch: 'exp/*/*' holds a second '*' (only one '*' is special)"
        f"{PATTERN}keep one; it matches any characters, '/' included",
    ),
    (
        LLM_YAML,
        "  routes:\n    - {branch: 'release/*.lock', backend: glm}\n",
        f"llm.routes[0].branch: 'release/*.lock' ends with '.lock'{PATTERN}remove the "
        "trailing '.lock'",
    ),
    (
        LLM_YAML,
        "  routes:\n    - {branch: 'exp/v?', backend: glm}\n",
        f"llm.routes[0].branch: 'exp/v?' holds '?'{PATTERN}use '*' (one or more characters), "
        "the only wildcard",
    ),
    (
        LLM_YAML,
        "  routes:\n    - {branch: 'exp/', backend: glm}\n",
        f"llm.routes[0].branch: 'exp/' ends with '/'{PATTERN}end it with '*' instead",
    ),
    (
        LLM_YAML,
        "  backends:\n    k: {preset: kimi}\n",
        f"llm.backends.k.preset: unknown preset 'kimi' (did you mean moonshot?); use one of "
        f"{KNOWN} (or leave preset out and give base_url and models)",
    ),
    (
        LLM_YAML,
        "  routes:\n    - {branch: '*', backend: claude}\n"
        "    - {branch: 'feature/SPEC-*', backend: glm}\n",
        "llm.routes[1].branch: 'feature/SPEC-*' never decides a branch: llm.routes[0] ('*') "
        "comes first and matches every branch it does (first match wins); move it above "
        "llm.routes[0] or remove it",
    ),
    (
        LLM_LOCAL_YAML,
        "  routes:\n    - {branch: 'exp/*', backend: glm}\n"
        "    - {branch: 'exp/a-*', backend: glm}\n",
        "llm.routes[1].branch: 'exp/a-*' never decides a branch: llm.routes[0] ('exp/*') "
        "comes first and matches every branch it does (first match wins); move it above "
        "llm.routes[0] or remove it",
    ),
    (LLM_YAML, "  routes:\n    - {branch: glm}\n", "llm.routes[0].backend: Field required"),
    (
        LLM_YAML,
        "  routes:\n    - 'exp/*'\n",
        "llm.routes[0]: must be a mapping such as {branch: \"exp/*\", backend: kimi} (got 'exp/*')",
    ),
    (
        LLM_LOCAL_YAML,
        "  backends:\n    kimi: moonshot\n",
        "llm.backends.kimi: must be a mapping such as {preset: moonshot} (got 'moonshot')",
    ),
]


@pytest.mark.parametrize(("rel", "block", "rest"), BAD)
def test_bad_backend_or_route_is_one_line_exit_2(
    repo: Path, home: Path, env: dict[str, str], rel: str, block: str, rest: str
) -> None:
    write(repo / SETTINGS, '{"model": "opus"}\n')
    text = (SEED_LLM_YAML if rel == LLM_YAML else "llm:\n") + block
    write(repo / rel, text)
    before = snapshot(repo, home)
    for args in (("status",), ("route", "run", "SPEC-1"), ("apply",)):
        r = moai(repo, *args, env=env)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert one_line(r.stderr) == f"moai: {rel}: {rest}"
    assert_unchanged(before, snapshot(repo, home))


def test_bad_routes_in_a_git_checkout_are_one_line_and_leave_the_worktree(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    write(repo / LLM_YAML, SEED_LLM_YAML + "  routes:\n    - {branch: '*', backend: kimi}\n")
    git(repo, "commit", "-qam", "routes to nobody", env=env)
    r = run_git(repo, "checkout", "-b", "feature/SPEC-1", env=env)
    assert r.returncode == 0
    lines = moai_lines(r.stderr)
    assert lines == [
        f"moai: post-checkout: {LLM_YAML}: llm.routes[0].backend: no backend is named 'kimi'; "
        "route to claude or glm, or define 'kimi' under llm.backends (kimi: {preset: moonshot})"
    ], r.stderr
    assert not (repo / SETTINGS).exists()  # left on Claude: nothing written
    assert keyed_home not in r.stdout + r.stderr


@pytest.mark.parametrize("rel", [LLM_YAML, LLM_LOCAL_YAML])
def test_a_config_gone_bad_in_a_checkout_leaves_a_provider_worktree_on_claude(
    repo: Path, env: dict[str, str], keyed_home: str, rel: str
) -> None:
    """On GLM, the config breaks (a merge, an edit of the user's file), then a checkout:
    which backend the new branch gets cannot be known, so the worktree does not carry
    GLM's key and endpoint there; it goes to Claude, with the config's one line."""
    install(repo, env)
    user_settings = '{"model": "opus"}\n'
    write(repo / SETTINGS, user_settings)
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-1", env=env)
    assert status_json(repo, env)["active_backend"] == "glm"
    bad = "llm:\n  backends:\n    kimi: {preset: kimi}\n"
    write(repo / rel, (SEED_LLM_YAML + bad[5:]) if rel == LLM_YAML else bad)
    r = run_git(repo, "checkout", "-q", "-b", "feature/SPEC-2", env=env)
    assert r.returncode == 0
    assert moai_lines(r.stderr) == [
        f"moai: left this worktree on Claude: {rel}: llm.backends.kimi.preset: unknown preset "
        f"'kimi' (did you mean moonshot?); use one of {KNOWN} (or leave preset out and give "
        "base_url and models)"
    ], r.stderr
    assert (repo / SETTINGS).read_text() == user_settings  # exactly the user's again
    assert keyed_home not in r.stdout + r.stderr
    # already on Claude: the next checkout says the line and changes nothing
    r = run_git(repo, "checkout", "-q", "feature/SPEC-1", env=env)
    assert moai_lines(r.stderr) == [
        f"moai: post-checkout: {rel}: llm.backends.kimi.preset: unknown preset 'kimi' (did "
        f"you mean moonshot?); use one of {KNOWN} (or leave preset out and give base_url and "
        "models)"
    ]
    assert (repo / SETTINGS).read_text() == user_settings


def test_a_detached_head_with_a_bad_config_stays_as_it_was(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    run_git(repo, "checkout", "-q", "-b", "feature/SPEC-1", env=env)
    on_glm = (repo / SETTINGS).read_text()
    write(repo / LLM_YAML, SEED_LLM_YAML + "  routes:\n    - {branch: '*', backend: kimi}\n")
    r = run_git(repo, "checkout", "-q", "--detach", env=env)
    assert r.returncode == 0
    assert not [line for line in moai_lines(r.stderr) if "left this worktree" in line]
    assert (repo / SETTINGS).read_text() == on_glm


# --- the validated cache --------------------------------------------------------------


def test_cache_carries_backends_and_routes(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, TEAM)
    write(repo / LLM_LOCAL_YAML, LOCAL)
    state = repo / ".git" / "moai"
    state.mkdir(parents=True, exist_ok=True)
    fresh = load_config(repo, state)
    blob = json.loads((state / CACHE_NAME).read_text())
    assert blob["backends"]["lab"] == fresh.backends["lab"].as_dict()
    assert blob["routes"][0] == {"branch": "me/*", "backend": "mine", "source": LLM_LOCAL_YAML}
    assert "backends" not in blob["llm"] and "routes" not in blob["llm"]
    assert load_config(repo, state) == fresh  # from the cache

    # a hit imports none of pydantic, yaml, pathlib, typing (the hook's and the status
    # line's path), and gives the same profiles and routes
    code = (
        f"import sys; sys.path[:0] = {sys.path!r}\n"
        "from moai_mashup.config import load_config\n"
        f"cfg = load_config({str(repo)!r}, {str(state)!r})\n"
        "heavy = ('pydantic', 'yaml', 'pathlib', 'typing')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "print((sorted(cfg.backends), [tuple(r) for r in cfg.routes]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert out[1] == str((sorted(fresh.backends), [tuple(r) for r in fresh.routes]))


def test_cache_follows_a_backend_edit(repo: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, TEAM)
    state = repo / ".git" / "moai"
    state.mkdir(parents=True, exist_ok=True)
    assert load_config(repo, state).backends["kimi"].preset == "moonshot"
    write(repo / LLM_YAML, TEAM.replace("kimi: {preset: moonshot}", "kimi: {preset: qwen}"))
    assert load_config(repo, state).backends["kimi"].preset == "qwen"
    write(repo / LLM_LOCAL_YAML, "llm:\n  routes:\n    - {branch: main, backend: nobody}\n")
    r = moai(repo, "status", env=env)
    assert r.returncode == 2 and "llm.routes[0].backend" in r.stderr


# --- a route glob that can never match: git's own rules ---------------------------------


def _git_accepts(branch: str) -> bool:
    """git's word on a branch name (`git check-ref-format --branch` also resolves
    @{-1}, so the ref form), plus what `git branch` refuses besides."""
    if branch.startswith("-") or branch == "HEAD":
        return False
    proc = subprocess.run(
        ["git", "check-ref-format", f"refs/heads/{branch}"], capture_output=True, check=False
    )
    return proc.returncode == 0


NAME_CHARS = st.sampled_from([*"ab/.-@{}~^:?[\\ *", "lock", "\t", "\x7f", "é"])
names = st.lists(NAME_CHARS, min_size=1, max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(name=names.filter(lambda n: "*" not in n))
def test_a_glob_without_star_is_refused_exactly_when_git_refuses_the_name(name: str) -> None:
    assert (glob_problem(name) is None) == _git_accepts(name), name


@settings(max_examples=300, deadline=None)
@given(prefix=names, suffix=names)
def test_a_glob_with_star_is_refused_only_when_nothing_in_its_place_makes_a_name(
    prefix: str, suffix: str
) -> None:
    glob = f"{prefix.replace('*', '')}*{suffix}"
    head, _, tail = glob.partition("*")
    fillers = ("x", "x/y", "1.x", "-")
    accepted = [f for f in fillers if _git_accepts(f"{head}{f}{tail}")]
    if glob_problem(glob) is None:
        assert accepted, glob  # a glob we keep matches some branch git lets you make
    else:
        assert not accepted, (glob, accepted)


@pytest.mark.parametrize(
    "glob", ["*", "exp/*", "feature/SPEC-*", "main", "*-wip", "release/v1.2", "a.b/*/c", "@x"]
)
def test_everyday_globs_are_fine(glob: str) -> None:
    assert glob_problem(glob) is None
