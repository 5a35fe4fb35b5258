"""The always-on guard: no key and no key-bearing file enters a commit.

Git is asked in batches, never once per file (a process costs ~2 ms, and a
commit of 1,000 files must be checked in well under a second): one
`git diff --cached --raw -z` lists what is staged, one `git cat-file --batch`
streams the staged blobs. For a range of commits, one `git log -p -U0` gives
each commit's added lines.

What counts as a key: the values this user's key sources hold for `glm`, for
every backend the repository's `llm.backends` defines and for every backend a
~/.moai/.env.NAME, a credentials.yaml `NAME_api_key` or a $MOAI_<NAME>_API_KEY
exists for (exact match, any file), and the shapes of Anthropic (`sk-ant-…`)
and Z.ai (`<32 hex>.<16 alnum>`) keys. Shapes that several providers' keys
share (`sk-` + hex or alphanumerics) are warnings, never refusals (WARN_SHAPES).
A line carrying `moai: allow-key` is exempt from the shape match (test
fixtures), never from a real key's exact match.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from moai_mashup import files, git
from moai_mashup.core.backends import GLM, name_problem
from moai_mashup.limits import MAX_CONFIG_BYTES
from moai_mashup.paths import SETTINGS_REL
from moai_mashup.settings import keys

ALLOW_PRAGMA = b"moai: allow-key"
# A key shorter than this would match ordinary text; real GLM keys are ~49 chars.
MIN_EXACT_KEY_LEN = 8

# Both patterns begin with a literal, which `re` finds with a fast scan; a
# pattern beginning with a character class (`[0-9a-f]{32}\.`) or an
# alternation of all of them is ~20x slower on ordinary source code.
ANTHROPIC_LABEL = "Anthropic API key"
ANTHROPIC_SHAPE = re.compile(rb"sk-ant-[A-Za-z0-9_\-]{20,}")
ZAI_LABEL = "Z.ai API key"
ZAI_HEX_LEN = 32
# Matches from the dot; the 32 hex before it are checked by the lookbehind and
# the character before those (no longer hex/alnum run) in KeyMatcher.
ZAI_SHAPE = re.compile(rb"\.(?<=[0-9a-f]{32}\.)[A-Za-z0-9]{16}(?![0-9A-Za-z.])")
_ZAI_ANYWHERE = re.compile(rb"\.(?<=[0-9a-f]{32}\.)[A-Za-z0-9]{16}")
# In a file name a dot may follow the key: `<key>.txt` is a name.
_ZAI_IN_NAME = re.compile(rb"\.(?<=[0-9a-f]{32}\.)[A-Za-z0-9]{16}(?![0-9A-Za-z])")
_ALNUM = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Shapes several providers' keys share: a match is a warning, never a refusal (an
# unrelated token of the same shape must not block a commit, and the label cannot
# say whose key it is). The exact values of the user's own keys are refused above.
# - `sk-` + 32 lower-case hex: DeepSeek (secret scanners' rule, e.g.
#   https://github.com/betterleaks/betterleaks/blob/main/cmd/generate/config/rules/deepseek.go)
#   and Alibaba Cloud Model Studio / DashScope, Qwen's provider (`sk-` keys,
#   https://www.alibabacloud.com/help/en/model-studio/get-api-key).
# - `sk-` + 48 letters and digits: Moonshot (Kimi), as OpenAI's older keys.
# - `sk-or-v1-` + 64 hex: OpenRouter.
# One pattern beginning with the literal `sk-` (a fast scan); the character
# before it must not continue a word (KeyMatcher).
SK_HEX_LABEL = "DeepSeek or Qwen (DashScope) key shape"
SK_ALNUM_LABEL = "Moonshot (Kimi) key shape"
OPENROUTER_LABEL = "OpenRouter key shape"
WARN_SHAPES = re.compile(
    rb"sk-(?:(or-v1-[0-9a-f]{64})|([0-9a-f]{32})|[A-Za-z0-9]{48})(?![A-Za-z0-9_\-])"
)
WARN_LABELS = frozenset((SK_HEX_LABEL, SK_ALNUM_LABEL, OPENROUTER_LABEL))
WARN_NOTE = (
    "key shapes several providers' keys (and other tokens) share, not refused; "
    "if one is a key, take it out and rotate it at its provider"
)
_WORD = _ALNUM | frozenset(b"_-")


def is_warning(label: str) -> bool:
    """A shape match that warns (WARN_SHAPES) rather than refuses."""
    return label in WARN_LABELS


def forbidden_file(path: str, backends: frozenset[str] = frozenset()) -> str | None:
    """Why a path may never be committed, or None (`backends`: the names whose
    `.env.NAME` is a key file besides `.env.glm`)."""
    name = path.rsplit("/", 1)[-1]
    if path == SETTINGS_REL or path.endswith("/" + SETTINGS_REL):
        return "Claude Code's per-developer settings (moai writes the backend key there)"
    if name == ".env.glm":
        return "a GLM key file"
    if name.startswith(".env.") and name[len(".env.") :] in backends:
        return f"a {name[len('.env.') :]} key file"
    if name == "credentials.yaml":
        return "a key file (moai's legacy credentials.yaml)"
    return None


class KnownKey(NamedTuple):
    source: str  # "~/.moai/.env.glm", "$GLM_API_KEY", ...
    value: str
    backend: str = GLM

    def __repr__(self) -> str:
        return (
            f"KnownKey(source={self.source!r}, value={keys.mask(self.value)!r}, "
            f"backend={self.backend!r})"
        )

    @property
    def label(self) -> str:
        """How a finding names it: `GLM key from ~/.moai/.env.glm`, `lab key from $X`."""
        return f"{'GLM' if self.backend == GLM else self.backend} key from {self.source}"


def known_keys(
    glm_env_var: str = keys.ENV_FILE_VAR, backends: tuple[str, ...] = ()
) -> list[KnownKey]:
    """Every key value this user's sources hold (not only the first by priority), for
    glm, `backends` (the repository's llm.backends), every backend a ~/.moai/.env.NAME
    or a credentials.yaml `NAME_api_key` exists for, and every $MOAI_<NAME>_API_KEY.

    A source that cannot be read (bad permissions, malformed) is read as far as
    it can be: the guard must not stop a commit because a key file elsewhere is
    broken, nor miss a key because its file's mode is wrong.
    """
    found: list[KnownKey] = []
    creds_path = Path(keys.credentials_file())
    creds = _credential_values(creds_path)
    names = dict.fromkeys((GLM, *backends, *keys.key_file_backends(), *creds))
    for name in names:
        if name_problem(name) is not None:  # a credentials.yaml field only
            found.append(KnownKey(keys.display(creds_path), creds[name], name))
            continue
        path = Path(keys.env_file(name))
        value = _read_key_ignoring_mode(path, name)
        if value:
            found.append(KnownKey(keys.display(path), value, name))
        if creds.get(name):
            found.append(KnownKey(keys.display(creds_path), creds[name], name))
        for var in keys.env_vars(name, glm_env_var):
            value = os.environ.get(var)
            if value:
                found.append(KnownKey(f"${var}", value, name))
    for var, value in os.environ.items():  # moai's own namespace: every backend's variable
        if var.startswith("MOAI_") and var.endswith("_API_KEY") and len(var) > 13 and value:
            found.append(KnownKey(f"${var}", value, var[5:-8].lower().replace("_", "-")))
    unique: dict[str, KnownKey] = {}
    for k in found:
        if len(k.value) >= MIN_EXACT_KEY_LEN:
            unique.setdefault(k.value, k)
    return list(unique.values())


def _credential_values(path: Path) -> dict[str, str]:
    """Backend name -> key of each `NAME_api_key` in credentials.yaml, whatever the
    file's mode; {} when it is absent or cannot be read."""
    try:
        text = files.read_text(path, MAX_CONFIG_BYTES)
        if text is None:
            return {}
        import yaml

        data = yaml.safe_load(text)
    except Exception:  # a broken key file is the key commands' business, not the guard's
        return {}
    if not isinstance(data, dict):
        return {}
    suffix = "_api_key"
    return {
        str(field)[: -len(suffix)]: value
        for field, value in data.items()
        if str(field).endswith(suffix) and isinstance(value, str) and value
    }


def _read_key_ignoring_mode(path: Path, backend: str = GLM) -> str | None:
    """The key in a file `keys` refuses to use (readable by others): still worth finding."""
    if path.name == Path(keys.credentials_file()).name:
        return _credential_values(path).get(backend)
    try:
        text = files.read_text(path, MAX_CONFIG_BYTES)
        if text is None:
            return None
        return keys.parse_env_file(text, str(path)).get(keys.file_var(backend)) or None
    except Exception:  # a broken key file is the key commands' business, not the guard's
        return None


class Finding(NamedTuple):
    path: str
    line: int | None  # None: the file itself is the problem
    what: str  # "GLM key from ~/.moai/.env.glm", "Anthropic API key", or why the file is banned
    masked: str  # the key as shown (masked), "" for a banned file
    commit: str | None = None  # set when found in history
    warn: bool = False  # a shared key shape (WARN_SHAPES): shown, never refused

    def describe(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        prefix = f"{self.commit[:12]} " if self.commit else ""
        if self.line is None:
            return f"{prefix}{where}: {self.what}" + ("" if self.warn else "; never commit it")
        return f"{prefix}{where}: {self.what} ({self.masked})"


class ChangedFile(NamedTuple):
    commit: str | None
    status: str  # A M D T U ... (renames are split: --no-renames)
    path: str
    sha: str = ""  # the new blob ("" or zeros when deleted or unmerged)
    mode: str = ""


class AddedLine(NamedTuple):
    commit: str | None
    path: str
    number: int
    text: bytes


_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): 34,
    ord("\\"): 92,
}


