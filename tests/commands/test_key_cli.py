"""`moai key set|list|remove NAME` and `moai use NAME`, as a user runs them: real
repositories, the installed `moai`, a fake HOME, a real terminal (tmux) for the
hidden prompt."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from moai_mashup.settings.keys import mask, parse_env_file
from tests.core_fixtures import assert_unchanged, one_line, sh, snapshot
from tests.gitrepo import (
    FAKE_KEY,
    LLM_LOCAL_YAML,
    LLM_YAML,
    MOAI,
    OTHER_FAKE_KEY,
    SEED_LLM_YAML,
    SETTINGS,
    git,
    moai,
    save_fake_key,
    settings,
    write,
)
from tests.tty_support import Tmux

LAB_KEY = "fake2222lab2222key2222tests.TESTONLYnotreal3"
KIMI_KEY = "fake3333kimi3333key333tests.TESTONLYnotreal4"
LAB_URL = "https://llm.internal.example/anthropic"
KIMI_URL = "https://api.moonshot.ai/anthropic"  # core.backends.PRESETS["moonshot"]

BACKENDS_YAML = (
    SEED_LLM_YAML
    + """\
  backends:
    kimi: {preset: moonshot}
    lab:
      base_url: https://llm.internal.example/anthropic
      models: {opus: lab-large, sonnet: lab-large, haiku: lab-small}
