"""The cost report's Cost Explorer source against botocore's Stubber (moto answers GetCostAndUsage only with
injected results, and lacks GetCostForecast): responses shaped as the AWS documentation's GetCostAndUsage
example, the requests checked by the Stubber's expected_params and AWS's own service model."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from awscost.billing.cube import Scope
from awscost.core.errors import AwsAccessError
from awscost.reports import cost_explorer as cex

START, END = date(2026, 11, 1), date(2026, 11, 3)
MGMT, PROD = "111122223333", "222233334444"
EC2 = "Amazon Elastic Compute Cloud - Compute"  # Cost Explorer's SERVICE for EC2 instance-hours
EC2_BILL = "Amazon Elastic Compute Cloud"  # the bill's name, which the rows carry
NOW = datetime(2026, 11, 5, 9, tzinfo=UTC)


def ce_client() -> Any:
    return boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def money(amortized: str, unblended: str | None = None) -> dict[str, Any]:
    return {
        "AmortizedCost": {"Amount": amortized, "Unit": "USD"},
        "UnblendedCost": {"Amount": unblended if unblended is not None else amortized, "Unit": "USD"},
    }


def page(
    groups: dict[str, list[tuple[list[str], dict[str, Any]]]],
    group_by: list[dict[str, str]],
    token: str | None = None,
    names: bool = True,
) -> dict[str, Any]:
    """A GetCostAndUsage answer: per day (Start) its groups, as AWS writes them."""
    out: dict[str, Any] = {
        "GroupDefinitions": group_by,
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day, "End": f"2026-11-{int(day[-2:]) + 1:02d}"},
                "Total": {},
                "Groups": [{"Keys": keys, "Metrics": metrics} for keys, metrics in day_groups],
                "Estimated": True,
            }
            for day, day_groups in groups.items()
        ],
        "DimensionValueAttributes": (
            [
                {"Value": MGMT, "Attributes": {"description": "management"}},
                {"Value": PROD, "Attributes": {"description": "production"}},
            ]
            if names
            else []
        ),
    }
    if token:
        out["NextPageToken"] = token
    return out


BY_TYPE = [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "DIMENSION", "Key": "RECORD_TYPE"}]
BY_SERVICE = [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "DIMENSION", "Key": "SERVICE"}]
BY_TAG = [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}, {"Type": "TAG", "Key": "Spend_Category"}]
SCOPE_TERMS = [
    {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [MGMT, PROD]}},
    {
        "Or": [
            {"Tags": {"Key": "Spend_Category", "Values": ["ml", "web"]}},
            {"Tags": {"Key": "Spend_Category", "MatchOptions": ["ABSENT"]}},
        ]
    },
]


def request(group_by: list[dict[str, str]], *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-03"},
        "Granularity": "DAILY",
        "Metrics": ["AmortizedCost", "UnblendedCost"],
        "GroupBy": group_by,
        "Filter": {"And": [*SCOPE_TERMS, *extra]},
    }


def record_types(*types: str) -> dict[str, Any]:
    return {"Dimensions": {"Key": "RECORD_TYPE", "Values": sorted(types)}}


def queue(stub: Stubber) -> None:
    """The answers of one fetch, in the order it asks: record types (two pages), each charge kind per
    service, then the tag."""
    q1 = request(BY_TYPE)
    stub.add_response(
        "get_cost_and_usage",
        page(
            {
                "2026-11-01": [
                    ([MGMT, "Usage"], money("10.25")),
                    ([MGMT, "DiscountedUsage"], money("4.0000000001", "0")),
                    ([MGMT, "Recurring reservation fee"], money("1.5", "6.5")),
                    ([MGMT, "Tax"], money("0.82")),
                ]
            },
            BY_TYPE,
            token="page-2",
        ),
        q1,
    )
    stub.add_response(
        "get_cost_and_usage",
        page(
            {
                "2026-11-01": [([PROD, "Usage"], money("3.5")), ([PROD, "Credit"], money("-2"))],
                "2026-11-02": [([PROD, "SavingsPlanCoveredUsage"], money("1.2", "2"))],
            },
            BY_TYPE,
        ),
        {**q1, "NextPageToken": "page-2"},
    )
    # Charge kinds in order: Credit, Fee, Tax, Usage.
    stub.add_response(
        "get_cost_and_usage",
        page({"2026-11-01": [([PROD, EC2], money("-2"))]}, BY_SERVICE),
        request(BY_SERVICE, record_types("Credit")),
    )
    stub.add_response(
        "get_cost_and_usage",
        page({"2026-11-01": [([MGMT, EC2], money("1.5", "6.5"))]}, BY_SERVICE),
        request(BY_SERVICE, record_types("Recurring reservation fee")),
    )
    stub.add_response(
        "get_cost_and_usage",
        page({"2026-11-01": [([MGMT, "Tax"], money("0.82"))]}, BY_SERVICE),  # all tax is one "Tax"
        request(BY_SERVICE, record_types("Tax")),
    )
    usage = record_types("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
    stub.add_response(
        "get_cost_and_usage",
        page(
            {
                "2026-11-01": [
                    ([MGMT, EC2], money("12.25", "8.25")),
                    ([MGMT, "Amazon Relational Database Service"], money("2", "2")),
                    ([PROD, EC2], money("3.5")),
                ],
                "2026-11-02": [([PROD, EC2], money("1.19", "2"))],  # a cent short: rounding per group
            },
            BY_SERVICE,
        ),
        request(BY_SERVICE, usage),
    )
    stub.add_response(
        "get_cost_and_usage",
        page(
            {
                "2026-11-01": [
                    ([MGMT, "Spend_Category$ml"], money("9", "5")),
                    ([MGMT, "Spend_Category$"], money("5.2500000001", "5.25")),
                    ([PROD, "Spend_Category$web"], money("3.5")),
                ],
                "2026-11-02": [([PROD, "Spend_Category$"], money("1.2", "2"))],
            },
            BY_TAG,
        ),
        request(BY_TAG, usage),
    )


def fetch(source: cex.CostExplorerSource) -> cex.CeCosts:
    return source.fetch_costs(
        START,
        END,
        metric="EffectiveCost",
        accounts=frozenset({PROD, MGMT}),
        tags={"user:Spend_Category": frozenset({"ml", "web", ""})},
        tag_key="user:Spend_Category",
        now=lambda: NOW,
    )


def test_fetch_pages_reconciles_and_caches() -> None:
    ce = ce_client()
    source = cex.CostExplorerSource(ce)
    with Stubber(ce) as stub:
        queue(stub)
        costs = fetch(source)
        stub.assert_no_pending_responses()
    assert costs.calls == 7  # two pages of record types, four charge kinds, the tag
    # Per day and account the rows sum exactly to Cost Explorer's total of the record types.
    sums: dict[tuple[date, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in costs.rows:
        sums[(r.day, r.account_id)][0] += r.effective
        sums[(r.day, r.account_id)][1] += r.billed
    assert dict(sums) == {
        (date(2026, 11, 1), MGMT): [Decimal("16.5700000001"), Decimal("17.57")],
        (date(2026, 11, 1), PROD): [Decimal("1.5"), Decimal("1.5")],
        (date(2026, 11, 2), PROD): [Decimal("1.2"), Decimal("2")],
    }
    assert all(isinstance(r.effective, Decimal) and isinstance(r.billed, Decimal) for r in costs.rows)
    rows = {(r.day.day, r.account_id, r.service, r.charge_kind): (r.effective, r.billed) for r in costs.rows}
    # The RI fee: billed on the Fee row, its unused amortized part a Usage row (as FOCUS books it).
    assert rows[(1, MGMT, EC2_BILL, "Fee")] == (Decimal(0), Decimal("6.5"))
    assert rows[(1, MGMT, EC2_BILL, "Usage")] == (Decimal("12.25"), Decimal("8.25"))
    assert rows[(1, MGMT, None, "Tax")] == (Decimal("0.82"), Decimal("0.82"))
    assert rows[(1, PROD, EC2_BILL, "Credit")] == (Decimal("-2"), Decimal("-2"))
    # What the per-service answer left of the day's usage: a row without a service.
    assert rows[(2, PROD, None, "Usage")] == (Decimal("0.01"), Decimal(0))
    assert (1, MGMT, None, "Usage") in rows  # 4.0000000001 + 10.25 + 1.5 - 12.25 - 2 - 1.5 = 1E-10
    unused = [r for r in costs.rows if r.day.day == 1 and r.account_id == MGMT and r.charge_kind == "Usage"]
    assert sum(r.effective for r in unused) == Decimal("15.7500000001")  # usage + the RI's unused part
    assert {r.account_name for r in costs.rows} == {"management", "production"}
    assert costs.record_types == {
        "Credit": "Credit",
        "DiscountedUsage": "Usage",
        "Recurring reservation fee": "Fee",
        "SavingsPlanCoveredUsage": "Usage",
        "Tax": "Tax",
        "Usage": "Usage",
    }
    tags = {(t.day.day, t.account_id, t.value): (t.effective, t.billed) for t in costs.tag_rows if t.billed}
    assert tags == {
        (1, MGMT, "ml"): (Decimal(9), Decimal(5)),
        (1, MGMT, ""): (Decimal("5.2500000001"), Decimal("5.25")),
        (1, PROD, "web"): (Decimal("3.5"), Decimal("3.5")),
        (2, PROD, ""): (Decimal("1.2"), Decimal(2)),
    }
    # ... and the RI's unused part, usage without a tag (one more row of the same key, summed here).
    unused_tag = [t for t in costs.tag_rows if t.value == "" and t.billed == 0]
    assert [(t.day.day, t.account_id, t.effective) for t in unused_tag] == [(1, MGMT, Decimal("1.5"))]
    assert {t.tag_key for t in costs.tag_rows} == {"user:Spend_Category"}
    assert costs.as_of == datetime(2026, 11, 3, tzinfo=UTC)  # asked later: the period's end

    # The same fetch again in the run: answered from the cache, no request (no response is queued).
    with Stubber(ce) as stub:
        again = fetch(source)
    assert again.calls == 0 and again.rows == costs.rows and again.tag_rows == costs.tag_rows
    assert source.calls == 7

    # The rows as a cube: the report's questions answer from them.
    with costs.cube() as cube:
        assert cube.totals(Scope(), START, END, "BilledCost") == {"USD": Decimal("21.07")}
        assert cube.totals(Scope.of([PROD]), START, END, "EffectiveCost") == {"USD": Decimal("2.7")}
        [cov] = cube.coverage("user:Spend_Category", Scope(), START, END, "EffectiveCost", by_account=False)
        assert (cov.covered, cov.total) == (Decimal("12.5"), Decimal("20.4500000001"))


def test_no_filter_for_the_whole_payer_and_no_call_for_an_empty_scope() -> None:
    ce = ce_client()
    with Stubber(ce) as stub:
        stub.add_response(
            "get_cost_and_usage",
            page({"2026-11-01": [([MGMT, "Usage"], money("1"))]}, BY_TYPE, names=False),
            {
                "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-02"},
                "Granularity": "DAILY",
                "Metrics": ["AmortizedCost", "UnblendedCost"],
                "GroupBy": BY_TYPE,
            },
        )
        stub.add_response(
            "get_cost_and_usage",
            page({"2026-11-01": [([MGMT, EC2], money("1"))]}, BY_SERVICE, names=False),
            {
                "TimePeriod": {"Start": "2026-11-01", "End": "2026-11-02"},
                "Granularity": "DAILY",
                "Metrics": ["AmortizedCost", "UnblendedCost"],
                "GroupBy": BY_SERVICE,
                "Filter": record_types("Usage"),
            },
        )
        costs = cex.fetch_costs(ce, START, date(2026, 11, 2), metric="BilledCost", accounts=None, tags=None)
        stub.assert_no_pending_responses()
    assert [(r.service, r.billed, r.account_name) for r in costs.rows] == [(EC2_BILL, Decimal(1), None)]
    assert costs.calls == 2 and costs.tag_rows == []
    with Stubber(ce):  # nothing queued: any request would fail
        empty = cex.fetch_costs(ce, START, END, accounts=frozenset())
    assert (empty.rows, empty.calls) == ([], 0)


def test_cost_explorers_service_names_map_to_the_bills() -> None:
    """Cost Explorer's own SERVICE values: EC2 split in two, all tax as "Tax", and a name awscost does not
    know (kept as written)."""
    ce = ce_client()
    whole = {"TimePeriod": {"Start": "2026-11-01", "End": "2026-11-02"}, "Granularity": "DAILY"}
    metrics = {"Metrics": ["AmortizedCost", "UnblendedCost"]}
    future = "Amazon Future Service - Inference"
    with Stubber(ce) as stub:
        stub.add_response(
            "get_cost_and_usage",
            page(
                {
                    "2026-11-01": [
                        ([MGMT, "Usage"], money("10")),
                        ([MGMT, "Tax"], money("1.2")),
                        ([PROD, "Usage"], money("5")),
                        ([PROD, "Tax"], money("0.4")),
                    ]
                },
                BY_TYPE,
            ),
            {**whole, **metrics, "GroupBy": BY_TYPE},
        )
        stub.add_response(  # charge kinds in order: Tax, Usage
            "get_cost_and_usage",
            page({"2026-11-01": [([MGMT, "Tax"], money("1.2")), ([PROD, "Tax"], money("0.4"))]}, BY_SERVICE),
            {**whole, **metrics, "GroupBy": BY_SERVICE, "Filter": record_types("Tax")},
        )
        stub.add_response(
            "get_cost_and_usage",
            page(
                {
                    "2026-11-01": [
                        ([MGMT, EC2], money("6")),
                        ([MGMT, "EC2 - Other"], money("2.5")),
                        ([MGMT, "Amazon Relational Database Service"], money("1.5")),
                        ([PROD, "EC2 - Other"], money("1")),
                        ([PROD, future], money("4")),
                    ]
                },
                BY_SERVICE,
            ),
            {**whole, **metrics, "GroupBy": BY_SERVICE, "Filter": record_types("Usage")},
        )
        costs = cex.fetch_costs(ce, START, date(2026, 11, 2), now=lambda: NOW)
        stub.assert_no_pending_responses()
    assert costs.services == {
        EC2: EC2_BILL,
        "EC2 - Other": EC2_BILL,
        "Amazon Relational Database Service": "Amazon Relational Database Service",
        future: future,
        "Tax": None,
    }
    day = (START, date(2026, 11, 2))
    before = (date(2026, 10, 31), START)
    with costs.cube() as cube:
        usage = {c.key: c.cost for c in cube.compare("ServiceName", Scope(), day, before, "EffectiveCost")}
        assert usage == {
            EC2_BILL: Decimal("9.5"),  # instance-hours and EC2 - Other, as the bill counts them
            future: Decimal(4),
            "Amazon Relational Database Service": Decimal("1.5"),
            None: Decimal("1.6"),  # the tax, apart from every service
        }
        kinds = {c.key: c.cost for c in cube.compare("ChargeKind", Scope(), day, before, "EffectiveCost")}
        assert kinds == {"Usage": Decimal(15), "Tax": Decimal("1.6")}
        prod = Scope.of([PROD])
        assert {c.key: c.cost for c in cube.compare("ServiceName", prod, day, before, "BilledCost")} == {
            future: Decimal(4),
            EC2_BILL: Decimal(1),
            None: Decimal("0.4"),
        }
        note = cube.note("ServiceName")
        assert note == (
            "Service names from Cost Explorer, mapped to the bill's: 'Amazon Elastic Compute Cloud - Compute' "
            "(instance-hours) and 'EC2 - Other' (EBS volumes and snapshots, NAT gateways, Elastic IPs, data "
            "transfer, CPU credits) counted under Amazon Elastic Compute Cloud; its 'Tax' is the charge Tax, "
            "without the bill's split per service."
        )
        assert not cube.has("ResourceId") and "beyond 14 days" in (cube.note("ResourceId") or "")
    # Only what differs from the bill is said; a name kept as written is not.
    assert (
        cex.service_note({"Amazon Relational Database Service": "Amazon Relational Database Service"}) is None
    )
    assert cex.bill_service("Tax", "Usage") == "Tax"  # not a tax row: the name is kept


@pytest.mark.parametrize(
    ("record_type", "kind"),
    [
        ("Usage", "Usage"),
        ("DiscountedUsage", "Usage"),
        ("Reservation applied usage", "Usage"),
        ("SavingsPlanCoveredUsage", "Usage"),
        ("Savings Plan Covered Usage", "Usage"),
        ("SavingsPlanNegation", "Usage"),
        ("EdpDiscount", "Usage"),
        ("RIFee", "Fee"),
        ("Recurring reservation fee", "Fee"),
        ("Fee", "Fee"),
        ("Upfront reservation fee", "Fee"),
        ("SavingsPlanRecurringFee", "Fee"),
        ("Savings Plan Recurring Fee", "Fee"),
        ("SavingsPlanUpfrontFee", "Fee"),
        ("Tax", "Tax"),
        ("Credit", "Credit"),
        ("Refund", "Refund"),
        ("Some future charge", "Adjustment"),
    ],
)
def test_record_types_map_to_charge_kinds(record_type: str, kind: str) -> None:
    assert cex.charge_kind(record_type) == kind


def test_forecast_parses_mean_and_interval() -> None:
    ce = ce_client()
    answer = {
        "Total": {"Amount": "1520.4012345678", "Unit": "USD"},
        "ForecastResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-11-06", "End": "2026-12-01"},
                "MeanValue": "1520.4012345678",
                "PredictionIntervalLowerBound": "1401.2",
                "PredictionIntervalUpperBound": "1650.75",
            }
        ],
    }
    expected = {
        "TimePeriod": {"Start": "2026-11-06", "End": "2026-12-01"},
        "Metric": "AMORTIZED_COST",
        "Granularity": "MONTHLY",
        "PredictionIntervalLevel": 80,
    }
    with Stubber(ce) as stub:
        stub.add_response("get_cost_forecast", answer, expected)
        source = cex.CostExplorerSource(ce)
        got = source.forecast(date(2026, 11, 6), date(2026, 12, 1), "EffectiveCost")
        assert source.forecast(date(2026, 11, 6), date(2026, 12, 1), "EffectiveCost") == got  # cached
        stub.assert_no_pending_responses()
    assert got == (Decimal("1520.4012345678"), Decimal("1401.2"), Decimal("1650.75"))
    assert source.calls == 1


@pytest.mark.parametrize(
    ("code", "hint"),
    [("AccessDeniedException", "ce:GetCostAndUsage"), ("DataUnavailableException", "no data")],
)
def test_aws_errors_name_the_operation(code: str, hint: str) -> None:
    ce = ce_client()
    with Stubber(ce) as stub:
        stub.add_client_error(
            "get_cost_and_usage", service_error_code=code, service_message="refused", http_status_code=400
        )
        with pytest.raises(AwsAccessError) as info:
            cex.fetch_costs(ce, START, END)
    text = str(info.value)
    assert "GetCostAndUsage" in text and code in text and hint in text and "ce us-east-1" in text
    assert info.value.exit_code == 4