def unquote_path(raw: bytes) -> str:
    """Undo git's C-style quoting of unusual paths (core.quotePath)."""
    if not raw.startswith(b'"') or not raw.endswith(b'"'):
        return raw.decode("utf-8", "surrogateescape")
    body = raw[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == 92 and i + 1 < len(body):  # backslash
            nxt = body[i + 1]
            octal = body[i + 1 : i + 4]
            if len(octal) == 3 and all(48 <= b <= 55 for b in octal):
                out.append(int(octal, 8) & 0xFF)
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out).decode("utf-8", "surrogateescape")


_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
COMMIT_MARK = b"\x00"  # `--format=%x00%H`: a line no diff line can start with


def parse_patch_texts(
    data: bytes,
) -> tuple[list[ChangedFile], list[AddedLine], set[tuple[str | None, str]]]:
    """Files, added lines, and the (commit, path) pairs git diffed as text, of
    `git diff/log --raw -p -U0` output.

    Hunk line counts decide what is content, so an added line that itself
    reads `++ b/x` or `@@ ...` is never taken for a header. A file git shows
    as "Binary files ... differ" (UTF-16 text among them) has no `+++` line.
    """
    texts: set[tuple[str | None, str]] = set()
    files: list[ChangedFile] = []
    added: list[AddedLine] = []
    commit: str | None = None
    path: str | None = None
    old_left = new_left = 0
    number = 0
    for raw in data.split(b"\n"):
        if old_left > 0 or new_left > 0:
            head = raw[:1]
            if head == b"+":
                if path is not None:
                    added.append(AddedLine(commit, path, number, raw[1:]))
                number += 1
                new_left -= 1
            elif head == b"-":
                old_left -= 1
            elif head == b" ":
                old_left -= 1
                new_left -= 1
                number += 1
            continue
        if raw.startswith(b"@@ "):
            m = _HUNK.match(raw)
            if m:
                old_left = int(m.group(1)) if m.group(1) is not None else 1
                number = int(m.group(2))
                new_left = int(m.group(3)) if m.group(3) is not None else 1
            continue
        if raw.startswith(COMMIT_MARK):
            commit = raw[1:].decode("ascii", "replace").strip() or None
            path = None
        elif raw.startswith(b"diff --git "):
            path = None
        elif raw.startswith(b"+++ "):
            target = raw[4:]
            if target == b"/dev/null":
                path = None
            else:
                name = unquote_path(target)
                path = name[2:] if name.startswith("b/") else name
                texts.add((commit, path))
        elif raw.startswith(b":"):
            meta, tab, name_raw = raw.partition(b"\t")
            if tab:
                fields = meta.split()
                status = fields[-1].decode("ascii", "replace")[:1]
                sha = fields[3].decode("ascii", "replace") if len(fields) >= 5 else ""
                mode = fields[1].decode("ascii", "replace") if len(fields) >= 5 else ""
                files.append(ChangedFile(commit, status, unquote_path(name_raw), sha, mode))
    return files, added, texts


