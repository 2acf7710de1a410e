"""The *Resource usage* section's commitment parts: RI / Savings Plans coverage and utilization from the bill
(checked against sums this test computes with Decimal from the lines it wrote), the reservations and Savings
Plans expiring within 30 / 90 days from the store's items, and the scope rule (an account-scoped audience
sees only its accounts' commitments; a tag-scoped one none)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from awscost.billing import load
from awscost.billing.cube import CostCube
from awscost.reports.config import Audience, organization_audience
from awscost.reports.cost_report import build_report, scope_of
from awscost.reports.periods import resolve
from awscost.reports.sections.commitments import from_bill
from awscost.store import open_store
from awscost.store.base import UsageItem

PERIOD = "2026-11-09..2026-11-15"  # a week; the previous one is 2026-11-02..08
END = date(2026, 11, 16)  # the period's end (exclusive) and the report's day: expirations count from it
MINE, OTHER, THIRD = "111111111111", "222222222222", "333333333333"
RI = "Reserved Instances (RI)"
TAG = "user:Spend_Category"
SP = "Savings Plan"
COLUMNS = (
    "BillingAccountId", "SubAccountId", "SubAccountName", "ProviderName", "BillingCurrency",
    "BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory", "ServiceName",
    "ServiceCategory", "x_ServiceCode", "x_UsageType", "RegionId", "ResourceId", "PricingCategory",
    "CommitmentDiscountId", "CommitmentDiscountType", "CommitmentDiscountStatus", "BilledCost",
    "EffectiveCost", "ListCost", "Tags",
)  # fmt: skip


def _line(account: str, day: date, what: str, effective: str, listed: str) -> dict[str, str]:
    """One FOCUS line of a kind the commitment figures tell apart."""
    usage_type, code, category, status, ctype, cid, pricing = {
        "on-demand": ("BoxUsage:m5.large", "AmazonEC2", "Usage", "", "", "", "Standard"),
        "ri-used": ("BoxUsage:m5.large", "AmazonEC2", "Usage", "Used", RI, f"arn:ri-{account}", "Committed"),
        "sp-used": ("BoxUsage:c5.large", "AmazonEC2", "Usage", "Used", SP, f"arn:sp-{account}", "Committed"),
        "ri-unused": ("BoxUsage:m5.large", "AmazonEC2", "Usage", "Unused", RI, f"arn:ri-{account}", "Committed"),
        # not coverable: storage is no commitment's usage
        "storage": ("TimedStorage-ByteHrs", "AmazonS3", "Usage", "", "", "", "Standard"),
    }[what]  # fmt: skip
    start = datetime.combine(day, datetime.min.time())
    return {
        "BillingAccountId": "999999999999",
        "SubAccountId": account,
        "SubAccountName": f"acct {account[:3]}",
        "ProviderName": "AWS",
        "BillingCurrency": "USD",
        "BillingPeriodStart": f"{day:%Y-%m}-01T00:00:00Z",
        "ChargePeriodStart": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "ChargePeriodEnd": f"{start + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}",
        "ChargeCategory": category,
        "ServiceName": "Amazon S3" if code == "AmazonS3" else "Amazon EC2",
        "ServiceCategory": "Storage" if code == "AmazonS3" else "Compute",
        "x_ServiceCode": code,
        "x_UsageType": usage_type,
        "RegionId": "us-east-1",
        "ResourceId": f"r-{account}-{what}",
        "PricingCategory": pricing,
        "CommitmentDiscountId": cid,
        "CommitmentDiscountType": ctype,
        "CommitmentDiscountStatus": status,
        "BilledCost": "0" if what.endswith("used") else effective,
        "EffectiveCost": effective,
        "ListCost": listed,
        "Tags": json.dumps({"user:Spend_Category": "web"}),
    }


def _lines() -> list[dict[str, str]]:
    """Two weeks of daily lines for three accounts, different amounts every day, account and week."""
    out = []
    for n in range(14):
        day = date(2026, 11, 2) + timedelta(days=n)
        for a, account in enumerate((MINE, OTHER, THIRD)):
            k = Decimal(1 + a) + Decimal(n) / 10
            out += [
                _line(
                    account, day, "on-demand", str(Decimal("0.096") * k * 3), str(Decimal("0.096") * k * 3)
                ),
                _line(account, day, "ri-used", str(Decimal("0.06") * k), str(Decimal("0.096") * k)),
                _line(account, day, "sp-used", str(Decimal("0.0612") * 2), str(Decimal("0.085") * 2)),
                _line(account, day, "storage", str(Decimal("0.023") * k), str(Decimal("0.023") * k)),
            ]
            if a != 1 or n < 7:  # OTHER's reservation is fully used in the current week
                out.append(_line(account, day, "ri-unused", str(Decimal("0.06") * (3 - a)), "0"))
    return out


def _expected(lines: list[dict[str, str]], accounts: set[str], start: date, end: date) -> dict[str, Decimal]:
    """Coverage and utilization by their definitions, summed with Decimal over the lines in scope."""
    covered = eligible = used = unused = Decimal(0)
    for line in lines:
        day = date.fromisoformat(line["ChargePeriodStart"][:10])
        if line["SubAccountId"] not in accounts or not start <= day < end:
            continue
        if line["CommitmentDiscountStatus"] == "Used":
            covered += Decimal(line["ListCost"])
            used += Decimal(line["EffectiveCost"])
        elif line["CommitmentDiscountStatus"] == "Unused":
            unused += Decimal(line["EffectiveCost"])
        elif line["x_ServiceCode"] == "AmazonEC2":
            eligible += Decimal(line["ListCost"])
    return {"coverage": covered / (covered + eligible), "utilization": used / (used + unused)}


def _ri(account: str, rid: str, key: str, count: int, ends: date) -> dict[str, Any]:
    return {"id": rid, "key": key, "count": count, "scope": "Region", "az": None,
            "start": "2026-01-01T00:00:00Z", "end": f"{ends:%Y-%m-%d}T00:00:00Z"}  # fmt: skip


def _store_items() -> list[UsageItem]:
    """Daily reservation and Savings Plans items of three accounts: reservations ending 10, 60 and 200 days
    after the period, an SP ending in 20; the other accounts' reservations end in 5 and 45 days."""
    ref = datetime.combine(END, datetime.min.time(), tzinfo=UTC)
    items = []
    for n in range(1, 15):
        when = ref - timedelta(days=n) + timedelta(hours=6)
        mine = [
            _ri(MINE, "ri-10", "linux-m5.large", 2, END + timedelta(days=10)),
            _ri(MINE, "ri-60", "linux-c5.xlarge", 3, END + timedelta(days=60)),
            _ri(MINE, "ri-200", "linux-t3.small", 1, END + timedelta(days=200)),
        ]
        others = [
            _ri(OTHER, "ri-other-5", "linux-m5.large", 4, END + timedelta(days=5)),
            _ri(OTHER, "ri-other-45", "linux-m5.large", 1, END + timedelta(days=45)),
        ]
        for account, listed in ((MINE, mine), (OTHER, others)):
            usage = {r["key"]: r["count"] for r in listed}
            items.append(UsageItem("ri-ec2", account, "us-east-1", when, usage, {"reservations": listed}))
        plan = {"id": "sp-20", "key": "compute/1y/no", "type": "Compute", "commitment": "1.25",
                "end": f"{END + timedelta(days=20):%Y-%m-%d}T00:00:00Z"}  # fmt: skip
        items.append(
            UsageItem("sp", MINE, "global", when, {"compute/1y/no": 1_250_000}, {"savings_plans": [plan]})
        )
        # An org-wide total item (account = the organization name) must not list them a second time.
        items.append(
            UsageItem("ri-ec2", "myorg", "us-east-1", when, {"linux-m5.large": 6}, {"reservations": mine})
        )
        # the running instances the hours table shows
        for h in range(24):
            items.append(UsageItem("ec2os", MINE, "us-east-1", when.replace(hour=h), {"linux-m5.large": 3}))
    return items


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any, list[dict[str, str]]]]:
    root = tmp_path_factory.mktemp("usage")
    lines = _lines()
    bill = root / "focus.csv"
    with bill.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, COLUMNS)
        writer.writeheader()
        writer.writerows(lines)
    store = open_store(f"sqlite:///{root / 's.db'}")
    store.put_items(_store_items())
    yield bill, store, lines


