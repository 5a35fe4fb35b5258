"""Keys: priority, masking, `.env.glm` round-trip (sh-compatible), refusals, 0600 atomic
writes, $HOME, and the key never reaching stdout/stderr or a child's argv."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from moai_mashup.settings.keys import mask, parse_env_file
from tests.core_fixtures import assert_unchanged, one_line, sh, snapshot, status_json
from tests.gitrepo import (
    FAKE_KEY,
    GLM_JSON,
    LLM_YAML,
    OTHER_FAKE_KEY,
    SEED_GLM_JSON,
    SEED_LLM_YAML,
    SETTINGS,
    clean_env,
    make_repo,
    moai,
    save_fake_key,
    settings,
    write,
)

KEYS = {
    "env_file": "fakeENVFILE0000key.TESTONLY1",
    "credentials": "fakeCREDYAML000key.TESTONLY2",
    "named_var": "fakeNAMEDVAR000key.TESTONLY3",
    "default_var": "fakeDEFAULTVAR0key.TESTONLY4",
}


def _env_file(home: Path) -> Path:
    return home / ".moai" / ".env.glm"


def _credentials(home: Path, key: str) -> Path:
    path = write(home / ".moai" / "credentials.yaml", f"glm_api_key: {key}\n")
    path.chmod(0o600)
    return path


def test_key_priority_and_masked_source(repo: Path, home: Path, env: dict[str, str]) -> None:
    """.env.glm > credentials.yaml > $<glm_env_var> (seed: GLM_API_TOKEN) > $GLM_API_KEY."""
    save_fake_key(home, KEYS["env_file"])
    _credentials(home, KEYS["credentials"])
    full = {**env, "GLM_API_TOKEN": KEYS["named_var"], "GLM_API_KEY": KEYS["default_var"]}
    steps = [
        ("~/.moai/.env.glm", "env_file"),
        ("~/.moai/credentials.yaml", "credentials"),
        ("$GLM_API_TOKEN", "named_var"),
        ("$GLM_API_KEY", "default_var"),
    ]
    for source, name in steps:
        key = KEYS[name]
        info = status_json(repo, full)
        assert info["key"] == {"source": source, "masked": mask(key)}
        r = moai(repo, "glm", env=full)
        assert r.returncode == 0, r.stderr
        assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == key
        assert f"{mask(key)} from {source}" in r.stdout
        assert key not in r.stdout + r.stderr
        assert moai(repo, "claude", env=full).returncode == 0
        # remove the winner; the next source takes over
        if name == "env_file":
            _env_file(home).unlink()
        elif name == "credentials":
            (home / ".moai" / "credentials.yaml").unlink()
        elif name == "named_var":
            del full["GLM_API_TOKEN"]
    del full["GLM_API_KEY"]
    info = status_json(repo, full)
    assert info["key"] == {"source": None}
    r = moai(repo, "glm", env=full)
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "no GLM key" in line and "moai glm --set-key" in line
    assert "$GLM_API_TOKEN or $GLM_API_KEY" in line
    assert not (repo / SETTINGS).exists()


def test_env_file_without_the_key_falls_through(
    repo: Path, home: Path, env: dict[str, str]
) -> None:
    path = write(_env_file(home), "# nothing here yet\nOTHER=1\n")
    path.chmod(0o600)
    info = status_json(repo, {**env, "GLM_API_KEY": FAKE_KEY})
    assert info["key"]["source"] == "$GLM_API_KEY"


def test_home_is_honoured(tmp_path: Path) -> None:
    """Two HOMEs, two keys: each run reads its own HOME's ~/.moai."""
    results = []
    for name, key in (("a", FAKE_KEY), ("b", OTHER_FAKE_KEY)):
        home = tmp_path / f"home-{name}"
        env = clean_env(home)
        repo = make_repo(tmp_path / f"repo-{name}", env)
        save_fake_key(home, key)
        assert moai(repo, "glm", env=env).returncode == 0
        results.append(settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"])
    assert results == [FAKE_KEY, OTHER_FAKE_KEY]


# --- .env.glm round-trip -----------------------------------------------------------------

printable_key = st.text(
    alphabet=st.characters(
        min_codepoint=0x21,
        max_codepoint=0x2FFF,
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp", "Cf"),
    ),
    min_size=1,
    max_size=60,
)


@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=printable_key)
@example(key="a\"b'c$d`e\\f\\\\g")
@example(key="$HOME`id`$(id)\\$x\\n")
@example(key="#not-a-comment=")
@example(key="\\")
@example(key="ключ-🔑-€")
def test_env_file_round_trips_any_printable_key(
    repo: Path, home: Path, env: dict[str, str], key: str
) -> None:
    """`moai glm --set-key` (stdin) then `moai glm` gives the same key; so does sh's `.`."""
    r = moai(repo, "glm", "--set-key", env=env, input=key + "\n")
    assert r.returncode == 0, r.stderr
    path = _env_file(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    r2 = moai(repo, "glm", env=env)
    assert r2.returncode == 0, r2.stderr
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == key
    if len(key) >= 12:  # shorter keys could match unrelated output by chance
        assert key not in r.stdout + r.stderr + r2.stdout + r2.stderr
    # the file is valid sh: sourcing it yields the very same bytes
    out = sh(f'. "{path}" && printf %s "$GLM_API_KEY"', env)
    assert out.returncode == 0 and out.stdout == key
    assert moai(repo, "claude", env=env).returncode == 0


def test_set_key_keeps_other_lines_replaces_key_atomically(
    home: Path, repo: Path, env: dict[str, str]
) -> None:
    path = write(_env_file(home), '# mine\nexport GLM_API_KEY="old-old-old-old"\nOTHER="x y"\n')
    path.chmod(0o600)
    inode = path.stat().st_ino
    r = moai(repo, "glm", "--set-key", env=env, input=FAKE_KEY)
    assert r.returncode == 0, r.stderr
    assert mask(FAKE_KEY) in r.stdout and FAKE_KEY not in r.stdout + r.stderr
    text = path.read_text()
    assert text.startswith("# mine\n") and 'OTHER="x y"' in text
    assert parse_env_file(text, "x")["GLM_API_KEY"] == FAKE_KEY
    assert text.count("GLM_API_KEY") == 1
    assert path.stat().st_ino != inode, "written by temp file + rename"
    assert sorted(p.name for p in path.parent.iterdir()) == [".env.glm"], "no temp file left"


def test_set_key_is_private_whatever_the_umask(home: Path, repo: Path, env: dict[str, str]) -> None:
    from tests.gitrepo import MOAI

    r = sh(f'umask 000 && printf %s "$K" | "{MOAI}" glm --set-key', {**env, "K": FAKE_KEY}, repo)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(_env_file(home).stat().st_mode) == 0o600
    assert stat.S_IMODE(_env_file(home).parent.stat().st_mode) == 0o700


def test_seed_form_saves_then_switches(repo: Path, home: Path, env: dict[str, str]) -> None:
    r = moai(repo, "glm", FAKE_KEY, env=env)
    assert r.returncode == 0, r.stderr
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert stat.S_IMODE(_env_file(home).stat().st_mode) == 0o600
    assert FAKE_KEY not in r.stdout + r.stderr
    assert "shell history" in r.stderr


@pytest.mark.parametrize(
    "stdin",
    ["with space", "tab\there", "two\nlines\n", "cr\rinside", "", "\n", " lead", "trail \n"],
)
def test_whitespace_keys_refused_nothing_written(
    home: Path, repo: Path, env: dict[str, str], stdin: str
) -> None:
    save_fake_key(home)
    before = snapshot(home, repo)
    r = moai(repo, "glm", "--set-key", env=env, input=stdin)
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "GLM key" in line
    assert_unchanged(before, snapshot(home, repo))


def test_argument_key_with_whitespace_refused(home: Path, repo: Path, env: dict[str, str]) -> None:
    r = moai(repo, "glm", "bad key", env=env)
    assert r.returncode == 2 and "whitespace" in one_line(r.stderr)
    assert not _env_file(home).exists() and not (repo / SETTINGS).exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o620])
