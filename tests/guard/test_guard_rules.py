"""guard.py in-process: key shapes, the pragma, patch parsing, real git's index and blobs.

Fast enough to run for every mutant of guard.py (scripts/mutation.sh); the
commit-time view through `moai check` and git hooks is tests/guard/test_guard_staged.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from moai_mashup.guard import scan as guard
from tests.gitrepo import FAKE_KEY, OTHER_FAKE_KEY, clean_env, git, write

# Built at run time so this file itself never holds a key-shaped string.
HEX32 = "0123456789abcdef" * 2
ZAI = HEX32 + "." + "TESTONLY" + "notREAL1"
ANT = "sk-" + "ant-" + "api03-" + "TESTONLYnotREAL" * 3
PRAGMA = "moai: allow-key"
GLM = "GLM key from ~/.moai/.env.glm"


def hits(text: str, known: list[guard.KnownKey] | None = None) -> list[tuple[int, str, str]]:
    return list(guard.KeyMatcher(known or []).in_text(text.encode()))


def labels(text: str, known: list[guard.KnownKey] | None = None) -> list[str]:
    return [h[1] for h in hits(text, known)]


# --- shapes ---------------------------------------------------------------------------


def test_zai_shape_found_with_offset_and_mask() -> None:
    assert hits(f"k = {ZAI}\n") == [(4, guard.ZAI_LABEL, "0123…EAL1")]
    assert hits(ZAI) == [(0, guard.ZAI_LABEL, "0123…EAL1")]


def test_zai_shape_at_the_very_start_of_a_text_ending_in_a_letter() -> None:
    # Offset 0 has no character before it; the text's last one must not count as that.
    assert labels(ZAI + " x") == [guard.ZAI_LABEL]


@pytest.mark.parametrize(
    "text",
    [
        "0" + ZAI,  # 33 hex: a longer hex run
        "g" + ZAI,  # preceded by a letter
        "7" + ZAI,
        HEX32 + ".TESTONLYnotREA",  # 15 after the dot
        ZAI + "x",  # 17 after the dot
        ZAI + ".",  # continues like a version or a host name
        HEX32[:-1] + "G." + "TESTONLYnotREAL1",  # a non-hex character among the 32
        HEX32.upper() + ".TESTONLYnotREAL1",  # upper-case hex is not the shape
    ],
)
def test_zai_near_misses_not_reported(text: str) -> None:
    assert hits(text) == []


def test_a_near_miss_does_not_end_the_search() -> None:
    assert hits("g" + ZAI + " " + ZAI) == [(len(ZAI) + 2, guard.ZAI_LABEL, "0123…EAL1")]


@pytest.mark.parametrize("before", [" ", "=", '"', "\n", "-", "_", "/"])
def test_zai_after_a_separator_is_found(before: str) -> None:
    assert labels(before + ZAI + "\n") == [guard.ZAI_LABEL]


def test_anthropic_shape_needs_twenty_characters() -> None:
    prefix = "sk-" + "ant-"
    assert labels(prefix + "a" * 20) == [guard.ANTHROPIC_LABEL]
    assert labels(prefix + "a" * 19) == []
    assert hits(f"x {ANT}") == [(2, guard.ANTHROPIC_LABEL, "sk-a…REAL")]


def test_every_occurrence_reported_in_order() -> None:
    text = f"{ZAI} {ANT}\n{ZAI}\n"
    assert [(h[0], h[1]) for h in hits(text)] == [
        (0, guard.ZAI_LABEL),
        (len(ZAI) + 1, guard.ANTHROPIC_LABEL),
        (len(ZAI) + 1 + len(ANT) + 1, guard.ZAI_LABEL),
    ]


# --- known keys -----------------------------------------------------------------------


def test_known_key_found_each_time_masked() -> None:
    known = [guard.KnownKey("~/.moai/.env.glm", FAKE_KEY)]
    text = f"a {FAKE_KEY} b {FAKE_KEY}{FAKE_KEY}\n"
    found = hits(text, known)
    assert [(h[0], h[1]) for h in found] == [
        (2, GLM),
        (2 + len(FAKE_KEY) + 3, GLM),
        (2 + 2 * len(FAKE_KEY) + 3, GLM),
    ]
    assert all(h[2] == f"{FAKE_KEY[:4]}…{FAKE_KEY[-4:]}" for h in found)


def test_known_key_beats_a_shape_at_the_same_offset_even_when_named_later() -> None:
    known = [guard.KnownKey("$GLM_API_KEY", ZAI)]
    assert labels(f"x {ZAI}\n", known) == ["GLM key from $GLM_API_KEY"]
    known = [guard.KnownKey("$GLM_API_KEY", ANT)]
    assert labels(f"x {ANT}\n", known) == ["GLM key from $GLM_API_KEY"]


def test_pragma_never_exempts_a_known_key() -> None:
    known = [guard.KnownKey("~/.moai/.env.glm", FAKE_KEY)]
    assert labels(f"{FAKE_KEY}  # {PRAGMA}\n", known) == [GLM]


# --- the pragma: its own line only ----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"{ZAI}  # {PRAGMA}",
        f"{ZAI}  # {PRAGMA}\n",
        f"x\n{ZAI}  # {PRAGMA}\ny\n",
        f"x\n# {PRAGMA}: {ANT}\n",
        f"{ANT} {PRAGMA}\nmore\n",
        f"{PRAGMA} {ZAI}",  # the pragma opens the text
    ],
)
def test_pragma_on_the_keys_line_exempts_it(text: str) -> None:
    assert hits(text) == []


@pytest.mark.parametrize(
    "text",
    [
        f"{ZAI}\n# {PRAGMA}\n",
        f"# {PRAGMA}\n{ZAI}\n",
        f"# {PRAGMA}\n{ZAI}",
        f"{ANT}\n\n\n# {PRAGMA}",
        f"# {PRAGMA}\n{ANT}",
        f"# {PRAGMA}\n{ANT}\n",
        f"# {PRAGMA}\nx{ANT}\n",
    ],
)
def test_pragma_on_another_line_exempts_nothing(text: str) -> None:
    assert len(hits(text)) == 1


def test_pragma_right_before_a_key_on_the_next_line_does_not_reach_it() -> None:
    assert labels(f"a # {PRAGMA}\n{ZAI}\n# {PRAGMA}\n{ANT}\n") == [
        guard.ZAI_LABEL,
        guard.ANTHROPIC_LABEL,
    ]


# --- files that may never be committed ------------------------------------------------


@pytest.mark.parametrize(
    ("path", "banned"),
    [
        (".claude/settings.local.json", True),
        ("a/b/.claude/settings.local.json", True),
        (".claude/settings.json", False),
        ("x.claude/settings.local.json", False),
        ("settings.local.json", False),
        (".env.glm", True),
        ("deep/.env.glm", True),
        (".env.glm.example", False),
        ("credentials.yaml", True),
        ("deploy/credentials.yaml", True),
        ("credentials.yaml.bak", False),
    ],
)
def test_forbidden_files(path: str, banned: bool) -> None:
    assert (guard.forbidden_file(path) is not None) is banned


def test_scan_files_reports_adds_and_changes_once_never_removals() -> None:
    files = [
        guard.ChangedFile(None, "A", ".env.glm"),
        guard.ChangedFile(None, "M", ".env.glm"),
        guard.ChangedFile(None, "D", "credentials.yaml"),
        guard.ChangedFile("c1", "M", ".claude/settings.local.json"),
        guard.ChangedFile("c2", "T", ".claude/settings.local.json"),
        guard.ChangedFile(None, "A", "fine.txt"),
    ]
    found = guard.scan_files(files)
    assert [(f.path, f.commit, f.line, f.masked) for f in found] == [
        (".env.glm", None, None, ""),
        (".claude/settings.local.json", "c1", None, ""),
        (".claude/settings.local.json", "c2", None, ""),
    ]
    assert found[0].what == "a GLM key file"


def test_finding_lines() -> None:
    key = guard.Finding("a/b.py", 3, "Z.ai API key", "0123…EAL1")
    assert key.describe() == "a/b.py:3: Z.ai API key (0123…EAL1)"
    old = guard.Finding("a/b.py", 3, "Z.ai API key", "0123…EAL1", "0123456789abcdef0123")
    assert old.describe() == "0123456789ab a/b.py:3: Z.ai API key (0123…EAL1)"
    banned = guard.Finding(".env.glm", None, "a GLM key file", "")
    assert banned.describe() == ".env.glm: a GLM key file; never commit it"
    lines = ["  " + key.describe(), "  " + banned.describe()]
    assert list(guard.iter_lines([key, banned])) == lines


def test_unstage_hint_splits_keys_from_banned_files() -> None:
    findings = [
        guard.Finding("b c.py", 1, "k", "m"),
        guard.Finding("a.py", 2, "k", "m"),
        guard.Finding("a.py", 5, "k", "m"),
        guard.Finding(".env.glm", None, "f", ""),
        guard.Finding(".env.glm", 1, "k", "m"),
    ]
    assert guard.unstage_hint(findings) == (
        "remove the key and `git add` again, or unstage: git restore --staged -- a.py 'b c.py'; "
        "untrack the file (it stays on disk) and ignore it: git rm --cached -- .env.glm"
    )
    assert guard.unstage_hint(findings[3:4]).startswith("untrack")
    assert guard.unstage_hint(findings[:1]).startswith("remove")
    assert guard.unstage_hint([]) == ""


# --- patches and raw listings ---------------------------------------------------------


def test_unquote_path_escapes() -> None:
    assert guard.unquote_path(b'"a\\tb\\\\c\\"d\\nx\\ay\\bz\\vw\\fv\\ru"') == (
        'a\tb\\c"d\nx\x07y\x08z\x0bw\x0cv\ru'
    )
    assert guard.unquote_path(b'"\\303\\251t\\303\\251"') == "été"
    assert guard.unquote_path(b'"\\101"') == "A"
    assert guard.unquote_path(b'"a\\001b\\037"') == "a\x01b\x1f"  # control bytes: octal from 0
    assert guard.unquote_path(b'"\\/12"') == "/12"  # not an octal digit: an unknown escape
    assert guard.unquote_path(b'"\\181"') == "181"  # 8 is no octal digit
    assert guard.unquote_path(b'"a\\t"') == "a\t"  # an escape as the last character
    assert guard.unquote_path(b'"\\18"') == "18"  # not three octal digits: an unknown escape
    assert guard.unquote_path(b'"a\\"') == "a\\"  # a lone backslash at the end stays
    assert guard.unquote_path(b'"x') == '"x'  # not quoted on both ends: as is
    assert guard.unquote_path(b'x"') == 'x"'
    assert guard.unquote_path(b'""') == ""


def test_parse_patch_texts_files_lines_and_commits() -> None:
    patch = (
        b"\x00c1\n"
        b":100644 100644 aaa bbb M\tsrc/a.py\n"
        b':000000 100644 000 ccc A\t"q\\303\\251.txt"\n'
        b":100644 000000 ddd 000 D\tgone.txt\n"
        b"\n"
        b"diff --git a/src/a.py b/src/a.py\n--- a/src/a.py\n+++ b/src/a.py\n"
        b"@@ -3,2 +3,3 @@\n-x\n-y\n+X\n+Y\n+Z\n"
        b"@@ -10 +11 @@\n-old\n+new\n"
        b'diff --git a/q b/q\n--- /dev/null\n+++ "b/q\\303\\251.txt"\n@@ -0,0 +1 @@\n+hello\n'
        b"diff --git a/gone.txt b/gone.txt\n--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
        b"+++ not a header: outside any hunk and file\n"
        b"\x00c2\n"
        b":100644 100644 eee fff M\tsrc/a.py\n"
        b"\n"
        b"diff --git a/src/a.py b/src/a.py\n--- a/src/a.py\n+++ src/a.py\n"
        b"@@ -1,0 +2 @@\n+second\n"
        b"@@ -4 +5,2 @@\n ctx\n+after\n"
        b"\x00c3\n:100644 100644 a b M\tz.txt\n"
    )
    files, added, _texts = guard.parse_patch_texts(patch)
    assert [(f.commit, f.status, f.path) for f in files] == [
        ("c1", "M", "src/a.py"),
        ("c1", "A", "qé.txt"),
        ("c1", "D", "gone.txt"),
        ("c2", "M", "src/a.py"),
        ("c3", "M", "z.txt"),
    ]
    assert [(a.commit, a.path, a.number, a.text) for a in added] == [
        ("c1", "src/a.py", 3, b"X"),
        ("c1", "src/a.py", 4, b"Y"),
        ("c1", "src/a.py", 5, b"Z"),
        ("c1", "src/a.py", 11, b"new"),
        ("c1", "qé.txt", 1, b"hello"),
        ("c2", "src/a.py", 2, b"second"),
        ("c2", "src/a.py", 6, b"after"),
    ]


def test_parse_patch_texts_empty_commit_mark_and_diff_header_reset_the_path() -> None:
    patch = (
        b"\x00\n:100644 100644 a b M\tf\n"
        b"diff --git a/f b/f\n+++ b/f\n"
        b"diff --git a/g b/g\n@@ -0,0 +1 @@\n+orphan\n"
    )
    files, added, _texts = guard.parse_patch_texts(patch)
    assert [(f.commit, f.status, f.path) for f in files] == [(None, "M", "f")]
    assert added == []


def test_parse_raw_z() -> None:
    sha_a, sha_b = "a" * 40, "b" * 40
    data = (
        f":100644 100755 {sha_a} {sha_b} M\0x y.txt\0"
        f":100644 100644 {sha_a} {sha_b} M\0p q r s t u\0"  # a path that reads like a meta
        f":100644 100644 {sha_a} {sha_b}\0short meta\0"
        f":000000 120000 {'0' * 40} {sha_a} A\0link\0"
    ).encode()
    assert guard._parse_raw_z(data) == [
        guard.ChangedFile(None, "M", "x y.txt", sha_b, "100755"),
        guard.ChangedFile(None, "M", "p q r s t u", sha_b, "100644"),
        guard.ChangedFile(None, "A", "link", sha_a, "120000"),
    ]
    assert guard._parse_raw_z(b"") == []


# --- real git: the index, blobs, history ------------------------------------------------


@pytest.fixture
def gitdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    env = clean_env(tmp_path / "home")
    for name in list(os.environ):
        if name.startswith("GIT_") or name not in env:
            monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main", env=env)
    return root


def _git(root: Path, *args: str) -> str:
    return git(root, *args, env=dict(os.environ))


def test_staged_changes_and_blob_scan(gitdir: Path) -> None:
    write(gitdir / "keep.txt", "one\n")
    write(gitdir / "gone.txt", f"{ZAI}\n")
    _git(gitdir, "add", "-A")
    _git(gitdir, "commit", "-qm", "base")
    write(gitdir / "keep.txt", f"one\ntwo\nthree {ANT}\n")
    write(gitdir / "copy.txt", f"three {ANT}\n")
    write(gitdir / "sub/.env.glm", "x\n")
    (gitdir / "gone.txt").unlink()
    _git(gitdir, "add", "-A")
    files = guard.staged_changes(gitdir)
    assert sorted((f.status, f.path, f.mode) for f in files) == [
        ("A", "copy.txt", "100644"),
        ("A", "sub/.env.glm", "100644"),
        ("D", "gone.txt", "000000"),
        ("M", "keep.txt", "100644"),
    ]
    assert all(len(f.sha) == 40 for f in files)
    found = guard.scan_blobs(gitdir, files, guard.KeyMatcher([]))
    assert [(f.path, f.line, f.what) for f in found] == [
        ("copy.txt", 1, guard.ANTHROPIC_LABEL),
        ("keep.txt", 3, guard.ANTHROPIC_LABEL),
    ]
    assert [f.path for f in guard.scan_files(files)] == ["sub/.env.glm"]


def test_line_numbers_count_a_leading_newline(gitdir: Path) -> None:
    write(gitdir / "n.txt", f"\n{ZAI}\n")
    _git(gitdir, "add", "-A")
    found = guard.scan_blobs(gitdir, guard.staged_changes(gitdir), guard.KeyMatcher([]))
    assert [(f.path, f.line) for f in found] == [("n.txt", 2)]


def test_same_blob_under_two_names_reported_for_both(gitdir: Path) -> None:
    write(gitdir / "b.txt", f"x\n{ZAI}\n")
    write(gitdir / "a.txt", f"x\n{ZAI}\n")
    _git(gitdir, "add", "-A")
    found = guard.scan_blobs(gitdir, guard.staged_changes(gitdir), guard.KeyMatcher([]))
    assert [(f.path, f.line) for f in found] == [("a.txt", 2), ("b.txt", 2)]


def test_blobs_skipped_for_removed_unmerged_and_submodule_entries(gitdir: Path) -> None:
    write(gitdir / "k.txt", f"{ZAI}\n")
    _git(gitdir, "add", "-A")
    sha = _git(gitdir, "rev-parse", ":k.txt").strip()
    matcher = guard.KeyMatcher([])
    for entry in (
        guard.ChangedFile(None, "D", "k.txt", sha, "100644"),
        guard.ChangedFile(None, "U", "k.txt", sha, "100644"),
        guard.ChangedFile(None, "A", "k.txt", "", "100644"),
        guard.ChangedFile(None, "A", "k.txt", "0" * 40, "100644"),
        guard.ChangedFile(None, "A", "k.txt", sha, "160000"),
    ):
        assert guard.scan_blobs(gitdir, [entry], matcher) == [], entry
    assert len(guard.scan_blobs(gitdir, [guard.ChangedFile(None, "M", "k.txt", sha)], matcher))


def test_index_files_lists_stage_zero_only(gitdir: Path) -> None:
    write(gitdir / "c.txt", "base\n")
    write(gitdir / "x y.txt", "z\n")
    _git(gitdir, "add", "-A")
    _git(gitdir, "commit", "-qm", "base")
    _git(gitdir, "checkout", "-qb", "other")
    write(gitdir / "c.txt", "other\n")
    _git(gitdir, "commit", "-qam", "other")
    _git(gitdir, "checkout", "-q", "main")
    write(gitdir / "c.txt", "main\n")
    _git(gitdir, "commit", "-qam", "main")
    git(gitdir, "merge", "-q", "other", env=dict(os.environ), check=False)  # conflicts
    files = guard.index_files(gitdir)
    assert [(f.status, f.path, f.mode) for f in files] == [("A", "x y.txt", "100644")]
    assert files[0].sha == _git(gitdir, "rev-parse", ":x y.txt").strip()


def test_read_range_and_added_lines(gitdir: Path) -> None:
    write(gitdir / "a.txt", "a\n")
    _git(gitdir, "add", "-A")
    _git(gitdir, "commit", "-qm", "one")
    write(gitdir / "a.txt", f"a\nb {ZAI}\n")
    write(gitdir / ".env.glm", "x\n")
    _git(gitdir, "add", "-A")
    _git(gitdir, "commit", "-qm", "two")
    head = _git(gitdir, "rev-parse", "HEAD").strip()
    files, added, *_ = guard.read_range(gitdir, ["HEAD~1..HEAD"])
    assert sorted((f.commit, f.status, f.path) for f in files) == [
        (head, "A", ".env.glm"),
        (head, "M", "a.txt"),
    ]
    found = guard.scan_added_lines(added, guard.KeyMatcher([]))
    assert [(f.path, f.line, f.what, f.commit) for f in found] == [
        ("a.txt", 2, guard.ZAI_LABEL, head)
    ]


# --- which key values count as known ----------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    (path / ".moai").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(path))
    for name in ("GLM_API_KEY", "GLM_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_known_keys_from_every_source_once(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = write(home / ".moai/.env.glm", f'GLM_API_KEY="{FAKE_KEY}"\n')
    env_file.chmod(0o600)
    creds = write(home / ".moai/credentials.yaml", f"glm_api_key: {OTHER_FAKE_KEY}\n")
    creds.chmod(0o600)
    monkeypatch.setenv("GLM_API_TOKEN", "token-from-env-1")
    monkeypatch.setenv("GLM_API_KEY", FAKE_KEY)  # the same value: reported once, first source
    assert guard.known_keys("GLM_API_TOKEN") == [
        guard.KnownKey("~/.moai/.env.glm", FAKE_KEY),
        guard.KnownKey("~/.moai/credentials.yaml", OTHER_FAKE_KEY),
        guard.KnownKey("$GLM_API_TOKEN", "token-from-env-1"),
    ]


def test_known_keys_length_floor(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An 8-character key is still looked for; below that it would match ordinary text.
    monkeypatch.setenv("GLM_API_KEY", "a" * 8)
    monkeypatch.setenv("GLM_API_TOKEN", "b" * 7)
    assert guard.known_keys("GLM_API_TOKEN") == [guard.KnownKey("$GLM_API_KEY", "a" * 8)]
    assert guard.known_keys() == [guard.KnownKey("$GLM_API_KEY", "a" * 8)]


def test_known_keys_from_files_others_can_read(home: Path) -> None:
    env_file = write(home / ".moai/.env.glm", f'export GLM_API_KEY="{FAKE_KEY}"\n')
    creds = write(home / ".moai/credentials.yaml", f"glm_api_key: '{OTHER_FAKE_KEY}'\n")
    for path in (env_file, creds):
        path.chmod(0o644)
    assert [k.value for k in guard.known_keys()] == [FAKE_KEY, OTHER_FAKE_KEY]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".env.glm", 'GLM_API_KEY="unterminated\n'),
        (".env.glm", "OTHER=x\n"),
        (".env.glm", 'GLM_API_KEY=""\n'),
        ("credentials.yaml", "glm_api_key: [1, 2\n"),
        ("credentials.yaml", "glm_api_key: 12345678901\n"),
        ("credentials.yaml", "- a list\n"),
        ("credentials.yaml", "glm_api_key: ''\n"),
    ],
)
def test_broken_key_files_give_no_key_and_no_error(home: Path, name: str, text: str) -> None:
    path = write(home / ".moai" / name, text)
    path.chmod(0o644)
    assert guard.known_keys() == []
    assert guard._read_key_ignoring_mode(path) is None


def test_unreadable_key_file_gives_no_key(home: Path) -> None:
    path = write(home / ".moai/.env.glm", f'GLM_API_KEY="{FAKE_KEY}"\n')
    path.chmod(0o644)
    assert guard._read_key_ignoring_mode(path) == FAKE_KEY
    assert guard._read_key_ignoring_mode(home / "missing" / ".env.glm") is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # the guard only reads


def test_known_key_repr_is_masked() -> None:
    assert FAKE_KEY not in repr(guard.KnownKey("$X", FAKE_KEY))
    assert f"{FAKE_KEY[:4]}…{FAKE_KEY[-4:]}" in repr(guard.KnownKey("$X", FAKE_KEY))


def test_the_index_git_is_committing_is_the_one_read(
    gitdir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`git commit <path>` hands the hook a temporary index in GIT_INDEX_FILE."""
    write(gitdir / "k.txt", f"{ZAI}\n")
    alt = tmp_path / "alt-index"
    git(gitdir, "add", "k.txt", env={**os.environ, "GIT_INDEX_FILE": str(alt)})
    assert guard.staged_changes(gitdir) == [] and guard.index_files(gitdir) == []
    monkeypatch.setenv("GIT_INDEX_FILE", str(alt))
    assert [f.path for f in guard.staged_changes(gitdir)] == ["k.txt"]
    assert [f.path for f in guard.index_files(gitdir)] == ["k.txt"]


