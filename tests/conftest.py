"""Shared fixtures. AWS is emulated by a moto server on 127.0.0.1, reached by real boto3 clients over HTTP
through AWS_ENDPOINT_URL, so the code under test is the code that runs in production."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests: `ci` (selected by .ci/run through HYPOTHESIS_PROFILE) draws the same examples on every run
# and keeps no example database, so a red CI is always a defect that reproduces, never an unlucky seed. The
# deadline is far above any example's time on 2 loaded cores: a slow machine is not a failure. Locally the
# default profile explores new examples each run and remembers failures in .hypothesis/.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=timedelta(seconds=10), print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REFDATA = Path(__file__).resolve().parents[2] / "shared" / "refdata"


def refdata(relative: str) -> Path:
    """Path of a file in ../shared/refdata; skips the test (with the reason) where it is absent."""
    path = REFDATA / relative
    if not path.exists():
        pytest.skip(f"refdata not present: {path}")
    return path


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server for the session; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture()
def aws(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean emulated AWS for one test: server state reset, env pointing boto3 at it. Yields the endpoint."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    for var in list(os.environ):
        if var.startswith(("AWS_", "AWSCOST_")) or var == "MOTO_ACCOUNT_ID":
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    yield moto_server
