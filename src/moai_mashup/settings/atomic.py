"""Old names of files.py's writers, for callers not yet moved (removed once none is left)."""

from __future__ import annotations

from moai_mashup import files
from moai_mashup.lean import TYPE_CHECKING
from moai_mashup.settings.lock import file_lock as file_lock

if TYPE_CHECKING:
    from moai_mashup.files import StrPath


def atomic_write_bytes(
    path: StrPath, data: bytes, mode: int = 0o600, *, durable: bool = True, mtime: int | None = None
) -> None:
    times = None if mtime is None else (mtime * 10**9, mtime * 10**9)
    files.write_bytes(path, data, mode, durable=durable, times_ns=times)


def atomic_write_text(path: StrPath, text: str, mode: int = 0o600) -> None:
    files.write_text(path, text, mode)


def replace_if_unchanged(
    path: StrPath, text: str | None, expected: str | None, mode: int = 0o600
) -> bool:
    return files.replace_if_unchanged(
        path,
        None if text is None else text.encode("utf-8"),
        None if expected is None else expected.encode("utf-8"),
        mode,
    )