# --- the whole report: names, history, messages -----------------------------------------

UTF16_ZAI = ("x\n" + ZAI + "\n").encode("utf-16")  # with its byte order mark


def _mask(key: str) -> str:
    return f"{key[:4]}…{key[-4:]}"


def test_keys_on_one_line_come_in_the_order_they_stand() -> None:
    # By offset, not by the masked text ("0123…" sorts before "sk-a…") ...
    assert labels(f"{ANT} {ZAI}") == [guard.ANTHROPIC_LABEL, guard.ZAI_LABEL]
    # ... and not by where each ends: a known key inside a longer key shape.
    inner = "TESTONLYknownKEY1234"
    known = [guard.KnownKey("$GLM_API_KEY", inner)]
    text = "sk-" + "ant-api03-" + inner + "TESTONLYtail0000"
    assert [h[0] for h in hits(text, known)] == [0, 13]


@pytest.mark.parametrize(
    ("path", "shown", "what"),
    [
        (f"{ZAI}.txt", f"{_mask(ZAI)}.txt", f"Z.ai API key ({_mask(ZAI)})"),
        (f"d/{ZAI}", f"d/{_mask(ZAI)}", f"Z.ai API key ({_mask(ZAI)})"),
        # however many extensions follow it
        (f"{ZAI}.tar.gz.gpg.bak.old", f"{_mask(ZAI)}.tar.gz.gpg.bak.old", "Z.ai"),
        # two keys in one name: both masked, the first one named
        (f"{ANT}+{ZAI}.txt", f"{_mask(ANT)}+{_mask(ZAI)}.txt", f"Anthropic API key ({_mask(ANT)})"),
        (f"x-{FAKE_KEY}", f"x-{_mask(FAKE_KEY)}", GLM),
    ],
)
def test_a_key_in_a_file_name_is_found_and_masked(path: str, shown: str, what: str) -> None:
    matcher = guard.KeyMatcher([guard.KnownKey("~/.moai/.env.glm", FAKE_KEY)])
    [found] = guard.scan_names([guard.ChangedFile("c1", "A", path)], matcher)
    assert (found.path, found.line, found.commit) == (shown, None, "c1")
    assert found.what.startswith("its name holds a " + what), found.what
    assert matcher.masked_path(path) == shown


