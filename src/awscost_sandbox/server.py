"""`SandboxServer`: moto's WSGI app on 127.0.0.1 (a free port), behind the reservation layer, in a thread.

moto keeps its state per process, so two servers in one process share one emulated AWS; the server resets
that state when it starts.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from datetime import datetime
from types import TracebackType
from typing import Any

from awscost.core.errors import InputError
from awscost.core.timeutil import format_hour, parse_hour
from awscost_sandbox.layer import LayerContext, ReservationLayer, load_extensions
from awscost_sandbox.scenario import Scenario, default_scenario

FAKE_KEY = "sandbox"  # moto maps unknown keys to its default account (123456789012)
FAKE_SECRET = "sandbox-secret"
DEFAULT_REGION = "us-east-1"


class SandboxServer:
    """An emulated multi-account AWS. A context manager; `.endpoint` is its URL, `.env()` what clients need.

    `clock` is the simulated current hour: reservation states (active/retired) are judged against it, and
    `seed.apply_fleet` moves it.
    """

    def __init__(self, scenario: Scenario | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.scenario = scenario or default_scenario()
        self.host, self.port = host, port
        self.context = LayerContext(self.scenario, self.scenario.start)
        self.access_key, self.secret_key = FAKE_KEY, FAKE_SECRET
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()  # creating clients from one boto3 Session is not thread-safe
        self._base_key: tuple[str, str] | None = None
        self._base_session: Any = None
        self._assumed: dict[tuple[str, str], dict[str, str]] = {}

    @property
    def clock(self) -> datetime:
        return self.context.clock

    @clock.setter
    def clock(self, hour: datetime) -> None:
        self.context.clock = hour

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("sandbox server not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> SandboxServer:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        load_extensions()

        class QuietHandler(MotoRequestHandler):
            # One log line per request would drown the demo's output.
            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                pass

        app = ReservationLayer(DomainDispatcherApplication(create_backend_app), self.context, self._control)
        # werkzeug reports a busy port by printing and calling sys.exit(1); probe first for a clear error.
        try:
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug does
                probe.bind((self.host, self.port))
        except OSError as exc:
            raise InputError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror}",
                where="--port",
                hint="try --port 0",
            ) from None
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="awscost-sandbox", daemon=True
        )
        self._thread.start()
        self.reset()
        return self

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """The sandbox's control API, under /awscost-sandbox/:

        GET  hour                               -> {"hour": the simulated clock}
        POST hour  {"hour": "2026-11-02T14:00:00Z"}  -> reconcile the fleet with that hour and move the clock there
        """
        if path != "hour":
            return 404, {"error": f"unknown sandbox control path {path!r}; known: hour"}
        if method == "GET":
            return 200, {"hour": format_hour(self.clock)}
        if method != "POST":
            return 405, {"error": "use GET or POST"}
        from awscost_sandbox.seed import apply_fleet  # seed imports this module

        hour = parse_hour(str(json.loads(body or b"{}").get("hour", "")), where="hour")
        stats = apply_fleet(self, self.scenario, hour)
        return 200, {
            "hour": format_hour(stats.hour),
            "calls": stats.calls,
            "launched": stats.launched,
            "terminated": stats.terminated,
        }

    def reset(self) -> None:
        """Forget every emulated resource (moto's state is per process), and what the seeder knew of them."""
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req) as resp:
            resp.read()
        with self._lock:
            self.access_key, self.secret_key = FAKE_KEY, FAKE_SECRET
            self._base_key = None  # moto forgot the assumed-role keys too
            self.__dict__.pop("_seed_state", None)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """What a boto3 client (or the awscost CLI) needs to use the sandbox as the management account."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            "AWS_REGION": DEFAULT_REGION,
        }

    def _base(self) -> Any:
        import boto3

        key = (self.access_key, self.secret_key)
        if self._base_key != key:
            self._base_session = boto3.Session(
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                region_name=DEFAULT_REGION,
            )
            self._base_key = key
            self._assumed = {}
        return self._base_session

    def credentials(self, account: str, role_name: str = "OrganizationAccountAccessRole") -> dict[str, str]:
        """Assumed-role keys in `account` (moto maps them to it), cached: they never expire in the sandbox."""
        with self._lock:
            return self._credentials(account, role_name)

    def _credentials(self, account: str, role_name: str) -> dict[str, str]:
        base = self._base()
        found = self._assumed.get((account, role_name))
        if found is None:
            creds = base.client("sts", endpoint_url=self.endpoint).assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{role_name}", RoleSessionName="awscost-sandbox"
            )["Credentials"]
            found = {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }
            self._assumed[(account, role_name)] = found
        return found

    def session(self, account: str | None = None, *, role_name: str = "OrganizationAccountAccessRole") -> Any:
        """A boto3 Session on this sandbox: management keys, or (with `account`) assumed-role keys in it."""
        import boto3

        if account is None:
            return self._base()
        creds = self.credentials(account, role_name)
        return boto3.Session(
            aws_access_key_id=creds["aws_access_key_id"],
            aws_secret_access_key=creds["aws_secret_access_key"],
            aws_session_token=creds["aws_session_token"],
            region_name=DEFAULT_REGION,
        )

    def client(self, service: str, region: str = DEFAULT_REGION, account: str | None = None) -> Any:
        """A client of this sandbox as the management keys, or (with `account`) as that account.

        Clients come from one base session with per-call keys, so botocore's loaded models are shared.
        """
        with self._lock:
            base = self._base()
            creds = self.credentials(account) if account is not None else {}
            return base.client(service, region_name=region, endpoint_url=self.endpoint, **creds)