@pytest.mark.parametrize("which", ["env_file", "credentials"])
def test_key_file_readable_by_others_refused(
    home: Path, repo: Path, env: dict[str, str], mode: int, which: str
) -> None:
    if which == "env_file":
        path, shown = save_fake_key(home), "~/.moai/.env.glm"
    else:
        path, shown = _credentials(home, FAKE_KEY), "~/.moai/credentials.yaml"
    path.chmod(mode)
    before = snapshot(home, repo)
    r = moai(repo, "glm", env=env)
    assert r.returncode != 0
    line = one_line(r.stderr)
    assert f"chmod 600 {shown}" in line and FAKE_KEY not in line
    info = status_json(repo, env)
    assert "chmod 600" in info["key"]["error"]
    assert_unchanged(before, snapshot(home, repo))
    path.chmod(0o600)
    assert moai(repo, "glm", env=env).returncode == 0


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ('GLM_API_KEY="unterminated\n', "unterminated"),
        ("just some words\n", "line 1"),
        ('GLM_API_KEY="a b c d e f g h"\n', "whitespace"),
        ('GLM_API_KEY="abc" trailing\n', "after the closing quote"),
    ],
)
def test_malformed_env_file_one_line_no_key_echoed(
    home: Path, repo: Path, env: dict[str, str], text: str, word: str
) -> None:
    path = write(_env_file(home), text)
    path.chmod(0o600)
    r = moai(repo, "glm", env=env)
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "~/.moai/.env.glm" in line and word in line
    assert "abc" not in line and "unterminated\n" not in line
    assert not (repo / SETTINGS).exists()