@pytest.mark.parametrize(
    ("path", "known", "hidden"),
    [
        # a key shape running into a Z.ai key (`-` ends no shape): one masked stretch
        ("sk-" + f"ant-{'A' * 20}-{ZAI}.txt", "", ["A" * 20, ZAI[33:-4]]),
        # ... and a key after that stretch is masked too
        ("sk-" + f"ant-{'A' * 20}-{ZAI}+{ANT}.txt", "", ["A" * 20, ZAI[33:-4], ANT[4:-4]]),
        # a known key that a longer key shape continues
        ("xxxxsk-" + "ant-" + "B" * 30 + ".txt", "xxxxsk-" + "ant-", ["B" * 26]),
        # a known key holding a Z.ai key
        (f"k-{FAKE_KEY[:4]}{ZAI}.log", f"{FAKE_KEY[:4]}{ZAI}", [ZAI[:-4]]),
    ],
)
def test_keys_that_overlap_in_a_name_show_no_part_of_either(
    path: str, known: str, hidden: list[str]
) -> None:
    matcher = guard.KeyMatcher([guard.KnownKey("$GLM_API_KEY", known)] if known else [])
    shown, found = matcher.path_keys(path)
    assert found and shown != path
    for part in hidden:
        assert part not in shown, shown
    [finding] = guard.scan_names([guard.ChangedFile(None, "A", path)], matcher)
    assert finding.path == shown


