"""The guard knows every backend's key: each configured backend's (and every key
file's) exact value is refused in a commit, masked; shapes several providers share
(`sk-` + hex or alphanumerics) only warn. Through `moai hooks install` and real
`git commit`, as a user commits."""

from __future__ import annotations

from pathlib import Path

import pytest

from moai_mashup.core.backends import key_var
from moai_mashup.guard import scan as guard
from moai_mashup.settings.keys import mask
from tests.commands.test_key_cli import BACKENDS_YAML, KIMI_KEY, LAB_KEY
from tests.gitrepo import FAKE_KEY, LLM_YAML, git, moai, write
from tests.guard.test_guard_staged import ZAI_SHAPED, head
from tests.guard.test_policy_commit import commit

# Built at run time so this file itself never holds a key-shaped string.
SK_HEX = "sk-" + "0123456789abcdef" * 2  # DeepSeek's and DashScope's shape
SK_ALNUM = "sk-" + "TESTONLYnotREAL0" * 3  # Moonshot's
OPENROUTER = "sk-" + "or-v1-" + "0123456789abcdef" * 4


@pytest.fixture
def hooked(repo: Path, env: dict[str, str]) -> Path:
    """The seed repository defining kimi and lab, moai's hooks installed."""
    write(repo / LLM_YAML, BACKENDS_YAML)
    git(repo, "commit", "-qam", "backends", env=env)
    r = moai(repo, "hooks", "install", env=env)
    assert r.returncode == 0, r.stderr
    return repo


def save(home: Path, name: str, key: str) -> None:
    var = "GLM_API_KEY" if name == "glm" else key_var(name)
    path = write(home / ".moai" / f".env.{name}", f'{var}="{key}"\n')
    path.chmod(0o600)


def refused(repo: Path, env: dict[str, str], rel: str, text: str) -> str:
    """Commit `text` in `rel`: the commit must be refused, HEAD unchanged; its stderr."""
    before = head(repo, env)
    write(repo / rel, text)
    git(repo, "add", "-f", rel, env=env)
    r = commit(repo, env, "-m", "add " + rel)
    assert r.returncode != 0, r.stdout + r.stderr
    assert head(repo, env) == before
    git(repo, "rm", "-q", "--cached", "-f", rel, env=env)
    (repo / rel).unlink()
    return r.stderr


def test_each_configured_backends_key_is_refused_masked(
    hooked: Path, home: Path, env: dict[str, str]
) -> None:
    save(home, "glm", FAKE_KEY)
    save(home, "lab", LAB_KEY)
    write(home / ".moai" / "credentials.yaml", f"kimi_api_key: {KIMI_KEY}\n").chmod(0o600)
    err = refused(hooked, env, "src/a.py", f'LAB = "{LAB_KEY}"\n')
    assert f"src/a.py:1: lab key from ~/.moai/.env.lab ({mask(LAB_KEY)})" in err
    err = refused(hooked, env, "src/b.py", f"x\nKIMI = '{KIMI_KEY}'\n")
    assert f"src/b.py:2: kimi key from ~/.moai/credentials.yaml ({mask(KIMI_KEY)})" in err
    err = refused(hooked, env, "src/c.py", f"{FAKE_KEY}\n")
    assert "src/c.py:1: GLM key from ~/.moai/.env.glm" in err
    for key in (FAKE_KEY, LAB_KEY, KIMI_KEY):
        assert key not in err
    # the same hooks let a commit without keys through
    write(hooked / "ok.txt", "fine\n")
    git(hooked, "add", "ok.txt", env=env)
    assert commit(hooked, env, "-m", "fine").returncode == 0


def test_a_backends_key_from_its_variable_is_refused(hooked: Path, env: dict[str, str]) -> None:
    full = {**env, "MOAI_LAB_API_KEY": LAB_KEY}
    err = refused(hooked, full, "notes.md", f"token {LAB_KEY}\n")
    assert "notes.md:1: lab key from $MOAI_LAB_API_KEY" in err and LAB_KEY not in err


