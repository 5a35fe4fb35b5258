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

Speed: a file is read in 1 MiB chunks and searched with `bytes.find` for
`"usage"` and `<command-name>/`; only the lines holding one are parsed
(a JSON string escapes every `"`, so `"usage"` with bare quotes occurs only as
a key). Lines without either are never split out, decoded or parsed; memory
stays at one chunk plus the longest line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

CHUNK = 1 << 20
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
    """Claude Code's folder name for a cwd (without the >200-character hash suffix)."""
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in path)


def folder_matches(name: str, root: str) -> bool:
    """Whether folder `name` holds sessions started in `root` or a directory below it."""
    enc = encode_project_path(root)
    if len(enc) > MAX_FOLDER_NAME:
        return name[:MAX_FOLDER_NAME] == enc[:MAX_FOLDER_NAME]
    return name == enc or name.startswith(enc + "-")


def projects_dir(env: dict[str, str] | os._Environ[str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("CLAUDE_CONFIG_DIR")
    if base:
        return Path(base) / "projects"
    return Path(env.get("HOME") or Path.home()) / ".claude" / "projects"


def find_folders(projects: Path, roots: Iterable[str]) -> list[Path]:
    """Transcript folders of sessions started in (or below) any of `roots`."""
    try:
        entries = sorted(os.scandir(projects), key=lambda e: e.name)
    except OSError:
        return []
    roots = list(roots)
    return [
        Path(e.path)
        for e in entries
        if e.is_dir() and any(folder_matches(e.name, r) for r in roots)
    ]


def session_files(folder: Path) -> list[Path]:
    """Every `*.jsonl` below `folder`; a session's file sorts before its subagents' files."""
    found: list[str] = []
    for dirpath, _dirs, files in os.walk(folder):
        found.extend(os.path.join(dirpath, f) for f in files if f.endswith(".jsonl"))
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
        self.lines = 0
        self.usage_lines = 0  # lines holding "usage" that were parsed
        self.malformed = 0  # could not be parsed as a JSON object (e.g. a partial last line)
        self.unknown_type = 0  # a record type we do not know, carrying usage
        self.bad_usage = 0  # an assistant record whose usage/model is missing or not numbers
        self.unreadable = 0  # files we could not open or read
        self.samples: list[Sample] = []

    @property
    def skipped(self) -> int:
        return self.malformed + self.unknown_type + self.bad_usage

    def note(self, path: Path, line: int, why: str) -> None:
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(Sample(str(path), line, why))

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "lines": self.lines,
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


def _interesting_lines(buf: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each line in `buf` holding a usage key or a slash command."""
    n = len(buf)
    nu = buf.find(USAGE_MARK)
    nc = buf.find(COMMAND_MARK)
    while nu >= 0 or nc >= 0:
        hit = nu if nc < 0 or (0 <= nu < nc) else nc
        start = buf.rfind(b"\n", 0, hit) + 1
        end = buf.find(b"\n", hit)
        if end < 0:
            end = n
        yield start, end
        if nu >= 0 and nu < end:
            nu = buf.find(USAGE_MARK, end)
        if nc >= 0 and nc < end:
            nc = buf.find(COMMAND_MARK, end)


def _chunks(path: Path, stats: ScanStats) -> Iterator[tuple[bytes, int]]:
    """Whole-line blocks of the file and the 1-based line number each starts at."""
    line = 1
    carry = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            stats.bytes += len(chunk)
            buf = carry + chunk if carry else chunk
            cut = buf.rfind(b"\n")
            if cut < 0:
                carry = buf  # a line longer than a chunk: keep reading
                continue
            block, carry = buf[: cut + 1], buf[cut + 1 :]
            yield block, line
            newlines = block.count(b"\n")
            stats.lines += newlines
            line += newlines
    if carry:  # a last line without "\n": possibly still being written
        stats.lines += 1
        yield carry, line


def scan_file(path: Path, stats: ScanStats) -> Iterator[Found]:
    """Assistant records with usage and user records with a slash command, in file order."""
    stats.files += 1
    loads = json.loads
    try:
        for block, first_line in _chunks(path, stats):
            for start, end in _interesting_lines(block):
                raw = block[start:end]
                if COMMAND_MARK in raw and USAGE_MARK not in raw:
                    try:
                        rec = loads(raw)
                    except ValueError:
                        continue  # a command line we cannot read only loses a phase hint
                    if isinstance(rec, dict) and rec.get("type") == "user":
                        yield Found("command", rec)
                    continue
                stats.usage_lines += 1
                try:
                    rec = loads(raw)
                except ValueError:
                    stats.malformed += 1
                    stats.note(path, first_line + block.count(b"\n", 0, start), "malformed JSON")
                    continue
                if not isinstance(rec, dict):
                    stats.malformed += 1
                    stats.note(path, first_line + block.count(b"\n", 0, start), "not an object")
                    continue
                kind = rec.get("type")
                if kind == "assistant":
                    yield Found("assistant", rec)
                elif kind == "user":
                    if COMMAND_MARK in raw:
                        yield Found("command", rec)
                elif kind not in KNOWN_TYPES:
                    stats.unknown_type += 1
                    line = first_line + block.count(b"\n", 0, start)
                    stats.note(path, line, f"unknown record type {str(kind)[:40]!r}")
    except OSError as exc:
        stats.unreadable += 1
        stats.note(path, 0, f"unreadable ({exc.__class__.__name__})")


class Usage(NamedTuple):
    model: str
    input: int
    output: int
    cache_write: int
    cache_read: int


def usage_of(rec: dict[str, Any]) -> Usage | None:
    """The model and token counts of an assistant record, or None when they are not usable."""
    msg = rec.get("message")
    if not isinstance(msg, dict):
        return None
    usage = msg.get("usage")
    model = msg.get("model")
    if not isinstance(usage, dict) or not isinstance(model, str) or not model:
        return None
    counts = []
    for key in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ):
        value = usage.get(key, 0)
        if value is None:
            value = 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return None
        counts.append(value)
    return Usage(model, counts[0], counts[1], counts[2], counts[3])


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
