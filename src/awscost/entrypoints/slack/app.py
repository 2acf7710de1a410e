"""The bolt app of `/awscost`: Slack's signature checked by bolt (v0 HMAC-SHA256 of `v0:{ts}:{body}` with
the signing secret, in constant time; a timestamp more than 5 minutes off refused: a replay), a body larger
than any slash command refused before bolt reads it, the command acknowledged within Slack's 3 seconds and
answered through its `response_url`.

Two ways to answer: here (`answer` given: `awscost slack serve`, a bolt lazy listener in a thread after the
acknowledgement) or elsewhere (`hand_off` given: the Lambda function hands the command to the analytics
function and returns). `help`, mistakes and refusals are answered in the acknowledgement itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult

from awscost.entrypoints.slack import blocks
from awscost.entrypoints.slack.config import SlackSettings
from awscost.entrypoints.slack.quick import WORKING, Asked, quick

log = logging.getLogger("awscost.slack")
COMMAND = "/awscost"
# A slash command's form body is its fields and at most 4000 characters of text, percent-encoded (x3 at most):
# about 13 KB. Anything larger is no command of Slack's and is refused before it is parsed or verified.
MAX_BODY = 16 * 1024


def create_app(
    config: SlackSettings,
    signing_secret: str,
    bot_token: str | None = None,
    *,
    answer: Callable[[Asked], dict[str, Any]] | None = None,
    hand_off: Callable[[Asked], None] | None = None,
    process_before_response: bool = False,
) -> App:
    """The bolt App; exactly one of `answer` (answered in a thread after the ack) and `hand_off` (the
    command handed on, answered elsewhere through its response_url)."""
    if (answer is None) == (hand_off is None):
        raise ValueError("give one of answer and hand_off")

    def authorize(enterprise_id: str | None, team_id: str | None, **_: Any) -> AuthorizeResult:
        # One workspace, one bot token: nothing to look up (and no auth.test call to slack.com per request).
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    app = App(
        signing_secret=signing_secret,
        authorize=authorize,
        process_before_response=process_before_response,
        request_verification_enabled=True,
        ignoring_self_events_enabled=False,
        url_verification_enabled=False,
        ssl_check_enabled=False,
        raise_error_for_unhandled_request=False,
    )

    def acknowledge(ack: Any, body: dict[str, Any]) -> None:
        asked = Asked.of(body)
        command, reply = quick(config, asked)
        if reply is not None:
            ack(reply)
            return
        if hand_off is not None and command is not None:
            # Handed on before the acknowledgement is sent (Lambda sends it when this returns): a hand-off
            # that fails is said now, not left as a "working on it" never answered.
            try:
                hand_off(asked)
            except Exception:
                log.exception("handing /awscost %r on failed", asked.text)
                ack(blocks.error("awscost could not start on this (the error is logged); try again shortly."))
                return
        ack({"response_type": "ephemeral", "text": WORKING})

    def work(body: dict[str, Any], respond: Any) -> None:
        asked = Asked.of(body)
        command, _reply = quick(config, asked)
        if command is None or answer is None:
            return  # answered in the acknowledgement
        respond(**{k: v for k, v in answer(asked).items() if k in ("text", "blocks", "response_type")},
                replace_original=False)  # fmt: skip

    if answer is not None:
        app.command(COMMAND)(ack=acknowledge, lazy=[work])
    else:
        app.command(COMMAND)(acknowledge)
    return app


def refused(status: int, text: str) -> BoltResponse:
    return BoltResponse(status=status, body=text, headers={"content-type": "text/plain; charset=utf-8"})


def dispatch(app: App, body: bytes, headers: dict[str, Any], query: str = "") -> BoltResponse:
    """One HTTP request to the app: too large a body is refused unread (400); bolt verifies the rest."""
    if len(body) > MAX_BODY:
        return refused(400, f"request body over {MAX_BODY} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return refused(400, "request body is not UTF-8")
    request = BoltRequest(body=text, query=query, headers={k.lower(): v for k, v in headers.items()})
    response: BoltResponse = app.dispatch(request)
    return response


def serve(app: App, host: str = "127.0.0.1", port: int = 3000) -> Any:
    """A threading HTTP server for `awscost slack serve` and the tests (bolt's own development server reads
    a body of any size before it verifies it). Returns the server; `serve_forever()` runs it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        server_version = "awscost-slack"

        def do_POST(self) -> None:
            path, _, query = self.path.partition("?")
            if path != "/slack/events":
                self._send(refused(404, "not found"))
                return
            try:
                length = int(self.headers.get("Content-Length") or "0")
            except ValueError:
                self._send(refused(400, "bad Content-Length"))
                return
            if length > MAX_BODY or length < 0:
                self._send(refused(400, f"request body over {MAX_BODY} bytes"))
                return
            body = self.rfile.read(length)
            self._send(dispatch(app, body, dict(self.headers.items()), query))

        def do_GET(self) -> None:
            self._send(refused(200, "ok") if self.path == "/healthz" else refused(404, "not found"))

        def _send(self, response: BoltResponse) -> None:
            payload = response.body.encode("utf-8")
            self.send_response(response.status)
            for key, values in response.headers.items():
                if key.lower() != "content-length":
                    for value in values:
                        self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s " + format, self.address_string(), *args)

    return ThreadingHTTPServer((host, port), Handler)


__all__ = ["COMMAND", "MAX_BODY", "create_app", "dispatch", "serve"]