# Options shared by the staged and range reads: the same output whatever the
# user's diff config (noprefix, mnemonicPrefix, relative, external diff, textconv).
_DIFF_OPTS = [
    "--raw",
    "-p",
    "-U0",
    "--no-color",
    "--no-renames",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--src-prefix=a/",
    "--dst-prefix=b/",
]


def _parse_raw_z(data: bytes) -> list[ChangedFile]:
    """`git diff --raw -z --no-abbrev --no-renames`: ":old new oldsha newsha S\0path\0"."""
    parts = data.split(b"\0")
    out: list[ChangedFile] = []
    for i in range(0, len(parts) - 1, 2):
        meta = parts[i].lstrip(b":").split()
        if len(meta) < 5:
            continue
        path = parts[i + 1].decode("utf-8", "surrogateescape")
        status = meta[4].decode("ascii", "replace")[:1]
        out.append(ChangedFile(None, status, path, meta[3].decode("ascii"), meta[1].decode()))
    return out


def staged_changes(root: Path) -> list[ChangedFile]:
    """What the commit being made changes, from the index git will commit."""
    data = git.run_bytes(
        ["diff", "--cached", "--raw", "-z", "--no-abbrev", "--no-renames", "--no-relative"],
        root,
        inherit_env=True,
    )
    return _parse_raw_z(data)


