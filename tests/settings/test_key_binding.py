"""A backend's key is bound to the endpoint it was set for (settings/keys.binding_problem).

A backend's name comes from a committed file: repository A's `kimi` is Moonshot,
a hostile repository B commits `kimi: {preset: deepseek}` (a preset's own host,
so no trust is asked). The Moonshot key `moai key set kimi` saved in A must
never be written for DeepSeek, through the engine, the prepared switch, `moai
use` or the key helper; whatever the key's source (~/.moai/.env.NAME,
credentials.yaml, the environment). Real repositories, the installed hooks and
the installed `moai`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.backends_support import KIMI_URL
from tests.core_fixtures import ready_dir
from tests.gitrepo import (
    LLM_YAML,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    make_repo,
    moai,
    settings,
    write,
)
from tests.hooks_support import install, moai_lines, run_git

MOONSHOT_KEY = "sk-fake-kimi-TESTONLY-0001"
OTHER_KEY = "sk-fake-deepseek-TESTONLY-0002"
DS_URL = "https://api.deepseek.com/anthropic"


def _team(preset: str, extra: str = "") -> str:
    return (
        SEED_LLM_YAML
        + f"  backends:\n    kimi: {{preset: {preset}}}\n"
        + '  routes:\n    - {branch: "exp/*", backend: kimi}\n'
        + '    - {branch: "*", backend: claude}\n'
        + extra
    )


def _repo(tmp_path: Path, name: str, env: dict[str, str], preset: str, extra: str = "") -> Path:
    repo = make_repo(tmp_path / name, env, llm_yaml=_team(preset, extra))
    run_git(repo, "branch", "exp/x", env=env)
    install(repo, env)
    return repo


def _no_key_anywhere(root: Path, *keys: str) -> None:
    """No byte of the keys in the worktree or its git dir (the record, ready/, the cache)."""
    for path in [*root.rglob("*")]:
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            for key in keys:
                assert key.encode() not in data, f"{key} in {path}"


@pytest.fixture
def a_and_b(tmp_path: Path, env: dict[str, str], keyed_home: str) -> tuple[Path, Path]:
    """A (kimi = Moonshot) with the Moonshot key set there; B (kimi = `deepseek`)."""
    a = _repo(tmp_path, "a", env, "moonshot")
    b = _repo(tmp_path, "b", env, "deepseek")
    r = moai(a, "key", "set", "kimi", env=env, input=MOONSHOT_KEY)
    assert r.returncode == 0, r.stderr
    assert f"for {KIMI_URL}" in r.stdout
    return a, b


def test_a_key_set_for_moonshot_never_reaches_deepseek(
    a_and_b: tuple[Path, Path], env: dict[str, str]
) -> None:
    a, b = a_and_b
    run_git(a, "checkout", "-q", "exp/x", env=env)
    assert settings(a)["env"]["ANTHROPIC_AUTH_TOKEN"] == MOONSHOT_KEY  # its own endpoint: yes

    proc = run_git(b, "checkout", "-q", "exp/x", env=env)
    lines = moai_lines(proc.stderr)
    assert len(lines) == 1, lines
    line = lines[0]
    assert "left this worktree on Claude" in line
    assert KIMI_URL in line and DS_URL in line and "moai key set kimi" in line
    assert MOONSHOT_KEY not in proc.stderr
    assert not (b / SETTINGS).exists()
    _no_key_anywhere(b, MOONSHOT_KEY)

    r = moai(b, "use", "kimi", env=env)
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1
    assert "moai key set kimi" in r.stderr and not (b / SETTINGS).exists()
    r = moai(b, "doctor", env=env)
    assert (
        f"the kimi key was set for {KIMI_URL}" in r.stdout
        and "[fix: moai key set kimi]" in r.stdout
    )
    r = moai(b, "key", "list", env=env)
    assert f"for {KIMI_URL}, not {DS_URL} (run: moai key set kimi)" in r.stdout


@pytest.mark.parametrize("preset", ["openrouter", "moonshot-china"])
def test_another_preset_under_the_same_name_gets_no_key(
    tmp_path: Path, env: dict[str, str], keyed_home: str, preset: str
) -> None:
    a = _repo(tmp_path, "a", env, "moonshot")
    assert moai(a, "key", "set", "kimi", env=env, input=MOONSHOT_KEY).returncode == 0
    b = _repo(tmp_path, "b", env, preset)
    proc = run_git(b, "checkout", "-q", "exp/x", env=env)
    assert "left this worktree on Claude" in proc.stderr
    _no_key_anywhere(b, MOONSHOT_KEY)


def test_a_worktree_on_the_backend_goes_to_claude_when_the_key_is_set_for_another_endpoint(
    a_and_b: tuple[Path, Path], env: dict[str, str], home: Path
) -> None:
    """The prepared switch (githooks/fast.py) must not send the key either: the stamp
    was prepared while the key was set for this endpoint."""
    a, b = a_and_b
    for branch in ("exp/x", "main", "exp/x", "main"):
        run_git(a, "checkout", "-q", branch, env=env)
    assert ready_dir(a, env).is_dir()
    # the user sets kimi's key again, in B, for DeepSeek
    r = moai(b, "key", "set", "kimi", env=env, input=OTHER_KEY)
    assert r.returncode == 0 and f"for {DS_URL}" in r.stdout
    proc = run_git(a, "checkout", "-q", "exp/x", env=env)
    assert "left this worktree on Claude" in proc.stderr
    assert not (a / SETTINGS).exists() or OTHER_KEY not in (a / SETTINGS).read_text()
    _no_key_anywhere(a, OTHER_KEY, MOONSHOT_KEY)
    run_git(b, "checkout", "-q", "exp/x", env=env)
    assert settings(b)["env"]["ANTHROPIC_AUTH_TOKEN"] == OTHER_KEY
    assert settings(b)["env"]["ANTHROPIC_BASE_URL"] == DS_URL


def test_a_key_with_no_endpoint_recorded_goes_nowhere(
    tmp_path: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    a = _repo(tmp_path, "a", env, "moonshot")
    key_file = write(home / ".moai" / ".env.kimi", f'MOAI_KIMI_API_KEY="{MOONSHOT_KEY}"\n')
    key_file.chmod(0o600)
    proc = run_git(a, "checkout", "-q", "exp/x", env=env)
    (line,) = moai_lines(proc.stderr)
    assert "MOAI_KIMI_BASE_URL" in line and "moai key set kimi" in line
    assert not (a / SETTINGS).exists()


def test_credentials_yaml_binds_a_key_with_its_base_url_field(
    tmp_path: Path, env: dict[str, str], home: Path, keyed_home: str
) -> None:
    a = _repo(tmp_path, "a", env, "moonshot")
    b = _repo(tmp_path, "b", env, "deepseek")
    creds = home / ".moai" / "credentials.yaml"
    write(creds, f"kimi_api_key: {MOONSHOT_KEY}\n").chmod(0o600)
    proc = run_git(a, "checkout", "-q", "exp/x", env=env)
    assert "kimi_base_url" in proc.stderr  # none recorded beside the key: nowhere
    assert not (a / SETTINGS).exists()
    write(creds, f"kimi_api_key: {MOONSHOT_KEY}\nkimi_base_url: {KIMI_URL}\n").chmod(0o600)
    r = moai(a, "apply", env=env)
    assert r.returncode == 0, r.stderr
    assert settings(a)["env"]["ANTHROPIC_AUTH_TOKEN"] == MOONSHOT_KEY
    proc = run_git(b, "checkout", "-q", "exp/x", env=env)
    assert "left this worktree on Claude" in proc.stderr
    _no_key_anywhere(b, MOONSHOT_KEY)


def test_a_key_from_the_environment_needs_its_endpoint_beside_it(
    tmp_path: Path, env: dict[str, str], keyed_home: str
) -> None:
    """$MOAI_KIMI_API_KEY exported for Moonshot in a shell's rc file is not a word for
    whatever endpoint a repository names kimi: $MOAI_KIMI_BASE_URL says where it goes."""
    a = _repo(tmp_path, "a", env, "moonshot")
    b = _repo(tmp_path, "b", env, "deepseek")
    bare = {**env, "MOAI_KIMI_API_KEY": MOONSHOT_KEY}
    proc = run_git(b, "checkout", "-q", "exp/x", env=bare)
    (line,) = moai_lines(proc.stderr)
    assert "$MOAI_KIMI_BASE_URL" in line and not (b / SETTINGS).exists()
    bound = {**bare, "MOAI_KIMI_BASE_URL": KIMI_URL}
    run_git(b, "checkout", "-q", "main", env=bound)
    proc = run_git(b, "checkout", "-q", "exp/x", env=bound)
    assert "left this worktree on Claude" in proc.stderr and not (b / SETTINGS).exists()
    run_git(a, "checkout", "-q", "exp/x", env=bound)
    assert settings(a)["env"]["ANTHROPIC_AUTH_TOKEN"] == MOONSHOT_KEY


def _helper(repo: Path, env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_key_helper_prints_a_key_only_for_the_endpoint_it_was_set_for(
    tmp_path: Path, env: dict[str, str], keyed_home: str
) -> None:
    helper = "  credential_mode: helper\n"
    a = _repo(tmp_path, "a", env, "moonshot", helper)
    assert moai(a, "key", "set", "kimi", env=env, input=MOONSHOT_KEY).returncode == 0
    run_git(a, "checkout", "-q", "exp/x", env=env)
    command = settings(a)["apiKeyHelper"]
    assert command.endswith(" kimi")
    out = _helper(a, env, command)
    assert out.returncode == 0 and out.stdout == MOONSHOT_KEY + "\n"

    # A's llm.yaml changed by a merge that ran no hook: kimi is DeepSeek now.
    write(a / LLM_YAML, _team("deepseek", helper))
    git(a, "commit", "-qam", "kimi is deepseek", "--no-verify", env=env)
    out = _helper(a, env, command)
    assert out.returncode != 0 and out.stdout == "" and MOONSHOT_KEY not in out.stderr
    assert DS_URL in out.stderr

    # B defines no backend kimi at all; its own helper command names kimi anyway.
    b = make_repo(tmp_path / "b", env)
    out = _helper(b, env, command.replace(str(a), str(b)))
    assert out.returncode != 0 and out.stdout == ""


def test_the_key_helper_refuses_when_the_settings_send_the_key_elsewhere(
    tmp_path: Path, env: dict[str, str], keyed_home: str
) -> None:
    a = _repo(tmp_path, "a", env, "moonshot", "  credential_mode: helper\n")
    assert moai(a, "key", "set", "kimi", env=env, input=MOONSHOT_KEY).returncode == 0
    run_git(a, "checkout", "-q", "exp/x", env=env)
    path = a / SETTINGS
    command = settings(a)["apiKeyHelper"]
    path.write_text(path.read_text().replace(KIMI_URL, "https://elsewhere.example.invalid"))
    out = _helper(a, env, command)
    assert out.returncode != 0 and out.stdout == "" and "moai apply" in out.stderr


def test_no_key_yet_names_the_endpoint_whose_key_to_give(
    tmp_path: Path, env: dict[str, str], keyed_home: str
) -> None:
    """`kimi` here is DeepSeek: the line asking for a key says which provider's key
    (else a user pastes the Moonshot key they know as kimi, and moai binds it here)."""
    b = _repo(tmp_path, "b", env, "deepseek")
    proc = run_git(b, "checkout", "-q", "exp/x", env=env)
    (line,) = moai_lines(proc.stderr)
    assert "moai key set kimi" in line and f"a key of {DS_URL}" in line