def test_a_name_of_many_dots_is_read_once() -> None:
    matcher = guard.KeyMatcher([])
    name = f"{ZAI}" + ".x" * 50_000  # git takes such a name; a stem at a time took minutes
    assert matcher.masked_path(name) == _mask(ZAI) + ".x" * 50_000
    assert matcher.path_keys("sk-" + "ant-" + "." * 100_000) == ("sk-" + "ant-" + "." * 100_000, [])


def test_names_of_removed_files_pass_and_each_file_is_named_once() -> None:
    matcher = guard.KeyMatcher([])
    name = f"{ZAI}.txt"

    def found(*entries: tuple[str | None, str]) -> list[str | None]:
        files = [guard.ChangedFile(commit, status, name) for commit, status in entries]
        return [f.commit for f in guard.scan_names(files, matcher)]

    assert found(("c1", "D")) == []
    assert found(("c1", "D"), ("c2", "A")) == ["c2"]
    assert found(("c1", "A"), ("c1", "M"), ("c2", "M")) == ["c1", "c2"]


def test_a_key_named_file_is_shown_masked_where_its_content_holds_a_key(gitdir: Path) -> None:
    name = f"{ZAI}.txt"
    write(gitdir / "a.txt", "a\n")
    _git(gitdir, "add", "-A")
    _git(gitdir, "commit", "-qm", "one")
    write(gitdir / name, f"x\n{ANT}\n")
    _git(gitdir, "add", "-A")
    matcher = guard.KeyMatcher([])
    staged = guard.scan_blobs(gitdir, guard.staged_changes(gitdir), matcher)
    _git(gitdir, "commit", "-qm", "two")
    _files, added, _whole = guard.read_range(gitdir, ["HEAD~1..HEAD"])
    for found in (staged, guard.scan_added_lines(added, matcher)):
        assert [(f.path, f.line, f.what) for f in found] == [
            (f"{_mask(ZAI)}.txt", 2, guard.ANTHROPIC_LABEL)
        ]


