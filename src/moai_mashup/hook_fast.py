"""Kept for hook shims installed by moai-mashup 0.x before the package layout.

Those shims run `from moai_mashup.hook_fast import run`; `moai hooks install`
rewrites them to import githooks.fast directly. Delete once no release older
than the layout is supported.
"""

from moai_mashup.githooks.fast import run as run

__all__ = ["run"]
