"""Concurrent clients against a served dashboard: each a thread with its own keep-alive connection, fetching
the pages in turn for a while. What the load test (tests/test_dashboard_load.py) and the benchmark
(benchmarks/bench_dashboard_load.py) both run."""

from __future__ import annotations

import http.client
import socket
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Load:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # path -> seconds of each answer
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def p(self, q: float, path: str | None = None) -> float:
        values = sorted(v for p, vs in self.latencies.items() if path in (None, p) for v in vs)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))]

    def summary(self) -> dict[str, Any]:
        all_values = [v for vs in self.latencies.values() for v in vs]
        return {
            "requests": self.requests,
            "errors": len(self.errors),
            "per_second": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "median_ms": round(1000 * statistics.median(all_values), 1) if all_values else None,
            "p95_ms": round(1000 * self.p(0.95), 1),
            "p99_ms": round(1000 * self.p(0.99), 1),
        }


def run_load(base: str, paths: Sequence[str], clients: int, seconds: float) -> Load:
    """`clients` threads for `seconds`, each fetching `paths` round-robin (starting at its own offset)."""
    host = urlsplit(base)
    load = Load(latencies={p: [] for p in paths})
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    start_gate = threading.Barrier(clients)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
        start_gate.wait()
        i = n
        while time.monotonic() < stop:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                took = time.perf_counter() - t0
                with lock:
                    if response.status != 200 or not body:
                        load.errors.append(f"{path}: {response.status}")
                    else:
                        load.latencies[path].append(took)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    load.errors.append(f"{path}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.seconds = time.monotonic() - began
    return load


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """uvicorn serving `app` on a free 127.0.0.1 port in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", backlog=256)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