def test_read_range_files_and_what_is_scanned_whole(gitdir: Path) -> None:
    write(gitdir / "old.txt", f"a\n{ZAI}\n")  # a key before the range: not the range's
    write(gitdir / ".env.glm", "x\n")
    (gitdir / "gone16.txt").write_bytes(UTF16_ZAI)
    _git(gitdir, "add", "-A")
    _git(gitdir, "commit", "-qm", "base")
    write(gitdir / "old.txt", f"a\n{ZAI}\nb\n")
    (gitdir / ".env.glm").unlink()
    (gitdir / "gone16.txt").unlink()
    (gitdir / "new16.txt").write_bytes(UTF16_ZAI)
    _git(gitdir, "add", "-A")
    _git(gitdir, "commit", "-qm", "changes")
    head = _git(gitdir, "rev-parse", "HEAD").strip()

    def blob(path: str) -> str:
        return _git(gitdir, "rev-parse", f"HEAD:{path}").strip()

    files, added, whole = guard.read_range(gitdir, ["HEAD~1..HEAD"])
    zeros = "0" * 40
    assert files == [  # in git's order: by path
        guard.ChangedFile(head, "D", ".env.glm", zeros, "000000"),
        guard.ChangedFile(head, "D", "gone16.txt", zeros, "000000"),
        guard.ChangedFile(head, "A", "new16.txt", blob("new16.txt"), "100644"),
        guard.ChangedFile(head, "M", "old.txt", blob("old.txt"), "100644"),
    ]
    assert [(a.path, a.number, a.text) for a in added] == [("old.txt", 3, b"b")]
    # Only what git did not diff as text, and nothing removed.
    assert whole == [guard.ChangedFile(head, "A", "new16.txt", blob("new16.txt"), "100644")]
    matcher = guard.KeyMatcher([])
    assert guard.scan_files(files) == []
    assert guard.scan_added_lines(added, matcher) == []
    assert [(f.path, f.line, f.what) for f in guard.scan_blobs(gitdir, whole, matcher)] == [
        ("new16.txt", 2, guard.ZAI_LABEL)
    ]


