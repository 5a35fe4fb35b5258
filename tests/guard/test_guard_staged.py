"""The guard on a commit being made: `moai check --staged` and a real pre-commit hook."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from moai_mashup.guard import scan as guard
from tests.gitrepo import FAKE_KEY, GLM_JSON, LLM_YAML, MOAI, SETTINGS, git, moai, write

# Built at run time so this file itself never holds a key-shaped string.
ZAI_SHAPED = "0123456789abcdef" * 2 + "." + "TESTONLY" + "notREAL1"
ANTHROPIC_SHAPED = "sk-" + "ant-" + "api03-" + "TESTONLYnotREAL" * 3


def install_hook(repo: Path, name: str, line: str) -> None:
    hook = repo / ".git" / "hooks" / name
    hook.write_text(f"#!/bin/sh\n{line}\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)


def install_guard(repo: Path) -> None:
    install_hook(repo, "pre-commit", f'exec "{MOAI}" check --staged')


def head(repo: Path, env: dict[str, str]) -> str:
    return git(repo, "rev-parse", "HEAD", env=env).strip()


def test_staged_key_refused_with_file_line_mask_and_unstage(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / "src/config.py", f'NAME = "x"\nTOKEN = "{FAKE_KEY}"\n')
    git(repo, "add", "src/config.py", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1, r.stderr
    assert "src/config.py:2: GLM key from ~/.moai/.env.glm" in r.stderr
    assert f"{FAKE_KEY[:4]}…{FAKE_KEY[-4:]}" in r.stderr
    assert "git restore --staged -- src/config.py" in r.stderr
    assert FAKE_KEY not in r.stdout + r.stderr


def test_key_from_environment_variable_found(repo: Path, env: dict[str, str]) -> None:
    # The seed's glm_env_var is GLM_API_TOKEN: a key held there is a configured key too.
    write(repo / "notes.txt", f"token {FAKE_KEY}\n")
    git(repo, "add", "notes.txt", env=env)
    r = moai(repo, "check", "--staged", env={**env, "GLM_API_TOKEN": FAKE_KEY})
    assert r.returncode == 1
    assert "notes.txt:1: GLM key from $GLM_API_TOKEN" in r.stderr
    assert moai(repo, "check", "--staged", env=env).returncode == 0


def test_placeholder_in_glm_json_allowed(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    text = (repo / GLM_JSON).read_text().replace('"glm-4.7"', '"glm-4.6"')
    write(repo / GLM_JSON, text)
    git(repo, "add", GLM_JSON, env=env)
    assert "${GLM_API_KEY}" in text
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


@pytest.mark.parametrize(
    "rel", [SETTINGS, "sub/.claude/settings.local.json", ".env.glm", "deploy/credentials.yaml"]
)
def test_key_files_refused(repo: Path, env: dict[str, str], rel: str) -> None:
    write(repo / rel, "{}\n")
    git(repo, "add", "-f", rel, env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1
    assert f"{rel}: " in r.stderr and "never commit it" in r.stderr
    assert f"git rm --cached -- {rel}" in r.stderr


def test_removing_a_tracked_key_file_allowed(repo: Path, env: dict[str, str]) -> None:
    write(repo / SETTINGS, "{}\n")
    git(repo, "add", "-f", SETTINGS, env=env)
    git(repo, "commit", "-qm", "oops", env=env)
    git(repo, "rm", "-q", "--cached", SETTINGS, env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 0, r.stderr
    # The same check did look: a key file staged beside the removal is refused, alone.
    write(repo / ".env.glm", "{}\n")
    git(repo, "add", "-f", ".env.glm", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1
    assert ".env.glm: " in r.stderr and SETTINGS not in r.stderr


def test_key_shapes_refused_and_pragma_allows_fixtures(repo: Path, env: dict[str, str]) -> None:
    write(repo / "a.env", f"ZAI={ZAI_SHAPED}\n\n\nANTHROPIC={ANTHROPIC_SHAPED}\n")
    write(repo / "fixture.py", f'FAKE = "{ZAI_SHAPED}"  # moai: allow-key\n')
    git(repo, "add", "a.env", "fixture.py", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1
    assert "a.env:1: Z.ai API key (0123…EAL1)" in r.stderr
    assert "a.env:4: Anthropic API key (sk-a…REAL)" in r.stderr
    assert "fixture.py" not in r.stderr
    assert ZAI_SHAPED not in r.stderr and ANTHROPIC_SHAPED not in r.stderr


def test_pragma_exempts_only_its_own_line(repo: Path, env: dict[str, str]) -> None:
    # One `moai: allow-key` at the end of a file (or on the line above a key)
    # must not hide the key shapes on the other lines.
    write(
        repo / "keys.txt",
        f"# moai: allow-key\nA={ZAI_SHAPED}\nB={ANTHROPIC_SHAPED}\n"
        f"C={ZAI_SHAPED} # moai: allow-key\n# moai: allow-key\n",
    )
    git(repo, "add", "keys.txt", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1
    assert "keys.txt:2: Z.ai API key" in r.stderr
    assert "keys.txt:3: Anthropic API key" in r.stderr
    assert "keys.txt:4" not in r.stderr
    assert ZAI_SHAPED not in r.stderr and ANTHROPIC_SHAPED not in r.stderr


def test_near_miss_shapes_not_reported(repo: Path, env: dict[str, str]) -> None:
    # A longer hex run, a 15-char suffix, a version string: none is a Z.ai key.
    write(
        repo / "ok.txt",
        "0" * 40 + ".abcdefghijklmnop\n" + "a" * 32 + ".abcdefghijklmno\nversion 1.2.3\n",
    )
    git(repo, "add", "ok.txt", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 0, r.stderr
    # The same check did look: a real shape staged beside them is reported, alone.
    write(repo / "key.txt", f"ZAI={ZAI_SHAPED}\n")
    git(repo, "add", "key.txt", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1
    assert "key.txt:1: Z.ai API key" in r.stderr and "ok.txt" not in r.stderr


def test_real_commit_refused_and_head_unchanged(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install_guard(repo)
    before = head(repo, env)
    write(repo / "README.md", f"# test project\nkey: {FAKE_KEY}\n")
    proc = git(repo, "commit", "-am", "readme", env=env, check=False)
    assert head(repo, env) == before
    assert proc == ""
    r = git(repo, "log", "--oneline", env=env)
    assert "readme" not in r


def test_partial_commit_checks_the_index_git_commits(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    # `git commit <path>` builds a temporary index (GIT_INDEX_FILE); .git/index stays clean.
    install_guard(repo)
    before = head(repo, env)
    write(repo / "README.md", f"{FAKE_KEY}\n")
    git(repo, "commit", "-m", "partial", "README.md", env=env, check=False)
    assert head(repo, env) == before
    git(repo, "checkout", "README.md", env=env)
    write(repo / "README.md", "# fine\n")
    git(repo, "commit", "-qm", "fine", "README.md", env=env)
    assert head(repo, env) != before


def test_key_already_in_history_does_not_block_other_commits(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    write(repo / "old.txt", f"{FAKE_KEY}\n")
    git(repo, "add", "old.txt", env=env)
    git(repo, "commit", "-qm", "before the guard", env=env)
    install_guard(repo)
    write(repo / "new.txt", "hello\n")
    git(repo, "add", "new.txt", env=env)
    git(repo, "commit", "-qm", "unrelated", env=env)
    assert "unrelated" in git(repo, "log", "-1", "--format=%s", env=env)


def test_pre_commit_framework_file_names_scan_the_index(repo: Path, env: dict[str, str]) -> None:
    # `pre-commit run --all-files` hands file names with nothing staged.
    write(repo / "tracked.txt", f"{ZAI_SHAPED}\n")
    git(repo, "add", "tracked.txt", env=env)
    git(repo, "commit", "-qm", "x", "--no-verify", env=env)
    assert moai(repo, "check", "--staged", env=env).returncode == 0
    r = moai(repo, "check", "--staged", "tracked.txt", "README.md", env=env)
    assert r.returncode == 1
    assert "tracked.txt:1: Z.ai API key" in r.stderr


def test_all_files_scans_every_tracked_file(repo: Path, env: dict[str, str]) -> None:
    write(repo / "deep/dir/f.txt", f"x\ny {ANTHROPIC_SHAPED}\n")
    git(repo, "add", "deep", env=env)
    git(repo, "commit", "-qm", "x", env=env)
    r = moai(repo, "check", "--all-files", env=env)
    assert r.returncode == 1
    assert "deep/dir/f.txt:2: Anthropic API key" in r.stderr


def test_broken_config_still_guards(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    write(repo / LLM_YAML, "llm:\n  mode: [oops\n")
    write(repo / "k.txt", f"{FAKE_KEY}\n")
    git(repo, "add", "k.txt", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1
    assert "malformed YAML" in r.stderr and "key checks still run" in r.stderr
    assert "k.txt:1" in r.stderr


def test_world_readable_key_file_still_found(repo: Path, env: dict[str, str], home: Path) -> None:
    path = home / ".moai" / ".env.glm"
    write(path, f'GLM_API_KEY="{FAKE_KEY}"\n')
    os.chmod(path, 0o644)
    write(repo / "k.txt", f"{FAKE_KEY}\n")
    git(repo, "add", "k.txt", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1 and "k.txt:1" in r.stderr


def test_unusual_paths_are_named_exactly(repo: Path, env: dict[str, str]) -> None:
    rel = 'dir with space/quote"é.txt'
    write(repo / rel, f"{ZAI_SHAPED}\n")
    git(repo, "add", "-A", env=env)
    r = moai(repo, "check", "--staged", env=env)
    assert r.returncode == 1
    assert f"{rel}:1: Z.ai API key" in r.stderr


def test_unquote_path() -> None:
    assert guard.unquote_path(b'"a\\tb\\\\c\\"d"') == 'a\tb\\c"d'
    assert guard.unquote_path(b'"\\303\\251"') == "é"
    assert guard.unquote_path(b"plain name") == "plain name"


def test_parse_patch_texts_reads_hunk_counts_not_prefixes() -> None:
    patch = (
        b"\x00abc\n:100644 100644 1 2 M\tf.txt\n\ndiff --git a/f.txt b/f.txt\n"
        b"--- a/f.txt\n+++ b/f.txt\n@@ -1,0 +2,2 @@\n+++ b/not-a-header\n+@@ -9 +9 @@\n"
        b"@@ -5 +7 @@\n-old\n+new\n"
    )
    files, added, _texts = guard.parse_patch_texts(patch)
    assert files == [guard.ChangedFile("abc", "M", "f.txt", "2", "100644")]
    assert [(a.path, a.number, a.text) for a in added] == [
        ("f.txt", 2, b"++ b/not-a-header"),
        ("f.txt", 3, b"@@ -9 +9 @@"),
        ("f.txt", 7, b"new"),
    ]


def test_known_key_with_a_key_shape_reported_once() -> None:
    matcher = guard.KeyMatcher([guard.KnownKey("~/.moai/.env.glm", ZAI_SHAPED)])
    text = f"a\nb = {ZAI_SHAPED}  # moai: allow-key\n".encode()
    hits = list(matcher.in_text(text))
    # The pragma never exempts a real key, and the shape does not report it twice.
    assert [(h[1], h[2]) for h in hits] == [("GLM key from ~/.moai/.env.glm", "0123…EAL1")]


def test_guard_that_cannot_look_fails_closed(
    repo: Path, env: dict[str, str], keyed_home: str, tmp_path: Path
) -> None:
    """An index git cannot read (as the hook would see it): the commit stops, one line."""
    write(repo / "src/config.py", f'TOKEN = "{FAKE_KEY}"\n')
    git(repo, "add", "src/config.py", env=env)
    broken = write(tmp_path / "broken-index", "not an index\n")
    r = moai(repo, "hook-impl", "pre-commit", env={**env, "GIT_INDEX_FILE": str(broken)})
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "the moai guard could not run" in lines[0], r.stderr
    assert "--no-verify" in lines[0] and FAKE_KEY not in r.stderr