def test_malformed_credentials_yaml(home: Path, repo: Path, env: dict[str, str]) -> None:
    path = write(home / ".moai" / "credentials.yaml", "glm_api_key: [\n")
    path.chmod(0o600)
    r = moai(repo, "glm", env=env)
    assert r.returncode == 2 and "~/.moai/credentials.yaml" in one_line(r.stderr)


# --- the key never in output nor in argv --------------------------------------------------


def _argv_logging_git(tmp_path: Path) -> tuple[Path, Path]:
    """A `git` first on PATH that appends its argv to a log, then runs the real git."""
    real = shutil.which("git")
    assert real
    bindir = tmp_path / "shim"
    log = tmp_path / "argv.log"
    write(bindir / "git", f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\nexec "{real}" "$@"\n')
    (bindir / "git").chmod(0o755)
    return bindir, log


@pytest.mark.parametrize("credential_mode", ["inline", "helper"])
def test_key_never_in_output_or_child_argv(
    repo: Path, home: Path, env: dict[str, str], tmp_path: Path, credential_mode: str
) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + f"  credential_mode: {credential_mode}\n")
    bindir, log = _argv_logging_git(tmp_path)
    shim_env = {**env, "PATH": f"{bindir}{os.pathsep}{env['PATH']}"}
    (repo / ".gitignore").unlink()  # so moai also has to check and write info/exclude
    runs = [
        moai(repo, "glm", "--set-key", env=shim_env, input=FAKE_KEY),
        moai(repo, "init", env=shim_env),
        moai(repo, "status", env=shim_env),
        moai(repo, "glm", env=shim_env),
        moai(repo, "glm", env=shim_env),
        moai(repo, "status", "--json", env=shim_env),
        moai(repo, "apply", env=shim_env),
        moai(repo, "glm", env={**shim_env, "GLM_API_KEY": FAKE_KEY}),
        moai(repo, "claude", env=shim_env),
        moai(repo, "status", env={**shim_env, "ANTHROPIC_AUTH_TOKEN": FAKE_KEY}),
    ]
    assert [r.returncode for r in runs] == [0] * len(runs), [r.stderr for r in runs]
    for r in runs:
        assert FAKE_KEY not in r.stdout + r.stderr
    argv_log = log.read_text()
    assert "check-ignore" in argv_log  # the shim saw moai's git
    assert FAKE_KEY not in argv_log


