"""trust.py in-process: which URLs pass without asking, and the trust file's rules.

Fast enough to run for every mutant of trust.py (scripts/mutation.sh); the
`moai` subprocess view of the same rules is tests/settings/test_trust.py.
"""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from moai_mashup.settings import trust

REPO = Path("/projects/app")
OTHER = Path("/projects/other")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "url",
    [
        "https://api.z.ai/api/anthropic",
        "https://open.bigmodel.cn/api/anthropic",
        "https://api.anthropic.com",
        "https://API.Z.AI/api/anthropic",  # hostnames are case-insensitive
        "https://api.z.ai:443/api/anthropic",
    ],
)
def test_built_in_hosts_over_https_pass(url: str) -> None:
    assert trust.is_known_url(url)
    assert trust.is_trusted(REPO, "url", url)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.z.ai/api/anthropic",  # the key would cross the network in clear
        "https://user@api.z.ai/api/anthropic",
        "https://user:pw@api.z.ai/api/anthropic",
        "https://:pw@api.z.ai/api/anthropic",  # an empty user name, still credentials
        "https://@api.z.ai/api/anthropic",
        "https://api.z.ai.evil.example/api/anthropic",
        "https://evil.example/api.z.ai",
        "https://evil.example/?host=api.z.ai",
        "ftp://api.z.ai/",
        "https://api.z.ai:99999/api/anthropic",  # a port urllib cannot read
        "https://api.z.ai:x/api/anthropic",
        "https://[api.z.ai/api/anthropic",  # not a URL urllib can split
        "api.z.ai/api/anthropic",
        "",
    ],
)
def test_anything_else_needs_trust(url: str) -> None:
    assert not trust.is_known_url(url)
    assert not trust.is_trusted(REPO, "url", url)


def test_trust_is_per_repository_kind_and_value(home: Path) -> None:
    url = "https://glm-proxy.example.invalid/anthropic"
    assert not trust.is_trusted(REPO, "url", url)
    assert trust.trust(REPO, "url", url) is True
    assert trust.is_trusted(REPO, "url", url)
    assert trust.trust(REPO, "url", url) is False  # already there: nothing written twice
    assert not trust.is_trusted(OTHER, "url", url)
    assert not trust.is_trusted(REPO, "command", url)
    assert not trust.is_trusted(REPO, "url", url + "/v2")
    data = json.loads((home / ".moai" / "trust.json").read_text())
    assert len(data["entries"]) == 1
    assert data["entries"][0] == {
        "repo": str(REPO),
        "kind": "url",
        "value": url,
        "digest": trust._digest(REPO, "url", url),
    }


def test_trust_file_and_folder_are_private(home: Path) -> None:
    trust.trust(REPO, "command", "make setup")
    assert stat.S_IMODE((home / ".moai").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / ".moai" / "trust.json").stat().st_mode) == 0o600


def test_trust_makes_home_when_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "new" / "home"))
    assert trust.trust(REPO, "url", "https://x.example.invalid")
    assert trust.is_trusted(REPO, "url", "https://x.example.invalid")


def test_revoke_keeps_the_file_private(home: Path) -> None:
    trust.trust(REPO, "command", "a")
    trust.trust(REPO, "command", "b")
    path = home / ".moai" / "trust.json"
    path.chmod(0o644)
    assert trust.revoke(REPO, "command") == 2
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_new_url_revokes_the_old_one_other_kinds_and_repos_stay() -> None:
    old, new = "https://old.example.invalid", "https://new.example.invalid"
    trust.trust(REPO, "url", old)
    trust.trust(REPO, "command", "make setup")
    trust.trust(REPO, "command", "make more")
    trust.trust(OTHER, "url", old)
    trust.trust(REPO, "url", new)
    assert not trust.is_trusted(REPO, "url", old)
    assert trust.is_trusted(REPO, "url", new)
    assert trust.is_trusted(REPO, "command", "make setup")
    assert trust.is_trusted(REPO, "command", "make more")  # commands accumulate
    assert trust.is_trusted(OTHER, "url", old)


def test_revoke_one_kind_or_all_of_one_repository(home: Path) -> None:
    trust.trust(REPO, "url", "https://a.example.invalid")
    trust.trust(REPO, "command", "make setup")
    trust.trust(OTHER, "command", "make setup")
    assert trust.revoke(REPO, "command") == 1
    assert trust.is_trusted(REPO, "url", "https://a.example.invalid")
    assert not trust.is_trusted(REPO, "command", "make setup")
    assert trust.revoke(REPO) == 1
    assert not trust.is_trusted(REPO, "url", "https://a.example.invalid")
    assert trust.is_trusted(OTHER, "command", "make setup")
    before = (home / ".moai" / "trust.json").stat().st_mtime_ns
    assert trust.revoke(REPO) == 0
    assert (home / ".moai" / "trust.json").stat().st_mtime_ns == before  # nothing to write


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '{"entries": null}', '{"entries": [1, "x", null]}', "{}"],
)
def test_an_odd_trust_file_trusts_nothing_and_is_rewritten_whole(home: Path, text: str) -> None:
    (home / ".moai").mkdir()
    (home / ".moai" / "trust.json").write_text(text)
    assert not trust.is_trusted(REPO, "url", "https://x.example.invalid")
    assert trust.trust(REPO, "url", "https://x.example.invalid")
    assert trust.is_trusted(REPO, "url", "https://x.example.invalid")
    data = json.loads((home / ".moai" / "trust.json").read_text())
    assert [e["value"] for e in data["entries"]] == ["https://x.example.invalid"]


