"""is_known_url reads plain https URLs without urllib (the hook's imports) and gives
urllib's answer for every URL, plain or not."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup.core.backends import PRESETS
from moai_mashup.core.glm_template import plain_url, url_problem
from moai_mashup.settings import trust


def _urllib_answer(url: str, preset: str | None) -> bool:
    """The rule as urllib reads it: https, a port urllib accepts, no userinfo, the host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
    except ValueError:
        return False
    if preset == "glm":
        hosts = trust.GLM_HOSTS
    elif preset in PRESETS:
        hosts = frozenset({(urlsplit(PRESETS[preset].base_url).hostname or "").lower()})
    else:
        hosts = frozenset()
    return parts.scheme == "https" and "@" not in parts.netloc and (parts.hostname or "") in hosts


_pieces = st.sampled_from(
    [
        "https://",
        "http://",
        "HTTPS://",
        "api.z.ai",
        "API.Z.ai",
        "api.deepseek.com",
        "open.bigmodel.cn",
        "evil.com",
        ":",
        "443",
        "99999",
        "０",
        "@",
        "user",
        "/",
        "?",
        "#",
        "\\",
        ".",
        "-",
        "[",
        "]",
        "%40",
        " ",
        "\t",
        "api",
        "z",
        "ai",
    ]
)
_urls = st.lists(_pieces, max_size=8).map("".join)
_presets = st.sampled_from(["glm", "deepseek", "zai", "moonshot", None, "nope"])


@settings(max_examples=400, deadline=None)
@given(_urls, _presets)
def test_known_url_is_urllibs_answer(url: str, preset: str | None) -> None:
    assert trust.is_known_url(url, preset) == _urllib_answer(url, preset)


def test_plain_urls_need_no_urllib() -> None:
    assert plain_url("https://api.z.ai/api/anthropic") == ("https", "api.z.ai")
    assert plain_url("http://api.z.ai:443?x") == ("http", "api.z.ai")
    for other in ("ftp://api.z.ai", "https://u@api.z.ai", "https://API.z.ai", "https://h:x"):
        assert plain_url(other) is None
    assert trust.is_known_url("https://API.Z.AI/x")  # urllib's reading: hosts are case-blind
    assert not trust.is_known_url("https://:pw@api.z.ai/x")
    assert not trust.is_known_url("https://api.z.ai:99999/x")


def _urllib_problem(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
    except ValueError:
        return True
    return parts.scheme not in ("https", "http") or not parts.hostname


@settings(max_examples=400, deadline=None)
@given(_urls)
def test_url_problem_is_urllibs_answer(url: str) -> None:
    if not url.isprintable() or any(c.isspace() for c in url):
        assert url_problem(url) is not None
    else:
        assert (url_problem(url) is not None) == _urllib_problem(url)