def test_a_key_file_of_a_backend_not_defined_here_still_counts(
    hooked: Path, home: Path, env: dict[str, str]
) -> None:
    """An old key of a backend this repository does not define is still the user's key."""
    save(home, "old-gw", LAB_KEY)
    err = refused(hooked, env, "a.txt", f"{LAB_KEY}\n")
    assert "a.txt:1: old-gw key from ~/.moai/.env.old-gw" in err
    # a world-readable key file is found as well (moai refuses to use it, not to guard it)
    (home / ".moai" / ".env.old-gw").chmod(0o644)
    assert "a.txt:1: old-gw key from" in refused(hooked, env, "a.txt", f"{LAB_KEY}\n")


def test_a_backends_key_in_the_commit_message_is_refused(
    hooked: Path, home: Path, env: dict[str, str]
) -> None:
    save(home, "kimi", KIMI_KEY)
    before = head(hooked, env)
    write(hooked / "ok.txt", "fine\n")
    git(hooked, "add", "ok.txt", env=env)
    r = commit(hooked, env, "-m", f"use {KIMI_KEY}")
    assert r.returncode != 0 and head(hooked, env) == before
    assert "commit message:1: kimi key from ~/.moai/.env.kimi" in r.stderr
    assert KIMI_KEY not in r.stderr


def test_a_backends_key_file_is_refused(hooked: Path, env: dict[str, str]) -> None:
    """`.env.lab` is a key file where lab is a backend; `.env.production` is not."""
    err = refused(hooked, env, "conf/.env.lab", "MOAI_LAB_API_KEY=x\n")
    assert "conf/.env.lab: a lab key file; never commit it" in err
    write(hooked / ".env.production", "DEBUG=0\n")
    git(hooked, "add", ".env.production", env=env)
    r = commit(hooked, env, "-m", "dotenv")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    ("shape", "label"),
    [
        (SK_HEX, guard.SK_HEX_LABEL),
        (SK_ALNUM, guard.SK_ALNUM_LABEL),
        (OPENROUTER, guard.OPENROUTER_LABEL),
    ],
)
def test_a_shared_key_shape_warns_and_commits(
    hooked: Path, env: dict[str, str], shape: str, label: str
) -> None:
    before = head(hooked, env)
    write(hooked / "client.py", f'API_KEY = "{shape}"\n')
    git(hooked, "add", "client.py", env=env)
    r = commit(hooked, env, "-m", "client")
    assert r.returncode == 0, r.stderr
    assert head(hooked, env) != before
    assert f"moai: warning: {guard.WARN_NOTE}:" in r.stderr
    assert f"  client.py:1: {label} ({mask(shape)})" in r.stderr
    assert shape not in r.stderr
    # the same shape in the commit message: a warning too, and the trailer still added
    write(hooked / "client.py", "API_KEY = os.environ['X']\n")
    git(hooked, "add", "client.py", env=env)
    r = commit(hooked, env, "-m", f"rotate {shape}")
    assert r.returncode == 0, r.stderr
    assert f"commit message:1: {label}" in r.stderr and shape not in r.stderr


def test_a_shared_shape_that_is_a_known_key_refuses(
    hooked: Path, home: Path, env: dict[str, str]
) -> None:
    """The user's own DeepSeek key has the shared shape: its exact value refuses."""
    save(home, "ds", SK_HEX)
    err = refused(hooked, env, "client.py", f'K = "{SK_HEX}"\n')
    assert f"client.py:1: ds key from ~/.moai/.env.ds ({mask(SK_HEX)})" in err
    assert guard.SK_HEX_LABEL not in err