def test_messages_of_a_range_each_with_its_commit(gitdir: Path) -> None:
    for text in ("one", "two\n\nbody", "three"):
        _git(gitdir, "commit", "-q", "--allow-empty", "-m", text)
    shas = _git(gitdir, "rev-list", "HEAD").split()
    messages = guard.read_messages(gitdir, ["HEAD"])
    assert [sha for sha, _ in messages] == shas
    assert [m.strip() for _, m in messages] == [b"three", b"two\n\nbody", b"one"]
    assert guard.read_messages(gitdir, ["HEAD~1..HEAD"]) == messages[:1]


def test_a_key_in_a_message_is_named_by_its_line() -> None:
    message = f"\n{ZAI}\nsubject\n{ANT}\n".encode()
    found = guard.scan_message(message, guard.KeyMatcher([]), "c1")
    assert [(f.path, f.line, f.what, f.commit) for f in found] == [
        (guard.MESSAGE, 2, guard.ZAI_LABEL, "c1"),
        (guard.MESSAGE, 4, guard.ANTHROPIC_LABEL, "c1"),
    ]
    assert [f.line for f in guard.scan_message(f"{ZAI}\n".encode(), guard.KeyMatcher([]))] == [1]


def test_a_key_file_under_a_key_named_directory_is_shown_masked() -> None:
    path = f"{ANT}/.env.glm"
    files = [guard.ChangedFile(None, "A", path)]
    [found] = guard.scan_files(files, guard.KeyMatcher([]))
    assert found.path == f"{_mask(ANT)}/.env.glm" and ANT[4:-4] not in found.describe()
    assert ANT[4:-4] not in guard.unstage_hint([found])
    assert guard.scan_files(files)[0].path == path  # no matcher: as it is


