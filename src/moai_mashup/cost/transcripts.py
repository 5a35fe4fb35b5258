"""Stream Claude Code's JSONL transcripts and pick out usage records and phase commands.

Facts measured with Claude Code 2.1.112 (`claude -p`, fresh HOME, a local fake
Anthropic server; tests/fixtures/transcripts/ holds what it wrote):

- Where: `$CLAUDE_CONFIG_DIR/projects/` (default `~/.claude/projects/`), one
  folder per working directory, named by the *cwd Claude Code started in*
  (not the git root) with every character outside `[A-Za-z0-9]` replaced by
  `-` (`/home/user/my.proj_1/sub` -> `-home-user-my-proj-1-sub`); a name
  longer than 200 characters is cut to 200 and gets `-<hash>` appended.
  One file per session, `<session-id>.jsonl`; a subagent's (Task/Agent tool)
  records go to `<session-id>/subagents/agent-<id>.jsonl` (+ `.meta.json`).
- Records, one JSON object per line: `queue-operation`, `user`, `attachment`,
  `assistant`, `last-prompt` (others exist: `system`, `summary`,
  `file-history-snapshot`, `progress`...). `user`/`assistant`/`attachment`
  carry `cwd`, `gitBranch` (absent outside git), `sessionId`, `timestamp`
  (UTC, `...Z`), `version`, `uuid`, `isSidechain` (true in subagent files,
  which also carry `agentId`).
- Usage lives only in `assistant` records: `message.model` (the model the
  *server answered with*: a server that replies `glm-served-x` to a request
  for `glm-4.7` is recorded as `glm-served-x`; the requested alias and the
  base URL are recorded nowhere), `message.id`, top-level `requestId`, and
  `message.usage.{input_tokens, output_tokens, cache_creation_input_tokens,
  cache_read_input_tokens}` (plus `cache_creation`, `service_tier`...).
  2.1.332 (the native build) writes the same, always with a
  `cache_creation.{ephemeral_5m_input_tokens, ephemeral_1h_input_tokens}`
  breakdown (all zero when the server sent none) and more record types
  (`api-request`, `cost-state`, `atis-latch`...) that carry no `"usage"` key;
  it strips a `[1m]` suffix from the model it requests (tests/fixtures/transcripts-2.1.332).
- Duplicates: one `assistant` line per content block (text + tool_use = two
  lines) with the same `message.id`, `requestId` and usage; `--resume` and
  `--continue` append to the same file, but `--fork-session` copies the whole
  history into a new file (new `sessionId`, same message and request ids,
  same timestamps). Hence de-duplication by (message id, request id) across
  all files.
- A slash command is a `user` record whose content is
  `<command-message>moai:3-sync</command-message>\\n<command-name>/moai:3-sync
  </command-name>\\n<command-args>SPEC-AUTH-001</command-args>`.
- Tool results in `user` records may also contain a `"usage"` key (a
  subagent's totals): only `assistant` records are counted.

Speed: a file is read in 256 KiB chunks (4.0 GB/s read into a new 1 MiB
bytes against 5.6 GB/s at 256 KiB here, and a chunk stays in the CPU's cache
while it is searched) and searched with the C library's `memmem` (else
`bytes.find`) for `"usage"` and `<command-name>/`; only the lines holding one
are parsed (a JSON string escapes every `"`, so `"usage"` with bare quotes
occurs only as a key). Lines without either are never split out, decoded or
parsed; memory stays at one chunk plus the longest line. A copy of a response
already counted is recognised from its bytes (`quick_ids`), never parsed.
Large inputs are split across processes: scan.py.

Whatever else sits there (another tool's files, an attacker's): the walk follows
no link and takes regular files only (a FIFO, a link to /dev/zero, a link loop
are passed over), and a line longer than MAX_TRANSCRIPT_LINE_BYTES is skipped
unread as it streams by and counted as malformed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator

from moai_mashup import files
from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING, NamedTuple
from moai_mashup.limits import MAX_TRANSCRIPT_LINE_BYTES

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    Event = tuple[Any, ...]
else:
    Event = tuple  # what scan_events hands back (see EV_RESPONSE...)

CHUNK = 1 << 18
USAGE_MARK = b'"usage"'
COMMAND_MARK = b"<command-name>/"
MAX_FOLDER_NAME = 200  # Claude Code cuts longer encoded paths and appends "-<hash>"
KNOWN_TYPES = frozenset(
    {
        "user",
        "assistant",
        "attachment",
        "system",
        "summary",
        "queue-operation",
        "last-prompt",
        "file-history-snapshot",
        "progress",
        "custom-title",
        "tag",
        "agent-name",
    }
)
MAX_SAMPLES = 5


def encode_project_path(path: str) -> str:
    """Claude Code's folder name for a cwd (without the >200-character hash suffix).

    JavaScript's `/[^a-zA-Z0-9]/g` replaces UTF-16 code units: a character
    outside the BMP becomes two dashes.
    """
    return "".join(
        c if c.isascii() and c.isalnum() else ("--" if ord(c) > 0xFFFF else "-") for c in path
    )


def folder_matches(name: str, root: str) -> bool:
    """Whether folder `name` holds sessions started in `root` or a directory below it."""
    enc = encode_project_path(root)
    if len(enc) > MAX_FOLDER_NAME:
        return name[:MAX_FOLDER_NAME] == enc[:MAX_FOLDER_NAME]
    return name == enc or name.startswith(enc + "-")


def projects_dir(env: dict[str, str] | os._Environ[str] | None = None) -> Path:
    from pathlib import Path  # the parent's, not a worker's (scan_worker.py)

    env = os.environ if env is None else env
    base = env.get("CLAUDE_CONFIG_DIR")
    if base:
        return Path(base) / "projects"
    return Path(env.get("HOME") or Path.home()) / ".claude" / "projects"


def find_folders(projects: Path, roots: Iterable[str]) -> list[Path]:
    """Transcript folders of sessions started in (or below) any of `roots`: real
    folders only (a link, a link loop or a FIFO with a matching name is passed over)."""
    roots = list(roots)
    return [
        projects / name
        for name in files.subdirs(projects)
        if any(folder_matches(name, r) for r in roots)
    ]


def session_files(folder: Path) -> list[Path]:
    """Every regular `*.jsonl` below `folder`, no link followed; a session's file sorts
    before its subagents' files."""
    from pathlib import Path

    found = list(files.walk_files(folder, ".jsonl"))
    # "<sid>.jsonl" < "<sid>/subagents/..." because "." < "/": the parent's
    # slash commands are seen before its subagents' responses.
    return [Path(p) for p in sorted(found)]


