"""What the Slack tests share: requests signed exactly as Slack signs them, a local HTTP receiver standing
in for `response_url` (and for slack.com's Web API), and the command's app served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # Slack's documentation's example signing secret
TEAM = "T0AWSCOST"


def sign(body: str, secret: str = SECRET, ts: int | None = None) -> dict[str, str]:
    """Slack's headers for `body`: v0=HMAC-SHA256(secret, "v0:{ts}:{body}") in hex."""
    stamp = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(text: str, user: str, channel: str, response_url: str, team: str = TEAM) -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": team,
            "team_domain": "awscost",
            "channel_id": channel,
            "channel_name": "costs",
            "user_id": user,
            "user_name": "someone",
            "command": "/awscost",
            "text": text,
            "api_app_id": "A0AWSCOST",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


@dataclass
class Receiver:
    """Every POST it was sent: (path, parsed JSON or form body, headers)."""

    url: str
    posts: list[tuple[str, Any, dict[str, str]]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    reply: dict[str, Any] = field(default_factory=lambda: {"ok": True})

    def wait(self, count: int, timeout: float = 60) -> list[tuple[str, Any, dict[str, str]]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.posts) >= count, timeout), self.posts
            return list(self.posts)


@contextmanager
def receiver() -> Iterator[Receiver]:
    held: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                data: Any = json.loads(raw)
            else:
                data = {k: v[0] for k, v in parse_qs(raw).items()}
            r = held["r"]
            payload = json.dumps(r.reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            with r.arrived:
                r.posts.append((self.path, data, dict(self.headers.items())))
                r.arrived.notify_all()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    held["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield held["r"]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app on 127.0.0.1 (entrypoints/slack/app.serve); yields its /slack/events URL."""
    from awscost.entrypoints.slack.app import serve

    server = serve(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    finally:
        server.shutdown()
        server.server_close()


def post(url: str, body: str | bytes, headers: dict[str, str]) -> tuple[int, str]:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def text_of(message: dict[str, Any]) -> str:
    """Every text of a Block Kit message, joined: what the figures are looked for in."""
    out = [str(message.get("text", ""))]
    for block in message.get("blocks", []):
        if "text" in block:
            out.append(block["text"]["text"])
        out += [f["text"] for f in block.get("fields", [])]
        out += [e["text"] for e in block.get("elements", [])]
    return "\n".join(out)