def _report(setup: tuple[Path, Any, list[dict[str, str]]], audience: Audience) -> Any:
    bill_path, store, _ = setup
    with load(bill_path, materialize=False) as bill:
        comparison = resolve(PERIOD, today=date(2026, 12, 1))
        with CostCube.from_bill(bill, comparison.previous.start, comparison.current.end, [TAG]) as cube:
            return build_report(
                cube, audience, comparison, scope=scope_of(audience), metric="EffectiveCost",
                tag_key=TAG, names={}, generated_at=datetime(2026, 11, 16, 7, tzinfo=UTC),
                store=store, sections=["cost", "usage"], commitments=from_bill(bill),
            )  # fmt: skip


def test_coverage_and_utilization_equal_sums_over_the_lines(setup: Any) -> None:
    lines = setup[2]
    report = _report(setup, organization_audience("EffectiveCost"))
    usage = report.section("usage")
    data = report.data["sections"]["usage"]["commitments"]
    everyone = {MINE, OTHER, THIRD}
    now = _expected(lines, everyone, date(2026, 11, 9), END)
    before = _expected(lines, everyone, date(2026, 11, 2), date(2026, 11, 9))
    assert Decimal(data["coverage"]) == now["coverage"]
    assert Decimal(data["utilization"]) == now["utilization"]
    assert Decimal(data["previous"]["coverage"]) == before["coverage"]
    assert Decimal(data["previous"]["utilization"]) == before["utilization"]
    assert now["utilization"] != before["utilization"]  # the test tells the periods apart
    figures = {f.label: f for f in usage.figures}
    assert figures["Commitment coverage"].value == now["coverage"]
    assert figures["Commitment utilization"].previous == before["utilization"]
    # per account, in the workbook's table as 0-1 ratios
    table = next(t for t in usage.tables if t.name == "commitments")
    by_account = {r["account_id"]: r for r in table.records()}
    assert set(by_account) == everyone
    for account in everyone:
        mine = _expected(lines, {account}, date(2026, 11, 9), END)
        assert by_account[account]["coverage"] == mine["coverage"]
        assert by_account[account]["utilization"] == mine["utilization"]
    assert by_account[OTHER]["utilization"] == 1  # its reservation had nothing unused this week
    assert 0 < by_account[MINE]["coverage"] < 1


