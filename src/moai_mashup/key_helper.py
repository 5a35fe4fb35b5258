"""Kept for `apiKeyHelper` commands written before the package layout.

Settings files written then run `from moai_mashup.key_helper import main`; the
next apply rewrites the command to settings.key_helper. Delete once no release
older than the layout is supported.
"""

from moai_mashup.settings.key_helper import main as main

__all__ = ["main"]
