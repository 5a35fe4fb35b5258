"""`moai doctor --live`: ask the real Claude Code where it would send a request.

What "which host and model it would use" honestly means, offline and without
sending the key anywhere: Claude Code is run in the worktree root, with the
user's own HOME and environment, as one tiny `claude -p` request, but with
HTTPS_PROXY/HTTP_PROXY pointing at a proxy inside this process. Claude Code
(undici) opens every connection, https and plain http alike, with
`CONNECT host:port` through that proxy; the proxy records the host:port and
answers 403, so no TLS session and no HTTP request (hence no key) ever leaves
the machine, and Claude Code gives up at once ("Unable to connect to API").
The model is the one Claude Code resolved itself: its `--output-format
stream-json --verbose` init event names it, after ANTHROPIC_DEFAULT_*_MODEL
mapping. Both measured with Claude Code 2.1.112, 2.1.197 and 2.1.332 (tests/e2e).

A settings file that sets its own proxy (or a NO_PROXY) beats the process
environment, and the request would then really go out; the probe refuses to
run in that case. The same holds for every backend: the probe records hosts,
whatever the settings point Claude Code at.
"""

from __future__ import annotations

import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

from moai_mashup import files, jsontext, spawn

PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")
QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_MAX_RETRIES": "0",
}
PROMPT = "ping"


class Probe(NamedTuple):
    hosts: tuple[str, ...]  # host:port Claude Code tried to reach, in order, deduplicated
    model: str | None  # the model Claude Code resolved
    api_key_source: str | None  # Claude Code's own word ("none", "apiKeyHelper", ...)
    claude: str  # the binary that ran
    version: str | None


def find_claude(explicit: str | None = None) -> Path | None:
    """--claude PATH, else `claude` on PATH, else moai-mashup's own pinned test install."""
    if explicit:
        return Path(explicit)
    found = shutil.which("claude")
    if found:
        return Path(found)
    # A source checkout of moai-mashup installs the pinned CLIs for its tests here
    # (node_modules/claude-code-<version>/claude); the newest one.
    modules = Path(__file__).resolve().parents[2] / "tests" / "e2e" / "claude-code" / "node_modules"
    pinned = [
        modules / name / "claude"
        for name in files.list_dir(modules)
        if name.startswith("claude-code-") and (modules / name / "claude").is_file()
    ]
    return max(pinned, key=_pinned_version) if pinned else None


def _pinned_version(path: Path) -> tuple[int, ...]:
    parts = path.parent.name.removeprefix("claude-code-").split(".")
    return tuple(int(p) if p.isdigit() else -1 for p in parts)


def settings_proxies(settings_docs: list[dict[str, Any]]) -> list[str]:
    """Proxy variables set in a settings file's env: they beat ours, and a NO_PROXY
    there would let the request past ours to the backend, key and all (any backend's
    settings may carry extra env): the probe must not run."""
    out = []
    for doc in settings_docs:
        env = doc.get("env")
        if isinstance(env, dict):
            out += [name for name in (*PROXY_VARS, *NO_PROXY_VARS) if name in env]
    return out


class _ConnectRecorder(BaseHTTPRequestHandler):
    seen: list[str]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _refuse(self) -> None:
        # Plain requests through a proxy carry their target in the URL; record the host.
        target = self.path
        if "://" in target:
            target = target.split("://", 1)[1].split("/", 1)[0]
        self.seen.append(target)
        self.send_response(403)
        self.send_header("content-length", "0")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True

    do_CONNECT = do_GET = do_POST = do_HEAD = do_PUT = _refuse


def probe(claude: Path, cwd: Path, *, timeout: float = 60.0) -> Probe:
    seen: list[str] = []
    handler = type("Recorder", (_ConnectRecorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proxy = f"http://127.0.0.1:{server.server_address[1]}"
        env = {k: v for k, v in os.environ.items() if k not in NO_PROXY_VARS}
        env.update(QUIET_ENV)
        env.update(dict.fromkeys(PROXY_VARS, proxy))
        argv = [str(claude), "-p", "--no-session-persistence"]
        argv += ["--output-format", "stream-json", "--verbose", PROMPT]
        try:
            raw = spawn.run(argv, cwd=str(cwd), env=env, timeout=timeout)[1]
        except spawn.TimedOut as exc:
            raw = exc.stdout
        stdout = raw.decode(errors="replace")
    finally:
        server.shutdown()
        server.server_close()
    model = source = version = None
    for line in stdout.splitlines():
        try:
            event = jsontext.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(event, dict) and event.get("type") == "system":
            model = event.get("model")
            source = event.get("apiKeySource")
            version = event.get("claude_code_version")
            break
    return Probe(tuple(dict.fromkeys(seen)), model, source, str(claude), version)