def test_helper_mode_keeps_key_out_of_worktree_and_argv(
    repo: Path, home: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + "  credential_mode: helper\n")
    assert moai(repo, "glm", env=env).returncode == 0
    text = (repo / SETTINGS).read_text()
    assert keyed_home not in text
    doc = settings(repo)
    helper = doc["apiKeyHelper"]
    assert keyed_home not in helper
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == ""  # blanked: it would beat apiKeyHelper
    assert os.path.isabs(helper.split()[0].strip("'"))
    # Claude Code runs it through /bin/sh, from wherever it was started
    out = sh(helper, env, cwd=home)
    assert out.returncode == 0, out.stderr
    assert out.stdout == keyed_home + "\n"
    assert status_json(repo, env)["credential_mode"] == "helper"


def test_key_helper_without_key_fails_cleanly(repo: Path, home: Path, env: dict[str, str]) -> None:
    write(repo / LLM_YAML, SEED_LLM_YAML + "  credential_mode: helper\n")
    save_fake_key(home)
    assert moai(repo, "glm", env=env).returncode == 0
    helper = settings(repo)["apiKeyHelper"]
    _env_file(home).unlink()
    out = sh(helper, env, cwd=home)
    assert out.returncode != 0 and out.stdout == ""
    assert "moai glm --set-key" in out.stderr


@pytest.mark.parametrize("placeholder", ["${GLM_API_KEY}", "${GLM_API_TOKEN}"])
def test_both_placeholders_filled_whatever_the_source(
    repo: Path, env: dict[str, str], placeholder: str
) -> None:
    """The seed names GLM_API_TOKEN; either placeholder gets the resolved key."""
    write(repo / GLM_JSON, SEED_GLM_JSON.replace("${GLM_API_KEY}", placeholder))
    r = moai(repo, "glm", env={**env, "GLM_API_TOKEN": FAKE_KEY})
    assert r.returncode == 0, r.stderr
    assert settings(repo)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert "$GLM_API_TOKEN" in r.stdout


def test_set_key_needs_no_repository(tmp_path: Path, home: Path, env: dict[str, str]) -> None:
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    r = moai(outside, "glm", "--set-key", env=env, input=FAKE_KEY + "\n")
    assert r.returncode == 0, r.stderr
    assert parse_env_file(_env_file(home).read_text(), "x")["GLM_API_KEY"] == FAKE_KEY
    r = moai(outside, "glm", env=env)
    assert r.returncode == 2 and "not inside a git worktree" in one_line(r.stderr)


def test_helper_command_survives_awkward_worktree_paths(
    tmp_path: Path, home: Path, env: dict[str, str], keyed_home: str
) -> None:
    """/bin/sh gets the command: spaces, quotes and $ in the path must stay literal."""
    repo = make_repo(
        tmp_path / "it's a $HOME `dir` ü",
        env,
        llm_yaml=SEED_LLM_YAML + "  credential_mode: helper\n",
    )
    assert moai(repo, "glm", env=env).returncode == 0
    out = sh(settings(repo)["apiKeyHelper"], env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == keyed_home + "\n"


@pytest.mark.parametrize("key", ["k8short1", "elevenchars"])
def test_a_short_key_is_never_shown_even_in_part(
    repo: Path, home: Path, env: dict[str, str], key: str
) -> None:
    # first 4 + last 4 of an 8-character key would be the key itself.
    r = moai(repo, "glm", "--set-key", env=env, input=key + "\n")
    assert r.returncode == 0, r.stderr
    assert "saved GLM key … to" in r.stdout
    r = moai(repo, "glm", env=env)
    assert r.returncode == 0, r.stderr
    info = status_json(repo, env)
    assert info["key"] == {"source": "~/.moai/.env.glm", "masked": "…"}
    for out in (r.stdout + r.stderr, json.dumps(info)):
        assert key[:4] not in out and key[-4:] not in out