def test_expiring_within_30_and_90_days(setup: Any) -> None:
    report = _report(setup, organization_audience("EffectiveCost"))
    expiring = report.data["sections"]["usage"]["expiring"]
    assert expiring["as_of"] == END.isoformat()
    soon = [(e["id"], e["days_left"]) for e in expiring["within_30_days"]]
    later = [(e["id"], e["days_left"]) for e in expiring["within_90_days"]]
    assert soon == [("ri-other-5", 5), ("ri-10", 10), ("sp-20", 20)]
    assert later == [("ri-other-5", 5), ("ri-10", 10), ("sp-20", 20), ("ri-other-45", 45), ("ri-60", 60)]
    sp = next(e for e in expiring["within_30_days"] if e["kind"] == "sp")
    assert (sp["commitment_per_hour"], sp["count"], sp["type"]) == ("1.25", None, "compute/1y/no")
    ri = next(e for e in expiring["within_30_days"] if e["id"] == "ri-10")
    assert (ri["count"], ri["type"], ri["end"], ri["account_id"]) == (
        "2",
        "linux-m5.large",
        "2026-11-26",
        MINE,
    )
    table = next(t for t in report.section("usage").tables if t.name == "expiring")
    assert [(r["id"], r["within"]) for r in table.records()] == [
        ("ri-other-5", "30 days"), ("ri-10", "30 days"), ("sp-20", "30 days"),
        ("ri-other-45", "90 days"), ("ri-60", "90 days"),
    ]  # fmt: skip
    assert all(isinstance(r["end"], date) for r in table.records())


def test_an_account_scoped_audience_sees_only_its_accounts(setup: Any) -> None:
    lines = setup[2]
    audience = Audience("mine", accounts=(MINE,))
    report = _report(setup, audience)
    data = report.data["sections"]["usage"]
    assert [a["account_id"] for a in data["commitments"]["by_account"]] == [MINE]
    now = _expected(lines, {MINE}, date(2026, 11, 9), END)
    assert Decimal(data["commitments"]["coverage"]) == now["coverage"]
    assert Decimal(data["commitments"]["utilization"]) == now["utilization"]
    ids = [e["id"] for e in data["expiring"]["within_90_days"]]
    assert ids == ["ri-10", "sp-20", "ri-60"]
    text = json.dumps(report.data, default=str)
    assert "ri-other" not in text and OTHER not in text and THIRD not in text
    for table in report.section("usage").tables:
        for row in table.rows:
            assert OTHER not in row and THIRD not in row and "ri-other-5" not in row