def index_files(root: Path) -> list[ChangedFile]:
    """Every file in the index (for --all-files and a hook handed file names)."""
    data = git.run_bytes(["ls-files", "-s", "-z"], root, inherit_env=True)
    out: list[ChangedFile] = []
    for entry in data.split(b"\0"):
        meta, tab, name = entry.partition(b"\t")
        fields = meta.split()
        if not tab or len(fields) != 3 or fields[2] != b"0":  # stage 0 only
            continue
        path = name.decode("utf-8", "surrogateescape")
        out.append(ChangedFile(None, "A", path, fields[1].decode("ascii"), fields[0].decode()))
    return out


def read_range(
    root: Path, rev_args: list[str]
) -> tuple[list[ChangedFile], list[AddedLine], list[ChangedFile]]:
    """What each commit of `git log <rev_args>` added (merges add nothing of their own):
    its files, its added text lines, and the files git would not diff as text
    (binary, UTF-16), whose whole new content is to be scanned."""
    data = git.run_bytes(
        ["log", "--format=%x00%H", "--no-abbrev", *_DIFF_OPTS, *rev_args, "--"], root
    )
    files, added, texts = parse_patch_texts(data)
    whole = [f for f in files if f.status != "D" and (f.commit, f.path) not in texts]
    return files, added, whole


def scan_files(files: list[ChangedFile], matcher: KeyMatcher | None = None) -> list[Finding]:
    """Key-bearing files among those a commit adds or changes (removing them is fine);
    with `matcher`, a key in such a file's path is shown masked."""
    findings: list[Finding] = []
    seen: set[tuple[str | None, str]] = set()
    for f in files:
        reason = forbidden_file(f.path, matcher.backends if matcher is not None else frozenset())
        if reason and f.status != "D" and (f.commit, f.path) not in seen:
            seen.add((f.commit, f.path))
            shown = f.path
            if matcher is not None and matcher.may_hold_key(f.path):
                shown = matcher.masked_path(f.path)
            findings.append(Finding(shown, None, reason, "", f.commit))
    return findings


