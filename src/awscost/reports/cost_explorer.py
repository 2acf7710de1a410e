"""Cost Explorer as a report's source (`--source ce`): the rows of a `CostCube` from GetCostAndUsage, and
GetCostForecast's month-end figure.

One fetch asks, for the days [start, end) (End exclusive, as Cost Explorer), with both metrics in every call
(AmortizedCost -> `CostRow.effective`, UnblendedCost -> `CostRow.billed`) and the audience's scope as the
Filter (LINKED_ACCOUNT values and tags, combined with And):

    1. GroupBy [LINKED_ACCOUNT, RECORD_TYPE]      what each account cost each day, per record type: the
                                                  totals every other answer is reconciled to
    2. GroupBy [LINKED_ACCOUNT, SERVICE]          once per charge kind the first answer holds (Usage, Fee,
       Filter RECORD_TYPE in that kind's types    Tax, Credit, Refund, Adjustment): the kind per service
    3. GroupBy [LINKED_ACCOUNT, TAG:key]          tag coverage of usage (`TagRow`; `key$` is untagged)
       Filter RECORD_TYPE in the usage types

Cost Explorer's SERVICE names are not the bill's: it splits EC2 into "Amazon Elastic Compute Cloud - Compute"
(instance-hours) and "EC2 - Other" (EBS, NAT gateways, Elastic IPs, data transfer ...), and books all tax
under one "Tax". The rows carry the bill's names (`bill_service`), so `--source ce` and `--source billing`
list the same services; the cube's note on ServiceName says which names were folded.

Each record type belongs to one charge kind, so the answers of step 2 partition step 1's: per (day, account,
kind) whatever the per-service rows do not add up to (Cost Explorer rounds per group) is a row without a
service, and the rows of a (day, account) sum exactly to Cost Explorer's total for it. A commitment fee's
amortized amount (the unused part of a reservation or Savings Plan) is a Usage row beside the fee, as the
bill's FOCUS rows book it; the fee row carries what was billed.

Every request is answered once per run (`CeCache`): Cost Explorer charges $0.01 a request, and twenty
audiences over the same accounts ask the same questions. Amounts are Decimal from Cost Explorer's strings.
Throttling is retried by the client's own retries (`awscost.aws.session.client_config`); what still fails is
an `AwsAccessError` naming the operation. Boto3 and the standard library only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from awscost.billing.cube import CostRow, TagRow
from awscost.core.errors import AwsAccessError, InputError

if TYPE_CHECKING:
    from awscost.billing.cube import CostCube

SOURCE = "Cost Explorer"
WHERE = "ce us-east-1"
METRICS = {"EffectiveCost": "AmortizedCost", "BilledCost": "UnblendedCost"}
FORECAST_METRICS = {"EffectiveCost": "AMORTIZED_COST", "BilledCost": "UNBLENDED_COST"}
REQUEST_METRICS = ["AmortizedCost", "UnblendedCost"]
PREDICTION_INTERVAL = 80

# RECORD_TYPE values -> the cube's charge kind. Cost Explorer's API writes the CUR's line item types
# (RIFee, DiscountedUsage ...); its console, and some answers, the labels ("Recurring reservation fee"):
# both are looked up, without case and spaces. Discounts are usage, as the CUR reader books them
# (ChargeCategory Usage); a support charge is a Fee line in the CUR, booked as a purchase there too.
_KINDS = {
    "Usage": ("Usage",),
    "Reservation applied usage": ("DiscountedUsage",),
    "Savings Plan covered usage": ("SavingsPlanCoveredUsage",),
    "Savings Plan negation": ("SavingsPlanNegation",),
    "Bundled discount": ("BundledDiscount", "Discount"),
    "Enterprise Discount Program discount": ("EdpDiscount",),
    "Private rate discount": ("PrivateRateDiscount",),
    "Distributor discount": ("DistributorDiscount",),
    "RI volume discount": ("RiVolumeDiscount",),
    "Solution Provider Program discount": ("SppDiscount",),
}
_FEES = {
    "Recurring reservation fee": ("RIFee",),
    "Upfront reservation fee": ("Fee",),
    "Savings Plan recurring fee": ("SavingsPlanRecurringFee",),
    "Savings Plan upfront fee": ("SavingsPlanUpfrontFee",),
    "Support fee": ("Support",),
}
_APART = {"Tax": ("Tax",), "Credit": ("Credit",), "Refund": ("Refund",)}


def _norm(text: str) -> str:
    return "".join(text.split()).lower()


RECORD_KIND: dict[str, str] = {}
for _table, _kind in ((_KINDS, "Usage"), (_FEES, "Fee")):
    for _label, _tokens in _table.items():
        for _name in (_label, *_tokens):
            RECORD_KIND[_norm(_name)] = _kind
for _label, _tokens in _APART.items():
    RECORD_KIND[_norm(_label)] = _label
# What Cost Explorer may add later is kept apart from usage (never inflates it) as an Adjustment.
UNKNOWN_KIND = "Adjustment"


def charge_kind(record_type: str) -> str:
    """The cube's ChargeKind of a Cost Explorer RECORD_TYPE value."""
    return RECORD_KIND.get(_norm(record_type), UNKNOWN_KIND)