class Sample(NamedTuple):
    path: str
    line: int
    why: str


class ScanStats:
    """What was read and what was skipped (never fatal)."""

    def __init__(self) -> None:
        self.files = 0
        self.bytes = 0
        self.usage_lines = 0  # lines holding a "usage" key
        self.malformed = 0  # could not be parsed as a JSON object (e.g. a partial last line)
        self.unknown_type = 0  # a record type we do not know, carrying usage
        self.bad_usage = 0  # an assistant record whose usage/model is missing or not numbers
        self.unreadable = 0  # files we could not open or read
        self.samples: list[Sample] = []

    @property
    def skipped(self) -> int:
        return self.malformed + self.unknown_type + self.bad_usage

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "usage_lines": self.usage_lines,
            "skipped": self.skipped,
            "malformed": self.malformed,
            "unknown_type": self.unknown_type,
            "bad_usage": self.bad_usage,
            "unreadable_files": self.unreadable,
            "samples": [s._asdict() for s in self.samples],
        }


class Found(NamedTuple):
    kind: str  # "assistant" (a record with usage) or "command" (a user record with a slash command)
    record: dict[str, Any]
    asked: int | None = None  # the key `known` was asked with just before, and did not know


def _libc_memmem() -> Callable[[int, int, bytes, int], int | None] | None:
    """The C library's memmem, or None (then bytes.find does its work).

    CPython's bytes.find is a Horspool search that JSON's common letters keep to
    small steps: 1.3-1.5 GB/s for `"usage"` on benchmarks/bench_cost.py's
    transcripts, against 3.8 GB/s for glibc 2.36's memmem (6.2 against 1.8
    for `<command-name>/`); ctypes costs 2 ms to import and ~0.4 us a call,
    made once per chunk and per usage line. Same answer: the first occurrence.
    """
    try:
        import ctypes

        memmem = ctypes.CDLL(None).memmem
    except (ImportError, OSError, AttributeError):
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)

    def cast(b: bytes) -> int:
        return ctypes.cast(ctypes.c_char_p(b), ctypes.c_void_p).value or 0

    # CPython keeps a bytes object's bytes at a fixed offset from its address (`id`):
    # 0.1 us where the cast takes 1.6 (three a chunk). Checked here on two objects;
    # elsewhere (another Python), the cast.
    a, b = b"moai" * 3, b"x" * 1000
    offset = cast(a) - id(a)
    if cast(b) - id(b) == offset and 0 < offset < 256:
        _address.append(lambda b: id(b) + offset)
    else:
        _address.append(cast)
    return memmem