class KeyMatcher:
    """Finds the known keys (exact) and the key shapes in a blob or a line."""

    def __init__(self, known: list[KnownKey], backends: tuple[str, ...] = ()) -> None:
        self.known = [(k.value.encode("utf-8", "surrogateescape"), k.label) for k in known]
        # the names whose `.env.NAME` is a key file (forbidden_file)
        self.backends = frozenset((*backends, *(k.backend for k in known)))

    def in_text(self, text: bytes) -> Iterator[tuple[int, str, str]]:
        """(offset, label, masked key) of each key in `text`, in order."""
        for start, _end, label, masked in self.spans(text):
            yield start, label, masked

    def spans(self, text: bytes, name: bool = False) -> list[tuple[int, int, str, str]]:
        """(start, end, label, masked key) of each key in `text`, in order (`name`:
        `text` is a file name, where a Z.ai key may be followed by a dot)."""
        # (start, rank, end, label, masked): rank 0 a known key, 1 a key shape
        hits: list[tuple[int, int, int, str, str]] = []
        for value, label in self.known:
            at = text.find(value)
            while at >= 0:
                masked = keys.mask(value.decode("utf-8", "replace"))
                hits.append((at, 0, at + len(value), label, masked))
                at = text.find(value, at + len(value))
        for m in ANTHROPIC_SHAPE.finditer(text):
            if not self._exempt(text, m.start(), m.end()):
                masked = self._masked(text, m.start(), m.end())
                hits.append((m.start(), 1, m.end(), ANTHROPIC_LABEL, masked))
        for m in (_ZAI_IN_NAME if name else ZAI_SHAPE).finditer(text):
            start = m.start() - ZAI_HEX_LEN
            if start > 0 and text[start - 1] in _ALNUM:
                continue
            if not self._exempt(text, start, m.end()):
                hits.append((start, 1, m.end(), ZAI_LABEL, self._masked(text, start, m.end())))
        for m in WARN_SHAPES.finditer(text):
            if m.start() > 0 and text[m.start() - 1] in _WORD:
                continue
            if not self._exempt(text, m.start(), m.end()):
                label = SK_ALNUM_LABEL
                if m.group(1) or m.group(2):
                    label = OPENROUTER_LABEL if m.group(1) else SK_HEX_LABEL
                masked = self._masked(text, m.start(), m.end())
                hits.append((m.start(), 1, m.end(), label, masked))
        # A known key that also has a known shape is reported once, as the known key.
        seen: set[int] = set()
        out = []
        for start, _rank, end, label, masked in sorted(hits, key=lambda h: (h[0], h[1])):
            if start not in seen:
                seen.add(start)
                out.append((start, end, label, masked))
        return out

    def may_hold_key(self, text: str) -> bool:
        """A quick test, never a false "no": a known key, `sk-` (Anthropic's and the
        shared shapes), or a Z.ai shape whatever follows it (a name's `.txt` may)."""
        raw = text.encode("utf-8", "surrogateescape")
        return (
            any(value in raw for value, _label in self.known)
            or b"sk-" in raw
            or _ZAI_ANYWHERE.search(raw) is not None
        )

    def masked_path(self, path: str) -> str:
        """`path` as it may be shown: each key in it masked (a file name can hold one)."""
        return self.path_keys(path)[0]

    def path_keys(self, path: str) -> tuple[str, list[tuple[str, str]]]:
        """(`path` with its keys masked, (label, masked key) of each key in it).

        Name by name, one pass over each. Keys that overlap (a known key inside a
        longer key shape, a shape running into the next) are masked as one
        stretch, so no part of either is shown.
        """
        shown: list[str] = []
        found: list[tuple[str, str]] = []
        for part in path.split("/"):
            raw = part.encode("utf-8", "surrogateescape")
            spans = self.spans(raw, name=True)
            if not spans:
                shown.append(part)
                continue
            stretches: list[list[int]] = []  # [start, end] of each part to mask
            for start, end, label, masked in spans:
                found.append((label, masked))
                if stretches and start < stretches[-1][1]:  # overlaps the one before
                    stretches[-1][1] = max(stretches[-1][1], end)
                else:
                    stretches.append([start, end])
            out, at = b"", 0
            for start, end in stretches:
                out += raw[at:start] + self._masked(raw, start, end).encode("utf-8")
                at = end
            shown.append((out + raw[at:]).decode("utf-8", "surrogateescape"))
        return "/".join(shown), found

    @staticmethod
    def _masked(text: bytes, start: int, end: int) -> str:
        return keys.mask(text[start:end].decode("utf-8", "replace"))

    @staticmethod
    def _exempt(text: bytes, start: int, end: int) -> bool:
        line_start = text.rfind(b"\n", 0, start) + 1
        line_end = text.find(b"\n", end)
        return ALLOW_PRAGMA in text[line_start : line_end if line_end >= 0 else len(text)]