# Cost Explorer's SERVICE -> the bill's service (CUR product/ProductName, FOCUS ServiceName). Only names that
# differ; any other (Amazon Relational Database Service, AWS Lambda, one Cost Explorer adds later) is kept as
# Cost Explorer writes it. "Amazon Elastic Compute Cloud - Compute" is the console's "EC2-Instances"; the
# rest of the AmazonEC2 product code is "EC2 - Other" (the Vantage handbook's EC2-Other page lists EBS
# volumes and snapshots, CPU credits, NAT gateways, data transfer, idle Elastic IPs).
EC2 = "Amazon Elastic Compute Cloud"
EC2_COMPUTE = "Amazon Elastic Compute Cloud - Compute"
EC2_OTHER = "EC2 - Other"
SERVICE_NAMES = {EC2_COMPUTE: EC2, EC2_OTHER: EC2}
WHAT_IT_HOLDS = {
    EC2_COMPUTE: "instance-hours",
    EC2_OTHER: "EBS volumes and snapshots, NAT gateways, Elastic IPs, data transfer, CPU credits",
}
# Cost Explorer adds all taxes into one service, "Tax": the charge kind Tax (from RECORD_TYPE) already says
# it, and the bill's per-service split of tax is not in the answer, so the row has no service.
TAX_SERVICE = "Tax"


def bill_service(service: str, kind: str) -> str | None:
    """The bill's name of a Cost Explorer SERVICE value, in a row of charge kind `kind`."""
    if service == TAX_SERVICE and kind == "Tax":
        return None
    return SERVICE_NAMES.get(service, service)


def service_note(services: Mapping[str, str | None]) -> str | None:
    """What the report says of the names it mapped (`services`: each Cost Explorer SERVICE seen -> the
    cube's name); None when every name is the bill's."""
    folded: dict[str, list[str]] = defaultdict(list)
    for ce_name, name in sorted(services.items()):
        if name is not None and name != ce_name:
            held = WHAT_IT_HOLDS.get(ce_name)
            folded[name].append(f"'{ce_name}' ({held})" if held else f"'{ce_name}'")
    parts = [f"{' and '.join(names)} counted under {name}" for name, names in sorted(folded.items())]
    if TAX_SERVICE in services and services[TAX_SERVICE] is None:
        parts.append("its 'Tax' is the charge Tax, without the bill's split per service")
    if not parts:
        return None
    return f"Service names from {SOURCE}, mapped to the bill's: {'; '.join(parts)}."


# What a report built on Cost Explorer lacks, per dimension of the cube (the sections say it in place).
MISSING = {
    "UsageType": f"{SOURCE} is asked per account and service (two group-bys a request), not per usage type",
    "RegionId": f"{SOURCE} is asked per account and service (two group-bys a request), not per region",
    "ResourceId": f"{SOURCE} has no resource-level history beyond 14 days (and that only with its opt-in "
    "resource-level data); use --source billing for resources",
}


def ce_tag_key(key: str) -> str:
    """Cost Explorer names user tags without the bill's `user:` prefix (`user:Team` is `Team`)."""
    return key.removeprefix("user:")


