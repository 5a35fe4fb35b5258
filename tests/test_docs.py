"""The README and the pages under docs/ agree with each other and with the code.

`mkdocs build --strict` (scripts/test.sh) checks the links between the pages;
these check what it cannot: the README's own links, and the facts the README
repeats from a page.
"""

from __future__ import annotations

import re
from pathlib import Path

from moai_mashup.claude_code.version import TESTED_NEWEST, TESTED_OLDEST

ROOT = Path(__file__).resolve().parents[1]


def read(rel: str) -> str:
    return (ROOT / rel).read_text(encoding="utf-8")


def tables(text: str) -> list[str]:
    """Each markdown table whose header starts with `| mode`, as one string."""
    return re.findall(r"^\| mode .*?(?=\n\n|\Z)", text, re.M | re.S)


def test_the_readme_links_to_files_that_exist() -> None:
    links = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", read("README.md"))
    assert links, "the README links nowhere"
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert not missing, f"README.md links to missing files: {missing}"


def test_the_routing_tables_are_the_same_in_the_readme_and_docs() -> None:
    readme = tables(read("README.md"))
    assert len(readme) == 2, "the README shows the two routing tables"
    assert tables(read("docs/routing.md")) == readme


def test_the_tested_claude_code_range_is_the_one_moai_doctor_checks() -> None:
    documented = f"{TESTED_OLDEST} to {TESTED_NEWEST}"
    for rel in ("README.md", "docs/claude-code.md"):
        text = " ".join(read(rel).replace("*", "").split())
        assert f"Claude Code {documented}" in text, rel


def test_the_presets_table_is_what_moai_writes() -> None:
    """docs/backends.md's presets table against core/backends.PRESETS: each preset's
    name as messages show it, base URL, tier models and key variable (what `moai
    status --json` reports and the settings file gets)."""
    from moai_mashup.core.backends import PRESETS

    rows = {}
    for line in read("docs/backends.md").splitlines():
        found = re.match(r"\| `([a-z-]+)` \| (.*) \|$", line)
        if found:
            rows[found.group(1)] = [c.replace("¹", "").strip() for c in found.group(2).split(" | ")]
    assert list(rows) == list(PRESETS)
    for name, preset in PRESETS.items():
        _provider, shown, url, models, _windows, key_in, _source = rows[name]
        assert shown == preset.display, name
        assert url == f"`{preset.base_url}`", name
        tiers = [m.strip(" `") for m in models.split(" / ")]
        if len(tiers) == 1:  # "`X` on every tier"
            tiers = [models.removesuffix(" on every tier").strip("`")] * 3
        assert tiers == [preset.models[t] for t in ("opus", "sonnet", "haiku")], name
        assert key_in == f"`{preset.auth_var}`", name