def test_a_tag_scoped_audience_gets_no_commitments(setup: Any) -> None:
    audience = Audience("web", accounts=(MINE,), tags={"user:Spend_Category": ("web",)})
    usage = _report(setup, audience).section("usage")
    assert usage.unavailable and not usage.tables and not usage.figures


def test_the_job_passes_the_bill_commitments_to_the_section(setup: Any) -> None:
    from awscost.core.config import Settings
    from awscost.jobs import Context, run_job
    from awscost.jobs.report import Params

    bill_path, _, lines = setup
    settings = replace(
        Settings(store=f"sqlite:///{bill_path.parent / 's.db'}"),  # the fixture's store
        raw={"report": {"audience": [{"name": "mine", "accounts": [MINE]}]}},
    )
    result = run_job(
        "report",
        Context(settings),
        Params(files=(str(bill_path),), period=PERIOD, audience="mine", today=END),
    )
    doc = result.reports[0].document
    assert result.reports[0].error is None
    commitments = doc["sections"]["usage"]["commitments"]
    assert Decimal(commitments["coverage"]) == _expected(lines, {MINE}, date(2026, 11, 9), END)["coverage"]
    assert [a["account_id"] for a in commitments["by_account"]] == [MINE]
    assert [e["id"] for e in doc["sections"]["usage"]["expiring"]["within_90_days"]] == [
        "ri-10",
        "sp-20",
        "ri-60",
    ]


def test_without_the_bill_commitments_the_section_says_where_they_come_from(setup: Any) -> None:
    bill_path, store, _ = setup
    audience = organization_audience("EffectiveCost")
    with load(bill_path, materialize=False) as bill:
        comparison = resolve(PERIOD, today=date(2026, 12, 1))
        with CostCube.from_bill(bill, comparison.previous.start, comparison.current.end, [TAG]) as cube:
            report = build_report(
                cube, audience, comparison, scope=scope_of(audience), metric="EffectiveCost", tag_key=TAG,
                names={}, generated_at=datetime(2026, 11, 16, 7, tzinfo=UTC), store=store, sections=["cost", "usage"],
            )  # fmt: skip
    usage = report.section("usage")
    assert "commitments" not in usage.data and not usage.figures
    assert any("not shown with Cost Explorer" in n for n in usage.notes)
    assert [e["id"] for e in usage.data["expiring"]["within_30_days"]] == ["ri-other-5", "ri-10", "sp-20"]


def test_the_section_says_which_part_of_the_periods_the_store_does_not_hold(setup: Any) -> None:
    """The store's first sample is the first hour of 2026-11-02: a report of that week says its previous week
    is not in the store rather than showing every hour as new."""
    bill_path, store, _ = setup
    audience = Audience("mine", accounts=(MINE,))
    with load(bill_path, materialize=False) as bill:
        for period, said in (
            (PERIOD, None),
            ("2026-11-02..2026-11-08", "the previous period is not covered, so"),
            ("2026-10-30..2026-11-05", "the previous period is not covered and this one only partly, so"),
        ):
            comparison = resolve(period, today=date(2026, 12, 1))
            with CostCube.from_bill(bill, comparison.previous.start, comparison.current.end, [TAG]) as cube:
                report = build_report(
                    cube, audience, comparison, scope=scope_of(audience), metric="EffectiveCost", tag_key=TAG,
                    names={}, generated_at=datetime(2026, 11, 16, 7, tzinfo=UTC), store=store,
                    sections=["cost", "usage"],
                )  # fmt: skip
            notes = [
                n for n in report.section("usage").notes if n.startswith("The usage store holds samples")
            ]
            if said is None:
                assert notes == []
            else:
                assert notes == [
                    f"The usage store holds samples from 2026-11-02 00:00 UTC on: {said} the change is not like "
                    "for like."
                ]
