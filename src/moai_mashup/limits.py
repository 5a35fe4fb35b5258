"""Bounds and strict parsers for the files moai parses, each bound with its reason.

A file moai reads may come from a cloned repository (llm.yaml, glm.json), from
an editor (settings.local.json) or from a tool gone wrong. None of them may
cost a traceback, minutes of parsing, or hundreds of megabytes of copies:
an absurd file is refused with one line naming it, and nothing is written.
files.py reads with these bounds; this module parses what it read.
"""

from __future__ import annotations

from moai_mashup.errors import BadInput
from moai_mashup.lean import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

# The team's config files (llm.yaml, llm.local.yaml, glm.json) are a few hundred
# bytes; pyyaml parses ~0.5 MB/s in pure Python, so 1 MiB still loads in about
# two seconds, and is a thousand times anything real.
MAX_CONFIG_BYTES = 1 << 20
# settings.local.json is Claude Code's and the user's: its permission lists grow
# with every "always allow" (~100 bytes an entry), so real files are a few KiB
# and a heavy user's a few hundred. 4 MiB (~40,000 entries) is far past that and
# still plans (parse, merge, render) in well under a second.
MAX_SETTINGS_BYTES = 4 << 20
# The prepared switch (githooks/fast.py) keeps up to three copies of the settings
# file in <git-dir>/moai/ready (each backend's file, and the GLM record holding
# the original text) and rewrites them on every engine run, to save the ~30 ms
# of the engine's imports. Past a few hundred KiB, parsing, planning both ways
# and writing those copies costs the engine run more than that, and the copies
# cost disk for nothing: above 256 KiB (a hundred times a real file) nothing is
# prepared and switches go to the engine.
MAX_PREPARED_BYTES = 256 << 10
# A transcript line (~/.claude/projects/*.jsonl) is one JSON record. Claude Code
# cuts what it keeps of a tool result (Bash output at 30,000 characters, a file
# read at 25,000 tokens); the longest real lines hold an image, base64, a few MB.
# A line past 16 MiB is no record Claude Code wrote: `moai cost` skips it without
# holding it (counted as malformed), so its memory stays at about twice this
# whatever the file holds (a 2 GB line without a newline, a link to /dev/zero).
MAX_TRANSCRIPT_LINE_BYTES = 16 << 20
# Files of one line: git's `.git` file, HEAD and commondir (a path or a ref,
# under PATH_MAX, 4 KiB), and the notes and start-time pins moai keeps per
# Claude Code session (a sentence, a model id). 64 KiB is far past any of them.
MAX_LINE_FILE_BYTES = 64 << 10
# `<git dir>/moai/phase` gains one ~70-byte line per `moai route`; 4 MiB is
# 60,000 routes, years of a busy worktree, and still parses in a fraction of a second.
MAX_PHASE_RECORD_BYTES = 4 << 20
# What Claude Code pipes into `moai statusline`: model, workspace, cost and
# session paths, a few KiB. 1 MiB is hundreds of times that; anything past it is
# refused unread (the status line shows one short line instead).
MAX_STATUSLINE_BYTES = 1 << 20
# A hook's payload (`moai hook-impl claude-code ...`) carries the user's prompt
# (UserPromptSubmit), which fills at most the model's context window: 1M tokens,
# ~4 MB of text. 16 MiB is past any prompt; a session hook given more says so on
# stderr and gives no opinion.
MAX_HOOK_PAYLOAD_BYTES = 16 << 20
# Worktrees and hooks.
# `.worktreeinclude` is a list of gitignore patterns, a few lines in practice; git
# matches every pattern against every untracked path, so thousands of patterns
# would make a create crawl. 64 KiB (~3,000 patterns) is far past any real list.
MAX_INCLUDE_BYTES = 64 << 10
# A worktree root's claim file (`.moai-repository`) holds one git dir path, at most
# PATH_MAX (4 KiB) on Linux and macOS.
MAX_CLAIM_BYTES = 16 << 10
# moai's own state files in a git dir: the record of the on-create commands run (a
# few lines) and `list`'s graph cache (~120 bytes a worktree). 4 MiB is tens of
# thousands of worktrees, and still parses in well under 100 ms.
MAX_STATE_BYTES = 4 << 20
# A git hook script: ours and the pre-commit framework's are a few KiB, a team's
# own rarely more. A larger "hook" is a program (a compiled binary), which is
# neither moai's nor pre-commit's: moai reads no further and treats it as foreign.
MAX_HOOK_BYTES = 1 << 20
# `list` copies a worktree's index (for git's untracked cache, listing.py) when it
# changed. An index holds ~100 bytes a tracked file: the Linux kernel's (~80k files)
# is ~8 MiB, Chromium's (~400k) ~40 MiB. Past 64 MiB copying it on every change
# costs more than the cache saves, and `list` asks the worktree's own index.
MAX_STATUS_INDEX_BYTES = 64 << 20
# Nesting: Claude Code's settings and the template nest three or four levels.
# Python's json and the planner recurse, and a hook starts deep in the stack,
# so a deep document is refused here rather than as a RecursionError later.
MAX_DEPTH = 100
# Lists and objects in one JSON document. Claude Code's settings hold a few dozen
# (permission lists are lists of strings: one each), a hook's payload a handful.
# A byte bound alone does not bound the cost: 4 MiB of `[[],[],...]` is 1.4 M
# lists, which json builds in ~0.5 s and ~300 MB and a walk of takes seconds.
# Counted before parsing (json_shape_problem), so such a document is never built.
MAX_JSON_CONTAINERS = 100_000
# What a YAML document may expand to through its aliases (`&a` ... `*a` shares one
# value many times): 108 KB of aliases made a 200 MB config cache. A real llm.yaml
# is a few hundred bytes whatever is expanded; 4 MiB of strings and entries is far
# past it and still dumps and loads in well under a second.
MAX_YAML_EXPANDED = 4 << 20


