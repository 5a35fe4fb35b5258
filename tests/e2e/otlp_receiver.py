"""A local OTLP/HTTP receiver on 127.0.0.1 for what the real Claude Code exports.

Accepts `POST /v1/metrics` and `/v1/logs` (protobuf, as `http/protobuf`
sends; bodies with Content-Length or chunked), answers 200, keeps the bodies,
and decodes them with opentelemetry-proto. It stops by itself after
`lifetime` seconds, as tests/e2e/fake_anthropic.py does.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)


def _value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def _attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


class Point(NamedTuple):
    metric: str
    resource: dict[str, Any]
    attributes: dict[str, Any]
    value: float
    temporality: int  # 1 delta, 2 cumulative


class LogEvent(NamedTuple):
    name: str
    resource: dict[str, Any]
    attributes: dict[str, Any]


class OtlpReceiver:
    def __init__(self, lifetime: float = 600.0) -> None:
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self.bodies: list[tuple[str, str, bytes]] = []  # (path, content type, body)
        self._httpd: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None

    def __enter__(self) -> OtlpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = self.headers.get("content-length")
                if length is not None:
                    body = self.rfile.read(int(length))
                else:  # chunked
                    parts = []
                    while size := int(self.rfile.readline().strip() or b"0", 16):
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    body = b"".join(parts)
                with receiver._lock:
                    receiver.bodies.append(
                        (self.path, self.headers.get("content-type") or "", body)
                    )
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, name="otlp", daemon=True).start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if self._timer is not None:
            self._timer.cancel()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def clear(self) -> None:
        with self._lock:
            self.bodies.clear()

    def points(self) -> list[Point]:
        out: list[Point] = []
        with self._lock:
            bodies = [b for p, _ct, b in self.bodies if p == "/v1/metrics"]
        for body in bodies:
            req = ExportMetricsServiceRequest.FromString(body)
            for rm in req.resource_metrics:
                res = _attrs(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        kind = m.WhichOneof("data")
                        if kind not in ("sum", "gauge"):
                            continue
                        data = getattr(m, kind)
                        temporality = getattr(data, "aggregation_temporality", 0)
                        for dp in data.data_points:
                            num = (
                                dp.as_double if dp.WhichOneof("value") == "as_double" else dp.as_int
                            )
                            out.append(
                                Point(m.name, res, _attrs(dp.attributes), float(num), temporality)
                            )
        return out

    def events(self) -> list[LogEvent]:
        out: list[LogEvent] = []
        with self._lock:
            bodies = [b for p, _ct, b in self.bodies if p == "/v1/logs"]
        for body in bodies:
            req = ExportLogsServiceRequest.FromString(body)
            for rl in req.resource_logs:
                res = _attrs(rl.resource.attributes)
                for sl in rl.scope_logs:
                    for rec in sl.log_records:
                        out.append(LogEvent(str(_value(rec.body)), res, _attrs(rec.attributes)))
        return out

    def content_types(self) -> set[str]:
        with self._lock:
            return {ct for _p, ct, _b in self.bodies}
