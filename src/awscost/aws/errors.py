"""One line a person can act on for any failed AWS call: shared by the collector's summary, the price
fetcher's warnings and anything else that reports per-call failures. Standard library + botocore only."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from botocore.parsers import ResponseParserError

from awscost.core.errors import AwsCostError

REASON_MAX = 200


def failure_reason(exc: BaseException) -> str:
    """One line a person can act on: the AWS error code and message, or what could not be reached.

    Whitespace is collapsed and the line capped: an endpoint that answers with an HTML error page (a proxy, or
    an emulator lacking the API) must not flood the summary table."""
    text = _failure_text(exc)
    text = " ".join(text.split())
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        tail = f" (after {attempts} retries)" if attempts else ""
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".rstrip(": ") + tail
    if isinstance(exc, EndpointConnectionError):
        return f"endpoint unreachable: {exc}"
    if isinstance(exc, AwsCostError):
        return exc.render()
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ResponseParserError):
        # Not our bug: the endpoint answered something that is not the API's response (e.g. an HTML page).
        return f"unparseable response from the endpoint: {exc}"
    # A bug or an unexpected response shape: isolated like the rest, but named as what it is.
    return f"internal error {type(exc).__name__}: {exc}"
