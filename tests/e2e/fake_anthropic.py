"""A fake Anthropic Messages API on 127.0.0.1, for driving the real Claude Code CLI.

Standard library only. It records what each request carried (path, the
`authorization` and `x-api-key` headers, the JSON body's `model`) so a test
can assert which backend Claude Code talked to, with which credential, for
which model; and it answers well enough for `claude -p` to finish:

- ``POST /v1/messages``: a one-text-block reply (or the next scripted one, e.g.
  a ``tool_use`` that makes Claude Code run a tool), plain JSON or, when the body
  says ``"stream": true``, Server-Sent Events (``message_start``,
  ``content_block_start``, ``content_block_delta``, ``content_block_stop``,
  ``message_delta``, ``message_stop``); the reply echoes the requested model and
  carries a configurable ``usage`` (so transcripts written by Claude Code have
  real-looking token counts).
- ``POST /v1/messages/count_tokens``: ``{"input_tokens": N}``.
- anything else (HEAD/GET probes, telemetry paths...): ``200 {}``.

API::

    with FakeAnthropic("glm") as glm:           # listening on glm.url
        ...run claude with ANTHROPIC_BASE_URL=glm.url...
        glm.messages()                           # [Recorded(...)] for /v1/messages
        glm.requests()                           # every request, in order
        glm.enqueue_tool_use("Bash", {"command": "git status"})  # next reply: a tool call
        glm.clear()                              # forget the requests seen

A server stops by itself: ``stop()`` (the context manager's exit) shuts it
down, and a timer (``lifetime`` seconds, 10 minutes by default) does so even
when a test forgets, so no run leaves a listener behind. It serves only the
loopback address.

Run it by hand (prints its URL, serves until Ctrl-C or the lifetime ends)::

    python -m tests.e2e.fake_anthropic --name glm --lifetime 300
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

DEFAULT_USAGE: dict[str, int] = {
    "input_tokens": 12,
    "output_tokens": 3,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}


class Recorded(NamedTuple):
    """One request as the server saw it."""

    server: str  # the FakeAnthropic's name: which backend this stands for
    method: str
    path: str  # without the query string
    authorization: str | None
    x_api_key: str | None
    model: str | None  # the JSON body's "model", when there is one
    stream: bool
    body: dict[str, Any]
    headers: dict[str, str]  # every header, names lower-cased

    def __repr__(self) -> str:  # short, and no credential in a failing test's output
        return f"Recorded({self.server} {self.method} {self.path} model={self.model})"

    def mentions(self, text: str) -> bool:
        """Whether the JSON body contains text (Claude Code's system prompt names its cwd)."""
        return text in json.dumps(self.body)


class FakeAnthropic:
    """One fake backend; see the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        reply_text: str = "hi",
        usage: dict[str, int] | None = None,
        lifetime: float = 600.0,
    ) -> None:
        self.name = name
        self.reply_text = reply_text
        self.usage = dict(usage or DEFAULT_USAGE)
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None
        self._script: list[list[dict[str, Any]]] = []

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        handler = type("Handler", (_Handler,), {"fake": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, name=f"fake-{self.name}", daemon=True).start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if self._timer is not None:
            self._timer.cancel()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to configure as ANTHROPIC_BASE_URL (no trailing slash)."""
        if self._httpd is None:
            raise RuntimeError(f"fake server {self.name!r} is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- what it saw -----------------------------------------------------------------

    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def messages(self) -> list[Recorded]:
        """Only the model calls: POST /v1/messages."""
        return [r for r in self.requests() if r.method == "POST" and r.path == "/v1/messages"]

    def models(self) -> set[str]:
        return {r.model for r in self.messages() if r.model is not None}

    def clear(self) -> None:
        """Forget the requests seen (a script of replies stays)."""
        with self._lock:
            self._requests.clear()

    # --- what it answers -------------------------------------------------------------

    def enqueue(self, *content: dict[str, Any]) -> None:
        """The content blocks of the next model reply (then back to `reply_text`)."""
        with self._lock:
            self._script.append(list(content))

    def enqueue_tool_use(self, name: str, tool_input: dict[str, Any]) -> str:
        """Make the next reply ask Claude Code to run a tool; returns the tool_use id."""
        tool_id = f"toolu_fake_{self._next_id():06d}"
        self.enqueue({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
        return tool_id

    def _next_content(self) -> list[dict[str, Any]]:
        with self._lock:
            if self._script:
                return self._script.pop(0)
        return [{"type": "text", "text": self.reply_text}]

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self._requests.append(rec)

    def _next_id(self) -> int:
        with self._lock:
            return next(self._ids)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAnthropic  # set on the per-server subclass
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _handle(self) -> None:
        body = self._body() if self.command in ("POST", "PUT", "PATCH") else {}
        path = self.path.split("?", 1)[0]
        model = body.get("model")
        rec = Recorded(
            server=self.fake.name,
            method=self.command,
            path=path,
            authorization=self.headers.get("authorization"),
            x_api_key=self.headers.get("x-api-key"),
            model=model if isinstance(model, str) else None,
            stream=body.get("stream") is True,
            body=body,
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        self.fake._record(rec)
        if self.command == "POST" and path == "/v1/messages":
            self._message(rec)
        elif self.command == "POST" and path == "/v1/messages/count_tokens":
            self._json({"input_tokens": self.fake.usage["input_tokens"]})
        else:
            self._json({})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def _json(self, data: dict[str, Any], status: int = 200) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.send_header("request-id", f"req_fake_{self.fake.name}_{self.fake._next_id():06d}")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _message(self, rec: Recorded) -> None:
        n = self.fake._next_id()
        content = self.fake._next_content()
        tool = any(block.get("type") == "tool_use" for block in content)
        message = {
            "id": f"msg_fake_{self.fake.name}_{n:06d}",
            "type": "message",
            "role": "assistant",
            "model": rec.model or "unknown",
            "content": content,
            "stop_reason": "tool_use" if tool else "end_turn",
            "stop_sequence": None,
            "usage": dict(self.fake.usage),
        }
        if not rec.stream:
            self._json(message)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", f"req_fake_{self.fake.name}_{n:06d}")
        self.send_header("connection", "close")
        self.end_headers()
        for event, data in _sse_events(message):
            self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True


def _sse_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    usage = message["usage"]
    start = dict(message, content=[], stop_reason=None, usage=dict(usage, output_tokens=1))
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            empty = dict(block, input={})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            empty = dict(block, text="")
            delta = {"type": "text_delta", "text": block["text"]}
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": empty},
        )
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve a fake Anthropic API on 127.0.0.1.")
    parser.add_argument("--name", default="fake")
    parser.add_argument("--lifetime", type=float, default=300.0, help="seconds before it stops")
    args = parser.parse_args()
    fake = FakeAnthropic(args.name, lifetime=args.lifetime).start()
    print(fake.url, flush=True)
    try:
        assert fake._timer is not None
        fake._timer.join()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        for rec in fake.requests():
            print(f"{rec.method} {rec.path} model={rec.model}", flush=True)


if __name__ == "__main__":
    _main()
