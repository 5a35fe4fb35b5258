"""files.py, the one module that reads and writes: its rules on real files, links and FIFOs."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from moai_mashup import files
from moai_mashup.errors import BadInput


def _link(path: Path, target: str | Path) -> Path:
    os.symlink(target, path)
    return path


# --- reads -----------------------------------------------------------------


def test_a_regular_file_is_read_and_an_absent_one_is_none(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"hello")
    assert files.read_bytes(tmp_path / "a", 100) == b"hello"
    assert files.read_bytes(tmp_path / "missing", 100) is None
    assert files.read_bytes(_link(tmp_path / "dangling", "nowhere"), 100) is None


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/random", "/dev/null", "/proc/self/fd/0"])
def test_a_link_to_a_device_is_refused_without_reading(tmp_path: Path, target: str) -> None:
    link = _link(tmp_path / "cfg", target)
    with pytest.raises(BadInput, match=r"^.*cfg: a (device|FIFO), not a regular file"):
        files.read_bytes(link, 1 << 20, str(link))


def test_a_fifo_is_refused_at_once_even_with_no_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(BadInput, match="a FIFO, not a regular file"):
        files.read_bytes(fifo, 100)
    assert time.monotonic() - started < 1.0
    with pytest.raises(BadInput, match="a FIFO"):
        files.open_regular(fifo)


def test_a_folder_and_a_link_loop_are_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(BadInput, match="a folder, not a regular file"):
        files.read_bytes(tmp_path / "d", 100)
    loop = _link(tmp_path / "loop", "loop")
    with pytest.raises(BadInput, match="a link loop"):
        files.read_bytes(loop, 100)
    with pytest.raises(BadInput, match="a link loop"):
        files.read_bytes(loop, 100, within=tmp_path)


def test_the_bound_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1024)
    assert files.read_bytes(path, 1024) == b"x" * 1024
    with pytest.raises(BadInput, match="larger than 1023 bytes"):
        files.read_bytes(path, 1023)
    path.write_bytes(b"x" * 1025)
    with pytest.raises(BadInput, match="larger than 1 KiB"):
        files.read_bytes(path, 1024)


def test_within_refuses_a_link_leaving_it_and_keeps_one_inside(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    secret = tmp_path / "secret"
    secret.write_text("sk-not-for-you")
    inside = repo / "sub" / "real.yaml"
    inside.write_text("ok")
    _link(repo / "in.yaml", "sub/real.yaml")
    _link(repo / "out.yaml", "../secret")
    _link(repo / "linked-dir", tmp_path)  # a folder link leading out
    assert files.read_text(repo / "in.yaml", 100, within=repo) == "ok"
    for name in ("out.yaml", "linked-dir/secret"):
        with pytest.raises(BadInput, match="symbolic link leading outside") as err:
            files.read_text(repo / name, 100, within=repo)
        assert "sk-not-for-you" not in str(err.value)
    # without `within` (a user's own file), a link anywhere is followed
    assert files.read_text(repo / "out.yaml", 100) == "sk-not-for-you"


def test_text_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"ok\xff")
    with pytest.raises(BadInput, match=r"not UTF-8 text \(byte 2\)"):
        files.read_text(tmp_path / "f", 100)


def test_stdin_is_bounded(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from moai_mashup import files\n"
        "try:\n    print(len(files.read_stdin(10)))\n"
        "except Exception as e:\n    print(e)\n"
    )
    small = subprocess.run(
        [sys.executable, "-c", code], input=b"0123456789", capture_output=True, check=True
    )
    assert small.stdout.strip() == b"10"
    big = subprocess.run(
        [sys.executable, "-c", code], input=b"x" * 100_000, capture_output=True, check=True
    )
    assert b"stdin: larger than 10 bytes" in big.stdout


# --- writes ----------------------------------------------------------------


def test_a_write_replaces_the_file_private_then_with_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.json"
    files.make_dirs(path.parent)
    assert files.write_text(path, "{}", 0o644) == str(path)
    assert path.read_text() == "{}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.json"]  # no temp left


def test_a_link_inside_keeps_its_link_and_its_target_is_written(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shared = repo / "shared"
    shared.mkdir(parents=True)
    (shared / "s.json").write_text("old")
    (repo / ".claude").mkdir()
    link = _link(repo / ".claude" / "settings.json", "../shared/s.json")
    written = files.write_text(link, "new", within=repo)
    assert link.is_symlink() and os.readlink(link) == "../shared/s.json"
    assert (shared / "s.json").read_text() == "new"
    assert written == str(shared / "s.json")


def test_a_link_leaving_within_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    outside = tmp_path / "home"
    outside.mkdir()
    (outside / ".gitconfig").write_text("[user]\n")
    gitignore = _link(repo / ".gitignore", "../home/.gitconfig")
    with pytest.raises(BadInput, match="symbolic link leading outside"):
        files.write_text(gitignore, "x", within=repo)
    with pytest.raises(BadInput, match="symbolic link leading outside"):
        files.append_bytes(gitignore, b"x", within=repo)
    assert (outside / ".gitconfig").read_text() == "[user]\n"
    _link(repo / ".claude", outside)  # a folder link
    with pytest.raises(BadInput, match="its folder is a symbolic link leading outside"):
        files.write_text(repo / ".claude" / "settings.json", "{}", within=repo)
    with pytest.raises(BadInput, match="its folder is a symbolic link leading outside"):
        files.remove(repo / ".claude" / ".gitconfig", within=repo)
    assert sorted(p.name for p in outside.iterdir()) == [".gitconfig"]


def test_by_default_a_link_may_not_leave_its_own_folder(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    state = tmp_path / "state"
    state.mkdir()
    _link(state / "record.json", "../elsewhere/record.json")
    with pytest.raises(BadInput):
        files.write_text(state / "record.json", "{}")
    assert not (tmp_path / "elsewhere" / "record.json").exists()


def test_a_fifo_or_folder_in_the_way_of_a_write_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    for name in ("fifo", "dir"):
        with pytest.raises(BadInput, match="not a regular file"):
            files.write_text(tmp_path / name, "x")
        with pytest.raises(BadInput):
            files.append_bytes(tmp_path / name, b"x")


def test_create_exclusive_makes_a_file_once(tmp_path: Path) -> None:
    path = tmp_path / "marker"
    assert files.create_exclusive(path, b"one")
    assert not files.create_exclusive(path, b"two")
    assert path.read_bytes() == b"one"
    _link(tmp_path / "link", "nowhere")
    assert not files.create_exclusive(tmp_path / "link", b"x")  # even a dangling link
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "marker"]


def test_remove_takes_the_link_never_its_target(tmp_path: Path) -> None:
    (tmp_path / "target").write_text("keep")
    link = _link(tmp_path / "link", "target")
    assert files.remove(link)
    assert not files.remove(link)
    assert (tmp_path / "target").read_text() == "keep"


def test_copy_file_keeps_links_mode_and_refuses_a_fifo(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    (src / "env").write_text("A=1\n")
    (src / "env").chmod(0o640)
    _link(src / "link", "env")
    os.mkfifo(src / "fifo")
    files.copy_file(src / "env", dst / "env", within=dst)
    files.copy_file(src / "link", dst / "link", within=dst)
    assert (dst / "env").read_text() == "A=1\n"
    assert stat.S_IMODE((dst / "env").stat().st_mode) == 0o640
    assert os.readlink(dst / "link") == "env"
    with pytest.raises(BadInput, match="a FIFO"):
        files.copy_file(src / "fifo", dst / "fifo", within=dst)
    assert not (dst / "fifo").exists()


def test_open_lock_refuses_a_link(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    state = tmp_path / "state"
    state.mkdir()
    _link(state / "settings.lock", "../elsewhere/x.lock")
    with pytest.raises(BadInput):
        files.open_lock(state / "settings.lock")
    fd = files.open_lock(state / "other.lock")
    os.close(fd)
    assert stat.S_IMODE((state / "other.lock").stat().st_mode) == 0o600


def test_replace_if_unchanged_writes_only_over_what_it_expects(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"A")
    assert not files.replace_if_unchanged(path, b"B", b"other")
    assert path.read_bytes() == b"A"
    assert files.replace_if_unchanged(path, b"B", b"A")
    assert path.read_bytes() == b"B"
    assert files.replace_if_unchanged(path, None, b"B")
    assert not path.exists()
    assert files.replace_if_unchanged(path, b"C", None)
    assert path.read_bytes() == b"C"


# --- walks -----------------------------------------------------------------


def test_walks_follow_no_link_and_skip_fifos(tmp_path: Path) -> None:
    root = tmp_path / "projects"
    (root / "a" / "sub").mkdir(parents=True)
    (root / "a" / "one.jsonl").write_text("{}\n")
    (root / "a" / "sub" / "two.jsonl").write_text("{}\n")
    (root / "a" / "notes.txt").write_text("x")
    _link(root / "a" / "loop", ".")  # a folder link back up: a loop if followed
    _link(root / "escape", tmp_path)  # a folder link out
    _link(root / "a" / "linked.jsonl", "one.jsonl")
    os.mkfifo(root / "a" / "fifo.jsonl")
    os.mkfifo(root / "fifo-dir")
    found = [Path(p).relative_to(root).as_posix() for p in files.walk_files(root, ".jsonl")]
    assert found == ["a/one.jsonl", "a/sub/two.jsonl"]
    assert files.subdirs(root) == ["a"]
    assert files.subdirs(root / "missing") == []
    assert files.list_dir(root / "missing") == []


def test_a_walk_of_a_deep_tree_ends(tmp_path: Path) -> None:
    path = tmp_path
    for _ in range(200):
        path = path / "d"
    path.mkdir(parents=True)
    (path / "x.jsonl").write_text("{}\n")
    assert len(list(files.walk_files(tmp_path, ".jsonl"))) == 1


def test_settle_returns_at_once_for_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "settings.local.json"
    os.mkfifo(fifo)
    done = threading.Event()

    def run() -> None:
        files.settle(fifo, lambda data: False, 1 << 20)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(5)


# --- what a parse may cost (limits.py) ------------------------------------------


def test_a_json_document_with_too_many_lists_is_refused_before_parsing() -> None:
    from moai_mashup.limits import MAX_JSON_CONTAINERS, json_shape_problem, loads_json

    wide = '{"x": [' + ",".join(["[]"] * (MAX_JSON_CONTAINERS + 1)) + "]}"
    started = time.monotonic()
    assert "lists and objects" in (json_shape_problem(wide) or "")
    assert time.monotonic() - started < 5  # a walk of the parsed document took seconds
    with pytest.raises(BadInput, match=r"settings\.json: more than 100,000 lists"):
        loads_json(wide, "settings.json")
    # brackets inside strings are text, not structure
    prompt = json.dumps({"prompt": "[" * 300_000 + "{" * 300_000})
    assert json_shape_problem(prompt) is None
    assert json_shape_problem("[" * 100 + "]" * 100) is None
    assert "nested more than 100" in (json_shape_problem("[" * 101 + "]" * 101) or "")
    comb = "[" + ",".join(["[" * 99 + "]" * 99] * 50) + ", " + "[" * 101 + "]" * 101 + "]"
    assert "nested more than 100" in (json_shape_problem(comb) or "")


def test_a_yaml_alias_bomb_under_the_byte_bound_is_refused() -> None:
    from moai_mashup.limits import MAX_CONFIG_BYTES, load_yaml_unique

    bomb = "llm:\n  worktree:\n    on_create: [&s '" + "x" * 100_000 + "', "
    bomb += ", ".join(["*s"] * 2000) + "]\n"
    assert len(bomb) < MAX_CONFIG_BYTES
    with pytest.raises(BadInput, match=r"expands \(through YAML aliases\) past 4 MiB"):
        load_yaml_unique(bomb, "llm.yaml")
    assert load_yaml_unique("a: &a [1, 2]\nb: *a\n", "llm.yaml") == {"a": [1, 2], "b": [1, 2]}


def test_read_tail_reads_only_the_end_and_refuses_what_is_no_file(tmp_path: Path) -> None:
    path = tmp_path / "transcript.jsonl"
    path.write_bytes(b"a" * 100 + b"\nlast line\n")
    assert files.read_tail(path, 10) == b"last line\n"
    assert files.read_tail(path, 1000) == path.read_bytes()
    assert files.read_tail(tmp_path / "absent.jsonl", 10) is None
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(BadInput, match="not a regular file"):
        files.read_tail(tmp_path / "fifo", 10)