def test_a_digest_for_another_value_trusts_nothing(home: Path) -> None:
    (home / ".moai").mkdir()
    forged = {"repo": str(REPO), "kind": "url", "value": "https://x.example.invalid"}
    forged["digest"] = trust._digest(REPO, "url", "https://other.example.invalid")
    (home / ".moai" / "trust.json").write_text(json.dumps({"entries": [forged]}))
    assert not trust.is_trusted(REPO, "url", "https://x.example.invalid")


@pytest.mark.parametrize(
    ("url", "preset", "known"),
    [
        ("https://api.moonshot.ai/anthropic", "moonshot", True),
        ("https://api.deepseek.com/anthropic", "deepseek", True),
        ("https://api.deepseek.com/anthropic", "moonshot", False),  # another preset's host
        ("https://api.deepseek.com/anthropic", None, False),  # a custom backend: no host
        ("https://api.deepseek.com/anthropic", "glm", False),  # GLM's own hosts only
        ("https://api.z.ai/api/anthropic", "moonshot", False),
        ("https://api.z.ai/api/anthropic", "zai", True),
        ("https://api.z.ai/api/anthropic", None, False),
        ("http://api.moonshot.ai/anthropic", "moonshot", False),  # in clear
        ("https://u@api.moonshot.ai/anthropic", "moonshot", False),
    ],
)
def test_a_built_in_host_counts_only_for_its_own_preset(
    url: str, preset: str | None, known: bool
) -> None:
    assert trust.is_known_url(url, preset) is known


def test_url_and_env_are_trusted_per_backend(home: Path) -> None:
    lab, gw = "https://lab.example.invalid/a", "https://gw.example.invalid/a"
    assert trust.trust(REPO, "url", lab, "lab")
    assert trust.trust(REPO, "url", gw, "gw")  # gw's approval does not revoke lab's
    assert trust.is_trusted(REPO, "url", lab, "lab") and trust.is_trusted(REPO, "url", gw, "gw")
    assert not trust.is_trusted(REPO, "url", lab, "gw")
    assert not trust.is_trusted(REPO, "url", lab)  # not GLM's either
    trust.trust(REPO, "url", lab + "/v2", "lab")  # a new URL of lab's: lab's old one goes
    assert not trust.is_trusted(REPO, "url", lab, "lab")
    assert trust.is_trusted(REPO, "url", gw, "gw")
    trust.trust(REPO, "env", '{"X": "1"}', "lab")
    trust.trust(REPO, "env", '{"Y": "1"}')  # GLM's env set, beside lab's
    assert trust.is_trusted(REPO, "env", '{"X": "1"}', "lab")
    assert trust.is_trusted(REPO, "env", '{"Y": "1"}')
    assert not trust.is_trusted(REPO, "env", '{"X": "1"}')
    entries = json.loads((home / ".moai" / "trust.json").read_text())["entries"]
    assert {e.get("backend") for e in entries} == {"lab", "gw", None}
    assert trust.revoke(REPO) == 4


def test_an_approval_given_before_backends_is_glms_and_holds(home: Path) -> None:
    """trust.json as moai wrote it before other backends: no `backend` field."""
    url = "https://glm-proxy.example.invalid/anthropic"
    old = {"repo": str(REPO), "kind": "url", "value": url}
    old["digest"] = hashlib.sha256(f"{REPO}\0url\0{url}".encode()).hexdigest()
    (home / ".moai").mkdir()
    (home / ".moai" / "trust.json").write_text(json.dumps({"entries": [old]}))
    assert trust.is_trusted(REPO, "url", url)
    assert not trust.is_trusted(REPO, "url", url, "lab")
    assert trust.trust(REPO, "url", url, "lab")  # lab's own approval leaves GLM's
    assert trust.is_trusted(REPO, "url", url)
    assert trust.trust(REPO, "url", url + "/v2")  # a new GLM URL revokes the old one only
    assert not trust.is_trusted(REPO, "url", url)
    assert trust.is_trusted(REPO, "url", url, "lab")


def test_a_glm_approval_entry_relabelled_for_another_backend_trusts_nothing(home: Path) -> None:
    url = "https://x.example.invalid"
    forged = {"repo": str(REPO), "kind": "url", "value": url, "backend": "lab"}
    forged["digest"] = trust._digest(REPO, "url", url)  # GLM's digest, lab's label
    (home / ".moai").mkdir()
    (home / ".moai" / "trust.json").write_text(json.dumps({"entries": [forged]}))
    assert not trust.is_trusted(REPO, "url", url, "lab")
    assert not trust.is_trusted(REPO, "url", url)