# ------------------------------------------------------------------------------------------------ calls
class CeCache:
    """Every Cost Explorer answer of a run, by operation and request: the same request is one call."""

    def __init__(self) -> None:
        self._pages: dict[str, list[Mapping[str, Any]]] = {}
        self.calls = 0  # requests sent (pages included), each billed by AWS

    def pages(self, client: Any, operation: str, request: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """All pages of `operation(**request)` (NextPageToken followed), from the cache when asked before."""
        key = f"{operation} {json.dumps(request, sort_keys=True, default=str)}"
        found = self._pages.get(key)
        if found is not None:
            return found
        call = getattr(client, _snake(operation))
        args = dict(request)
        out: list[Mapping[str, Any]] = []
        while True:
            self.calls += 1
            try:
                resp = call(**args)
            except (BotoCoreError, ClientError) as exc:
                raise _access_error(operation, exc) from None
            out.append(resp)
            token = resp.get("NextPageToken")
            if not token:
                break
            args["NextPageToken"] = token
        self._pages[key] = out
        return out


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


_HINTS = {
    "AccessDeniedException": "the caller needs ce:{op} (Cost Explorer is answered to the management "
    "account, or to member accounts the payer allowed)",
    "DataUnavailableException": "Cost Explorer has no data for these days yet (enabled less than a day ago, "
    "or the days are outside its history)",
    "LimitExceededException": "Cost Explorer's request rate was exceeded even after the client's retries; "
    "try again later",
    "BillExpirationException": "the requested days are older than Cost Explorer keeps",
    "RequestChangedException": "the request changed between pages; run again",
}


def _access_error(operation: str, exc: BotoCoreError | ClientError) -> AwsAccessError:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Error"))
        hint = _HINTS.get(code)
        return AwsAccessError(
            f"Cost Explorer {operation} failed: {code}: {err.get('Message', '')}".rstrip(": "),
            where=WHERE,
            hint=hint.format(op=operation) if hint else None,
        )
    return AwsAccessError(f"Cost Explorer {operation} failed: {exc}", where=WHERE)


# ------------------------------------------------------------------------------------------------ fetch
@dataclass(frozen=True)
class CeCosts:
    """Cost Explorer's answer for the days [start, end): the cube's rows, the tag rows of `tag_key`, the
    requests this fetch sent (answers from the run's cache cost none), and when it was asked."""

    start: date
    end: date
    metric: str
    rows: list[CostRow]
    tag_rows: list[TagRow]
    calls: int
    as_of: datetime
    tag_key: str | None = None
    source: str = SOURCE
    record_types: dict[str, str] = field(default_factory=dict)  # each RECORD_TYPE seen -> its ChargeKind
    services: dict[str, str | None] = field(default_factory=dict)  # each SERVICE seen -> the cube's name

    def cube(self) -> CostCube:
        """The rows as a `CostCube` (without usage type, region and resource: Cost Explorer's two
        group-bys leave them out, and the cube's notes say so), services by the bill's names."""
        from awscost.billing.cube import CostCube

        notes = dict(MISSING)
        named = service_note(self.services)
        if named:
            notes["ServiceName"] = named

        return CostCube.from_rows(
            self.rows,
            start=self.start,
            end=self.end,
            source=self.source,
            tag_rows=self.tag_rows,
            tag_keys=[self.tag_key] if self.tag_key else (),
            as_of=self.as_of,
            notes=notes,
        )


def _scope_filter(
    accounts: frozenset[str] | None, tags: Mapping[str, frozenset[str]] | None
) -> list[dict[str, Any]] | None:
    """The scope as Filter terms (to be And-ed); None when the scope holds nothing (Cost Explorer refuses
    an empty value list, and the answer is empty anyway)."""
    terms: list[dict[str, Any]] = []
    if accounts is not None:
        if not accounts:
            return None
        terms.append({"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": sorted(accounts)}})
    for key, values in sorted((tags or {}).items()):
        if not values:
            return None
        named = sorted(v for v in values if v)
        options: list[dict[str, Any]] = []
        if named:
            options.append({"Tags": {"Key": ce_tag_key(key), "Values": named}})
        if "" in values:  # untagged in scope: Cost Explorer's ABSENT match
            options.append({"Tags": {"Key": ce_tag_key(key), "MatchOptions": ["ABSENT"]}})
        terms.append(options[0] if len(options) == 1 else {"Or": options})
    return terms


def _filter(terms: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"And": terms}


def _request(
    start: date, end: date, group_by: list[dict[str, str]], terms: list[dict[str, Any]]
) -> dict[str, Any]:
    req: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": list(REQUEST_METRICS),
        "GroupBy": group_by,
    }
    flt = _filter(terms)
    if flt is not None:
        req["Filter"] = flt
    return req


def _record_types(types: Iterable[str]) -> dict[str, Any]:
    return {"Dimensions": {"Key": "RECORD_TYPE", "Values": sorted(types)}}