"""
)


@pytest.fixture
def configured(repo: Path, env: dict[str, str]) -> Path:
    """The seed repository with two backends beside glm committed."""
    write(repo / LLM_YAML, BACKENDS_YAML)
    git(repo, "commit", "-qam", "backends", env=env)
    return repo


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    path = tmp_path / "not-a-repo"
    path.mkdir()
    return path


def key_file(home: Path, name: str) -> Path:
    return home / ".moai" / f".env.{name}"


def saved(home: Path, name: str) -> dict[str, str]:
    return parse_env_file(key_file(home, name).read_text(), "x")


# --- moai key set ------------------------------------------------------------------------


def test_set_saves_a_private_file_with_the_backends_variable(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    r = moai(configured, "key", "set", "lab", env=env, input=LAB_KEY + "\n")
    assert r.returncode == 0, r.stderr
    path = key_file(home, "lab")
    assert r.stdout == f"saved lab key {mask(LAB_KEY)} to {path} for {LAB_URL} (mode 0600)\n"
    assert LAB_KEY not in r.stdout + r.stderr
    # with the endpoint it is for: this repository's lab
    assert saved(home, "lab") == {"MOAI_LAB_API_KEY": LAB_KEY, "MOAI_LAB_BASE_URL": LAB_URL}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # the file is sh: sourcing it gives the same bytes
    out = sh(f'. "{path}" && printf %s "$MOAI_LAB_API_KEY"', env)
    assert out.stdout == LAB_KEY


def test_set_glm_is_glm_set_key(configured: Path, home: Path, env: dict[str, str]) -> None:
    """Same file, same variable, same output; the other lines of the file kept."""
    outputs = []
    for argv in (("key", "set", "glm"), ("glm", "--set-key")):
        path = write(key_file(home, "glm"), '# mine\nOTHER="x y"\n')
        path.chmod(0o600)
        r = moai(configured, *argv, env=env, input=FAKE_KEY + "\n")
        assert r.returncode == 0, r.stderr
        outputs.append((r.stdout, r.stderr, path.read_text()))
    assert outputs[0] == outputs[1]
    assert saved(home, "glm") == {"OTHER": "x y", "GLM_API_KEY": FAKE_KEY}
    assert (
        outputs[0][0] == f"saved GLM key {mask(FAKE_KEY)} to {key_file(home, 'glm')} (mode 0600)\n"
    )


def test_set_outside_a_repository_takes_any_valid_name(
    outside: Path, home: Path, env: dict[str, str]
) -> None:
    """With the endpoint given (`--base-url`): no repository says which it is."""
    gw = "https://gw.example.invalid/anthropic"
    r = moai(outside, "key", "set", "my-gw2", "--base-url", gw, env=env, input=LAB_KEY)
    assert r.returncode == 0, r.stderr
    assert saved(home, "my-gw2") == {"MOAI_MY_GW2_API_KEY": LAB_KEY, "MOAI_MY_GW2_BASE_URL": gw}


def test_set_in_a_repository_without_moai_takes_any_valid_name(
    tmp_path: Path, home: Path, env: dict[str, str]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "-q", env=env)
    r = moai(plain, "key", "set", "kimi", "--base-url", KIMI_URL, env=env, input=KIMI_KEY)
    assert r.returncode == 0, r.stderr
    assert saved(home, "kimi") == {"MOAI_KIMI_API_KEY": KIMI_KEY, "MOAI_KIMI_BASE_URL": KIMI_URL}


def test_set_takes_a_backend_of_the_users_local_file(
    repo: Path, home: Path, env: dict[str, str]
) -> None:
    write(
        repo / LLM_LOCAL_YAML,
        "llm:\n  backends:\n    mine:\n      base_url: https://mine.example/anthropic\n"
        "      models: {opus: m, sonnet: m, haiku: m}\n",
    )
    r = moai(repo, "key", "set", "mine", env=env, input=LAB_KEY)
    assert r.returncode == 0, r.stderr
    assert saved(home, "mine") == {
        "MOAI_MINE_API_KEY": LAB_KEY,
        "MOAI_MINE_BASE_URL": "https://mine.example/anthropic",
    }


def test_set_outside_a_repository_binds_a_preset_name_to_that_preset(
    outside: Path, home: Path, env: dict[str, str]
) -> None:
    r = moai(outside, "key", "set", "deepseek", env=env, input=LAB_KEY)
    assert r.returncode == 0, r.stderr
    url = "https://api.deepseek.com/anthropic"  # core.backends.PRESETS["deepseek"]
    assert f"for {url}" in r.stdout
    assert saved(home, "deepseek")["MOAI_DEEPSEEK_BASE_URL"] == url


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), ["my-gw: moai records the endpoint a key is for", "--base-url URL"]),
        (("--base-url", "ftp://gw.example"), ["--base-url", "http(s) URL"]),
        (("--base-url", "https://gw.example/\x1b[2K"), ["control characters"]),
        (("--base-url", "https://gw.example/ x"), ["white space"]),
    ],
)
def test_set_without_an_endpoint_is_refused_and_saves_nothing(
    outside: Path, home: Path, env: dict[str, str], args: tuple[str, ...], words: list[str]
) -> None:
    r = moai(outside, "key", "set", "my-gw", *args, env=env, input=LAB_KEY)
    assert r.returncode == 2, r.stdout + r.stderr
    line = one_line(r.stderr)
    for word in words:
        assert word in line, line
    assert not key_file(home, "my-gw").exists()


def test_set_for_another_endpoint_than_this_repositorys_says_it_is_not_used_here(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    other = "https://other.example/anthropic"
    r = moai(configured, "key", "set", "lab", "--base-url", other, env=env, input=LAB_KEY)
    assert r.returncode == 0, r.stderr
    assert saved(home, "lab")["MOAI_LAB_BASE_URL"] == other
    assert f"sends lab's key to {LAB_URL}" in one_line(r.stderr)


def test_set_glm_takes_no_endpoint(configured: Path, home: Path, env: dict[str, str]) -> None:
    r = moai(configured, "key", "set", "glm", "--base-url", LAB_URL, env=env, input=FAKE_KEY)
    assert r.returncode == 2 and "glm.json" in one_line(r.stderr)
    assert not key_file(home, "glm").exists()


def test_set_again_replaces_the_key_and_its_endpoint_keeping_other_lines(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    old = "https://old.example/anthropic"
    path = write(
        key_file(home, "lab"),
        f'# mine\nMOAI_LAB_API_KEY="{OTHER_FAKE_KEY}"\nOTHER="x"\nMOAI_LAB_BASE_URL="{old}"\n',
    )
    path.chmod(0o600)
    r = moai(configured, "key", "set", "lab", env=env, input=LAB_KEY)
    assert r.returncode == 0, r.stderr
    assert path.read_text() == (
        f'# mine\nMOAI_LAB_API_KEY="{LAB_KEY}"\nMOAI_LAB_BASE_URL="{LAB_URL}"\nOTHER="x"\n'
    )
    r = moai(configured, "key", "remove", "lab", env=env)
    assert r.returncode == 0, r.stderr
    assert path.read_text() == '# mine\nOTHER="x"\n'


@pytest.mark.parametrize(
    ("name", "stdin", "words"),
    [
        ("gw", LAB_KEY, ["gw: no such backend in", LLM_YAML, "glm, kimi, lab", "llm.backends"]),
        ("claude", LAB_KEY, ["claude: moai keeps no key for Claude", "claude /login"]),
        ("Lab", LAB_KEY, ["'Lab' is not a backend name", "lower-case"]),
        ("la_b", LAB_KEY, ["'la_b' is not a backend name"]),
        ("../lab", LAB_KEY, ["is not a backend name"]),
        ("x" * 33, LAB_KEY, ["is not a backend name", "at most 32"]),
        ("lab", "two\nlines\n", ["stdin: the lab key contains whitespace"]),
        ("lab", "with space", ["stdin: the lab key contains whitespace"]),
        ("lab", "bell\x07", ["stdin: the lab key contains whitespace or control"]),
        ("lab", "", ["stdin: the lab key is empty"]),
    ],
)
def test_set_refusals_one_line_nothing_written(
    configured: Path, home: Path, env: dict[str, str], name: str, stdin: str, words: list[str]
) -> None:
    save_fake_key(home)
    before = snapshot(home, configured)
    r = moai(configured, "key", "set", name, env=env, input=stdin)
    assert r.returncode == 2, r.stdout + r.stderr
    line = one_line(r.stderr)
    for word in words:
        assert word in line, line
    assert r.stdout == ""
    assert_unchanged(before, snapshot(home, configured))


def test_set_refuses_before_reading_the_key(configured: Path, env: dict[str, str]) -> None:
    """A name that cannot be set is refused before anything is read from stdin."""
    r = moai(configured, "key", "set", "gw", env=env, input=LAB_KEY)
    assert r.returncode == 2 and "stdin" not in r.stderr


def test_set_with_a_broken_config_says_so(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    write(configured / LLM_YAML, "llm:\n  mode: [oops\n")
    r = moai(configured, "key", "set", "lab", env=env, input=LAB_KEY)
    assert r.returncode == 2 and LLM_YAML in one_line(r.stderr)
    assert not key_file(home, "lab").exists()
    # glm needs no config: `moai glm --set-key` never read it
    r = moai(configured, "key", "set", "glm", env=env, input=FAKE_KEY)
    assert r.returncode == 0, r.stderr


def test_set_reads_a_bounded_stdin(configured: Path, home: Path, env: dict[str, str]) -> None:
    big = home / "big"
    big.write_bytes(b"x" * (1 << 20))
    r = sh(f'"{MOAI}" key set lab < "{big}"', env, configured)
    assert r.returncode == 2 and "stdin: larger than 64 KiB" in r.stderr, r.stderr
    assert not key_file(home, "lab").exists()


@pytest.fixture
def term() -> Iterator[list[Tmux]]:
    started: list[Tmux] = []
    yield started
    for t in started:
        t.close()


@pytest.mark.terminal
def test_set_in_a_terminal_prompts_hidden(
    configured: Path, home: Path, env: dict[str, str], tmp_path: Path, term: list[Tmux]
) -> None:
    t = Tmux(tmp_path, [MOAI, "key", "set", "lab"], configured, env)
    term.append(t)
    t.wait_for("lab API key:")
    t.send(LAB_KEY, literal=True)
    t.send("Enter")
    screen = t.wait_for("[exit 0]")
    assert LAB_KEY not in screen
    assert f"saved lab key {mask(LAB_KEY)}" in screen
    assert saved(home, "lab") == {"MOAI_LAB_API_KEY": LAB_KEY, "MOAI_LAB_BASE_URL": LAB_URL}


@pytest.mark.terminal
def test_glm_set_key_in_a_terminal_is_the_same_prompt(
    repo: Path, home: Path, env: dict[str, str], tmp_path: Path, term: list[Tmux]
) -> None:
    t = Tmux(tmp_path, [MOAI, "glm", "--set-key"], repo, env)
    term.append(t)
    t.wait_for("GLM API key:")
    t.send("bad key", literal=True)
    t.send("Enter")
    screen = t.wait_for("[exit 2]")
    assert "the GLM key contains whitespace" in screen
    assert not key_file(home, "glm").exists()


# --- moai key list -----------------------------------------------------------------------


def test_list_shows_every_backend_masked_with_its_source(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    save_fake_key(home)
    old = write(key_file(home, "old"), f'MOAI_OLD_API_KEY="{OTHER_FAKE_KEY}"\n')
    old.chmod(0o600)
    write(key_file(home, "not_a_name"), "X=1\n").chmod(0o600)  # no backend: not listed
    full = {**env, "MOAI_KIMI_API_KEY": KIMI_KEY, "MOAI_KIMI_BASE_URL": KIMI_URL}
    r = moai(configured, "key", "list", env=full)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"glm   {mask(FAKE_KEY)} from ~/.moai/.env.glm",
        f"kimi  {mask(KIMI_KEY)} from $MOAI_KIMI_API_KEY, for {KIMI_URL}",
        # no route sends a branch to lab: its key is not needed yet
        "lab   no key (no branch goes to it here; for `moai use lab`: moai key set lab)",
        f"old   {mask(OTHER_FAKE_KEY)} from ~/.moai/.env.old, no endpoint recorded "
        "(run: moai key set old)  (not defined in this repository)",
    ]
    r = moai(configured, "key", "list", "--json", env=full)
    assert r.returncode == 0, r.stderr
    rows = {row["backend"]: row for row in json.loads(r.stdout)["keys"]}
    assert list(rows) == ["glm", "kimi", "lab", "old"]
    assert rows["glm"] == {
        "backend": "glm",
        "defined": True,
        "masked": mask(FAKE_KEY),
        "source": "~/.moai/.env.glm",
        "variable": "GLM_API_TOKEN",  # the seed's glm_env_var
        "routed": True,  # mashup: SPEC branches on glm
    }
    assert rows["lab"]["routed"] is False and rows["old"]["routed"] is False
    assert rows["kimi"]["source"] == "$MOAI_KIMI_API_KEY"
    assert rows["kimi"]["endpoint"] == rows["kimi"]["sent_to"] == KIMI_URL
    assert rows["lab"]["masked"] is None and rows["lab"]["source"] is None
    assert rows["lab"]["variable"] == "MOAI_LAB_API_KEY"
    assert rows["old"]["defined"] is False
    for key in (FAKE_KEY, KIMI_KEY, OTHER_FAKE_KEY):
        assert key not in r.stdout


def test_list_names_credentials_yaml_and_a_broken_file(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    creds = f"lab_api_key: {LAB_KEY}\nlab_base_url: https://elsewhere.example/anthropic\n"
    write(home / ".moai" / "credentials.yaml", creds).chmod(0o600)
    write(key_file(home, "kimi"), f'MOAI_KIMI_API_KEY="{KIMI_KEY}"\n').chmod(0o644)
    r = moai(configured, "key", "list", env=env)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert (
        f"lab   {mask(LAB_KEY)} from ~/.moai/credentials.yaml, for "
        f"https://elsewhere.example/anthropic, not {LAB_URL} (run: moai key set lab)"
    ) in lines
    [kimi] = [line for line in lines if line.startswith("kimi")]
    assert "error: ~/.moai/.env.kimi" in kimi and "chmod 600 ~/.moai/.env.kimi" in kimi
    assert KIMI_KEY not in r.stdout + r.stderr and LAB_KEY not in r.stdout


def test_list_outside_a_repository(outside: Path, home: Path, env: dict[str, str]) -> None:
    text = f'MOAI_LAB_API_KEY="{LAB_KEY}"\nMOAI_LAB_BASE_URL="{LAB_URL}"\n'
    write(key_file(home, "lab"), text).chmod(0o600)
    r = moai(outside, "key", "list", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "glm  no key (run: moai key set glm)",
        f"lab  {mask(LAB_KEY)} from ~/.moai/.env.lab, for {LAB_URL}",
    ]
    rows = json.loads(moai(outside, "key", "list", "--json", env=env).stdout)["keys"]
    assert [r["defined"] for r in rows] == [None, None]


def test_list_with_a_broken_config_lists_the_key_files(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    text = f'MOAI_LAB_API_KEY="{LAB_KEY}"\nMOAI_LAB_BASE_URL="{LAB_URL}"\n'
    write(key_file(home, "lab"), text).chmod(0o600)
    write(configured / LLM_YAML, "llm:\n  mode: [oops\n")
    before = snapshot(configured)
    r = moai(configured, "key", "list", env=env)
    assert r.returncode == 0, r.stderr
    line = one_line(r.stderr)
    assert line.startswith("moai: warning: ") and LLM_YAML in line
    assert line.endswith("listing the key files only")
    assert f"lab  {mask(LAB_KEY)} from ~/.moai/.env.lab, for {LAB_URL}" in r.stdout
    assert LAB_KEY not in r.stdout + r.stderr
    assert_unchanged(before, snapshot(configured))


# --- moai key remove ---------------------------------------------------------------------


def test_remove_takes_out_only_that_line(configured: Path, home: Path, env: dict[str, str]) -> None:
    path = write(key_file(home, "lab"), f'# mine\nMOAI_LAB_API_KEY="{LAB_KEY}"\nOTHER="x y"\n')
    path.chmod(0o600)
    r = moai(configured, "key", "remove", "lab", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"removed lab key {mask(LAB_KEY)} from ~/.moai/.env.lab\n"
    assert path.read_text() == '# mine\nOTHER="x y"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # again: nothing there, exit 0, nothing changed
    before = snapshot(home)
    r = moai(configured, "key", "remove", "lab", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "lab: no key in ~/.moai/.env.lab\n"
    assert_unchanged(before, snapshot(home))


def test_remove_deletes_a_file_left_empty(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    assert moai(configured, "key", "set", "lab", env=env, input=LAB_KEY).returncode == 0
    assert moai(configured, "key", "set", "glm", env=env, input=FAKE_KEY).returncode == 0
    r = moai(configured, "key", "remove", "lab", env=env)
    assert r.returncode == 0, r.stderr
    assert not key_file(home, "lab").exists()
    assert saved(home, "glm") == {"GLM_API_KEY": FAKE_KEY}  # another backend's key untouched
    r = moai(configured, "key", "remove", "glm", env=env)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (home / ".moai").iterdir()) == []


def test_remove_names_the_source_still_holding_a_key(
    configured: Path, home: Path, env: dict[str, str]
) -> None:
    creds = f"lab_api_key: {LAB_KEY}\nlab_base_url: https://elsewhere.example/anthropic\n"
    write(home / ".moai" / "credentials.yaml", creds).chmod(0o600)
    r = moai(configured, "key", "remove", "lab", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "lab: no key in ~/.moai/.env.lab\n"
    assert one_line(r.stderr) == (
        f"note: lab still has a key ({mask(LAB_KEY)}) from ~/.moai/credentials.yaml; "
        "remove lab_api_key there"
    )
    r = moai(configured, "key", "remove", "kimi", env={**env, "MOAI_KIMI_API_KEY": KIMI_KEY})
    assert r.returncode == 0 and "unset MOAI_KIMI_API_KEY" in r.stderr
    assert KIMI_KEY not in r.stdout + r.stderr


def test_remove_names_each_worktree_still_holding_the_key(
    configured: Path, home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """The key file going does not take the key out of a worktree on that backend
    (inline credentials): `moai key remove` names each such settings file."""
    assert moai(configured, "key", "set", "kimi", env=env, input=KIMI_KEY).returncode == 0
    linked = tmp_path / "linked"
    git(configured, "worktree", "add", "-q", "-b", "exp/a", str(linked), env=env)
    for where in (configured, linked):
        r = moai(where, "use", "kimi", env=env)
        assert r.returncode == 0, r.stderr
    r = moai(configured, "key", "remove", "kimi", env=env)
    assert r.returncode == 0, r.stderr
    notes = r.stderr.splitlines()
    assert notes == [
        f"note: {root / SETTINGS} still holds this key (kimi's settings); `moai claude` there "
        "takes it out (or `moai key set kimi`, then `moai apply` there)"
        for root in (configured, linked.resolve())
    ]
    assert KIMI_KEY not in r.stdout + r.stderr
    assert moai(linked, "claude", env=env).returncode == 0  # the fix named works
    r = moai(configured, "key", "remove", "kimi", env=env)
    assert r.stdout == "kimi: no key in ~/.moai/.env.kimi\n" and r.stderr == ""


@pytest.mark.parametrize("name", ["claude", "Lab", "a/b"])
def test_remove_refuses_a_name_that_holds_no_key(
    configured: Path, home: Path, env: dict[str, str], name: str
) -> None:
    save_fake_key(home)
    before = snapshot(home)
    r = moai(configured, "key", "remove", name, env=env)
    assert r.returncode == 2 and one_line(r.stderr)
    assert_unchanged(before, snapshot(home))


# --- moai use ----------------------------------------------------------------------------


def test_use_glm_and_claude_are_moai_glm_and_moai_claude(
    configured: Path, env: dict[str, str], keyed_home: str
) -> None:
    original = '{\n  "model": "opus"\n}\n'
    write(configured / SETTINGS, original)
    r = moai(configured, "use", "glm", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"glm: now active in {SETTINGS} (was claude)\n")
    assert settings(configured)["env"]["ANTHROPIC_AUTH_TOKEN"] == FAKE_KEY
    assert "the routing table expects claude here" in r.stderr
    r = moai(configured, "use", "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert (configured / SETTINGS).read_text() == original


@pytest.mark.parametrize("name", ["gw", "GLM", "Claude", ""])
def test_use_unknown_lists_the_defined_ones_and_changes_nothing(
    configured: Path, home: Path, env: dict[str, str], keyed_home: str, name: str
) -> None:
    write(configured / SETTINGS, "{}\n")
    before = snapshot(home, configured)
    r = moai(configured, "use", name, env=env)
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert f"{name}: no such backend in {LLM_YAML}" in line
    assert "this repository defines claude, glm, kimi, lab" in line
    # and the fix: define it, or (not a name at all) what a name looks like
    fix = "lower-case letters" if name != "gw" else "define gw under llm.backends first"
    assert fix in line
    assert_unchanged(before, snapshot(home, configured))


def test_use_a_configured_backend(configured: Path, home: Path, env: dict[str, str]) -> None:
    """`moai use kimi` writes kimi's endpoint, models and key (needs settings.apply for
    any configured name); `moai use claude` restores the file byte for byte."""
    original = '{\n  "model": "opus"\n}\n'
    write(configured / SETTINGS, original)
    assert moai(configured, "key", "set", "kimi", env=env, input=KIMI_KEY).returncode == 0
    r = moai(configured, "use", "kimi", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"kimi: now active in {SETTINGS} (was claude)\n")
    doc = settings(configured)
    assert doc["env"]["ANTHROPIC_BASE_URL"] == "https://api.moonshot.ai/anthropic"
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == KIMI_KEY
    assert f"key: {mask(KIMI_KEY)} from ~/.moai/.env.kimi (inline)" in r.stdout
    assert KIMI_KEY not in r.stdout + r.stderr
    r = moai(configured, "use", "claude", env=env)
    assert r.returncode == 0, r.stderr
    assert (configured / SETTINGS).read_text() == original


def test_use_a_backend_without_its_key_names_the_fix(
    configured: Path, home: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(configured / SETTINGS, "{}\n")
    before = snapshot(home, configured)
    r = moai(configured, "use", "kimi", env=env)
    assert r.returncode == 2
    assert "run: moai key set kimi" in one_line(r.stderr)
    assert_unchanged(before, snapshot(home, configured))