def test_shapes_in_a_range_warn_and_pass(repo: Path, env: dict[str, str]) -> None:
    base = head(repo, env)
    write(repo / "a.py", f"A = '{SK_ALNUM}'\n")
    git(repo, "add", "a.py", env=env)
    git(repo, "commit", "-qm", "a", env=env)
    r = moai(repo, "check", "--from-ref", base, "--to-ref", "HEAD", env=env)
    assert r.returncode == 0, r.stderr
    assert f"a.py:1: {guard.SK_ALNUM_LABEL}" in r.stderr and SK_ALNUM not in r.stderr
    r = moai(repo, "check", "--all-files", env=env)
    assert r.returncode == 0 and f"a.py:1: {guard.SK_ALNUM_LABEL}" in r.stderr
    # beside a refusing shape, the warning is still shown and the refusal stands
    write(repo / "b.py", f"B = '{ZAI_SHAPED}'\n")
    git(repo, "add", "b.py", env=env)
    r = moai(repo, "check", "--all-files", env=env)
    assert r.returncode == 1 and "b.py:1: Z.ai API key" in r.stderr
    assert f"a.py:1: {guard.SK_ALNUM_LABEL}" in r.stderr


# --- the shapes, as rules --------------------------------------------------------------


def labels(text: str, known: list[guard.KnownKey] | None = None) -> list[str]:
    return [label for _o, label, _m in guard.KeyMatcher(known or []).in_text(text.encode())]


def test_shared_shapes_and_their_edges() -> None:
    assert labels(f"k={SK_HEX}\n") == [guard.SK_HEX_LABEL]
    assert labels(f"'{SK_ALNUM}'") == [guard.SK_ALNUM_LABEL]
    assert labels(OPENROUTER) == [guard.OPENROUTER_LABEL]
    assert labels(f"{SK_HEX} {SK_ALNUM}") == [guard.SK_HEX_LABEL, guard.SK_ALNUM_LABEL]
    # not these: a word running into `sk-`, a longer or shorter run, upper-case hex
    # of the wrong length, Anthropic's own prefix (refused as Anthropic's)
    assert labels("task-" + "0123456789abcdef" * 2) == []
    assert labels(SK_HEX + "0") == []
    assert labels(SK_HEX[:-1]) == []
    assert labels(SK_ALNUM + "x") == []
    assert labels(SK_HEX + "-suffix") == []
    assert labels("sk-" + "0123456789ABCDEF" * 2) == []
    assert labels(OPENROUTER[:-1]) == []
    assert labels("sk-" + "ant-" + "api03-" + "TESTONLYnotREAL" * 3) == ["Anthropic API key"]
    # the pragma exempts a fixture line, never a known key
    assert labels(f"{SK_HEX}  # moai: allow-key") == []
    known = [guard.KnownKey("~/.moai/.env.ds", SK_HEX, "ds")]
    assert labels(f"{SK_HEX}  # moai: allow-key", known) == ["ds key from ~/.moai/.env.ds"]


def test_a_shape_in_a_file_name_warns_masked() -> None:
    files = [guard.ChangedFile(None, "A", f"keys/{SK_HEX}.txt", "0" * 40, "100644")]
    [found] = guard.scan_names(files, guard.KeyMatcher([]))
    assert found.warn and found.path == f"keys/{mask(SK_HEX)}.txt"
    assert (
        found.describe()
        == f"keys/{mask(SK_HEX)}.txt: its name holds a {guard.SK_HEX_LABEL} ({mask(SK_HEX)})"
    )


def test_known_keys_of_every_backend(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(home))
    for name in ("GLM_API_KEY", "GLM_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    save(home, "glm", FAKE_KEY)
    save(home, "lab", LAB_KEY)
    write(home / ".moai" / "credentials.yaml", f"kimi_api_key: {KIMI_KEY}\n").chmod(0o600)
    monkeypatch.setenv("MOAI_GW_API_KEY", "gw-key-TESTONLY-1")
    monkeypatch.setenv("MOAI_DS_API_KEY", "ds-key-TESTONLY-2")
    assert guard.known_keys("GLM_API_TOKEN", ("ds",)) == [
        guard.KnownKey("~/.moai/.env.glm", FAKE_KEY, "glm"),
        guard.KnownKey("$MOAI_DS_API_KEY", "ds-key-TESTONLY-2", "ds"),
        guard.KnownKey("~/.moai/.env.lab", LAB_KEY, "lab"),
        guard.KnownKey("~/.moai/credentials.yaml", KIMI_KEY, "kimi"),
        guard.KnownKey("$MOAI_GW_API_KEY", "gw-key-TESTONLY-1", "gw"),
    ]