_Cell = tuple[date, str, str, str]  # day, currency, account, key


def _groups(pages: list[Mapping[str, Any]]) -> Iterable[tuple[date, list[str], Decimal, Decimal, str]]:
    """(day, group keys, amortized, unblended, currency) of every group of every page."""
    for page in pages:
        for by_time in page.get("ResultsByTime", []):
            day = date.fromisoformat(str(by_time["TimePeriod"]["Start"])[:10])
            for group in by_time.get("Groups", []):
                metrics = group.get("Metrics") or {}
                amortized = metrics.get("AmortizedCost") or {}
                unblended = metrics.get("UnblendedCost") or {}
                currency = str(amortized.get("Unit") or unblended.get("Unit") or "USD")
                yield (
                    day,
                    [str(k) for k in group.get("Keys", [])],
                    _money(amortized.get("Amount")),
                    _money(unblended.get("Amount")),
                    currency,
                )


def _money(value: Any) -> Decimal:
    # Cost Explorer writes amounts as strings; never through float.
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def _names(pages: list[Mapping[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for page in pages:
        for dva in page.get("DimensionValueAttributes", []) or []:
            name = (dva.get("Attributes") or {}).get("description")
            if dva.get("Value") and name:
                out[str(dva["Value"])] = str(name)
    return out


def fetch_costs(
    client: Any,
    start: date,
    end: date,
    *,
    metric: str = "EffectiveCost",
    accounts: frozenset[str] | None = None,
    tags: Mapping[str, frozenset[str]] | None = None,
    tag_key: str | None = None,
    cache: CeCache | None = None,
    now: Callable[[], datetime] | None = None,
) -> CeCosts:
    """Cost Explorer's cost of the scope for the days [start, end), per day, account, service and charge
    kind (both metrics), and with `tag_key` its usage per tag value. `metric` is the one the report reads
    (validated and recorded: both metrics come in the same requests)."""
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}", param="metric", hint=", ".join(METRICS))
    if not start < end:
        raise InputError(f"the period {start}..{end} holds no day (End is exclusive)", param="end")
    cache = cache if cache is not None else CeCache()
    before = cache.calls
    asked = (now or (lambda: datetime.now(UTC)))()
    as_of = min(asked, datetime.combine(end, time(), tzinfo=UTC))
    scope = _scope_filter(accounts, tags)
    if scope is None:
        return CeCosts(start, end, metric, [], [], 0, as_of, tag_key)

    by_type = cache.pages(
        client,
        "GetCostAndUsage",
        _request(start, end, [_dim("LINKED_ACCOUNT"), _dim("RECORD_TYPE")], scope),
    )
    names = _names(by_type)
    totals: dict[_Cell, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    kinds: dict[str, set[str]] = defaultdict(set)
    seen: dict[str, str] = {}
    services: dict[str, str | None] = {}
    for day, keys, amortized, unblended, currency in _groups(by_type):
        account, record_type = keys[0], keys[1]
        kind = charge_kind(record_type)
        seen[record_type] = kind
        kinds[kind].add(record_type)
        cell = totals[(day, currency, account, kind)]
        cell[0] += amortized
        cell[1] += unblended

    rows: list[CostRow] = []
    for kind in sorted(kinds):
        pages = cache.pages(
            client,
            "GetCostAndUsage",
            _request(
                start, end, [_dim("LINKED_ACCOUNT"), _dim("SERVICE")], [*scope, _record_types(kinds[kind])]
            ),
        )
        names.update(_names(pages))
        rest = {c: list(v) for c, v in totals.items() if c[3] == kind}
        for day, keys, amortized, unblended, currency in _groups(pages):
            account, ce_name = keys[0], keys[1]
            service = services[ce_name] = bill_service(ce_name, kind)
            rows += _rows(day, currency, account, service, kind, amortized, unblended)
            left = rest.setdefault((day, currency, account, kind), [Decimal(0), Decimal(0)])
            left[0] -= amortized
            left[1] -= unblended
        # What the per-service answer leaves of the kind's total (rounding per group): a row without a
        # service, so the rows of a day and account add up to Cost Explorer's own total.
        for (day, currency, account, _), (amortized, unblended) in sorted(rest.items()):
            if amortized or unblended:
                rows += _rows(day, currency, account, None, kind, amortized, unblended)
    rows = [replace(r, account_name=names.get(r.account_id)) for r in rows]
    rows.sort(key=lambda r: (r.day, r.account_id, r.charge_kind, r.service or ""))

    tag_rows: list[TagRow] = []
    usage_types = kinds.get("Usage")
    if tag_key and usage_types:
        pages = cache.pages(
            client,
            "GetCostAndUsage",
            _request(
                start,
                end,
                [_dim("LINKED_ACCOUNT"), {"Type": "TAG", "Key": ce_tag_key(tag_key)}],
                [*scope, _record_types(usage_types)],
            ),
        )
        for day, keys, amortized, unblended, currency in _groups(pages):
            account, tagged = keys[0], keys[1]
            # "Team$web" is tagged web; "Team$" is untagged.
            value = tagged.split("$", 1)[1] if "$" in tagged else tagged
            tag_rows.append(TagRow(day, currency, account, tag_key, value, amortized, unblended))
        # The unused commitment (a fee's amortized part) is usage in the rows above, and carries no tag:
        # counted untagged, so the coverage's total is the usage the cube's rows hold, as from the bill.
        for (day, currency, account, kind), (amortized, _) in sorted(totals.items()):
            if kind == "Fee" and amortized:
                tag_rows.append(TagRow(day, currency, account, tag_key, "", amortized, Decimal(0)))
    return CeCosts(
        start,
        end,
        metric,
        rows,
        tag_rows,
        cache.calls - before,
        as_of,
        tag_key,
        record_types=dict(sorted(seen.items())),
        services=dict(sorted(services.items())),
    )


def _dim(key: str) -> dict[str, str]:
    return {"Type": "DIMENSION", "Key": key}


def _rows(
    day: date,
    currency: str,
    account: str,
    service: str | None,
    kind: str,
    amortized: Decimal,
    unblended: Decimal,
) -> list[CostRow]:
    if kind != "Fee" or not amortized:
        return [CostRow(day, currency, account, service, amortized, unblended, kind)]
    # A fee's amortized amount is the commitment left unused: a Usage row of its own, as FOCUS books it
    # (the Purchase row's EffectiveCost is 0), so usage-only figures match the bill's.
    return [
        CostRow(day, currency, account, service, Decimal(0), unblended, kind),
        CostRow(day, currency, account, service, amortized, Decimal(0), "Usage"),
    ]


# ------------------------------------------------------------------------------------------------ forecast
def forecast(
    client: Any,
    start: date,
    end: date,
    metric: str,
    *,
    cache: CeCache | None = None,
    expression: Mapping[str, Any] | None = None,
) -> tuple[Decimal, Decimal, Decimal]:
    """Cost Explorer's forecast of the whole scope (or of what `expression`, a Cost Explorer Filter, selects)
    for the days [start, end) (start today or later): (mean, low, high), the bounds of its 80 % prediction
    interval."""
    if metric not in FORECAST_METRICS:
        raise InputError(f"unknown metric {metric!r}", param="metric", hint=", ".join(FORECAST_METRICS))
    cache = cache if cache is not None else CeCache()
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Metric": FORECAST_METRICS[metric],
        "Granularity": "MONTHLY",
        "PredictionIntervalLevel": PREDICTION_INTERVAL,
    }
    if expression is not None:
        request["Filter"] = dict(expression)
    [page] = cache.pages(client, "GetCostForecast", request)
    mean = _money((page.get("Total") or {}).get("Amount"))
    periods = page.get("ForecastResultsByTime") or []
    lows = [p.get("PredictionIntervalLowerBound") for p in periods]
    highs = [p.get("PredictionIntervalUpperBound") for p in periods]
    low = sum((_money(v) for v in lows), Decimal(0)) if periods and None not in lows else mean
    high = sum((_money(v) for v in highs), Decimal(0)) if periods and None not in highs else mean
    return mean, low, high


class CostExplorerSource:
    """A client and the run's cache: every report section asks through one of these."""

    def __init__(self, client: Any, cache: CeCache | None = None) -> None:
        self.client = client
        self.cache = cache if cache is not None else CeCache()

    @property
    def calls(self) -> int:
        return self.cache.calls

    def fetch_costs(self, start: date, end: date, **kwargs: Any) -> CeCosts:
        return fetch_costs(self.client, start, end, cache=self.cache, **kwargs)

    def forecast(self, start: date, end: date, metric: str) -> tuple[Decimal, Decimal, Decimal]:
        return forecast(self.client, start, end, metric, cache=self.cache)
