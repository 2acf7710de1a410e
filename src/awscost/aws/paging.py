"""Token paging for the operations botocore ships no paginator for (pricing GetProducts as called here,
OpenSearch DescribeReservedInstances, Savings Plans DescribeSavingsPlansOfferingRates). Standard library only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def follow_token(
    call: Callable[..., dict[str, Any]], kwargs: dict[str, Any], items: str, token: str = "NextToken"
) -> Iterator[Any]:
    """Yield `resp[items]` of every page of `call(**kwargs)`, passing the `token` of each page to the next."""
    args = dict(kwargs)
    while True:
        resp = call(**args)
        yield from resp.get(items, [])
        next_token = resp.get(token)
        if not next_token:
            return
        args[token] = next_token
