"""A thin WSGI layer in front of moto that answers, from the scenario, the AWS operations moto lacks.

Sandbox only: nothing on a production path imports this module.

One dispatch registry maps (botocore service name, operation name) to a handler:

    def handler(params: dict, account: str, region: str) -> dict   # the output, as boto3 returns it

`params` is the request parsed against the real service model (moto's request parsers); the returned dict is
serialized in the service's own wire protocol (moto's response serializers: query/XML for ec2, rds,
elasticache, redshift; JSON for ce; REST-JSON for opensearch/es), so boto3 parses it like a real answer. A
handler signals an AWS error by raising `LayerError("ErrorCode", "message")`. During a call,
`current()` gives the `LayerContext` (the scenario and the simulated clock). Another sandbox module adds
operations with `register(service, operation, handler)` (or the `@handles(service, operation)` decorator) at
import time; a registered operation takes precedence over moto's own answer.

The account is the one moto would use for the request: MOTO_ACCOUNT_ID, else the `x-moto-account-id` header,
else the account of the request's access key (`moto.iam.models.get_account_id_from`, which maps assume-role
keys to the role's account).
"""

from __future__ import annotations

import contextvars
import io
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

from awscost.core import vocabulary
from awscost_sandbox.scenario import SandboxReservation, Scenario

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], str, str], dict[str, Any]]
HANDLERS: dict[tuple[str, str], Handler] = {}

# Sandbox modules that register handlers when imported; `load_extensions()` (called by SandboxServer.start)
# imports each, so a server answers every registered operation without its caller importing them. One that
# cannot be imported is an error, not an operation the sandbox silently stops answering.
EXTENSIONS: list[str] = [
    "awscost_sandbox.ce",
    "awscost_sandbox.ce_costs",
    "awscost_sandbox.ce_anomalies",
    "awscost_sandbox.budgets",
    "awscost_sandbox.pricing",
]


def load_extensions() -> list[str]:
    """Import the extension modules; returns their names."""
    from importlib import import_module

    for name in EXTENSIONS:
        import_module(name)
    return list(EXTENSIONS)


def register(service: str, operation: str, handler: Handler) -> None:
    """Answer `operation` of botocore service `service` (e.g. "ce", "GetReservationCoverage")."""
    _service_model(service).operation_model(operation)  # fails early on a misspelt name
    HANDLERS[(service, operation)] = handler
    _routes.cache_clear()


def unregister(service: str, operation: str) -> None:
    HANDLERS.pop((service, operation), None)
    _routes.cache_clear()


