"""Trust of a committed endpoint: untrusted URL not used, trusted used, changed URL asks again."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import GLM_JSON, SEED_GLM_JSON, SETTINGS, git, moai, settings, write

PROXY = "https://glm-proxy.example.invalid/anthropic"


def _use_url(repo: Path, env: dict[str, str], url: str) -> None:
    write(repo / GLM_JSON, SEED_GLM_JSON.replace("https://api.z.ai/api/anthropic", url))
    git(repo, "commit", "-qam", f"use {url}", env=env)


def test_untrusted_url_not_used_then_trusted(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    _use_url(repo, env, PROXY)
    r = moai(repo, "glm", env=env)
    assert r.returncode == 1
    assert "not trusted" in r.stderr and "moai trust" in r.stderr
    assert not (repo / SETTINGS).exists()

    r = moai(repo, "trust", "--yes", env=env)
    assert r.returncode == 0, r.stderr
    assert moai(repo, "glm", env=env).returncode == 0
    assert settings(repo)["env"]["ANTHROPIC_BASE_URL"] == PROXY

    _use_url(repo, env, PROXY + "/v2")
    assert moai(repo, "claude", env=env).returncode == 0
    r = moai(repo, "glm", env=env)
    assert r.returncode == 1, "a changed URL must need trust again"


def test_known_url_needs_no_trust(repo: Path, env: dict[str, str], keyed_home: str) -> None:
    r = moai(repo, "trust", "--list", env=env)
    assert "trusted" in r.stdout and "needs trust" not in r.stdout
    assert moai(repo, "glm", env=env).returncode == 0


def test_built_in_host_over_http_or_with_a_user_needs_trust(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    # A built-in host is trusted only over https and without credentials in the URL:
    # http://api.z.ai would send the key in clear to whoever is on the path.
    for url in ("http://api.z.ai/api/anthropic", "https://someone@api.z.ai/api/anthropic"):
        _use_url(repo, env, url)
        r = moai(repo, "glm", env=env)
        assert r.returncode == 1, url
        assert "not trusted" in r.stderr and url in r.stderr
        assert not (repo / SETTINGS).exists()
        assert keyed_home not in r.stdout + r.stderr