_address: list[Callable[[bytes], int]] = []  # where a bytes object's bytes are (with memmem)
MEMMEM = _libc_memmem()


def _interesting_lines(buf: bytes, lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
    """(start, end, usage key position or -1) of each line in buf[lo:hi] worth parsing."""
    memmem = MEMMEM
    if memmem is None:
        return _interesting_lines_find(buf, lo, hi)
    base = _address[0](buf)  # buf stays referenced (and unmoved) while it is searched

    def find(mark: bytes, at: int) -> int:
        r = memmem(base + at, hi - at, mark, len(mark))
        return r - base if r else -1

    return _lines_by(buf, lo, hi, find)


def _interesting_lines_find(buf: bytes, lo: int, hi: int) -> Iterator[tuple[int, int, int]]:
    """_interesting_lines with bytes.find (no memmem): the same lines."""
    return _lines_by(buf, lo, hi, lambda mark, at: buf.find(mark, at, hi))


def _lines_by(
    buf: bytes, lo: int, hi: int, find: Callable[[bytes, int], int]
) -> Iterator[tuple[int, int, int]]:
    """The lines of buf[lo:hi] holding either mark, each once, `find(mark, at)` locating
    a mark from `at` (-1: none before hi)."""
    nu = find(USAGE_MARK, lo)
    nc = find(COMMAND_MARK, lo)
    while nu >= 0 or nc >= 0:
        hit = nu if nc < 0 or (0 <= nu < nc) else nc
        start = buf.rfind(b"\n", lo, hit) + 1 or lo
        end = buf.find(b"\n", hit, hi)
        if end < 0:
            end = hi
        upos = nu if 0 <= nu < end else -1
        yield start, end, upos
        if nu >= 0 and nu < end:
            nu = find(USAGE_MARK, end)
        if nc >= 0 and nc < end:
            nc = find(COMMAND_MARK, end)


TOO_LONG = f"line longer than {MAX_TRANSCRIPT_LINE_BYTES >> 20} MiB"


def _marked(buf: bytes, lo: int, hi: int) -> bool:
    """Whether buf[lo:hi] holds a usage key or a slash command."""
    memmem = MEMMEM
    if memmem is None:
        return buf.find(USAGE_MARK, lo, hi) >= 0 or buf.find(COMMAND_MARK, lo, hi) >= 0
    base = _address[0](buf) + lo
    return bool(
        memmem(base, hi - lo, USAGE_MARK, len(USAGE_MARK))
        or memmem(base, hi - lo, COMMAND_MARK, len(COMMAND_MARK))
    )


EDGE = max(len(USAGE_MARK), len(COMMAND_MARK)) - 1  # a mark cut by a chunk boundary


def _straddles(edge: bytes, chunk: bytes, end: int) -> bool:
    """Whether a mark begins in `edge` (a line's last bytes before `chunk`) and ends in
    chunk[:end] (the same line)."""
    probe = edge + chunk[: min(EDGE, end)]
    return USAGE_MARK in probe or COMMAND_MARK in probe


def _blocks(
    path: str | Path,
    stats: ScanStats,
    problems: list[tuple[int, str]],
    start: int = 0,
    stop: int | None = None,
) -> Iterator[tuple[bytes, int, int, int]]:
    """(buf, lo, hi, file offset of buf[0]): buf[lo:hi] holds whole lines, each
    line that may be worth parsing once (and others).

    Chunks are never concatenated, and a line cut by a chunk boundary is kept as
    references to its chunks: only such a line that holds a mark is stitched
    together ("bridge"), so each other byte is copied once, by read(). Its
    pieces are searched for the marks as they come (and the bytes either side
    of each boundary, for a mark the boundary cuts). On benchmarks/bench_cost.py's
    long lines (a line of 10-200 KB in most chunks, 1.5 MB ones) scan_file takes
    0.100 s CPU for 159 MB where copying each cut line's pieces took 0.117 s.
    A line longer than MAX_TRANSCRIPT_LINE_BYTES is dropped as it streams by
    (never held whole) and counted as malformed, with a sample in `problems`.

    A part of a file (`start`, `stop`) holds the lines that begin at or after
    `start` and before `stop`: the parts of one file hold each line once,
    whichever process reads them. `stats.bytes` counts the part's own bytes.
    """
    fd = files.open_regular(path)
    if fd is None:
        return  # gone since the walk (a session Claude Code removed)
    carry: list[bytes] = []  # the chunks the line being read began in and went through
    carry_from = 0  # where in carry[0] the line begins
    carry_len = 0
    carry_at = 0
    marked = False  # whether the line being read holds a mark so far
    edge = b""  # its last EDGE bytes so far
    dropping = False  # inside a line past the bound: its bytes go unkept
    skipping = start > 0  # inside the line the part before this one finishes
    at = begin = max(start - 1, 0)  # the byte before: a newline there starts a line at `start`
    if skipping:
        os.lseek(fd, at, os.SEEK_SET)
    cut = -1 if stop is None else stop - 1  # the part ends at the first newline from here
    read = os.read
    try:
        while cut != -2:
            chunk = read(fd, CHUNK)
            if not chunk:
                break
            n = len(chunk)
            if 0 <= cut < at + n:
                end = chunk.find(b"\n", max(cut - at, 0))
                if end >= 0:
                    n = end + 1  # what follows is the next part's
                    cut = -2
            first = chunk.find(b"\n", 0, n)
            if first < 0:
                if skipping:
                    begin += n
                elif not dropping:
                    if not carry:  # a line that begins with this chunk
                        carry_from, carry_at, marked, edge = 0, at, False, b""
                    if not marked:
                        marked = _marked(chunk, 0, n) or _straddles(edge, chunk, n)
                        edge = (edge + chunk[-EDGE:])[-EDGE:]
                    carry.append(chunk)  # a line longer than a chunk: keep reading
                    carry_len += n
                    if carry_len > MAX_TRANSCRIPT_LINE_BYTES:
                        dropping = _too_long(carry_at, stats, problems)
                        carry, carry_len = [], 0
                at += n
                continue
            lo = first + 1
            if skipping:
                skipping = False
                begin = at + lo
            elif dropping:
                dropping = False
            elif carry:
                if carry_len + lo > MAX_TRANSCRIPT_LINE_BYTES:
                    _too_long(carry_at, stats, problems)
                elif marked or _marked(chunk, 0, lo) or _straddles(edge, chunk, lo):
                    carry[0] = carry[0][carry_from:]
                    carry.append(chunk[:lo])
                    bridge = b"".join(carry)
                    yield bridge, 0, len(bridge), carry_at
                carry, carry_len = [], 0
            else:
                lo = 0
            last = chunk.rfind(b"\n", lo, n)
            if last >= lo:
                yield chunk, lo, last + 1, at
                lo = last + 1
            if lo < n:  # a line the next chunk goes on with
                carry = [chunk]
                carry_from = lo
                carry_len = n - lo
                carry_at = at + lo
                marked = _marked(chunk, lo, n)
                edge = chunk[max(lo, n - EDGE) : n]
            at += n
    finally:
        os.close(fd)
        stats.bytes += at - begin
    if carry:  # a last line without "\n": possibly still being written
        carry[0] = carry[0][carry_from:]
        tail = b"".join(carry)
        yield tail, 0, len(tail), carry_at


def _too_long(offset: int, stats: ScanStats, problems: list[tuple[int, str]]) -> bool:
    stats.malformed += 1
    problems.append((offset, TOO_LONG))
    return True


def line_number(path: str | Path, offset: int) -> int:
    """1-based line holding byte `offset` (only asked for the few lines reported)."""
    line = 1
    try:
        fd = files.open_regular(path)
    except BadInput:
        return 0
    if fd is None:
        return 0
    try:
        while offset > 0:
            chunk = os.read(fd, min(CHUNK, offset))
            if not chunk:
                break
            line += chunk.count(b"\n")
            offset -= len(chunk)
    except OSError:
        return 0
    finally:
        os.close(fd)
    return line


ID_MARK = b'"id":"'
REQUEST_MARK = b'"requestId":"'
OUTPUT_MARK = b'"output_tokens":'


_scan_once = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _loads(raw: bytes) -> Any:
    """json.loads(raw), shorter for a line that opens with `{"` (each record Claude Code
    writes): json.loads would decode it as UTF-8 (detect_encoding) and scan it from 0,
    then refuse anything but whitespace after it ("Extra data"). 3 us less a line of
    2 KB (10.7 against 13.9): 16,000 responses parsed in benchmarks/bench_cost.py's
    295 MB. Any other line: json.loads. The same objects, the same errors (ValueError).
    """
    if raw[:2] != b'{"':
        return json.loads(raw)
    text = raw.decode("utf-8", "surrogatepass")
    try:
        obj, end = _scan_once(text, 0)
    except StopIteration:  # no value at 0: not for a `{`, kept as json.loads says it
        raise ValueError("Expecting value") from None
    if end != len(text) and text[end:].strip(" \t\n\r"):
        raise ValueError("Extra data")
    return obj


def quick_ids(buf: bytes, start: int, upos: int, end: int) -> tuple[str, str] | None:
    """(message id, request id) of the line buf[start:end], read without parsing it.

    Claude Code writes `message` (whose first key is `id`) first and
    `requestId` after it, at the top level, so after the usage key. The
    attributor compares with the parsed record on first sight, so a line laid
    out otherwise only misses this shortcut.
    """
    i = buf.find(ID_MARK, start, upos)
    j = buf.find(REQUEST_MARK, upos, end)
    if i < 0 or j < 0:
        return None
    i += len(ID_MARK)
    j += len(REQUEST_MARK)
    ie = buf.find(b'"', i, end)
    je = buf.find(b'"', j, end)
    if ie < 0 or je < 0:
        return None
    return buf[i:ie].decode("ascii", "replace"), buf[j:je].decode("ascii", "replace")


def quick_key(buf: bytes, start: int, upos: int, end: int) -> int | None:
    """hash(quick_ids(...)): the key `known` is asked with."""
    ids = quick_ids(buf, start, upos, end)
    return None if ids is None else hash(ids)


def quick_output(buf: bytes, upos: int, end: int) -> int:
    """The first `output_tokens` after the usage key (0 when unreadable)."""
    k = buf.find(OUTPUT_MARK, upos, end)
    if k < 0:
        return 0
    k += len(OUTPUT_MARK)
    stop = k
    while stop < end and 48 <= buf[stop] <= 57:
        stop += 1
    return int(buf[k:stop]) if stop > k else 0


def scan_file(
    path: str | Path,
    stats: ScanStats,
    known: Callable[[int, int], bool] | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[Found]:
    """Assistant records with usage and user records with a slash command, in file order.

    `known(key, output_tokens)` is asked before a usage line is parsed: True
    means a copy of a response already counted (one line per content block,
    forked sessions), so the line is never parsed. `start`/`stop`: only the
    lines of that part of the file (see `_blocks`); a part after the first
    does not count the file again.
    """
    if start == 0:
        stats.files += 1
    loads = _loads
    problems: list[tuple[int, str]] = []
    try:
        for buf, lo, hi, at in _blocks(path, stats, problems, start, stop):
            for start, end, upos in _interesting_lines(buf, lo, hi):
                if upos < 0:
                    try:
                        rec = loads(buf[start:end])
                    except (ValueError, RecursionError):
                        continue  # a command line we cannot read only loses a phase hint
                    if isinstance(rec, dict) and rec.get("type") == "user":
                        yield Found("command", rec)
                    continue
                stats.usage_lines += 1
                key = None
                if known is not None:
                    key = quick_key(buf, start, upos, end)
                    if key is not None and known(key, quick_output(buf, upos, end)):
                        continue
                raw = buf[start:end]
                try:
                    rec = loads(raw)
                except (ValueError, RecursionError):
                    stats.malformed += 1
                    problems.append((at + start, "malformed JSON"))
                    continue
                if not isinstance(rec, dict):
                    stats.malformed += 1
                    problems.append((at + start, "not an object"))
                    continue
                kind = rec.get("type")
                if kind == "assistant":
                    yield Found("assistant", rec, key)
                elif kind == "user":
                    if COMMAND_MARK in raw:
                        yield Found("command", rec)
                elif not isinstance(kind, str) or kind not in KNOWN_TYPES:
                    stats.unknown_type += 1
                    problems.append((at + start, f"unknown record type {str(kind)[:40]!r}"))
    except OSError as exc:
        stats.unreadable += 1
        problems.append((-1, f"unreadable ({exc.__class__.__name__})"))
    except BadInput:  # turned into a FIFO or a device since the walk
        stats.unreadable += 1
        problems.append((-1, "unreadable (not a regular file)"))
    add_samples(path, problems, stats)


# What scan_events hands back, in file order, for each line the parent may have to
# see: (kind, quick ids or None, quick output tokens, ...).
EV_RESPONSE = 0  # ..., response_of(rec), whether the worker took the ids as counted
EV_COMMAND = 1  # ..., command_of(rec), session id
EV_MALFORMED = 2  # ..., file offset, why
EV_UNKNOWN = 3  # ..., file offset, why
EV_NOTHING = 4  # a usage line to be counted as a copy if its ids are known, nothing else
EV_NOTE = 5  # (kind, file offset, why): a problem already counted (a line past the bound)
EV_UNREADABLE = 6  # (kind, why): the file failed; the parent counts it once per file


class Copies:
    """The responses a worker saw whole (their ids, hashed by its own `hash`), and how
    often and with how many output tokens at most their copies came after them."""

    def __init__(self) -> None:
        self.index: dict[int, int] = {}
        self.count: list[int] = []
        self.most: list[int] = []
        self.held = 0  # bytes of the lines behind the events not handed over yet


def scan_events(
    path: str | Path, stats: ScanStats, copies: Copies, start: int = 0, stop: int | None = None
) -> Iterator[Event]:
    """scan_file for a worker process, which cannot ask the parent's `known`.

    Every usage line it cannot settle alone becomes an event the parent replays
    in order, asking `known` first exactly where scan_file would. A line whose
    quick ids are those of a response this worker already handed over whole
    (with the same ids quick and parsed, so the parent knows it by then whatever
    came before) is a copy wherever the part stands: it is only counted in
    `copies`, which the parent applies after the part's events (a copy adds its
    output tokens above the most seen, which no order changes).
    """
    if start == 0:
        stats.files += 1
    loads = _loads
    index, count, most = copies.index, copies.count, copies.most
    problems: list[tuple[int, str]] = []  # those of _blocks: lines past the bound
    try:
        for buf, lo, hi, at in _blocks(path, stats, problems, start, stop):
            if problems:
                yield from ((EV_NOTE, offset, why) for offset, why in problems)
                problems.clear()
            for begin, end, upos in _interesting_lines(buf, lo, hi):
                if upos < 0:
                    try:
                        rec = loads(buf[begin:end])
                    except (ValueError, RecursionError):
                        continue
                    if isinstance(rec, dict) and rec.get("type") == "user":
                        copies.held += end - begin
                        yield (EV_COMMAND, None, 0, *phase_command_of(rec))
                    continue
                stats.usage_lines += 1
                copies.held += end - begin
                ids = quick_ids(buf, begin, upos, end)
                out = 0
                if ids is not None:
                    out = quick_output(buf, upos, end)
                    seen = index.get(hash(ids))
                    if seen is not None:
                        count[seen] += 1
                        if out > most[seen]:
                            most[seen] = out
                        continue
                raw = buf[begin:end]
                try:
                    rec = loads(raw)
                except (ValueError, RecursionError):
                    yield (EV_MALFORMED, ids, out, at + begin, "malformed JSON")
                    continue
                if not isinstance(rec, dict):
                    yield (EV_MALFORMED, ids, out, at + begin, "not an object")
                    continue
                kind = rec.get("type")
                if kind == "assistant":
                    resp = response_of(rec)
                    whole = not isinstance(resp, int) and ids is not None and resp[0] == ids
                    if whole:
                        key = hash(ids)
                        if key in index:
                            whole = False
                        else:
                            index[key] = len(count)
                            count.append(0)
                            most.append(0)
                    yield (EV_RESPONSE, ids, out, resp, whole)
                elif kind == "user" and COMMAND_MARK in raw:
                    yield (EV_COMMAND, ids, out, *phase_command_of(rec))
                elif not isinstance(kind, str) or kind not in KNOWN_TYPES:
                    why = f"unknown record type {str(kind)[:40]!r}"
                    yield (EV_UNKNOWN, ids, out, at + begin, why)
                elif ids is not None:
                    yield (EV_NOTHING, ids, out)
    except OSError as exc:
        failed = f"unreadable ({exc.__class__.__name__})"
    except BadInput:  # turned into a FIFO or a device since the walk
        failed = "unreadable (not a regular file)"
    else:
        failed = ""
    yield from ((EV_NOTE, offset, why) for offset, why in problems)
    if failed:
        yield (EV_UNREADABLE, failed)


def add_samples(path: str | Path, problems: list[tuple[int, str]], stats: ScanStats) -> None:
    """The first problems, while there is room for samples: (file offset or -1, why)."""
    for offset, why in problems[: max(0, MAX_SAMPLES - len(stats.samples))]:
        stats.samples.append(
            Sample(str(path), line_number(path, offset) if offset >= 0 else 0, why)
        )


class Usage(NamedTuple):
    model: str
    input: int
    output: int
    cache_write: int  # every cache write (5-minute and 1-hour)
    cache_read: int
    cache_write_1h: int


def _count(value: Any) -> int | None:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return None
    return value


def cache_writes(usage: dict[str, Any], flat: int) -> tuple[int, int]:
    """(all cache writes, 1-hour ones): the `cache_creation` breakdown when it adds up to
    more than 0, else the flat count as 5-minute writes.

    Measured with Claude Code 2.1.332: a server reply without a breakdown is written
    as `"cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}`
    beside the flat `cache_creation_input_tokens`; 2.1.112 copies what the server sent.
    """
    split = usage.get("cache_creation")
    if isinstance(split, dict):
        five = _count(split.get("ephemeral_5m_input_tokens"))
        hour = _count(split.get("ephemeral_1h_input_tokens"))
        if five is not None and hour is not None and five + hour > 0:
            return five + hour, hour
    return flat, 0


def usage_of(rec: dict[str, Any]) -> Usage | None:
    """The model and token counts of an assistant record, or None when they are not usable."""
    msg = rec.get("message")
    if not isinstance(msg, dict):
        return None
    usage = msg.get("usage")
    model = msg.get("model")
    if not isinstance(usage, dict) or not isinstance(model, str) or not model:
        return None
    get = usage.get
    inp = get("input_tokens", 0)
    out = get("output_tokens", 0)
    write = get("cache_creation_input_tokens", 0)
    read = get("cache_read_input_tokens", 0)
    # type() is int: no bool, no subclass; what Claude Code writes takes this path.
    if not (
        type(inp) is int
        and type(out) is int
        and type(write) is int
        and type(read) is int
        and inp >= 0
        and out >= 0
        and write >= 0
        and read >= 0
    ):
        inp, out, write, read = (_count(v) for v in (inp, out, write, read))
        if inp is None or out is None or write is None or read is None:
            return None
    written, hour = cache_writes(usage, write)
    return Usage(model, inp, out, written, read, hour)


BAD_USAGE = 0  # an assistant record whose usage, model or ids are not usable
SYNTHETIC = 1  # Claude Code's stand-in for a failed request (model "<synthetic>")
# ((message id, request id) or None when both are absent, model, input, output,
# cache write, cache read, 1-hour cache write, timestamp, cwd, branch, session)
Response = tuple[
    tuple[str | None, str | None] | None,
    str,
    int,
    int,
    int,
    int,
    int,
    str,
    str | None,
    str | None,
    str | None,
]


def response_of(rec: dict[str, Any]) -> Response | int:
    """What attribution needs of an assistant record, or BAD_USAGE / SYNTHETIC.

    A plain tuple of plain values, so a worker process can hand it over as is
    (marshal); each field is normalised here: a timestamp that is not a string
    is "", a cwd, branch or session that is not one is None, as is the branch
    `HEAD` (a detached checkout).
    """
    usage = usage_of(rec)
    if usage is None:
        return BAD_USAGE
    if usage.model == "<synthetic>":
        return SYNTHETIC
    msg_id, request_id = rec["message"].get("id"), rec.get("requestId")
    if not (msg_id is None or isinstance(msg_id, str)) or not (
        request_id is None or isinstance(request_id, str)
    ):
        return BAD_USAGE  # an id that is a list or an object: no response Claude Code wrote
    ids = None if msg_id is None and request_id is None else (msg_id, request_id)
    ts = rec.get("timestamp")
    cwd = rec.get("cwd")
    branch = rec.get("gitBranch")
    session = rec.get("sessionId")
    return (
        ids,
        usage.model,
        usage.input,
        usage.output,
        usage.cache_write,
        usage.cache_read,
        usage.cache_write_1h,
        ts if isinstance(ts, str) else "",
        cwd if isinstance(cwd, str) else None,
        branch if isinstance(branch, str) and branch and branch != "HEAD" else None,
        session if isinstance(session, str) else None,
    )


def phase_command_of(rec: dict[str, Any]) -> tuple[tuple[str, str] | None, str | None]:
    """(command_of(rec), the record's session id or None)."""
    session = rec.get("sessionId")
    return command_of(rec), session if isinstance(session, str) else None


def command_of(rec: dict[str, Any]) -> tuple[str, str] | None:
    """(command name, args) of a slash command in a user record, e.g. ("/moai:3-sync", "SPEC-X")."""
    msg = rec.get("message")
    content = msg.get("content") if isinstance(msg, dict) else None
    if isinstance(content, list):
        content = " ".join(
            b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
    if not isinstance(content, str):
        return None
    name = _between(content, "<command-name>", "</command-name>")
    if name is None:
        return None
    args = _between(content, "<command-args>", "</command-args>") or ""
    return name.strip(), args.strip()


def _between(text: str, left: str, right: str) -> str | None:
    i = text.find(left)
    if i < 0:
        return None
    j = text.find(right, i + len(left))
    if j < 0:
        return None
    return text[i + len(left) : j]