def handles(service: str, operation: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        register(service, operation, fn)
        return fn

    return deco


class LayerError(Exception):
    """An AWS error answer: `LayerError("InvalidParameterValue", "MaxRecords must be 20..100")`."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class LayerContext:
    scenario: Scenario
    clock: datetime  # the simulated current hour


_current: contextvars.ContextVar[LayerContext] = contextvars.ContextVar("sandbox_layer_context")


def current() -> LayerContext:
    """The scenario and simulated clock of the sandbox answering the request (valid inside a handler)."""
    return _current.get()


@cache
def _service_model(service: str) -> Any:
    # moto's own model classes: its parsers and serializers expect them.
    from moto.core.utils import get_service_model

    return get_service_model(service)


@dataclass(frozen=True)
class _Route:
    service: str
    operation: str
    method: str
    pattern: re.Pattern[str] | None  # rest protocols: the requestUri as a regex with named labels


@lru_cache(maxsize=1)
def _routes() -> dict[str, list[_Route]]:
    """Signing name -> routes of the registered operations (opensearch and es both sign as "es")."""
    out: dict[str, list[_Route]] = {}
    for service, operation in HANDLERS:
        model = _service_model(service)
        op = model.operation_model(operation)
        pattern = None
        if model.protocol.startswith("rest"):
            uri = op.http["requestUri"].split("?")[0]
            regex = re.sub(r"\\{(\w+)\\\+?}", r"(?P<\1>[^/]+)", re.escape(uri))
            pattern = re.compile(f"^{regex}$")
        out.setdefault(model.signing_name, []).append(_Route(service, operation, op.http["method"], pattern))
    return out


# The sandbox's own control API (not AWS): e.g. POST /awscost-sandbox/hour {"hour": "..."} moves the clock.
CONTROL_PREFIX = "/awscost-sandbox/"
Control = Callable[[str, str, bytes], tuple[int, dict[str, Any]]]  # (method, path, body) -> (status, JSON)

_CREDENTIAL = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/")


class ReservationLayer:
    """WSGI middleware: registered operations are answered here, everything else goes to moto's app."""

    def __init__(
        self, app: Callable[..., Any], context: LayerContext, control: Control | None = None
    ) -> None:
        self.app = app
        self.context = context
        self.control = control
        # Modeled API round-trip (AWSCOST_SANDBOX_LATENCY_MS): moto answers in about a millisecond, AWS in tens,
        # so without it the sandbox cannot show what parallel collection buys against the real thing.
        self.latency = float(os.environ.get("AWSCOST_SANDBOX_LATENCY_MS", "0") or 0) / 1000

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if self.control is not None and path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response)
        if self.latency:
            time.sleep(self.latency)
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        routes = _routes().get(match.group(3), []) if match else []
        if not routes or match is None:
            return self.app(environ, start_response)
        access_key, region = match.group(1), match.group(2)
        body = b""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again when the layer passes
        found = self._match(routes, environ, body)
        if found is None:
            return self.app(environ, start_response)
        route, url_params = found
        account = _account(environ, access_key)
        return self._answer(route, url_params, environ, body, account, region, start_response)

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        assert self.control is not None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ["PATH_INFO"][len(CONTROL_PREFIX) :]
        try:
            status, answer = self.control(environ["REQUEST_METHOD"], path, body)
        except Exception as exc:  # the sandbox's own API: say what went wrong, as JSON
            status, answer = 400, {"error": f"{type(exc).__name__}: {exc}"}
        payload = json.dumps(answer, default=str).encode("utf-8")
        start_response(
            f"{status} {'OK' if status < 400 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def _match(
        self, routes: list[_Route], environ: dict[str, Any], body: bytes
    ) -> tuple[_Route, dict[str, str]] | None:
        method, path = environ["REQUEST_METHOD"], unquote(environ.get("PATH_INFO", ""))
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = None
        for route in routes:
            model = _service_model(route.service)
            if route.pattern is not None:
                m = route.pattern.match(path)
                if m and method == route.method:
                    return route, m.groupdict()
            elif model.protocol == "json":
                if target == f"{model.metadata['targetPrefix']}.{route.operation}":
                    return route, {}
            else:
                if action is None:
                    form = dict(parse_qsl(body.decode("utf-8", "replace")))
                    form.update(parse_qsl(environ.get("QUERY_STRING", "")))
                    action = form.get("Action", "")
                if action == route.operation:
                    return route, {}
        return None

    def _answer(
        self,
        route: _Route,
        url_params: dict[str, str],
        environ: dict[str, Any],
        body: bytes,
        account: str,
        region: str,
        start_response: Callable[..., Any],
    ) -> Iterable[bytes]:
        from moto.core.parse import PROTOCOL_PARSERS, RequestDict
        from moto.core.serialize import get_serializer_class
        from werkzeug.datastructures import Headers, MultiDict

        model = _service_model(route.service)
        op = model.operation_model(route.operation)
        values: MultiDict[str, str] = MultiDict(
            parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        )
        if model.protocol in ("query", "ec2"):
            values = MultiDict(
                parse_qsl(body.decode("utf-8"), keep_blank_values=True) + list(values.items(multi=True))
            )
        headers = Headers(
            [(k[5:].replace("_", "-").title(), v) for k, v in environ.items() if k.startswith("HTTP_")]
        )
        request: RequestDict = {
            "body": body,
            "headers": headers,
            "method": environ["REQUEST_METHOD"],
            "url_params": url_params,
            "url_path": environ.get("PATH_INFO", ""),
            "values": values,
        }
        serializer = get_serializer_class(model.service_name, model.protocol)(op)
        token = _current.set(self.context)
        try:
            params = PROTOCOL_PARSERS[model.protocol](op).parse(request) if op.input_shape is not None else {}
            result = HANDLERS[(route.service, route.operation)](params, account, region)
            out = serializer.serialize(result)
            status = int(out["status_code"])
            payload = out["body"].encode("utf-8") if isinstance(out["body"], str) else out["body"]
            out_headers = dict(out["headers"])
        except Exception as exc:
            if not isinstance(exc, LayerError):
                # A bug in a handler: answer like AWS's internal error (not werkzeug's HTML page, which
                # botocore cannot parse) and keep the traceback for whoever runs the sandbox.
                log.exception("sandbox layer: %s.%s failed", route.service, route.operation)
                exc = LayerError("InternalFailure", f"sandbox layer: {type(exc).__name__}: {exc}", status=500)
            status, payload, out_headers = exc.status, _error_body(model.protocol, exc), {}
            if model.protocol in ("json", "rest-json"):
                out_headers["x-amzn-ErrorType"] = exc.code
        finally:
            _current.reset(token)
        out_headers.setdefault("Content-Type", _content_type(model.protocol))
        out_headers["Content-Length"] = str(len(payload))
        out_headers.setdefault("x-amzn-RequestId", "sandbox-layer")
        start_response(f"{status} {'OK' if status < 400 else 'Error'}", list(out_headers.items()))
        return [payload]


