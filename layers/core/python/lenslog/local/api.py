"""The audit API on loopback: HTTP requests become API Gateway REST proxy events for the same
resolver the Lambda function uses. No authentication (the caller has no IAM identity; uploads are
open), one cell per server (the home cell unless told otherwise), bound to 127.0.0.1 only."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from lenslog.local.aws import LocalStack

MAX_BODY = 1_000_000


def proxy_event(
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes | None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The REST proxy event API Gateway would send for this request (no IAM identity)."""
    parts = urlsplit(raw_path)
    path = unquote(parts.path) or "/"
    multi: dict[str, list[str]] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        multi.setdefault(k, []).append(v)
    text: str | None = None
    is_b64 = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(body).decode(), True
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": dict(headers),
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "resourcePath": path,
            "httpMethod": method,
            "path": path,
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "identity": {
                "sourceIp": source_ip,
                "userAgent": headers.get("User-Agent") or headers.get("user-agent"),
                "userArn": None,
                "caller": None,
                "user": None,
                "accessKey": None,
                "accountId": None,
            },
        },
        "body": text,
        "isBase64Encoded": is_b64,
    }


class LocalApi:
    """A running local API: ``url`` and ``shutdown()``."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread, cell: str):
        self._server, self._thread, self.cell = server, thread, cell
        self.url = f"http://127.0.0.1:{server.server_address[1]}"

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_api(stack: LocalStack, port: int = 0, cell: str | None = None) -> LocalApi:
    """Serve the audit API of ``cell`` (default: the home cell) on 127.0.0.1:``port`` (0 = any)."""
    from lenslog import runtime
    from lenslog.api.app import resolve
    from lenslog.local.worker import LambdaContext

    cell = cell or stack.config.home_cell
    service = runtime.audit_service(stack.settings(cell), open_uploads=True)
    lock = threading.Lock()  # the resolver keeps per-request state: one request at a time

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body leave in two writes: with Nagle's algorithm the body waits for the
        # client's delayed ACK of the headers, 40 ms on every request of a kept-alive connection
        disable_nagle_algorithm = True

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, {"Content-Type": "application/json"}, b'{"error":"too_large"}')
                return
            body = self.rfile.read(length) if length else None
            event = proxy_event(
                self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
            )
            ctx = LambdaContext(function_name="lenslog-audit-api-local", aws_request_id=str(uuid.uuid4()))
            with lock:
                result = resolve(event, ctx, service)
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
            headers = {k: v[-1] for k, v in (result.get("multiValueHeaders") or {}).items() if v}
            headers.update(result.get("headers") or {})
            self._send(int(result["statusCode"]), headers, data)

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in ("content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def __getattr__(self, name: str) -> Any:
            # every method goes to the resolver (an unrouted one is a 404 there, as behind API Gateway)
            if name.startswith("do_"):
                return self._answer
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="lenslog-local-api", daemon=True)
    thread.start()
    return LocalApi(server, thread, cell)
