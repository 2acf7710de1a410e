"""What the analyses send: the DuckDB-dialect text of every query a bill runs, recorded as it runs, for the
tests that render it for another engine (test_portable.py, test_athena.py)."""

from __future__ import annotations

from typing import Any


def record_queries(bill: Any) -> list[str]:
    """From now on, every query `bill` sends through `_query` is appended to the returned list (and run)."""
    sent: list[str] = []
    send = bill._query

    def record(query: str) -> Any:
        sent.append(query)
        return send(query)

    bill._query = record
    return sent