def _error_body(protocol: str, exc: LayerError) -> bytes:
    from xml.sax.saxutils import escape

    code, message = escape(exc.code), escape(exc.message)
    if protocol == "ec2":
        text = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            "<RequestID>sandbox-layer</RequestID></Response>"
        )
    elif protocol == "query":
        text = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>sandbox-layer</RequestId></ErrorResponse>"
        )
    else:
        text = json.dumps({"__type": exc.code, "message": exc.message})
    return text.encode("utf-8")


def _content_type(protocol: str) -> str:
    if protocol == "json":
        return "application/x-amz-json-1.1"
    if protocol == "rest-json":
        return "application/json"
    return "text/xml"


def _account(environ: dict[str, Any], access_key: str) -> str:
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


# --- paging ---------------------------------------------------------------------------------------------
_Item = TypeVar("_Item")


def page(
    items: Sequence[_Item],
    params: dict[str, Any],
    *,
    limit_key: str,
    token_key: str,
    out_token_key: str | None = None,
    default: int = 100,
    minimum: int = 20,
    maximum: int = 100,
) -> tuple[list[_Item], dict[str, Any]]:
    """One page of `items` and the token entry ({Marker: ...} or {}) as the service would page them."""
    limit = params.get(limit_key)
    if limit is None:
        limit = default
    elif not minimum <= int(limit) <= maximum:
        raise LayerError("InvalidParameterValue", f"{limit_key} must be between {minimum} and {maximum}")
    token = params.get(token_key)
    try:
        offset = int(token) if token else 0
    except ValueError:
        raise LayerError("InvalidParameterValue", f"invalid {token_key} {token!r}") from None
    chunk = list(items[offset : offset + int(limit)])
    more = offset + int(limit) < len(items)
    return chunk, ({out_token_key or token_key: str(offset + int(limit))} if more else {})


# --- reservation inventories -------------------------------------------------------------------------------
def _ec2_product(os_name: str | None) -> str:
    """The reservation's ProductDescription, as AWS names the OS product (awscost's vocabulary knows it)."""
    row = vocabulary.os_entry(os_name or "linux")
    return row.platform if row is not None else "Linux/UNIX"


def _rds_product(engine: str | None) -> str:
    row = vocabulary.engine_entry(engine or "")
    return row.reserved if row is not None else (engine or "")