def test_a_known_key_that_is_not_utf8_is_still_found() -> None:
    value = os.fsdecode(b"TESTONLY\xffnotREAL1")  # as os.environ hands such bytes over
    matcher = guard.KeyMatcher([guard.KnownKey("$GLM_API_KEY", value)])
    assert [h[0] for h in matcher.in_text(b"x = TESTONLY\xffnotREAL1\n")] == [4]


def test_an_overlap_after_another_key_is_one_masked_stretch() -> None:
    run_on = "sk-" + f"ant-{'A' * 20}-{ZAI}"  # a key shape running into a Z.ai key
    shown = guard.KeyMatcher([]).masked_path(f"{ANT}+{run_on}.txt")
    assert shown == f"{_mask(ANT)}+{_mask(run_on)}.txt"


def test_a_known_key_inside_a_longer_shape_leaves_the_whole_shape_masked() -> None:
    inner = "TESTONLYknownKEY1234"
    matcher = guard.KeyMatcher([guard.KnownKey("$GLM_API_KEY", inner)])
    shape = "sk-" + "ant-api03-" + inner + "TESTONLYtail0000"
    for path, want in [
        (f"{shape}.txt", f"{_mask(shape)}.txt"),
        (f"{ANT}+{shape}.txt", f"{_mask(ANT)}+{_mask(shape)}.txt"),  # not the first stretch
    ]:
        assert matcher.masked_path(path) == want


def test_keys_that_touch_in_a_name_are_masked_each() -> None:
    inner = "TESTONLYknownKEY1234"
    matcher = guard.KeyMatcher([guard.KnownKey("$GLM_API_KEY", inner)])
    assert matcher.masked_path(f"{inner}{ANT}.txt") == f"{_mask(inner)}{_mask(ANT)}.txt"
