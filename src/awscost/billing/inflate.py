"""A gzip CSV handed to DuckDB already inflated, through a pipe fed by ISA-L in a thread.

DuckDB inflates a gzip CSV with zlib on the same thread that parses it, one after the other: measured on a
1 M-row CUR (72 MB gzip, 784 MB inflated) zlib takes ~3 s alone, ISA-L's igzip (the `isal` package,
Intel's SIMD inflate) 0.7 s. Fed through a named pipe, inflating runs beside the parse on the second core
(isal and the pipe write release the GIL, DuckDB's query too) and DuckDB sees the very bytes the file holds:
the same strict scan, the same line numbers in its errors, the same CRLF and ragged-row rules.

A pipe is read once, so it serves a single scan: `billing load` (one COPY per file) uses it; a one-shot
query, which may scan its files several times, reads them with DuckDB's own gzip. Without `isal` installed,
or with AWSCOST_INFLATE=duckdb, DuckDB inflates as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

_CHUNK = 1 << 20


def available() -> bool:
    if os.environ.get("AWSCOST_INFLATE", "").strip().lower() == "duckdb":
        return False
    try:
        import isal.igzip  # noqa: F401
    except ImportError:
        return False
    return True


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


@contextlib.contextmanager
def inflated(path: Path) -> Iterator[Path]:
    """A FIFO that yields the inflated bytes of gzip file `path` to whoever opens it first; the feeding
    thread's error (a corrupt or truncated gzip) is raised on exit, so the caller can tell a bad file from
    a parse error. The pipe and its directory are gone afterwards, whatever happened."""
    from isal import igzip

    tmp = Path(tempfile.mkdtemp(prefix="awscost-inflate-"))
    fifo = tmp / "inflated.csv"
    os.mkfifo(fifo)
    failure: list[BaseException] = []
    done = threading.Event()

    def feed() -> None:
        try:
            # O_RDWR would never block but would also keep the pipe open for reading: the reader could then
            # never see end of file. A plain open blocks until DuckDB opens its end (or `_unblock` does).
            with igzip.open(path, "rb") as src, open(fifo, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
        except BrokenPipeError:
            pass  # the reader stopped early (its own error, raised there)
        except BaseException as exc:  # a bad gzip: told by the caller, with the file's name
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=feed, name="awscost-inflate", daemon=True)
    thread.start()
    try:
        yield fifo
    finally:
        _unblock(fifo, done)
        thread.join()
        shutil.rmtree(tmp, ignore_errors=True)
    if failure:
        raise failure[0]


def _unblock(fifo: Path, done: threading.Event) -> None:
    """When the reader failed before reading everything (or never opened the pipe), the feeder is stuck in
    open() or write(): open the read end and drain it so the feeder can finish."""
    if done.is_set():
        return
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        while not done.wait(0):
            try:
                if not os.read(fd, _CHUNK):
                    done.wait(0.01)
            except BlockingIOError:
                done.wait(0.01)
    finally:
        os.close(fd)
