"""The stamp's routing table read three ways, alike: core/routing (the decision),
the shim's sh reader (resources/hook-tmpl, run as written) and stamp.Stamp (the
prepared switch's reader)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from moai_mashup.core.routing import glob_matches
from moai_mashup.githooks.stamp import Stamp, render, sh_pattern

TEMPLATE = Path(__file__).resolve().parents[2] / "src/moai_mashup/resources/hook-tmpl"
# Branch names and globs over letters, separators and every character sh's
# `case` or `read` could read differently.
ALPHABET = "ab/-.*?[]\\! ~"


def _sh_reader() -> str:
    """The shim's own `moai_stamp_holds` function, cut out of the template."""
    lines = TEMPLATE.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "moai_stamp_holds() {")
    end = next(i for i in range(start, len(lines)) if lines[i] == "    }")
    return "\n".join(lines[start : end + 1])


def _sh_backends(state: Path, stamp: str, branches: list[str]) -> list[str]:
    """What the shim's reader makes of `stamp` for each branch (`-`: the stamp does not hold)."""
    (state / "moai").mkdir(exist_ok=True)
    (state / "moai" / "hook-stamp").write_text(stamp)
    script = (
        _sh_reader()
        + "\nmoai_gd=$1 moai_root=$1 moai_stamp=$1/moai/hook-stamp; shift\n"
        + 'for moai_branch in "$@"; do\n'
        + '  if moai_stamp_holds; then echo "=${moai_to}"; else echo "-"; fi\n'
        + "done\n"
    )
    out = subprocess.run(
        ["/bin/sh", "-c", script, "sh", str(state), *branches],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line[1:] if line.startswith("=") else "-" for line in out.splitlines()]


def _stamp(state: Path, globs: list[str]) -> str | None:
    return render(
        root=str(state),
        state_dir=str(state / "moai"),
        applied="claude",
        trailer=False,
        routes=[(glob, f"b{n}", "why") for n, glob in enumerate(globs)],
        notes={},
        env=[],
        inputs=[],
        live=(str(state / "s"), str(state / "r")),
        ready=str(state / "ready"),
        states={},
        keys={},
    )


def _routing(globs: list[str], branch: str) -> str:
    return next((f"b{n}" for n, g in enumerate(globs) if glob_matches(branch, g)), "")


PLAIN = st.text(alphabet="ab/-", max_size=3)
GLOBS = st.one_of(
    st.builds(lambda p, s: f"{p}*{s}", PLAIN, PLAIN),  # the usual shape
    PLAIN.filter(bool),  # an exact name (the default branch)
    st.text(alphabet=ALPHABET, max_size=6),  # anything
)
BRANCHES = st.one_of(
    st.text(alphabet="ab/-", min_size=1, max_size=6),
    st.text(alphabet=ALPHABET, min_size=1, max_size=8),
)


