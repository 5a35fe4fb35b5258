"""keys.py in-process: masking, the key files' syntax and privacy, the sources' order.

Fast enough to run for every mutant of keys.py (scripts/mutation.sh); the
`moai` subprocess view of the same rules is tests/settings/test_core_keys.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from moai_mashup.errors import BadInput, Refused
from moai_mashup.settings import keys
from tests.gitrepo import FAKE_KEY, OTHER_FAKE_KEY, write

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.mark.parametrize("length", range(12))
def test_a_short_key_shows_none_of_itself(length: int) -> None:
    # An 8-character key shown as first 4 + last 4 would be shown whole.
    key = ALPHABET[:length]
    assert keys.mask(key) == "…"


@pytest.mark.parametrize("length", [12, 13, 20, 49])
def test_a_long_key_shows_its_first_and_last_four(length: int) -> None:
    key = ALPHABET[:length] if length <= len(ALPHABET) else (ALPHABET * 2)[:length]
    assert keys.mask(key) == f"{key[:4]}…{key[-4:]}"
    assert keys.mask("abcdefghijkl") == "abcd…ijkl"


def test_a_key_never_reaches_a_repr() -> None:
    shown = repr(keys.GlmKey(FAKE_KEY, "~/.moai/.env.glm"))
    assert FAKE_KEY not in shown
    assert shown == f"GlmKey(value='{FAKE_KEY[:4]}…{FAKE_KEY[-4:]}', source='~/.moai/.env.glm')"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HOME", str(path))
    for name in ("GLM_API_KEY", "GLM_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_files_live_under_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Path(keys.moai_home()) == home / ".moai"
    assert Path(keys.env_file()) == home / ".moai" / ".env.glm"
    assert Path(keys.credentials_file()) == home / ".moai" / "credentials.yaml"
    monkeypatch.setenv("HOME", "")
    assert Path(keys.moai_home()) == Path.home() / ".moai"


def test_paths_under_home_shown_with_a_tilde(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert keys._display(home / ".moai" / ".env.glm") == "~/.moai/.env.glm"
    assert keys._display(Path(str(home) + "x") / "f") == str(home) + "x/f"
    assert keys._display(Path("/elsewhere/f")) == "/elsewhere/f"
    monkeypatch.setenv("HOME", str(home) + "/")
    assert keys._display(home / "f") == "~/f"
    monkeypatch.setenv("HOME", "")
    assert keys._display(home / "f") == str(home / "f")


@pytest.mark.parametrize("bad", ["a b", "a\tb", "ab\n", "a\x00b", "a\x1fb", "a\x7fb", " ab"])
def test_keys_with_whitespace_or_control_characters_refused(bad: str) -> None:
    with pytest.raises(BadInput, match=r"^W: the GLM key contains whitespace") as err:
        keys.validate_key(bad, "W")
    assert bad not in str(err.value)


def test_empty_key_refused_and_a_good_one_returned() -> None:
    with pytest.raises(BadInput, match=r"^W: the GLM key is empty$"):
        keys.validate_key("", "W")
    assert keys.validate_key("a~!é", "W") == "a~!é"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ('"a\\"b\\\\c\\$d\\`e"', 'a"b\\c$d`e'),
        ('"a\\nb"', "a\\nb"),  # sh keeps a backslash before other characters
        ('"a\\"', None),  # the escaped quote leaves the string open
        ('"ab\\', None),  # a backslash as the very last character escapes nothing
        ('"ab" # comment', "ab"),
        ('"ab"   ', "ab"),
        ("'a\"b\\$'", 'a"b\\$'),
        ("'ab' trailing", "ab"),
        ("''", ""),
        ("plain # comment", "plain"),
        ("plain#no-space", "plain#no-space"),
        ("  spaced  ", "spaced"),
        ('""', ""),
        ('"x', None),
        ("'x", None),
        ('"ab"x', None),
    ],
)
def test_env_file_values_read_as_sh_reads_them(raw: str, value: str | None) -> None:
    if value is None:
        with pytest.raises(BadInput, match=r"^L: "):
            keys._unquote(raw, "L")
    else:
        assert keys._unquote(raw, "L") == value


def test_env_file_lines() -> None:
    text = '# c\n\n  export   GLM_API_KEY="k1"\nOTHER = v\n_X1=y\n'
    assert keys.parse_env_file(text, "F") == {"GLM_API_KEY": "k1", "OTHER": "v", "_X1": "y"}
    for bad, n in (("NOEQUALS\n", 1), ("ok=1\n1BAD=x\n", 2), ("A-B=x\n", 1), ("=x\n", 1)):
        with pytest.raises(BadInput, match=rf'^F: line {n}: expected NAME="value"$'):
            keys.parse_env_file(bad, "F")
    with pytest.raises(BadInput, match=r"^F: line 2: unterminated double quote$"):
        keys.parse_env_file('A=1\nB="x\n', "F")


def test_quote_round_trips_through_unquote() -> None:
    for value in ['a"b', "a\\b", "a$b", "a`b", "plain", 'all\\"$`four']:
        assert keys._unquote(keys._quote(value), "Q") == value
    assert keys._quote('a"$') == '"a\\"\\$"'


def _private(path: Path) -> Path:
    path.chmod(0o600)
    return path


def test_key_files_others_can_read_are_refused(home: Path) -> None:
    path = _private(write(home / ".moai/.env.glm", f'GLM_API_KEY="{FAKE_KEY}"\n'))
    assert keys.read_env_file_key(path) == FAKE_KEY
    for mode in (0o640, 0o604, 0o610, 0o601, 0o620, 0o602):
        path.chmod(mode)
        with pytest.raises(Refused) as err:
            keys.read_env_file_key(path)
        assert str(err.value) == (
            f"~/.moai/.env.glm: holds a key but is readable by others (mode {mode:04o}); "
            "run: chmod 600 ~/.moai/.env.glm"
        )
    path.chmod(0o400)
    assert keys.read_env_file_key(path) == FAKE_KEY


def test_env_file_key(home: Path) -> None:
    path = home / ".moai/.env.glm"
    assert keys.read_env_file_key(path) is None
    _private(write(path, "OTHER=1\n"))
    assert keys.read_env_file_key(path) is None
    _private(write(path, 'GLM_API_KEY="a b"\n'))
    with pytest.raises(BadInput, match=r"^~/.moai/.env.glm: GLM_API_KEY: the GLM key contains"):
        keys.read_env_file_key(path)
    _private(write(path, "GLM_API_KEY=\n"))
    with pytest.raises(BadInput, match=r"^~/.moai/.env.glm: GLM_API_KEY: the GLM key is empty"):
        keys.read_env_file_key(path)


@pytest.mark.parametrize(
    ("text", "result"),
    [
        (f"glm_api_key: {FAKE_KEY}\n", FAKE_KEY),
        ("glm_api_key:\n", None),
        ("glm_api_key: ''\n", None),
        ("other: 1\n", None),
        ("- a\n", None),
        ("", None),
        ("glm_api_key: 123\n", "^~/.moai/credentials.yaml: glm_api_key: must be a string$"),
        ("glm_api_key: [a\n", "^~/.moai/credentials.yaml: malformed YAML; expected"),
        ("glm_api_key: 'a b'\n", "^~/.moai/credentials.yaml: glm_api_key: the GLM key contains"),
    ],
)
def test_credentials_key(home: Path, text: str, result: str | None) -> None:
    path = _private(write(home / ".moai/credentials.yaml", text))
    if result is None or result == FAKE_KEY:
        assert keys.read_credentials_key(path) == result
    else:
        with pytest.raises(BadInput, match=result):
            keys.read_credentials_key(path)


def test_credentials_file_others_can_read_is_refused(home: Path) -> None:
    path = write(home / ".moai/credentials.yaml", f"glm_api_key: {FAKE_KEY}\n")
    path.chmod(0o644)
    with pytest.raises(Refused, match=r"credentials.yaml: holds a key but is readable"):
        keys.read_credentials_key(path)
    assert keys.read_credentials_key(home / "missing.yaml") is None


def _pair(found: keys.GlmKey | None) -> tuple[str, str] | None:
    """A key found as (value, source)."""
    return None if found is None else (found.value, found.source)


def test_sources_in_priority_order(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert keys.resolve_key("GLM_API_TOKEN") is None
    monkeypatch.setenv("GLM_API_KEY", "key-default-var")
    assert _pair(keys.resolve_key("GLM_API_TOKEN")) == ("key-default-var", "$GLM_API_KEY")
    monkeypatch.setenv("GLM_API_TOKEN", "key-named-var")
    assert _pair(keys.resolve_key("GLM_API_TOKEN")) == ("key-named-var", "$GLM_API_TOKEN")
    assert _pair(keys.resolve_key()) == ("key-default-var", "$GLM_API_KEY")
    _private(write(home / ".moai/credentials.yaml", f"glm_api_key: {OTHER_FAKE_KEY}\n"))
    assert _pair(keys.resolve_key("GLM_API_TOKEN")) == (OTHER_FAKE_KEY, "~/.moai/credentials.yaml")
    _private(write(home / ".moai/.env.glm", f'GLM_API_KEY="{FAKE_KEY}"\n'))
    assert _pair(keys.resolve_key("GLM_API_TOKEN")) == (FAKE_KEY, "~/.moai/.env.glm")


def test_an_empty_variable_is_no_key_and_a_bad_one_is_refused(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GLM_API_TOKEN", "")
    monkeypatch.setenv("GLM_API_KEY", "fallback-key")
    assert _pair(keys.resolve_key("GLM_API_TOKEN")) == ("fallback-key", "$GLM_API_KEY")
    monkeypatch.setenv("GLM_API_KEY", "bad key")
    with pytest.raises(BadInput, match=r"^\$GLM_API_KEY: the GLM key contains"):
        keys.resolve_key("GLM_API_TOKEN")


def test_no_key_message_names_each_variable_once() -> None:
    assert keys.no_key_message("GLM_API_TOKEN") == (
        "no GLM key found in ~/.moai/.env.glm, ~/.moai/credentials.yaml or "
        "$GLM_API_TOKEN or $GLM_API_KEY; run: moai glm --set-key"
    )
    assert "$GLM_API_KEY or" not in keys.no_key_message("GLM_API_KEY")


def test_save_key_creates_a_private_file_and_folder(home: Path) -> None:
    old = os.umask(0)
    try:
        path = Path(keys.save_key(FAKE_KEY))
    finally:
        os.umask(old)
    assert path == home / ".moai/.env.glm"
    assert path.read_text() == f'GLM_API_KEY="{FAKE_KEY}"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_save_key_makes_home_when_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "new" / "home"))
    path = keys.save_key(FAKE_KEY)
    assert keys.read_env_file_key(path) == FAKE_KEY


def test_save_key_replaces_the_first_key_line_drops_the_rest_keeps_others(home: Path) -> None:
    path = _private(
        write(
            home / ".moai/.env.glm",
            '# mine\nexport GLM_API_KEY="old"\nOTHER=1\n  GLM_API_KEY = "older"\nGLM_API_KEYS=x\n',
        )
    )
    keys.save_key('n"$`\\')
    assert path.read_text() == ('# mine\nGLM_API_KEY="n\\"\\$\\`\\\\"\nOTHER=1\nGLM_API_KEYS=x\n')
    assert keys.read_env_file_key(path) == 'n"$`\\'


def test_save_key_refuses_bad_keys_and_readable_files(home: Path) -> None:
    with pytest.raises(BadInput, match=r"^the key given: the GLM key contains"):
        keys.save_key("a b")
    assert not (home / ".moai/.env.glm").exists()
    path = write(home / ".moai/.env.glm", "OTHER=1\n")
    path.chmod(0o644)
    with pytest.raises(Refused):
        keys.save_key(FAKE_KEY)
    assert path.read_text() == "OTHER=1\n"
