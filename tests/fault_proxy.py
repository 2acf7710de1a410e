"""A fault-injecting HTTP proxy in front of the sandbox, for the collector's fault suite.

boto3 reaches it through AWS_ENDPOINT_URL, so every client of a run (the caller's and each assumed-role
account's, in this process or a `collect` subprocess) goes through it. Each request is matched by region,
service (the SigV4 scope), action (X-Amz-Target or Action=) and account (the access key: the base keys are
the management account's; assumed-role keys are learnt from the AssumeRole answers passing through) and
either forwarded to the sandbox or answered with a fault:

    throttle   400 ThrottlingException (JSON services) / Throttling (query) / RequestLimitExceeded (EC2)
    429        429 TooManyRequestsException
    503        503 ServiceUnavailable
    denied     403 AccessDenied / AccessDeniedException / UnauthorizedOperation (EC2)
    blackhole  the connection is accepted, the request read, and no answer ever comes
    reset      the connection is closed without an answer

A rule with `times` answers that many matching requests with its fault, then lets them through. Connection
refused is not the proxy's: point a service at a closed port (AWS_ENDPOINT_URL_<SERVICE>, `closed_port`).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SCOPE = re.compile(r"Credential=([^/]+)/\d+/([^/]+)/([^/]+)/")


@dataclass
class Rule:
    fault: str
    service: str | None = None  # the SigV4 signing name: ec2, rds, es (OpenSearch), dynamodb, sts ...
    region: str | None = None
    account: str | None = None
    action: str | None = None  # DescribeInstances, DynamoDB_20120810.ListTables -> ListTables ...
    bucket: str | None = None  # S3 (path-style requests): the bucket named first in the request path
    times: int | None = None  # None: every matching request
    hits: int = 0

    def matches(self, req: Request) -> bool:
        wanted = (
            (self.service, req.service),
            (self.region, req.region),
            (self.account, req.account),
            (self.action, req.action),
            (self.bucket, req.bucket),
        )
        return all(w is None or w == got for w, got in wanted) and (
            self.times is None or self.hits < self.times
        )


@dataclass
class Request:
    service: str
    region: str
    account: str
    action: str
    json_protocol: bool
    bucket: str = ""


@dataclass
class FaultProxy:
    upstream: str
    base_key: str
    base_account: str
    rules: list[Rule] = field(default_factory=list)
    log: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # (fault, account, region, ...)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts = {self.base_key: self.base_account}
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                proxy.handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def set_rules(self, *rules: Rule) -> None:
        with self._lock:
            self.rules = list(rules)
            self.log.clear()

    # ------------------------------------------------------------ requests

    def _classify(self, handler: BaseHTTPRequestHandler, body: bytes) -> Request:
        found = SCOPE.search(handler.headers.get("Authorization", ""))
        key, region, service = found.groups() if found else ("", "", "")
        target = handler.headers.get("X-Amz-Target", "")
        if target:
            action = target.rsplit(".", 1)[-1]
        else:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query)
            action = (form.get("Action") or query.get("Action") or [""])[0]
        content = handler.headers.get("Content-Type", "")
        with self._lock:
            account = self._accounts.get(key, "")
        bucket = urllib.parse.urlsplit(handler.path).path.lstrip("/").split("/", 1)[0]
        return Request(service, region, account, action, bool(target) or "json" in content, bucket)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        req = self._classify(handler, body)
        with self._lock:
            rule = next((r for r in self.rules if r.matches(req)), None)
            if rule is not None:
                rule.hits += 1
                self.log.append((rule.fault, req.account, req.region, req.service, req.action))
        if rule is None:
            self._forward(handler, body, req)
        elif rule.fault == "blackhole":
            self._release.wait(120)  # accepted, read, never answered (until the proxy stops)
            handler.close_connection = True
        elif rule.fault == "reset":
            handler.close_connection = True
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        else:
            self._answer_fault(handler, rule.fault, req)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes, req: Request) -> None:
        up = urllib.parse.urlsplit(self.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("connection", "keep-alive")}
        try:
            conn.request(handler.command, handler.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        if req.action == "AssumeRole" and resp.status == 200:
            self._learn(body, data)
        handler.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "keep-alive"):
                handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)

    def _learn(self, request_body: bytes, answer: bytes) -> None:
        arn = urllib.parse.parse_qs(request_body.decode()).get("RoleArn", [""])[0]
        account = arn.split(":")[4] if arn.count(":") >= 5 else ""
        key = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", answer)
        if account and key:
            with self._lock:
                self._accounts[key.group(1).decode()] = account

    def _answer_fault(self, handler: BaseHTTPRequestHandler, fault: str, req: Request) -> None:
        status, code, message = {
            "throttle": (400, "ThrottlingException" if req.json_protocol else "Throttling", "Rate exceeded"),
            "429": (429, "TooManyRequestsException", "Too Many Requests"),
            "503": (503, "ServiceUnavailable", "Service is unavailable"),
            "denied": (
                403,
                "AccessDeniedException" if req.json_protocol else "AccessDenied",
                "not authorized",
            ),
        }[fault]
        if req.service == "ec2" and fault == "throttle":
            code = "RequestLimitExceeded"
        if req.service == "ec2" and fault == "denied":
            code = "UnauthorizedOperation"
        headers = {"x-amzn-ErrorType": code}
        if req.json_protocol or req.service in ("es", "savingsplans"):
            data = json.dumps({"__type": code, "message": message}).encode()
            headers["Content-Type"] = "application/x-amz-json-1.0"
        elif req.service == "ec2":
            data = (
                f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                "<RequestID>fault</RequestID></Response>"
            ).encode()
            headers["Content-Type"] = "text/xml"
        else:
            data = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                "</Error><RequestId>fault</RequestId></ErrorResponse>"
            ).encode()
            headers["Content-Type"] = "text/xml"
        handler.send_response(status)
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released): connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
