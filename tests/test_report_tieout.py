"""The cost report's figures tie out to the bill: totals, per-account figures and tag coverage equal sums that
this test computes itself with Decimal from the files (not through awscost), for both metrics, on the demo
bill (its FOCUS export), the refdata FOCUS sample (three providers) and the refdata CUR sample."""

from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from awscost.billing import load
from awscost.billing.cube import CostCube
from awscost.reports.config import Audience, organization_audience
from awscost.reports.cost_report import build_report, scope_of
from awscost.reports.periods import resolve
from conftest import refdata

METRICS = ("EffectiveCost", "BilledCost")


def _rows(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        yield from csv.DictReader(fh)


def _num(text: str) -> Decimal:
    return Decimal(text) if text not in ("", "NULL") else Decimal(0)


def _tags(text: str) -> dict[str, str]:
    return json.loads(text) if text not in ("", "NULL") else {}


def focus_sums(files: list[Path], metric: str, tag_key: str) -> dict[str, object]:
    """Independent sums over FOCUS files: AWS total and per account, the other providers, tag coverage."""
    total, other = Decimal(0), defaultdict(Decimal)
    accounts: dict[str, Decimal] = defaultdict(Decimal)
    covered, usage = Decimal(0), Decimal(0)
    days = set()
    for path in files:
        for row in _rows(path):
            cost = _num(row[metric])
            if row["ProviderName"] != "AWS":
                other[row["ProviderName"]] += cost
                continue
            days.add(row["ChargePeriodStart"][:10])
            total += cost
            accounts[row["SubAccountId"]] += cost
            if row["ChargeCategory"] == "Usage":
                usage += cost
                if str(_tags(row.get("Tags", "")).get(tag_key) or "").strip():
                    covered += cost
    return {"total": total, "accounts": dict(accounts), "covered": covered, "usage": usage, "other": dict(other),
            "days": (min(days), max(days))}  # fmt: skip


def report_of(paths: list[Path], metric: str, tag_key: str, spec: str, audience: Audience | None = None):  # type: ignore[no-untyped-def]
    audience = audience or organization_audience(metric)
    with load(paths, materialize=False) as bill:
        comparison = resolve(spec, today=date(2030, 1, 1))
        with CostCube.from_bill(
            bill, comparison.previous.start, comparison.current.end, [tag_key, *audience.tags]
        ) as cube:
            return build_report(
                cube, audience, comparison, scope=scope_of(audience), metric=metric, tag_key=tag_key,
                names={}, generated_at=datetime.now(UTC), sections=["cost", "tags"],
            )  # fmt: skip


def _assert_ties(report, sums: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    doc = report.data
    assert Decimal(doc["total"]["cost"]) == sums["total"]
    assert {a["account_id"]: Decimal(a["cost"]) for a in doc["accounts"]} == {
        k: v
        for k, v in sums["accounts"].items()  # type: ignore[attr-defined]
    }
    assert (
        sum(Decimal(s["cost"]) for s in doc["services"])
        + sum(Decimal(c["cost"]) for c in doc["sections"]["cost"]["charges_apart"])
        == sums["total"]
    )  # usage per service + what is kept apart = the total, to the last decimal
    tags = doc["tag_coverage"]
    assert (Decimal(tags["covered_cost"]), Decimal(tags["total_cost"])) == (sums["covered"], sums["usage"])
    if sums["usage"]:
        assert Decimal(tags["share"]) == sums["covered"] / sums["usage"]  # type: ignore[operator]
        assert 0 <= Decimal(tags["share"]) <= 1


@pytest.mark.parametrize("metric", METRICS)
def test_refdata_focus_sample_ties_out_and_keeps_other_providers_apart(metric: str) -> None:
    path = refdata("focus-sample-data/focus_sample.csv")
    sums = focus_sums([path], metric, "environment")
    report = report_of([path], metric, "environment", "2024-09")
    _assert_ties(report, sums)
    others = {o["provider"]: Decimal(o["cost"]) for o in report.data["sections"]["cost"]["other_providers"]}
    assert others == sums["other"] and set(others) == {"Microsoft", "Oracle"}


@pytest.mark.parametrize("metric", METRICS)
def test_refdata_cur_sample_ties_out(metric: str) -> None:
    path = refdata("focus-converters/sample-anonymous-aws-export-dataset.csv")
    total, accounts = Decimal(0), defaultdict(Decimal)
    usage = Decimal(0)
    for row in _rows(path):
        # Usage and tax lines only (checked): amortized and billed cost are both the unblended cost.
        assert row["lineItem/LineItemType"] in ("Usage", "Tax")
        cost = _num(row["lineItem/UnblendedCost"])
        total += cost
        accounts[row["lineItem/UsageAccountId"]] += cost
        usage += cost if row["lineItem/LineItemType"] == "Usage" else 0
    sums = {"total": total, "accounts": dict(accounts), "covered": Decimal(0), "usage": usage}
    _assert_ties(report_of([path], metric, "user:Spend_Category", "2023-11"), sums)


@pytest.fixture(scope="module")
def demo_focus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from awscost.core.timeutil import HOUR
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario(7)
    first = datetime(2026, 10, 20, tzinfo=UTC)
    hours = [first + i * HOUR for i in range(24 * 14)]
    return write_bill(scenario, hours, tmp_path_factory.mktemp("bill"))


@pytest.mark.parametrize("metric", METRICS)
def test_demo_bill_ties_out_from_its_cur_to_its_focus_export(
    demo_focus: dict[str, Path], metric: str
) -> None:
    """The report is built from the CUR; the sums come from the FOCUS export of the same bill."""
    files = sorted(demo_focus["focus"].glob("*.csv.gz"))
    tag = "user:Spend_Category"
    sums = focus_sums(files, metric, tag)
    first, last = sums["days"]  # type: ignore[misc]
    _assert_ties(report_of([demo_focus["cur"]], metric, tag, f"{first}..{last}"), sums)


def test_an_engineer_audience_sees_only_its_accounts_and_tags(demo_focus: dict[str, Path]) -> None:
    tag = "user:Spend_Category"
    files = sorted(demo_focus["focus"].glob("*.csv.gz"))
    mine = ("222233334444", "333344445555")
    audience = Audience("ml", accounts=mine, tags={tag: ("ml",)})
    expected = Decimal(0)
    for path in files:
        for row in _rows(path):
            if row["SubAccountId"] in mine and _tags(row["Tags"]).get(tag) == "ml":
                expected += _num(row["EffectiveCost"])
    first, last = focus_sums(files, "EffectiveCost", tag)["days"]  # type: ignore[misc]
    report = report_of([demo_focus["cur"]], "EffectiveCost", tag, f"{first}..{last}", audience)
    assert Decimal(report.data["total"]["cost"]) == expected
    assert {a["account_id"] for a in report.data["accounts"]} <= set(mine)
    assert report.data["sections"]["cost"]["charges_apart"] == []  # tax and credits carry no tag
    assert Decimal(report.data["tag_coverage"]["share"]) == 1


def test_a_period_the_source_does_not_cover_is_one_clear_error(demo_focus: dict[str, Path]) -> None:
    from awscost.core.errors import InputError

    with pytest.raises(InputError, match="the source holds no cost for 2025-01"):
        report_of([demo_focus["cur"]], "EffectiveCost", "user:Spend_Category", "2025-01")


def test_previous_period_before_the_history_is_zero_not_an_error(demo_focus: dict[str, Path]) -> None:
    report = report_of([demo_focus["cur"]], "EffectiveCost", "user:Spend_Category", "2026-10-20..2026-10-26")
    assert Decimal(report.data["total"]["previous"]) == 0 and report.data["total"]["change_pct"] is None