def as_utf8(data: bytes) -> bytes:
    """A UTF-16 file's text as UTF-8 (where the key patterns can see it); else `data`.

    With a byte order mark, or without one when the NUL bytes sit in every
    other place (ASCII text in UTF-16 LE or BE). Only blobs holding a NUL pay
    for more than one memchr.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"  # the BOM says which order
    elif b"\x00" not in data or len(data) < 4:
        return data
    else:
        half = len(data) // 2
        odd, even = data[1::2].count(0), data[0::2].count(0)
        if odd * 3 > half and even * 20 < half:
            encoding = "utf-16-le"
        elif even * 3 > half and odd * 20 < half:
            encoding = "utf-16-be"
        else:
            return data
    return data.decode(encoding, "replace").encode("utf-8", "replace")


def scan_names(files: list[ChangedFile], matcher: KeyMatcher) -> list[Finding]:
    """Keys in the names of the files a commit adds or changes (git stores names too)."""
    findings: list[Finding] = []
    if not matcher.may_hold_key("\n".join(f.path for f in files)):
        return findings  # one pass over all names: the common case costs ~nothing
    seen: set[tuple[str | None, str]] = set()
    for f in files:
        if f.status == "D" or (f.commit, f.path) in seen:
            continue
        seen.add((f.commit, f.path))
        shown, found = matcher.path_keys(f.path)
        if found:
            # a key that refuses goes before a shared shape that only warns
            label, masked = min(found, key=lambda hit: is_warning(hit[0]))
            what = f"its name holds a {label} ({masked})"
            findings.append(Finding(shown, None, what, masked, f.commit, is_warning(label)))
    return findings


def scan_message(message: bytes, matcher: KeyMatcher, commit: str | None = None) -> list[Finding]:
    """Keys in a commit message (its line numbers; comment lines included)."""
    findings: list[Finding] = []
    for offset, label, masked in matcher.in_text(message):
        line = message.count(b"\n", 0, offset) + 1
        findings.append(Finding(MESSAGE, line, label, masked, commit, is_warning(label)))
    return findings


MESSAGE = "commit message"


def read_messages(root: Path, rev_args: list[str]) -> list[tuple[str, bytes]]:
    """(sha, message) of each commit of `git log <rev_args>`, in one git process."""
    data = git.run_bytes(["log", "--format=%H%x00%B%x00", *rev_args, "--"], root)
    parts = data.split(b"\x00")
    out = []
    for i in range(0, len(parts) - 1, 2):
        sha = parts[i].strip().decode("ascii", "replace")
        if sha:
            out.append((sha, parts[i + 1]))
    return out


def scan_blobs(root: Path, files: list[ChangedFile], matcher: KeyMatcher) -> list[Finding]:
    """Keys in the full content of each file's blob, with line numbers."""
    wanted: dict[str, list[str]] = {}
    commits: dict[str, str | None] = {}
    for f in files:
        commits.setdefault(f.sha, f.commit)
        # Deleted and unmerged entries have no blob; a submodule's id is a commit elsewhere.
        if f.status in ("D", "U") or not f.sha or f.sha.strip("0") == "" or f.mode == "160000":
            continue
        wanted.setdefault(f.sha, []).append(f.path)
    findings: list[Finding] = []
    for sha, data in git.cat_blobs(root, list(wanted)):
        text = as_utf8(data)
        for offset, label, masked in matcher.in_text(text):
            line = text.count(b"\n", 0, offset) + 1
            for path in wanted[sha]:
                shown = matcher.masked_path(path) if matcher.may_hold_key(path) else path
                findings.append(
                    Finding(shown, line, label, masked, commits.get(sha), is_warning(label))
                )
    findings.sort(key=lambda f: (f.path, f.line or 0))
    return findings


def scan_added_lines(added: list[AddedLine], matcher: KeyMatcher) -> list[Finding]:
    findings: list[Finding] = []
    for line in added:
        for _offset, label, masked in matcher.in_text(line.text):
            path = matcher.masked_path(line.path) if matcher.may_hold_key(line.path) else line.path
            findings.append(
                Finding(path, line.number, label, masked, line.commit, is_warning(label))
            )
    return findings


def unstage_hint(findings: list[Finding]) -> str:
    """How to get the findings of a commit-in-progress out of the index."""
    banned = sorted({f.path for f in findings if f.line is None})
    keyed = sorted({f.path for f in findings if f.line is not None} - set(banned))
    hints = []
    if keyed:
        hints.append(
            "remove the key and `git add` again, or unstage: git restore --staged -- "
            + " ".join(_shell_quote(p) for p in keyed if p != MESSAGE)
        )
    if banned:
        hints.append(
            "untrack the file (it stays on disk) and ignore it: git rm --cached -- "
            + " ".join(_shell_quote(p) for p in banned)
        )
    return "; ".join(hints)


def _shell_quote(path: str) -> str:
    """A path as shown (a key in its name masked): `*` for the hidden part is a
    pathspec git still matches."""

    return shlex.quote(path.replace("…", "*"))


def split_warnings(findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    """(the findings that refuse, the shared shapes that only warn)."""
    return [f for f in findings if not f.warn], [f for f in findings if f.warn]


def warning_lines(warnings: list[Finding]) -> list[str]:
    """The shared shapes found, for stderr: shown (masked), never refused."""
    if not warnings:
        return []
    return [f"moai: warning: {WARN_NOTE}:", *iter_lines(warnings)]


def iter_lines(findings: list[Finding]) -> Iterator[str]:
    for f in findings:
        yield "  " + f.describe()