OPENSEARCH_PAYMENT = {
    "No Upfront": "NO_UPFRONT",
    "Partial Upfront": "PARTIAL_UPFRONT",
    "All Upfront": "ALL_UPFRONT",
}


def _reservations(kind: str, account: str, region: str) -> list[tuple[SandboxReservation, str]]:
    """The account's reservations of `kind` in `region` started by the simulated clock, with their state."""
    ctx = current()
    out = []
    for r in ctx.scenario.reservations():
        if r.kind == kind and r.account == account and r.region == region and r.start <= ctx.clock:
            out.append((r, "active" if r.active_at(ctx.clock) else "retired"))
    return out


def _f(value: Decimal) -> float:
    return float(value)


def _recurring(r: SandboxReservation, amount_key: str, freq_key: str) -> list[dict[str, Any]]:
    return [{amount_key: _f(r.usage_price), freq_key: "Hourly"}] if r.usage_price else []


def _ec2_filters(params: dict[str, Any]) -> dict[str, set[str]]:
    return {f["Name"]: set(f.get("Values", [])) for f in params.get("Filters", [])}


@handles("ec2", "DescribeReservedInstances")
def ec2_reserved_instances(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    filters = _ec2_filters(params)
    wanted_ids = set(params.get("ReservedInstancesIds") or [])
    out = []
    for r, state in _reservations("ri-ec2", account, region):
        item = {
            "ReservedInstancesId": r.id,
            "InstanceType": r.type,
            "Start": r.start,
            "End": r.end,
            "Duration": r.duration_seconds,
            "UsagePrice": 0.0,
            "FixedPrice": _f(r.fixed_price),
            "InstanceCount": r.count,
            "ProductDescription": _ec2_product(r.os),
            "State": state,
            "InstanceTenancy": "default",
            "CurrencyCode": "USD",
            "OfferingType": r.offering_type,
            "OfferingClass": "standard",
            "RecurringCharges": _recurring(r, "Amount", "Frequency"),
            "Scope": r.scope,
        }
        if r.az:
            item["AvailabilityZone"] = r.az
        checks = {
            "state": state,
            "reserved-instances-id": r.id,
            "instance-type": r.type,
            "scope": r.scope,
            "product-description": item["ProductDescription"],
            "availability-zone": r.az or "",
        }
        if wanted_ids and r.id not in wanted_ids:
            continue
        if any(name in checks and checks[name] not in values for name, values in filters.items()):
            continue
        if params.get("OfferingClass") and params["OfferingClass"] != "standard":
            continue
        out.append(item)
    return {"ReservedInstances": out}


@handles("rds", "DescribeReservedDBInstances")
def rds_reserved_db_instances(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    items = []
    for r, state in _reservations("ri-rds", account, region):
        if params.get("ReservedDBInstanceId") and params["ReservedDBInstanceId"] != r.id:
            continue
        if params.get("DBInstanceClass") and params["DBInstanceClass"] != r.type:
            continue
        if "MultiAZ" in params and bool(params["MultiAZ"]) != r.multi_az:
            continue
        items.append(
            {
                "ReservedDBInstanceId": r.id,
                "ReservedDBInstancesOfferingId": f"offering-{r.id}",
                "DBInstanceClass": r.type,
                "StartTime": r.start,
                "Duration": r.duration_seconds,
                "FixedPrice": _f(r.fixed_price),
                "UsagePrice": 0.0,
                "CurrencyCode": "USD",
                "DBInstanceCount": r.count,
                "ProductDescription": _rds_product(r.engine),
                "OfferingType": r.offering_type,
                "MultiAZ": r.multi_az,
                "State": state,
                "RecurringCharges": _recurring(r, "RecurringChargeAmount", "RecurringChargeFrequency"),
                "ReservedDBInstanceArn": f"arn:aws:rds:{region}:{account}:ri:{r.id}",
                "LeaseId": r.id[-12:],
            }
        )
    chunk, token = page(items, params, limit_key="MaxRecords", token_key="Marker")
    return {"ReservedDBInstances": chunk, **token}


@handles("elasticache", "DescribeReservedCacheNodes")
def elasticache_reserved_nodes(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    items = []
    for r, state in _reservations("ri-elasticache", account, region):
        if params.get("ReservedCacheNodeId") and params["ReservedCacheNodeId"] != r.id:
            continue
        if params.get("CacheNodeType") and params["CacheNodeType"] != r.type:
            continue
        items.append(
            {
                "ReservedCacheNodeId": r.id,
                "ReservedCacheNodesOfferingId": f"offering-{r.id}",
                "CacheNodeType": r.type,
                "StartTime": r.start,
                "Duration": r.duration_seconds,
                "FixedPrice": _f(r.fixed_price),
                "UsagePrice": 0.0,
                "CacheNodeCount": r.count,
                "ProductDescription": r.engine or "redis",
                "OfferingType": r.offering_type,
                "State": state,
                "RecurringCharges": _recurring(r, "RecurringChargeAmount", "RecurringChargeFrequency"),
                "ReservationARN": f"arn:aws:elasticache:{region}:{account}:reserved-instance:{r.id}",
            }
        )
    chunk, token = page(items, params, limit_key="MaxRecords", token_key="Marker")
    return {"ReservedCacheNodes": chunk, **token}


@handles("redshift", "DescribeReservedNodes")
def redshift_reserved_nodes(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    items = []
    for r, state in _reservations("ri-redshift", account, region):
        if params.get("ReservedNodeId") and params["ReservedNodeId"] != r.id:
            continue
        items.append(
            {
                "ReservedNodeId": r.id,
                "ReservedNodeOfferingId": f"offering-{r.id}",
                "NodeType": r.type,
                "StartTime": r.start,
                "Duration": r.duration_seconds,
                "FixedPrice": _f(r.fixed_price),
                "UsagePrice": 0.0,
                "CurrencyCode": "USD",
                "NodeCount": r.count,
                "State": state,
                "OfferingType": r.offering_type,
                "RecurringCharges": _recurring(r, "RecurringChargeAmount", "RecurringChargeFrequency"),
                "ReservedNodeOfferingType": "Regular",
            }
        )
    chunk, token = page(items, params, limit_key="MaxRecords", token_key="Marker")
    return {"ReservedNodes": chunk, **token}


def _search_reservations(
    params: dict[str, Any], account: str, region: str, legacy: bool
) -> list[dict[str, Any]]:
    items = []
    for r, state in _reservations("ri-es", account, region):
        rid = params.get("ReservedInstanceId") or params.get("ReservedElasticsearchInstanceId")
        if rid and rid != r.id:
            continue
        # Each API names instance types in its own family: r6g.large.search vs r6g.large.elasticsearch.
        family = r.type.rsplit(".", 1)[0]
        item: dict[str, Any] = {
            "ReservationName": r.id,
            "StartTime": r.start,
            "Duration": r.duration_seconds,
            "FixedPrice": _f(r.fixed_price),
            "UsagePrice": 0.0,
            "CurrencyCode": "USD",
            "State": state.upper(),
            "PaymentOption": OPENSEARCH_PAYMENT.get(r.offering_type, "NO_UPFRONT"),
            "RecurringCharges": _recurring(r, "RecurringChargeAmount", "RecurringChargeFrequency"),
        }
        if legacy:
            item.update(
                {
                    "ReservedElasticsearchInstanceId": r.id,
                    "ReservedElasticsearchInstanceOfferingId": f"offering-{r.id}",
                    "ElasticsearchInstanceType": f"{family}.elasticsearch",
                    "ElasticsearchInstanceCount": r.count,
                }
            )
        else:
            item.update(
                {
                    "ReservedInstanceId": r.id,
                    "BillingSubscriptionId": int(_digits(r.id)),
                    "ReservedInstanceOfferingId": f"offering-{r.id}",
                    "InstanceType": f"{family}.search",
                    "InstanceCount": r.count,
                }
            )
        items.append(item)
    return items


def _digits(text: str) -> str:
    return str(int.from_bytes(text.encode()[-6:], "big"))


@handles("opensearch", "DescribeReservedInstances")
def opensearch_reserved_instances(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    items = _search_reservations(params, account, region, legacy=False)
    chunk, token = page(items, params, limit_key="MaxResults", token_key="NextToken", minimum=1)
    return {"ReservedInstances": chunk, **token}


@handles("es", "DescribeReservedElasticsearchInstances")
def es_reserved_instances(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    items = _search_reservations(params, account, region, legacy=True)
    chunk, token = page(items, params, limit_key="MaxResults", token_key="NextToken", minimum=1)
    return {"ReservedElasticsearchInstances": chunk, **token}


# --- Savings Plans -----------------------------------------------------------------------------------------
SAVINGS_PLAN_FILTERS = {
    "region": lambda p: p.region or "",
    "ec2-instance-family": lambda p: p.family or "",
    "savings-plan-type": lambda p: p.type,
    "payment-option": lambda p: p.payment,
    "term": lambda p: str(p.term_seconds),
    "commitment": lambda p: str(p.commitment),
}


def _savings_plan_state(plan: Any, clock: datetime) -> str:
    if plan.active_at(clock):
        return "active"
    return "queued" if clock < plan.start else "retired"


def _iso_ms(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@handles("savingsplans", "DescribeSavingsPlans")
def describe_savings_plans(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """The account's Savings Plans with their state at the simulated clock (the API is global: one answer
    whatever the region the request was signed for)."""
    ctx = current()
    states = set(params.get("states") or [])
    ids = set(params.get("savingsPlanIds") or [])
    arns = set(params.get("savingsPlanArns") or [])
    filters = {f["name"]: set(f.get("values") or []) for f in params.get("filters") or []}
    unknown = sorted(set(filters) - set(SAVINGS_PLAN_FILTERS))
    if unknown:
        raise LayerError("ValidationException", f"the sandbox does not filter Savings Plans by {unknown}")
    items = []
    for plan in ctx.scenario.savings_plans():
        state = _savings_plan_state(plan, ctx.clock)
        if plan.account != account or (states and state not in states):
            continue
        if (ids and plan.id not in ids) or (arns and plan.arn not in arns):
            continue
        if any(SAVINGS_PLAN_FILTERS[name](plan) not in values for name, values in filters.items()):
            continue
        hours = Decimal(plan.term_seconds) / 3600
        paid_upfront = {"All Upfront": Decimal(1), "Partial Upfront": Decimal("0.5")}.get(
            plan.payment, Decimal(0)
        )
        item = {
            "offeringId": f"offering-{plan.type}-{plan.term_seconds}-{plan.payment.replace(' ', '')}",
            "savingsPlanId": plan.id,
            "savingsPlanArn": plan.arn,
            "description": f"{plan.term_seconds // 31536000} year {plan.payment} {plan.type} Savings Plan",
            "start": _iso_ms(plan.start),
            "end": _iso_ms(plan.end),
            "state": state,
            "savingsPlanType": plan.type,
            "paymentOption": plan.payment,
            "productTypes": ["EC2", "Fargate", "Lambda"] if plan.type == "Compute" else ["EC2"],
            "currency": "USD",
            "commitment": str(plan.commitment),
            "upfrontPaymentAmount": str((plan.commitment * hours * paid_upfront).quantize(Decimal("0.01"))),
            "recurringPaymentAmount": str(plan.commitment * (1 - paid_upfront)),
            "termDurationInSeconds": plan.term_seconds,
        }
        if plan.type == "EC2Instance":
            item.update({"region": plan.region, "ec2InstanceFamily": plan.family})
        items.append(item)
    chunk, token = page(items, params, limit_key="maxResults", token_key="nextToken", minimum=1, maximum=1000)
    return {"savingsPlans": chunk, **token}
