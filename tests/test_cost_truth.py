"""Cost truth (issue 9): net vs gross, ContractedCost, ChargeCategory, unused commitment rows, and FOCUS
conformance of every canonical table the readers produce."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from awscost.billing import conformance, load
from awscost.core.errors import InputError
from awscost.entrypoints.cli import cli
from conftest import refdata

BASE = {
    "bill/PayerAccountId": "111111111111",
    "bill/BillingPeriodStartDate": "2024-03-01T00:00:00Z",
    "bill/BillingPeriodEndDate": "2024-04-01T00:00:00Z",
    "lineItem/UsageAccountId": "111111111111",
    "lineItem/UsageStartDate": "2024-03-05T10:00:00Z",
    "lineItem/UsageEndDate": "2024-03-05T11:00:00Z",
    "lineItem/CurrencyCode": "USD",
    "lineItem/ProductCode": "AmazonEC2",
    "pricing/unit": "Hrs",
}
RI = "arn:aws:ec2:us-east-1:111111111111:reserved-instances/ri-1"
SP = "arn:aws:savingsplans::111111111111:savingsplan/sp-1"
# Seven lines of an account with a 10% negotiated (EDP) discount, net columns beside the gross ones.
NET_LINES: list[dict[str, str]] = [
    {"lineItem/LineItemType": "Usage", "lineItem/UsageAmount": "100", "lineItem/UnblendedRate": "0.1",
     "lineItem/UnblendedCost": "10", "lineItem/NetUnblendedRate": "0.09", "lineItem/NetUnblendedCost": "9",
     "pricing/publicOnDemandRate": "0.1", "pricing/publicOnDemandCost": "10"},
    {"lineItem/LineItemType": "DiscountedUsage", "lineItem/UsageAmount": "50", "lineItem/UnblendedRate": "0",
     "lineItem/UnblendedCost": "0", "lineItem/NetUnblendedCost": "0", "reservation/ReservationARN": RI,
     "reservation/EffectiveCost": "4", "reservation/NetEffectiveCost": "3.6",
     "pricing/publicOnDemandRate": "0.1", "pricing/publicOnDemandCost": "5"},
    {"lineItem/LineItemType": "RIFee", "lineItem/UsageAmount": "50", "lineItem/UnblendedRate": "0.1",
     "lineItem/UnblendedCost": "5", "lineItem/NetUnblendedRate": "0.09", "lineItem/NetUnblendedCost": "4.5",
     "reservation/ReservationARN": RI, "reservation/UnusedRecurringFee": "1",
     "reservation/NetUnusedRecurringFee": "0.9", "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "0.5",
     "reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod": "0.45"},
    {"lineItem/LineItemType": "SavingsPlanCoveredUsage", "lineItem/UsageAmount": "60",
     "lineItem/UnblendedRate": "0.1", "lineItem/UnblendedCost": "6", "lineItem/NetUnblendedRate": "0.09",
     "lineItem/NetUnblendedCost": "5.4", "savingsPlan/SavingsPlanARN": SP,
     "savingsPlan/SavingsPlanEffectiveCost": "3", "savingsPlan/NetSavingsPlanEffectiveCost": "2.7",
     "pricing/publicOnDemandRate": "0.1", "pricing/publicOnDemandCost": "6"},
    {"lineItem/LineItemType": "SavingsPlanNegation", "lineItem/UsageAmount": "60",
     "lineItem/UnblendedRate": "-0.1", "lineItem/UnblendedCost": "-6", "lineItem/NetUnblendedCost": "-5.4",
     "savingsPlan/SavingsPlanARN": SP},
    {"lineItem/LineItemType": "SavingsPlanRecurringFee", "lineItem/UsageAmount": "4",
     "lineItem/UnblendedRate": "1", "lineItem/UnblendedCost": "4", "lineItem/NetUnblendedRate": "0.9",
     "lineItem/NetUnblendedCost": "3.6", "savingsPlan/SavingsPlanARN": SP,
     "savingsPlan/TotalCommitmentToDate": "4", "savingsPlan/UsedCommitment": "3",
     "savingsPlan/RecurringCommitmentForBillingPeriod": "4",
     "savingsPlan/NetRecurringCommitmentForBillingPeriod": "3.6"},
    {"lineItem/LineItemType": "EdpDiscount", "lineItem/UsageAmount": "0", "lineItem/UnblendedCost": "-1.9",
     "lineItem/NetUnblendedCost": "0"},
]  # fmt: skip


def write_cur(path: Path, lines: list[dict[str, str]], drop: tuple[str, ...] = ()) -> Path:
    rows = [{**BASE, "identity/LineItemId": f"li-{i}", **line} for i, line in enumerate(lines)]
    header = sorted({k for r in rows for k in r if not any(k.startswith(d) for d in drop)})
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def gross_only(lines: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in line.items() if "/Net" not in k} for line in lines]


# -- 1: net where the file has net columns, gross where it has none, never a mix
def test_net_file_is_read_net_throughout(tmp_path: Path) -> None:
    with load(write_cur(tmp_path / "net.csv", NET_LINES)) as bill:
        # 9 + 3.6 + (0.9 + 0.45) + 2.7 + 0 + (4 - 3) x 3.6/4 + 0; the old reader gave 17.8 (unused gross).
        assert bill.total("EffectiveCost") == Decimal("17.55")
        assert bill.total("BilledCost") == Decimal("17.1")


def test_gross_file_is_read_gross_throughout(tmp_path: Path) -> None:
    with load(write_cur(tmp_path / "gross.csv", gross_only(NET_LINES))) as bill:
        # 10 + 4 + 1.5 + 3 + 0 + 1 - 1.9 (the discount is its own line in a gross file)
        assert bill.total("EffectiveCost") == Decimal("17.6")


def test_an_empty_net_cell_falls_back_to_its_gross_value(tmp_path: Path) -> None:
    lines = [dict(line) for line in NET_LINES]
    lines[2]["reservation/NetUnusedRecurringFee"] = ""
    with load(write_cur(tmp_path / "net.csv", lines)) as bill:
        assert bill.total("EffectiveCost") == Decimal("17.55") - Decimal("0.9") + Decimal("1")


# -- 4: ContractedCost is the cost at the agreed rate before commitment discounts
def test_contracted_cost_per_line_item_type(tmp_path: Path) -> None:
    with load(write_cur(tmp_path / "net.csv", NET_LINES)) as bill:
        frame = bill.sql(
            "SELECT x_LineItemType AS t, ContractedCost AS c, ContractedUnitPrice AS p, PricingQuantity AS q "
            "FROM billing WHERE CommitmentDiscountStatus IS DISTINCT FROM 'Unused'"
        ).to_pandas()
    got = {t: (c, p, q) for t, c, p, q in frame.itertuples(index=False)}
    assert got["Usage"][0] == Decimal("9")  # net rate x amount
    assert got["DiscountedUsage"][0] == Decimal("5")  # public on-demand: the CUR bills it 0
    assert got["SavingsPlanNegation"][0] == Decimal("0")  # the commitment discount itself
    assert got["RIFee"][0] == Decimal("4.5") and got["SavingsPlanRecurringFee"][0] == Decimal("3.6")
    for t, (c, p, q) in got.items():  # ContractedCost-C-009
        if p is not None and q is not None:
            assert p * q == c, t


# -- 9: every line has a ChargeCategory
def test_unknown_line_item_types_get_a_category(tmp_path: Path) -> None:
    lines = [
        {"lineItem/LineItemType": "FutureVolumeDiscount", "lineItem/UsageAmount": "1",
         "lineItem/UnblendedCost": "-0.5"},
        {"lineItem/LineItemType": "Mystery", "lineItem/ProductCode": "", "lineItem/UnblendedCost": "0.25"},
        {"lineItem/LineItemType": "RiVolumeDiscount", "lineItem/UsageAmount": "1",
         "lineItem/UnblendedCost": "-0.1"},
    ]  # fmt: skip
    with load(write_cur(tmp_path / "u.csv", lines)) as bill:
        frame = bill.sql("SELECT x_LineItemType AS t, ChargeCategory AS c FROM billing").to_pandas()
        usage = bill.total("EffectiveCost", where="ChargeCategory = 'Usage'")
    got = dict(frame.itertuples(index=False))
    assert got == {"FutureVolumeDiscount": "Usage", "Mystery": "Adjustment", "RiVolumeDiscount": "Usage"}
    assert usage == Decimal("-0.6")


# -- 10: the spec's commitment scenarios, row for row
def _spec_rows(name: str) -> list[tuple[str, str, str, Decimal, Decimal, str | None, bool]]:
    path = refdata(f"focus-spec/commitment_discount_scenarios/{name}")
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [
        (
            r["ChargeCategory"],
            r["ChargeFrequency"],
            r["PricingCategory"],
            Decimal(r["BilledCost"]),
            Decimal(r["EffectiveCost"]),
            None if r.get("CommitmentDiscountStatus", "null") == "null" else r["CommitmentDiscountStatus"],
            r.get("ConsumedQuantity", "null") == "null",
        )
        for r in rows
    ]


def test_unused_commitment_follows_the_spec_scenarios(tmp_path: Path) -> None:
    """A 1.00/hour RI used 75% for an hour: spec usage scenario 3 (0.75 Used + 0.25 Unused, both Usage rows
    billing 0) and, for the fee, the recurring purchase of purchase scenario 2 (billed, EffectiveCost 0)."""
    lines = [
        {"lineItem/LineItemType": "DiscountedUsage", "lineItem/UsageAmount": "1", "lineItem/UnblendedCost": "0",
         "lineItem/ResourceId": "i-1", "reservation/ReservationARN": RI, "reservation/EffectiveCost": "0.75",
         "pricing/publicOnDemandRate": "1.5", "pricing/publicOnDemandCost": "1.5"},
        {"lineItem/LineItemType": "RIFee", "lineItem/UsageAmount": "1", "lineItem/UnblendedRate": "1",
         "lineItem/UnblendedCost": "1.00", "reservation/ReservationARN": RI,
         "reservation/UnusedRecurringFee": "0.25"},
    ]  # fmt: skip
    with load(write_cur(tmp_path / "s.csv", lines)) as bill:
        frame = bill.sql(
            "SELECT ChargeCategory, ChargeFrequency, PricingCategory, BilledCost, EffectiveCost, "
            "CommitmentDiscountStatus, ConsumedQuantity IS NULL AS q, ResourceId FROM billing "
            "ORDER BY ChargeCategory DESC, EffectiveCost DESC"
        ).to_pandas()
    rows = [tuple(None if v != v else v for v in r) for r in frame.itertuples(index=False)]
    usage = _spec_rows("commitment_discount_usage_scenario_3.csv")
    purchase = _spec_rows("commitment_discount_purchase_scenario_2.csv")[0]
    assert [r[:7] for r in rows[:2]] == usage
    assert rows[2][:5] == (*purchase[:3], Decimal("1"), purchase[4])
    assert rows[1][7] == RI  # the unused row's resource is the commitment (usage scenario 2)


# -- the conformance check on every canonical table the readers produce
@pytest.fixture(scope="module")
def model() -> dict:  # type: ignore[type-arg]
    return conformance.load_model(refdata("focus-validator/model-1.2.json"))


@pytest.fixture(scope="module")
def demo_bill(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.scenario import default_scenario

    scenario = default_scenario()
    edge = datetime(2026, 11, 30, 21, tzinfo=UTC)
    hours = scenario.hours(6) + [edge + timedelta(hours=i) for i in range(6)]
    return write_bill(scenario, hours, tmp_path_factory.mktemp("bill"))


def _check(paths: list[Path], model: dict) -> list[conformance.RuleResult]:  # type: ignore[type-arg]
    with load(paths) as bill:
        return conformance.check(bill, model)


@pytest.mark.parametrize("fmt", ["cur", "focus"])
def test_demo_bill_conforms(demo_bill: dict[str, Path], model: dict, fmt: str) -> None:  # type: ignore[type-arg]
    results = _check([demo_bill[fmt]], model)
    counts = conformance.summary(results)
    assert [r.rule for r in results if r.status == "fail"] == []
    assert counts["checked"] >= 250 and counts["passed"] == counts["checked"]
    # The rules the fixes are about were checked on rows, not skipped.
    by_id = {r.rule: r for r in results}
    for rule in ("ChargeCategory-C-002-M", "EffectiveCost-C-005-C", "ContractedCost-C-009-C",
                 "BillingCurrency-C-004-M", "ConsumedQuantity-C-004-C",
                 # the model's condition corrected: every Usage row with a commitment id has a status (the
                 # negation lines too), and awscost's own check of the unused row beside it
                 "CommitmentDiscountStatus-C-004-C", "x-UnusedCommitment-Row"):  # fmt: skip
        assert by_id[rule].status == "pass" and by_id[rule].checked_rows > 0, rule


def test_refdata_cur_conforms(model: dict) -> None:  # type: ignore[type-arg]
    path = refdata("focus-converters/sample-anonymous-aws-export-dataset.csv")
    results = _check([path], model)
    assert [r.rule for r in results if r.status == "fail"] == []
    assert conformance.summary(results)["checked"] >= 250


# The FOCUS sample's own departures from the 1.2 rules, each in the file's values as the providers wrote them
# (the FOCUS reader passes a provider's FOCUS data through unchanged): Oracle rows with ChargeFrequency
# 'Usage-based', no ContractedCost, a RegionName without RegionId, no BillingAccountName; AWS rows whose
# anonymizer scrambled unit prices (1.0 x 0.0014 = 0.00), a ResourceType without ResourceId, a credit with a
# negative unit price, ...
FOCUS_SAMPLE_FAILURES = {
    "BillingAccountName-C-003-C", "ChargeFrequency-C-003-M", "ConsumedQuantity-C-004-C",
    "ContractedCost-C-003-M", "ContractedCost-C-004-M", "ContractedCost-C-009-C", "ContractedUnitPrice-C-006-C",
    "ContractedUnitPrice-C-009-C", "ContractedUnitPrice-C-011-C", "ListCost-C-009-C", "ListUnitPrice-C-010-C",
    "PricingCategory-C-004-C", "RegionName-C-004-C", "RegionName-C-005-C", "ResourceType-C-004-C",
    "ServiceName-C-005-C", "SkuPriceId-C-005-C",
}  # fmt: skip


def test_focus_sample_failures_are_the_files_own(model: dict) -> None:  # type: ignore[type-arg]
    path = refdata("focus-sample-data/focus_sample.csv")
    results = _check([path], model)
    leaves = {r.rule for r in results if r.status == "fail" and r.reason != "composite"}
    assert leaves == FOCUS_SAMPLE_FAILURES
    raw = path.read_text(encoding="utf-8")
    assert '"Usage-based"' in raw  # ChargeFrequency-C-003-M: the file's spelling


def test_model_errata_and_gaps_are_reported(model: dict, demo_bill: dict[str, Path]) -> None:  # type: ignore[type-arg]
    results = {r.rule: r for r in _check([demo_bill["cur"]], model)}
    assert results["CommitmentDiscountStatus-C-005-M"].reason.startswith("corrected:")
    assert results["BilledCost-C-005-C"].status == "skip"
    assert "FOCUS 1.1+" in results["CostAndUsage-D-015-C"].reason  # CommitmentDiscountUnit: not in 1.0
    assert results["SubAccountName-C-005-C"].reason.startswith("a CUR written without account names")


def test_conform_command_exit_codes(demo_bill: dict[str, Path]) -> None:
    runner = CliRunner()
    model_path = str(refdata("focus-validator/model-1.2.json"))
    ok = runner.invoke(cli, ["billing", "conform", str(demo_bill["cur"]), "--model", model_path])
    assert ok.exit_code == 0, ok.output
    assert "0 failed" in ok.output
    sample = str(refdata("focus-sample-data/focus_sample.csv"))
    bad = runner.invoke(cli, ["billing", "conform", sample, "--model", model_path, "--format", "csv"])
    assert bad.exit_code == 1
    rules = {r["Rule"] for r in csv.DictReader(io.StringIO(bad.output))}
    assert rules >= FOCUS_SAMPLE_FAILURES


def test_own_rules_run_without_the_model(demo_bill: dict[str, Path]) -> None:
    results = _check([demo_bill["cur"]], None)
    assert {r.rule for r in results} == set(conformance.OWN_RULES)
    assert all(r.status == "pass" for r in results)


# -- 5: coverage at on-demand-equivalent cost, every reservable service in the denominator
def test_commitment_coverage_is_measured_at_on_demand_equivalent(demo_bill: dict[str, Path]) -> None:
    with load(demo_bill["cur"]) as bill:
        c = bill.commitments().to_pandas()
        covered = bill.sql(
            "SELECT x_BillingPeriod AS p, sum(ListCost) AS od FROM billing "
            "WHERE CommitmentDiscountStatus = 'Used' GROUP BY 1 ORDER BY 1"
        ).to_pandas()
        opensearch = bill.total(
            "ListCost",
            where="x_ProductCode = 'AmazonES' AND CommitmentDiscountId IS NULL AND ChargeCategory = 'Usage'",
        )
    assert opensearch > 0  # the demo runs OpenSearch on demand: it is coverable usage
    assert list(c["CoveredOnDemandCost"]) == list(covered["od"])
    for row in c.itertuples(index=False):
        expected = round(
            float(row.CoveredOnDemandCost * 100 / (row.CoveredOnDemandCost + row.UncoveredOnDemandCost)), 2
        )
        assert row.CoveragePct == expected
    # At EffectiveCost (the old measure) the discounted, covered part counts for less: coverage understated.
    at_effective = c["ReservedCovered"] + c["SavingsPlanCovered"]
    old = at_effective / (at_effective + c["OnDemandEligible"]) * 100
    assert all(float(o) < new for o, new in zip(old, c["CoveragePct"], strict=True))


def test_commitment_usage_covers_every_reservable_kind() -> None:
    from awscost.billing.bill import COMMITMENT_USAGE
    from awscost.usage.kinds import KINDS

    codes = {k.price_code for k in KINDS.values() if k.price_code and k.reservation_kind}
    assert codes and codes <= set(COMMITMENT_USAGE)


# -- 7: currencies are never added together
def test_two_currencies_are_never_summed(tmp_path: Path) -> None:
    lines = [
        {"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "100", "lineItem/UsageAmount": "1"},
        {"lineItem/LineItemType": "Usage", "lineItem/UnblendedCost": "100", "lineItem/UsageAmount": "1",
         "lineItem/CurrencyCode": "EUR", "lineItem/UsageAccountId": "222222222222"},
    ]  # fmt: skip
    path = write_cur(tmp_path / "fx.csv", lines)
    with load(path) as bill:
        with pytest.raises(InputError, match="2 currencies"):
            bill.total("BilledCost")
        assert bill.total("BilledCost", where="BillingCurrency = 'EUR'") == Decimal(100)
        by = bill.summary(by=["ChargeCategory"], metric="BilledCost").to_pandas()
        assert sorted(zip(by["BillingCurrency"], by["BilledCost"], strict=True)) == [
            ("EUR", Decimal(100)), ("USD", Decimal(100))
        ]  # fmt: skip
        assert "BillingCurrency" in bill.month_over_month(by=["SubAccountId"]).to_pandas().columns
    with load(write_cur(tmp_path / "usd.csv", lines[:1])) as bill:  # one currency: the output as before
        assert "BillingCurrency" not in bill.summary(by=["ChargeCategory"]).to_pandas().columns
    out = CliRunner().invoke(
        cli, ["billing", "summary", str(path), "--by", "SubAccountId", "--format", "csv"]
    )
    assert out.exit_code == 0 and "EUR" in out.output and "USD" in out.output


def _as_cur2(cur_dir: Path, out: Path) -> Path:
    """The demo's legacy CUR rewritten as a CUR 2.0 export (snake_case columns; product attributes and
    tags in the `product` / `resource_tags` map columns as JSON, tag keys normalized as Data Exports writes
    them), so the CUR 2.0 reader's table is checked on a whole bill too."""
    import gzip
    import json
    import re

    from awscost.billing.readers.cur2 import snake

    out.mkdir(parents=True, exist_ok=True)
    for n, part in enumerate(sorted(cur_dir.rglob("*.csv.gz"))):
        with gzip.open(part, "rt", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        plain = [c for c in rows[0] if not c.startswith(("product/", "resourceTags/"))]
        target = out / f"cur2-{n:05d}.csv.gz"
        with gzip.open(target, "wt", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([snake(c) for c in plain] + ["product", "resource_tags"])
            for r in rows:
                product = {
                    snake(k).removeprefix("product_"): v
                    for k, v in r.items()
                    if k.startswith("product/") and v
                }
                tags = {
                    re.sub(r"[^0-9a-z]", "_", k.removeprefix("resourceTags/").lower()): v
                    for k, v in r.items()
                    if k.startswith("resourceTags/") and v
                }
                writer.writerow([r[c] for c in plain] + [json.dumps(product), json.dumps(tags)])
    return out


def test_cur2_export_of_the_demo_bill_conforms(
    demo_bill: dict[str, Path], model: dict, tmp_path: Path
) -> None:  # type: ignore[type-arg]
    cur2 = _as_cur2(demo_bill["cur"], tmp_path / "cur2")
    with load(cur2) as bill:
        assert bill.sql("SELECT DISTINCT x_SourceFormat AS f FROM billing").to_pandas()["f"].tolist() == [
            "cur2"
        ]
        results = conformance.check(bill, model)
        cur2_total = bill.total("EffectiveCost")
    with load(demo_bill["cur"]) as bill:
        assert cur2_total == bill.total("EffectiveCost")
    assert [r.rule for r in results if r.status == "fail"] == []
    assert conformance.summary(results)["checked"] >= 250


def test_dbr_table_conforms(model: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """Three DBR months with an RI bought upfront in the first: the purchase, its amortization rows and the
    usage conform, but for what a DBR does not carry (SOURCE_GAPS, reported)."""
    from dbr_bills import months, sign_up, write_month

    for i, period in enumerate(months("2016-01", 3)):
        write_month(
            tmp_path,
            period,
            [sign_up("876.00", "2016-01-05 00:00:00", "2017-01-04 23:59:59")] if i == 0 else [],
        )
    results = _check([tmp_path], model)
    assert [r.rule for r in results if r.status == "fail"] == []
    by_id = {r.rule: r for r in results}
    assert "not checked on dbr rows" in by_id["SkuId-C-005-C"].reason
    assert (
        by_id["ContractedCost-C-009-C"].status == "pass" and by_id["ContractedCost-C-009-C"].checked_rows >= 6
    )