@settings(max_examples=80, deadline=None)
@given(
    globs=st.lists(GLOBS, min_size=1, max_size=4),
    branches=st.lists(BRANCHES, min_size=1, max_size=12),
)
def test_sh_python_and_routing_agree_on_every_glob_and_branch(
    tmp_path_factory: object, globs: list[str], branches: list[str]
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(os.path.realpath(tmp))
        text = _stamp(state, globs)
        if text is None:
            # No stamp: only for a glob sh would read differently.
            assert any(sh_pattern(g) is None for g in globs)
            return
        stamp = Stamp(text)
        assert stamp.ok
        wanted = [_routing(globs, b) for b in branches]
        assert [stamp.route(b)[0] for b in branches] == wanted
        assert _sh_backends(state, text, branches) == wanted


def test_the_star_stands_for_at_least_one_character_in_sh_too(tmp_path: Path) -> None:
    state = Path(os.path.realpath(tmp_path))
    globs = ["main", "feature/SPEC-*", "*"]
    text = _stamp(state, globs)
    assert text is not None and "route b1 feature/SPEC-?*\n" in text
    branches = ["feature/SPEC-", "feature/SPEC-1", "main", "other"]
    assert _sh_backends(state, text, branches) == ["b2", "b1", "b0", "b2"]


def test_globs_sh_would_read_otherwise_give_no_stamp(tmp_path: Path) -> None:
    for glob in ["a?b*", "[ab]*", "a\\*", "a b*", "*x*"]:
        assert sh_pattern(glob) is None, glob
        assert _stamp(tmp_path, [glob]) is None


def test_a_stamp_of_another_version_or_torn_does_not_hold(tmp_path: Path) -> None:
    state = Path(os.path.realpath(tmp_path))
    text = _stamp(state, ["*"])
    assert text is not None
    assert _sh_backends(state, text, ["x"]) == ["b0"]
    assert _sh_backends(state, text.replace("moai-hook-stamp 4", "moai-hook-stamp 3"), ["x"]) == [
        "-"
    ]
    assert _sh_backends(state, text.replace("end\n", ""), ["x"]) == ["-"]
    assert not Stamp(text.replace("end\n", "")).ok


def test_key_lines_name_their_backend_and_the_reader_is_strict() -> None:
    head = "moai-hook-stamp 4\n"
    stamp = Stamp(head + "key glm 9 20 /h/.moai/.env.glm\nkey kimi 0 26 /h/.moai/a b\nend\n")
    assert stamp.ok
    assert stamp.keys == {"glm": (9, 20, "/h/.moai/.env.glm"), "kimi": (0, 26, "/h/.moai/a b")}
    for bad in (
        "key 9 20 /h/.moai/.env.glm",  # the version 3 shape: no backend
        "key glm 9 /h/.moai/.env.glm",
        "key glm x 20 /p",
        "key glm -1 20 /p",
        "key glm 9 0 /p",
        "key glm 9 20",
        "key g*m 9 20 /p",
        "key glm ٣ 20 /p",  # a digit, not an ASCII one
    ):
        assert not Stamp(head + bad + "\nend\n").ok, bad
    assert not Stamp(head + "key glm 1 2 /p\nkey glm 3 4 /q\nend\n").ok  # one per backend


def test_pairs_and_display_names_round_trip(tmp_path: Path) -> None:
    text = render(
        root=str(tmp_path),
        state_dir=str(tmp_path / "moai"),
        applied="glm",
        trailer=False,
        routes=[("exp/*", "kimi", "why"), ("*", "glm", "why")],
        notes={},
        env=[],
        inputs=[],
        live=(str(tmp_path / "s"), str(tmp_path / "r")),
        ready=str(tmp_path / "ready"),
        states={"glm": ("a", "b", 0o600), "kimi": ("c", "d", 0o600)},
        keys={"kimi": (0, 10, "/h/.moai/.env.kimi")},
        names={"kimi": "Kimi (Moonshot)"},
        pairs=[("glm", "kimi"), ("kimi", "glm")],
    )
    assert text is not None
    stamp = Stamp(text)
    assert stamp.ok and stamp.pairs == {("glm", "kimi"), ("kimi", "glm")}
    assert stamp.name("kimi") == "Kimi (Moonshot)" and stamp.name("glm") == "GLM"
    assert stamp.keys == {"kimi": (0, 10, "/h/.moai/.env.kimi")}
    assert stamp.route("exp/a") == ("kimi", "why")


def test_a_backend_that_is_no_name_gives_no_stamp(tmp_path: Path) -> None:
    for backend in ("../x", "Kimi", "a b", "x/y"):
        text = render(
            root=str(tmp_path),
            state_dir=str(tmp_path / "moai"),
            applied="claude",
            trailer=False,
            routes=[("*", backend, "why")],
            notes={},
            env=[],
            inputs=[],
            live=(str(tmp_path / "s"), str(tmp_path / "r")),
            ready=str(tmp_path / "ready"),
            states={},
            keys={},
        )
        assert text is None, backend


# The tags the shim's reader acts on (resources/hook-tmpl, moai_stamp_holds).
SH_TAGS = {
    "moai-hook-stamp",
    "root",
    "state-dir",
    "applied",
    "trailer",
    "route",
    "file",
    "none",
    "env",
}


def test_the_shim_reads_its_lines_only_and_stops_at_sh_end(tmp_path: Path) -> None:
    """dash's `read` takes a byte per system call: the shim's lines come first, and it
    reads nothing past `sh-end` (the prepared switch's lines, most of the stamp)."""
    state = Path(os.path.realpath(tmp_path))
    text = render(
        root=str(state),
        state_dir=str(state / "moai"),
        applied="claude",
        trailer=False,
        routes=[("feature/*", "glm", "why"), ("*", "claude", "why")],
        notes={"glm": "a note"},
        env=[("MOAI_LLM_MODE", "")],
        inputs=[(str(state / "llm.yaml"), True, 123), (str(state / "gone"), False, None)],
        live=(str(state / "s"), str(state / "r")),
        ready=str(state / "ready"),
        states={"glm": ("a", "b", 0o600), "claude": ("-", "-", 0o600)},
        keys={"glm": (0, 10, "/h/.moai/.env.glm")},
        pairs=[("claude", "glm"), ("glm", "claude")],
    )
    assert text is not None
    (state / "llm.yaml").write_text("")
    os.utime(state / "llm.yaml", (0, 0))
    tags = [line.partition(" ")[0] for line in text.splitlines()]
    cut = tags.index("sh-end")
    assert set(tags[:cut]) == SH_TAGS
    assert not SH_TAGS & set(tags[cut + 1 :])
    assert Stamp(text).ok
    assert _sh_backends(state, text, ["main", "feature/x"]) == ["claude", "glm"]
    # Past `sh-end` the shim reads nothing: a line there that would fail its check
    # (an input gone) is Python's, and a stamp cut after `sh-end` still holds for it.
    past = text.replace("sh-end\n", f"sh-end\nfile {state / 'gone'}\n")
    assert _sh_backends(state, past, ["main"]) == ["claude"]
    assert _sh_backends(state, text.partition("sh-end\n")[0] + "sh-end\n", ["main"]) == ["claude"]
    assert not Stamp(text.partition("sh-end\n")[0] + "sh-end\n").ok  # Python wants `end`
    # ...and a stamp cut before it (or written without it) holds only to `end`.
    assert _sh_backends(state, text.partition("sh-end\n")[0], ["main"]) == ["-"]
    assert _sh_backends(state, text.replace("sh-end\n", ""), ["main"]) == ["claude"]
