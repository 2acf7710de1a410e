"""Cost Explorer client against botocore's Stubber (moto lacks these operations), items, comparison."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from awscost.planning import explorer
from awscost.planning.plan import PlanRow

EC2 = "Amazon Elastic Compute Cloud - Compute"


def plan_row(kind: str, region: str, key: str, **fields: Any) -> PlanRow:
    """A plan row as the planner writes it, with the fields the comparison reads."""
    base: dict[str, Any] = {
        "account": "acme",
        "flexible": False,
        "unit": "instances",
        "hours": 720,
        "missing": 0,
        "p95_rule": None,
        "term": "1y",
        "payment": "no",
    }
    return PlanRow(kind=kind, region=region, key=key, **{**base, **fields})


def ce_client() -> Any:
    return boto3.client("ce", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def coverage_page(day: str, region: str, pct: str, token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "CoveragesByTime": [
            {
                "TimePeriod": {"Start": day, "End": day},
                "Groups": [
                    {
                        "Attributes": {"region": region},
                        "Coverage": {
                            "CoverageHours": {
                                "OnDemandHours": "30",
                                "ReservedHours": "90",
                                "TotalRunningHours": "120",
                                "CoverageHoursPercentage": pct,
                            }
                        },
                    }
                ],
            }
        ]
    }
    if token:
        page["NextPageToken"] = token
    return page


def recommendation_page(itype: str, count: str, token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "Metadata": {"RecommendationId": "r-1", "GenerationTimestamp": "2026-11-25T07:00:00Z"},
        "Recommendations": [
            {
                "AccountScope": "PAYER",
                "LookbackPeriodInDays": "SEVEN_DAYS",
                "TermInYears": "ONE_YEAR",
                "PaymentOption": "ALL_UPFRONT",
                "RecommendationDetails": [
                    {
                        "AccountId": "111122223333",
                        "InstanceDetails": {
                            "EC2InstanceDetails": {
                                "Family": "m5",
                                "InstanceType": itype,
                                "Region": "us-east-1",
                                "Platform": "Linux/UNIX",
                                "Tenancy": "shared",
                                "CurrentGeneration": True,
                                "SizeFlexEligible": True,
                            }
                        },
                        "RecommendedNumberOfInstancesToPurchase": count,
                        "RecommendedNormalizedUnitsToPurchase": str(int(count) * 8),
                        "MinimumNumberOfInstancesUsedPerHour": "2",
                        "MaximumNumberOfInstancesUsedPerHour": "6",
                        "AverageNumberOfInstancesUsedPerHour": "3.5",
                        "AverageUtilization": "91.2",
                        "EstimatedBreakEvenInMonths": "7.1",
                        "CurrencyCode": "USD",
                        "EstimatedMonthlySavingsAmount": "61.32",
                        "EstimatedMonthlySavingsPercentage": "38.1",
                        "EstimatedMonthlyOnDemandCost": "160.9",
                        "UpfrontCost": "976",
                        "RecurringStandardMonthlyCost": "0",
                    }
                ],
            }
        ],
    }
    if token:
        page["NextPageToken"] = token
    return page


def test_coverage_pages_and_items() -> None:
    ce = ce_client()
    expected = {
        "TimePeriod": {"Start": "2026-11-18", "End": "2026-11-25"},
        "Granularity": "DAILY",
        "GroupBy": [{"Type": "DIMENSION", "Key": "REGION"}],
        "Filter": {"Dimensions": {"Key": "SERVICE", "Values": [EC2]}},
    }
    with Stubber(ce) as stub:
        stub.add_response(
            "get_reservation_coverage", coverage_page("2026-11-18", "us-east-1", "75", "p2"), expected
        )
        stub.add_response(
            "get_reservation_coverage",
            coverage_page("2026-11-19", "eu-west-1", "50"),
            {**expected, "NextPageToken": "p2"},
        )
        rows = explorer.reservation_coverage(ce, date(2026, 11, 18), date(2026, 11, 25), "ec2")
        stub.assert_no_pending_responses()
    assert [(r["day"], r["region"], r["coverage_pct"]) for r in rows] == [
        ("2026-11-18", "us-east-1", Decimal("75")),
        ("2026-11-19", "eu-west-1", Decimal("50")),
    ]
    items = explorer.coverage_items(rows, "acme")
    assert [(i.aws_resource, i.time_key, dict(i.usage)) for i in items] == [
        ("ce-cov:acme:us-east-1", "2026-11-18T00:00:00Z", {"ec2": 75.0}),
        ("ce-cov:acme:eu-west-1", "2026-11-19T00:00:00Z", {"ec2": 50.0}),
    ]
    assert items[0].attrs["coverage"]["ec2"]["reserved_hours"] == "90"


def test_utilization_and_savings_plans() -> None:
    ce = ce_client()
    util = {
        "UtilizationsByTime": [
            {
                "TimePeriod": {"Start": "2026-11-24", "End": "2026-11-25"},
                "Total": {
                    "UtilizationPercentage": "88.5",
                    "PurchasedHours": "48",
                    "TotalActualHours": "42.5",
                    "UnusedHours": "5.5",
                    "NetRISavings": "3.10",
                },
            }
        ]
    }
    sp = {
        "SavingsPlansPurchaseRecommendation": {
            "SavingsPlansPurchaseRecommendationDetails": [
                {
                    "HourlyCommitmentToPurchase": "0.42",
                    "EstimatedMonthlySavingsAmount": "88.0",
                    "EstimatedSavingsPercentage": "21",
                    "EstimatedAverageUtilization": "97.5",
                    "UpfrontCost": "0",
                    "CurrentAverageHourlyOnDemandSpend": "0.71",
                }
            ]
        }
    }
    with Stubber(ce) as stub:
        stub.add_response(
            "get_reservation_utilization", util, {"TimePeriod": ANY, "Granularity": "DAILY", "Filter": ANY}
        )
        stub.add_response(
            "get_savings_plans_purchase_recommendation",
            sp,
            {
                "SavingsPlansType": "COMPUTE_SP",
                "TermInYears": "ONE_YEAR",
                "PaymentOption": "NO_UPFRONT",
                "AccountScope": "PAYER",
                "LookbackPeriodInDays": "SIXTY_DAYS",
            },
        )
        rows = explorer.reservation_utilization(ce, date(2026, 11, 24), date(2026, 11, 25), "rds")
        plans = explorer.savings_plans_recommendation(ce, lookback_days=60)
    items = explorer.utilization_items(rows, "acme")
    assert items[0].aws_resource == "ce-util:acme:global" and items[0].usage == {"rds": 88.5}
    assert plans[0]["hourly_commitment"] == Decimal("0.42") and plans[0]["monthly_savings"] == Decimal("88.0")


def test_ri_recommendations_page_and_become_ce_rec_items() -> None:
    ce = ce_client()
    expected = {
        "Service": EC2,
        "AccountScope": "PAYER",
        "LookbackPeriodInDays": "SEVEN_DAYS",
        "TermInYears": "ONE_YEAR",
        "PaymentOption": "ALL_UPFRONT",
        "ServiceSpecification": {"EC2Specification": {"OfferingClass": "STANDARD"}},
    }
    with Stubber(ce) as stub:
        stub.add_response(
            "get_reservation_purchase_recommendation", recommendation_page("m5.xlarge", "2", "n"), expected
        )
        stub.add_response(
            "get_reservation_purchase_recommendation",
            recommendation_page("m5.large", "1"),
            {**expected, "NextPageToken": "n"},
        )
        recs = explorer.ri_recommendations(ce, "ec2", lookback_days=7, term="1y", payment="all")
        stub.assert_no_pending_responses()
    assert [(r["kind"], r["key"], r["count"]) for r in recs] == [
        ("ec2os", "linux-m5.xlarge", Decimal("2")),
        ("ec2os", "linux-m5.large", Decimal("1")),
    ]
    items = explorer.recommendation_items(recs, "acme", date(2026, 11, 25))
    assert len(items) == 1 and items[0].kind == "ce-rec-7"
    assert items[0].usage == {"linux-m5.xlarge": 2.0, "linux-m5.large": 1.0}

    plan_rows = [
        plan_row(
            "ec2os",
            "us-east-1",
            "linux-m5.*",
            recommended=24.0,
            flexible=True,
            expiring_30d=4.0,
            breakeven=0.63,
        ),
        plan_row("ec2os", "us-east-1", "windows-r5.large", recommended=2.0, flexible=False, breakeven=0.8),
    ]
    cmp = {r["key"]: r for r in explorer.compare_with_plan(plan_rows, items, plan_lookback_days=30)}
    m5 = cmp["linux-m5.*"]
    assert (m5["ours"], m5["aws"], m5["difference"]) == (24.0, 20.0, 4.0)  # 2 x 8 + 1 x 4 normalized units
    assert "lookback: AWS 7 days, ours 30 days" in m5["why"] and "expirations" in m5["why"]
    assert "size flexibility" in m5["why"]
    assert (
        cmp["windows-r5.large"]["aws"] is None and "AWS recommends nothing" in cmp["windows-r5.large"]["why"]
    )


def test_unknown_service_and_lookback_are_user_errors() -> None:
    import pytest

    from awscost.core.errors import InputError

    with pytest.raises(InputError, match="unknown service"):
        explorer.reservation_coverage(ce_client(), date(2026, 11, 1), date(2026, 11, 2), "lambda")
    with pytest.raises(InputError, match="lookback"):
        explorer.ri_recommendations(ce_client(), "ec2", lookback_days=14)
    assert (
        explorer.recommendation_key("ec2", {"EC2InstanceDetails": {"Platform": "BYOL", "InstanceType": "x"}})
        is None
    )
    assert datetime(2026, 11, 25, tzinfo=UTC) == explorer._day("2026-11-25")


def test_savings_plan_recommendations_are_stored_and_compared() -> None:
    rows = [
        {
            "plan_type": "COMPUTE_SP",
            "lookback_days": 60,
            "hourly_commitment": Decimal("0.420"),
            "monthly_savings": Decimal("88.0"),
        }
    ]
    items = explorer.savings_plan_items(rows, "acme", date(2026, 11, 25))
    assert [(i.aws_resource, dict(i.usage)) for i in items] == [
        ("ce-rec-60:acme:global", {"compute-sp": 0.42})
    ]
    ours = [plan_row("savings-plan", "all", "compute", recommended=0.31, flexible=True, breakeven=0.72)]
    cmp = explorer.compare_with_plan(ours, items, plan_lookback_days=30)
    assert len(cmp) == 1
    row = cmp[0]
    assert (row["ours"], row["aws"], row["difference"]) == (0.31, 0.42, -0.11)
    assert "left after our recommended RIs" in row["why"] and "lookback: AWS 60 days" in row["why"]
    assert "size flexibility" not in row["why"]


def test_stored_recommendations_are_read_in_one_window_around_the_history_end(tmp_path: Any) -> None:
    """`end` is exclusive: a history ending at midnight ends with the day before it, and the fetch of the next
    morning (that midnight's item) is the one to set beside it; later ones, or ones over a week old, are not."""
    from awscost.store import UsageItem, open_store

    def item(day: int, count: float) -> UsageItem:
        return UsageItem(
            "ce-rec-7", "acme", "us-east-1", datetime(2026, 11, day, tzinfo=UTC), {"linux-m5.large": count}
        )

    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        store.put_items([item(1, 1), item(10, 2), item(11, 3), item(12, 4)])
        end = datetime(2026, 11, 11, tzinfo=UTC)  # the history's last hour: 11-10 23:00
        found = explorer.stored_recommendations(store, account="acme", end=end, lookbacks=(7, 60))
        assert list(found) == [7] and [dict(i.usage) for i in found[7]] == [{"linux-m5.large": 3.0}]
        # A day later the 11-12 fetch answers; 18 days later all are too old.
        assert dict(
            explorer.stored_recommendations(store, account="acme", end=end.replace(day=12))[7][0].usage
        ) == {"linux-m5.large": 4.0}
        assert explorer.stored_recommendations(store, account="acme", end=end.replace(day=29)) == {}


def test_savings_plans_utilization_and_coverage_become_ce_items() -> None:
    ce = ce_client()
    period = {"Start": "2026-11-24", "End": "2026-11-25"}
    util = {
        "SavingsPlansUtilizationsByTime": [
            {
                "TimePeriod": period,
                "Utilization": {
                    "TotalCommitment": "36",
                    "UsedCommitment": "35.64",
                    "UnusedCommitment": "0.36",
                    "UtilizationPercentage": "99",
                },
                "Savings": {"NetSavings": "13.5", "OnDemandCostEquivalent": "49.5"},
            }
        ],
        "Total": {"Utilization": {"UtilizationPercentage": "99"}},
    }

    def cov_page(region: str, pct: str, token: str | None = None) -> dict[str, Any]:
        page: dict[str, Any] = {
            "SavingsPlansCoverages": [
                {
                    "Attributes": {"region": region},
                    "Coverage": {
                        "SpendCoveredBySavingsPlans": "30",
                        "OnDemandCost": "70",
                        "TotalCost": "100",
                        "CoveragePercentage": pct,
                    },
                    "TimePeriod": period,
                }
            ]
        }
        if token:
            page["NextToken"] = token
        return page

    expected = {
        "TimePeriod": period,
        "Granularity": "DAILY",
        "GroupBy": [{"Type": "DIMENSION", "Key": "REGION"}],
        "Metrics": ["SpendCoveredBySavingsPlans"],
    }
    with Stubber(ce) as stub:
        stub.add_response(
            "get_savings_plans_utilization", util, {"TimePeriod": period, "Granularity": "DAILY"}
        )
        stub.add_response("get_savings_plans_coverage", cov_page("us-east-1", "30", "n2"), expected)
        stub.add_response(
            "get_savings_plans_coverage", cov_page("eu-west-1", "12.5"), {**expected, "NextToken": "n2"}
        )
        used = explorer.savings_plans_utilization(ce, date(2026, 11, 24), date(2026, 11, 25))
        covered = explorer.savings_plans_coverage(ce, date(2026, 11, 24), date(2026, 11, 25))
        stub.assert_no_pending_responses()
    assert used == [
        {
            "day": "2026-11-24",
            "service": "savings-plans",
            "utilization_pct": Decimal("99"),
            "total_commitment": Decimal("36"),
            "used_commitment": Decimal("35.64"),
            "unused_commitment": Decimal("0.36"),
            "net_savings": Decimal("13.5"),
            "on_demand_equivalent": Decimal("49.5"),
        }
    ]
    [item] = explorer.utilization_items(used, "acme")
    assert item.aws_resource == "ce-util:acme:global" and item.usage == {"savings-plans": 99.0}
    assert item.attrs["utilization"]["savings-plans"]["used_commitment"] == "35.64"
    items = explorer.coverage_items(covered, "acme")
    assert [(i.aws_resource, dict(i.usage)) for i in items] == [
        ("ce-cov:acme:eu-west-1", {"savings-plans": 12.5}),
        ("ce-cov:acme:us-east-1", {"savings-plans": 30.0}),
    ]
    assert items[1].attrs["coverage"]["savings-plans"]["covered_spend"] == "30"
