"""One boto3 session and client factory for the whole package.

Clients get adaptive retries (throttling is retried with backoff and client-side rate limiting), connect
and read timeouts (5 s and 30 s per attempt unless the collector's settings say otherwise) and a
connection pool sized for the runner's threads. Credentials, profile, region and endpoint come from
boto3's standard environment (AWS_PROFILE, AWS_ENDPOINT_URL, AWS_DEFAULT_REGION ...); the endpoint is
never passed explicitly so that a moto server and real AWS take the same code path.

Every API call made through a session from `make_session` is counted (botocore `before-call` fires once
per logical call, not per retry attempt), in total and per `CallCounter.scope()` so the runner can
report calls per account x region x kind unit.
"""

from __future__ import annotations

import contextvars
import os
import threading
import weakref
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

import boto3
import botocore.client
import botocore.session
from botocore.config import Config

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_POOL = 32
# Seconds per attempt (botocore's defaults are 60 and 60): AWS's describe APIs answer in well under a second.
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
GLOBAL_SERVICES = frozenset({"sts", "organizations", "iam"})


class CallCounter:
    """Thread-safe count of API calls by `service.Operation`; `scope()` also counts into a local Counter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_operation: Counter[str] = Counter()
        self.attempts = 0  # HTTP attempts, retries included
        # Per counter: a session may report into two counters (the process-wide one and a run's own).
        self._scope: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar(
            f"awscost_calls_{id(self)}", default=None
        )

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.by_operation.values())

    def _on_call(self, model: Any = None, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}" if model is not None else "?"
        with self._lock:
            self.by_operation[name] += 1
        local = self._scope.get()
        if local is not None:
            local[name] += 1

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self.attempts += 1

    def attach(self, session: boto3.Session) -> None:
        session.events.register("before-call", self._on_call, unique_id=f"awscost-count-{id(self)}")
        session.events.register("before-send", self._on_send, unique_id=f"awscost-send-{id(self)}")

    @contextmanager
    def scope(self) -> Iterator[Counter[str]]:
        """Count the calls made by this thread (context) inside the block into the yielded Counter."""
        local: Counter[str] = Counter()
        token = self._scope.set(local)
        try:
            yield local
        finally:
            self._scope.reset(token)


# One counter for the process: every session from make_session reports into it.
CALLS = CallCounter()


def _credential_kwargs(credentials: Mapping[str, Any]) -> dict[str, Any]:
    """Accept STS-shaped (AccessKeyId ...) or boto3-shaped (aws_access_key_id ...) credentials."""
    if "AccessKeyId" in credentials:
        return {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials.get("SessionToken"),
        }
    return {
        k: credentials.get(k) for k in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
    }


def make_session(
    credentials: Mapping[str, Any] | None = None,
    region: str | None = None,
    *,
    counter: CallCounter | None = None,
) -> boto3.Session:
    """A boto3 session: the standard credential chain when `credentials` is None, else those keys.

    API calls made by its clients are counted in `counter` (default the process-wide `CALLS`).
    """
    kwargs: dict[str, Any] = _credential_kwargs(credentials) if credentials else {}
    session = boto3.Session(region_name=region, botocore_session=_botocore_session(), **kwargs)
    _dedupe_search_paths()
    (counter or CALLS).attach(session)
    return session


# Service models are parsed once per process, not once per session: a fresh session re-reads the EC2 model
# (~0.25 s a client), and a run makes one session per member account.
_loader_lock = threading.Lock()
_shared_loader: Any = None


def _botocore_session() -> botocore.session.Session:
    global _shared_loader
    bs = botocore.session.get_session()
    with _loader_lock:
        if _shared_loader is None:
            _shared_loader = bs.get_component("data_loader")
        else:
            bs.register_component("data_loader", _shared_loader)
    _OUR_EMITTERS.add(bs.get_component("event_emitter"))
    return bs


# Every `create_client` builds the service's model and the client's class anew: one OperationModel per
# operation to find the endpoint-discovery one, and one method per operation (EC2 has ~700) — ~5 ms of CPU
# for EC2, and half of a collection's CPU when it makes a dozen clients per account (measured with py-spy
# on benchmarks/bench_collect.py, 100 accounts). Neither depends on credentials or region: the model is the
# service's JSON, the class that and the session's `creating-client-class` handlers, and every session made
# here has the same handlers (boto3's own). Their clients share one model and one class per service and API
# version (a ServiceModel is read-only once built; it caches its operation models). Sessions made elsewhere
# in the process keep botocore's behaviour.
_OUR_EMITTERS: weakref.WeakSet[Any] = weakref.WeakSet()
_shared: dict[tuple[str, str, str | None], Any] = {}
_shared_lock = threading.Lock()
_CREATOR: Any = botocore.client.ClientCreator  # its private methods are wrapped below (typed stubs omit them)
_build_client_class = _CREATOR._create_client_class
_build_service_model = _CREATOR._load_service_model


def _once(creator: Any, key: tuple[str, str, str | None], build: Any) -> Any:
    if creator._event_emitter not in _OUR_EMITTERS:
        return build()
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = build()
    return found


def _service_model(creator: Any, service_name: str, api_version: str | None = None) -> Any:
    return _once(
        creator,
        ("model", service_name, api_version),
        lambda: _build_service_model(creator, service_name, api_version),
    )


def _client_class(creator: Any, service_name: str, service_model: Any) -> type:
    return cast(
        type,
        _once(
            creator,
            ("class", service_name, service_model.api_version),
            lambda: _build_client_class(creator, service_name, service_model),
        ),
    )


_CREATOR._load_service_model = _service_model
_CREATOR._create_client_class = _client_class


def _dedupe_search_paths() -> None:
    # boto3.Session appends its data directory to the loader's search path each time it is created.
    with _loader_lock:
        paths = _shared_loader.search_paths
        paths[:] = list(dict.fromkeys(paths))


def client_config(
    max_attempts: int | None = None,
    pool: int = DEFAULT_POOL,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> Config:
    """Adaptive retries (`max_attempts` retries after the first try; None = AWS_MAX_ATTEMPTS, boto3's total
    attempts, when set, else DEFAULT_MAX_ATTEMPTS) and connect/read timeouts per attempt: an endpoint that
    accepts and never answers costs `read_timeout` per attempt, never the whole run."""
    retries: dict[str, Any] = {"mode": "adaptive"}
    env_attempts = os.environ.get("AWS_MAX_ATTEMPTS", "").strip()
    if max_attempts is None and env_attempts.isdigit() and int(env_attempts) >= 1:
        retries["total_max_attempts"] = int(env_attempts)
    else:
        retries["max_attempts"] = DEFAULT_MAX_ATTEMPTS if max_attempts is None else max_attempts
    return Config(
        retries=cast(Any, retries),
        max_pool_connections=pool,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


# Creating a client from a boto3 Session is not thread-safe; the clients themselves are. One lock for all
# sessions, because they share one model loader (see `_botocore_session`); creation is CPU-bound anyway.
_create_lock = threading.Lock()


def client(
    session: boto3.Session, service: str, region: str | None = None, *, config: Config | None = None
) -> Any:
    """A client of `service` in `region` (None = the session's region) with adaptive retries."""
    if region is None and session.region_name is None and service in GLOBAL_SERVICES:
        region = "us-east-1"  # global services answer there; without it botocore raises NoRegionError
    with _create_lock:
        # The service name is dynamic here, so the per-service overloads of boto3-stubs cannot apply.
        return cast(Any, session).client(service, region_name=region, config=config or client_config())


class ClientCache:
    """Clients per (service, region) of one session, created once and shared by threads."""

    def __init__(self, session: boto3.Session, config: Config | None = None) -> None:
        self.session = session
        self._config = config or client_config()
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            found = self._clients.get(key)
        if found is not None:
            return found
        made = client(self.session, service, region, config=self._config)
        with self._lock:
            return self._clients.setdefault(key, made)
