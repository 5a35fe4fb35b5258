"""The stamp's vocabulary, shared by the engine that writes it and the fast path that reads it.

The engine (engine.py, `write_stamp`) records in `<git-dir>/moai/hook-stamp`
the exact inputs it planned from and the files each backend would get, and
prepares those files in `<git-dir>/moai/ready/`; the fast path (fast.py)
switches with them when every input still has the digest recorded here. A leaf
of the hook's path: `os` and `sys` only.
"""

from __future__ import annotations

import os
import sys

from moai_mashup.paths import READY_DIR

try:  # the builtin sha256: hashlib's OpenSSL binding costs ~5 ms to import
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - Python 3.12+ renamed it
    from hashlib import sha256

STAMP_VERSION = "2"

EMPTY_DIGEST = sha256(b"").hexdigest()


def digest(data: bytes | None) -> str:
    """The stamp's name for a file's content: its SHA-256, `-` when there is no file."""
    return "-" if data is None else sha256(data).hexdigest()


def ready_path(state_dir: str, backend: str, part: str) -> str:
    """`<git-dir>/moai/ready/<backend>.<part>`, part: settings or record."""
    return os.path.join(state_dir, READY_DIR, f"{backend}.{part}")


def engine_id() -> str:
    """This engine: the stamp's `engine` line (a reinstalled or upgraded moai re-plans)."""
    from moai_mashup import __version__

    return f"{sys.executable} {__version__}"
