"""What an earlier moai left behind is renewed by `moai hooks install`.

No version of moai with the old flat module paths (`moai_mashup.hook_fast`,
`moai_mashup.key_helper`) was released, so they are gone; a shim of today's
`moai hooks install` keeps working (tests/githooks), and reinstalling rewrites
any other one.
"""

from __future__ import annotations

from pathlib import Path

from tests.hooks_support import hook_path, install


def test_reinstalling_the_hooks_rewrites_an_old_shim(
    repo: Path, env: dict[str, str], keyed_home: str
) -> None:
    install(repo, env)
    shim = hook_path(repo)
    shim.write_text(shim.read_text().replace("moai_mashup.githooks.fast", "moai_mashup.hook_fast"))

    install(repo, env)

    assert "moai_mashup.hook_fast" not in shim.read_text()