def too_deep(doc: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON/YAML value nests deeper than `limit`.

    Iterative (no recursion to run out of) and memoised by object: YAML aliases
    share one object many times (a billion-laughs document is 9 objects deep,
    not 9**9 paths), and an alias to itself (a cycle) counts as too deep.
    """
    heights: dict[int, int] = {}
    expanding: set[int] = set()
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        node, done = stack.pop()
        kids = _children(node)
        if kids is None:
            continue
        nid = id(node)
        if done:
            height = 1 + max((heights.get(id(k), 0) for k in kids), default=0)
            if height > limit:
                return True
            heights[nid] = height
            expanding.discard(nid)
        elif nid in heights:
            continue
        elif nid in expanding:
            return True  # reached again while below itself: a cycle
        else:
            expanding.add(nid)
            stack.append((node, True))
            stack.extend((k, False) for k in kids if _children(k) is not None)
    return False


def _children(node: Any) -> list[Any] | None:
    if isinstance(node, dict):
        return list(node.values())
    if isinstance(node, list):
        return node
    return None


def deep_message(label: str) -> str:
    return (
        f"{label}: nested more than {MAX_DEPTH} levels deep; no settings nest like that, "
        "fix or remove it, moai left it untouched"
    )


def _json_line(text: str, key: str) -> int | None:
    """The line of the second `"key":` in `text` (JSON's decoder gives no positions)."""
    import re

    found = [m.start() for m in re.finditer(re.escape(f'"{key}"') + r"\s*:", text)]
    return text.count("\n", 0, found[1]) + 1 if len(found) > 1 else None


_JSON_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'


def json_shape_problem(text: str) -> str | None:
    """Why a JSON text costs too much to parse (None: it does not): more than
    MAX_JSON_CONTAINERS lists and objects, or nested deeper than MAX_DEPTH.

    Brackets inside strings do not count. Regex passes in C, before any parse:
    16 MiB of text takes tens of milliseconds, where json.loads of a hostile one
    takes seconds and hundreds of MB. Malformed JSON passes: json says what is wrong.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None  # every real file: neither too many nor too deep
    import re  # json imports it already

    shape = re.sub(r"[^\[\]{}]+", "", re.sub(_JSON_STRING, "", text))
    deep = f"nested more than {MAX_DEPTH} levels deep; no settings nest like that"
    if len(shape) > 2 * MAX_JSON_CONTAINERS:
        if re.search(r"[\[{]{" + str(MAX_DEPTH + 1) + "}", shape):
            return deep  # the plain chain, named as such (too many either way)
        return f"more than {MAX_JSON_CONTAINERS:,} lists and objects; no settings hold that many"
    for _ in range(MAX_DEPTH):  # each pass removes the innermost level
        inner = re.sub(r"\[\]|\{\}", "", shape)
        if not inner or inner == shape:
            return None
        shape = inner
    return deep


def _json_problem(text: str, label: str) -> None:
    problem = json_shape_problem(text)
    if problem is not None:
        raise BadInput(f"{label}: {problem}; fix or remove it, moai left it untouched")


def loads_json(text: str, label: str) -> Any:
    """json.loads of text from outside (a file, a payload), its cost bounded first
    (json_shape_problem); BadInput naming `label` for anything wrong."""
    from moai_mashup import jsontext

    _json_problem(text, label)
    try:
        return jsontext.loads(text)
    except RecursionError:
        raise BadInput(deep_message(label)) from None
    except ValueError as exc:
        raise BadInput(f"{label}: invalid JSON ({exc})") from None


def loads_json_unique(text: str, label: str) -> Any:
    """json.loads, refusing a key given twice in one object (the last would silently win,
    hiding the first from anyone reviewing the file) and absurd nesting."""
    from moai_mashup import jsontext

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                line = _json_line(text, key)
                where = f" on line {line}" if line else ""
                raise BadInput(f"{label}: key '{key}' appears twice{where}; keep one")
            out[key] = value
        return out

    _json_problem(text, label)
    try:
        return jsontext.loads(text, object_pairs_hook=pairs)
    except RecursionError:
        raise BadInput(deep_message(label)) from None
    except ValueError as exc:
        raise BadInput(f"{label}: invalid JSON ({exc})") from None


def load_yaml_unique(text: str, label: str) -> Any:
    """yaml.safe_load, refusing a key given twice in one mapping (`mode: mashup` then
    `mode: glm-only`: YAML says keys are unique, pyyaml keeps the last) with its line.

    Raises yaml.YAMLError for malformed YAML (the caller words it), BadInput for
    a duplicate key or absurd nesting.
    """
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` then an override is YAML's own way to override
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: SafeLoader reports it itself
            if first is not None:
                raise BadInput(
                    f"{label}: line {line}: key '{key}' appears twice (first on line {first}); "
                    "keep one"
                )
            seen[key] = line
        return loader.construct_mapping(node, deep=deep)

    UniqueKeyLoader.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping
    )
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass
    except RecursionError:
        raise BadInput(deep_message(label)) from None
    if too_deep(data):
        raise BadInput(deep_message(label))
    if expanded_size(data) > MAX_YAML_EXPANDED:
        raise BadInput(
            f"{label}: expands (through YAML aliases) past {MAX_YAML_EXPANDED >> 20} MiB; "
            "no config is that large, fix or remove it"
        )
    return data


def expanded_size(doc: Any) -> int:
    """Roughly what `doc` takes written out: its strings' lengths and one per entry,
    each shared value (a YAML alias) counted every time it is used. Memoised by object,
    so a billion-laughs document costs what its few objects do. Call after too_deep
    (no cycles left)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        node, done = stack.pop()
        kids = _children(node)
        if kids is None:
            continue
        if isinstance(node, dict):
            kids = kids + list(node)
        if done:
            sizes[id(node)] = 1 + sum(_leaf_size(k, sizes) for k in kids)
        elif id(node) not in sizes:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if _children(k) is not None)
    return _leaf_size(doc, sizes)


def _leaf_size(node: Any, sizes: dict[int, int]) -> int:
    if isinstance(node, dict | list):
        return sizes.get(id(node), 1)
    return len(node) if isinstance(node, str | bytes) else 1
