"""Billing readers: every format onto the canonical table, totals tied out exactly to the source column."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import warnings
import zipfile
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import dbr_bills
from awscost.billing import load
from awscost.billing.readers import detect_reader
from awscost.billing.schema import CANONICAL, COLUMN_NAMES, FOCUS_COLUMNS
from awscost.core.errors import AwsCostWarning, InputError
from conftest import refdata

DATA = Path(__file__).parent / "data" / "billing"


def column_sum(path: Path, column: str, nulls: tuple[str, ...] = ("", "NULL", "null")) -> Decimal:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        return sum(
            (Decimal(r[column]) for r in csv.DictReader(fh) if r[column].strip() not in nulls), Decimal(0)
        )


def test_canonical_schema_has_all_focus_1_0_columns() -> None:
    spec = refdata("focus-spec/focus_v1.0_columns.csv")
    with open(spec, encoding="utf-8") as fh:
        ids = [r["ColumnId"] for r in csv.DictReader(fh)]
    assert len(ids) == 43
    assert set(ids) == set(FOCUS_COLUMNS)
    assert {"x_UsageType", "x_Operation", "x_InstanceType", "x_LineItemType", "x_ProductCode"} <= set(
        CANONICAL
    )


def test_real_legacy_cur_totals_tie_out_exactly() -> None:
    path = refdata("focus-converters/sample-anonymous-aws-export-dataset.csv")
    with load(path) as bill:
        assert bill.rows() == 1281
        billed = bill.total("BilledCost")
        assert billed == column_sum(path, "lineItem/UnblendedCost")
        assert round(billed, 6) == Decimal("1.682309")
        by = bill.summary(by=["ChargeCategory"], metric="BilledCost").to_pandas()
        assert dict(zip(by["ChargeCategory"], by["BilledCost"], strict=True)).keys() == {"Usage", "Tax"}
        assert sum(by["BilledCost"]) == billed
        counts = bill.sql(
            "SELECT x_LineItemType, count(*) AS n FROM billing GROUP BY 1 ORDER BY 1"
        ).to_pandas()
        assert dict(zip(counts["x_LineItemType"], counts["n"], strict=True)) == {"Tax": 12, "Usage": 1269}
        periods = bill.periods()
        assert periods == ["2023-11"]
        row = bill.sql("SELECT * FROM billing WHERE x_ProductCode = 'AmazonS3' LIMIT 1").to_pandas().iloc[0]
        assert row["ProviderName"] == "AWS" and row["ServiceCategory"] == "Storage"
        assert row["BillingAccountId"] == "123412340534" and row["SubAccountId"] == "123412340534"


def test_real_focus_sample_null_literals_timestamps_tags() -> None:
    path = refdata("focus-sample-data/focus_sample.csv")
    with load(path) as bill:
        assert bill.rows() == 1000
        for metric in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
            assert bill.total(metric) == column_sum(path, metric), metric
        providers = bill.summary(by=["ProviderName"], metric="BilledCost").to_pandas()
        assert set(providers["ProviderName"]) == {"AWS", "Microsoft", "Oracle"}
        credit = bill.sql("SELECT BilledCost FROM billing WHERE ChargeCategory = 'Credit'").to_pandas()
        assert list(credit["BilledCost"]) == [Decimal("-2.6137")]
        # Tags JSON became a map, queryable by key, including the Azure key with a leading space.
        tagged = bill.sql("SELECT count(*) AS n FROM billing WHERE Tags[' org'] IS NOT NULL").to_pandas()
        assert tagged["n"][0] > 0
        apps = bill.summary(by=["Tags.application"], metric="BilledCost").to_pandas()
        assert sum(apps["BilledCost"]) == bill.total("BilledCost")
        # NULL literals are NULL, not the text 'NULL'; the extra `Id` column is kept in x_Extra.
        assert (
            bill.sql("SELECT count(*) AS n FROM billing WHERE AvailabilityZone = 'NULL'").to_pandas()["n"][0]
            == 0
        )
        assert (
            bill.sql("SELECT count(*) AS n FROM billing WHERE x_Extra['Id'] IS NOT NULL").to_pandas()["n"][0]
            == 1000
        )
        start = bill.sql("SELECT min(ChargePeriodStart) AS s FROM billing").to_pandas()["s"][0]
        assert str(start).startswith("2024-")


def test_hand_made_cur_commitments_are_not_double_counted() -> None:
    path = DATA / "cur_small.csv"
    with load(path) as bill:
        assert (
            bill.total("BilledCost") == column_sum(path, "lineItem/UnblendedCost") == Decimal("47.0460000181")
        )
        # Amortized: on-demand 0.096 + RI used 0.06 + RI unused 2.00 + SP used 0.1382 + SP unused 0.50
        # + tax 1.81E-8 - credit 5 - refund 1.25; the negation and the fees' billed amounts add nothing.
        assert bill.total("EffectiveCost") == Decimal("-3.4557999819")
        eff = bill.sql(
            "SELECT x_LineItemType AS t, COALESCE(CommitmentDiscountStatus, '-') AS st, EffectiveCost AS e, "
            "BilledCost AS b, ChargeCategory AS c FROM billing"
        ).to_pandas()
        by_type = {(t, st): (e, b, c) for t, st, e, b, c in eff.itertuples(index=False)}
        assert by_type[("SavingsPlanNegation", "Used")][::2] == (Decimal(0), "Usage")
        # FOCUS: a fee is a Purchase with EffectiveCost 0 (EffectiveCost-C-005); its unused part is a Usage
        # row of its own, status Unused, billing nothing (spec commitment discount usage scenarios 2-3).
        assert by_type[("RIFee", "-")] == (Decimal(0), Decimal("43.2"), "Purchase")
        assert by_type[("RIFee", "Unused")] == (Decimal("2"), Decimal(0), "Usage")
        assert by_type[("SavingsPlanRecurringFee", "-")][::2] == (Decimal(0), "Purchase")
        assert by_type[("SavingsPlanRecurringFee", "Unused")] == (Decimal("0.5"), Decimal(0), "Usage")
        by_type = {t: (e, c) for (t, st), (e, b, c) in by_type.items()}
        assert by_type["Tax"] == (Decimal("1.81E-8"), "Tax")
        assert by_type["Credit"][1] == "Credit" and by_type["Refund"][1] == "Adjustment"
        c = bill.commitments().to_pandas().iloc[0]
        assert c["ReservedCovered"] == Decimal("0.06")
        assert c["SavingsPlanCovered"] == Decimal("0.1382")
        assert c["UnusedCommitment"] == Decimal("2.5")
        assert c["OnDemandEligible"] == Decimal("0.096")
        # Tags by key; the unknown column is kept, the known ones are not repeated in x_Extra.
        tags = bill.sql(
            "SELECT Tags['user:Spend_Category'] AS cat, x_Extra FROM billing WHERE ResourceId = "
            "'i-0000000001'"
        ).to_pandas()
        assert tags["cat"][0] == "web"
        assert tags["x_Extra"][0] == {"myteam/TicketRef": "T-1"}
        adj = bill.credits_refunds_tax().to_pandas()
        assert set(adj["Kind"]) == {"Credit", "Refund", "Tax"}
        assert sum(adj["BilledCost"]) == Decimal("-6.2499999819")


def test_to_pandas_has_every_canonical_column_in_order() -> None:
    with load(DATA / "cur_small.csv") as bill:
        frame = bill.to_pandas()
    assert tuple(frame.columns) == COLUMN_NAMES
    assert len(frame) == 9 + 2  # nine lines, two of them fees with an unused part (each one more row)


@pytest.mark.parametrize(
    "name",
    [
        "commitment_discount_purchase_scenario_1.csv",
        "commitment_discount_usage_scenario_1.csv",
        "commitment_discount_usage_scenario_2.csv",
        "commitment_discount_usage_scenario_3.csv",
        "commitment_discount_usage_scenario_4.csv",
    ],
)
def test_focus_commitment_discount_scenarios(name: str) -> None:
    path = refdata(f"focus-spec/commitment_discount_scenarios/{name}")
    with load(path) as bill:
        assert bill.total("BilledCost") == column_sum(path, "BilledCost")
        assert bill.total("EffectiveCost") == column_sum(path, "EffectiveCost")
        if "usage" in name:
            used = bill.sql(
                "SELECT COALESCE(sum(EffectiveCost), 0) AS e FROM billing WHERE "
                "CommitmentDiscountStatus = 'Used'"
            ).to_pandas()
            unused = bill.commitments().to_pandas()["UnusedCommitment"][0]
            committed = bill.sql(
                "SELECT COALESCE(sum(EffectiveCost), 0) AS e FROM billing WHERE "
                "CommitmentDiscountId IS NOT NULL"
            ).to_pandas()["e"][0]
            # Used + unused is the whole commitment cost: nothing counted twice, nothing lost.
            assert used["e"][0] + unused == committed
            # And each equals what the spec's own rows say, read independently of the loader.
            with open(path, encoding="utf-8", newline="") as fh:
                spec_rows = [r for r in csv.DictReader(fh) if any(v.strip() for v in r.values())]
            by_status = {
                status: sum(
                    (
                        Decimal(r["EffectiveCost"])
                        for r in spec_rows
                        if r["CommitmentDiscountStatus"] == status
                    ),
                    Decimal(0),
                )
                for status in ("Used", "Unused")
            }
            assert Decimal(used["e"][0]) == by_status["Used"]
            assert Decimal(unused) == by_status["Unused"]


@pytest.mark.parametrize("number, row", [(2, 3), (3, 4)])
def test_focus_scenario_with_impossible_timestamp_is_rejected_with_row(number: int, row: int) -> None:
    # The spec's purchase scenarios 2 and 3 hold `2023-02-01T30:00:00Z`: a strict loader must refuse them.
    path = refdata(
        f"focus-spec/commitment_discount_scenarios/commitment_discount_purchase_scenario_{number}.csv"
    )
    with pytest.raises(InputError) as err:
        load(path)
    text = err.value.render()
    assert (
        str(path) in text
        and f"row {row}:" in text
        and "ChargePeriodEnd" in text
        and "2023-02-01T30:00:00Z" in text
    )


def test_focus_purchase_is_billed_not_effective() -> None:
    path = refdata("focus-spec/commitment_discount_scenarios/commitment_discount_purchase_scenario_1.csv")
    with load(path) as bill:
        assert bill.total("BilledCost") == Decimal("8760")
        assert bill.total("EffectiveCost") == Decimal(0)


def test_cur2_csv_maps_tags_product_and_cost_categories() -> None:
    path = DATA / "cur2_small.csv"
    with load(path) as bill:
        # net unblended cost wins where present (a1), else unblended
        assert bill.total("BilledCost") == Decimal("0.0765") + Decimal("0") + Decimal("1.15E-5")
        assert bill.total("EffectiveCost") == Decimal("0.0765") + Decimal("0.16") + Decimal("1.15E-5")
        rows = bill.sql(
            "SELECT ResourceId, x_InstanceType, x_Engine, RegionId, Tags, x_Extra FROM billing ORDER BY 1"
        ).to_pandas()
        first = rows.set_index("ResourceId").loc["i-0aaa"]
        assert first["x_InstanceType"] == "c5.large" and first["RegionId"] == "us-east-1"
        assert first["Tags"] == {"user_spend_category": "web"}
        assert first["x_Extra"] == {"cost_category:team": "platform"}
        assert rows.set_index("ResourceId").loc["db-1"]["x_Engine"] == "MySQL"


def test_cur2_parquet_with_real_map_and_double_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "bill_payer_account_id": ["111111111111"] * 3,
            "bill_billing_period_start_date": pa.array(
                [pa.scalar(1735689600, pa.timestamp("s"))] * 3, type=pa.timestamp("s")
            ),
            "line_item_usage_account_id": ["222222222222", "222222222222", "333333333333"],
            "line_item_line_item_type": ["Usage", "Usage", "Tax"],
            "line_item_usage_start_date": pa.array(
                [1735689600, 1735693200, 1735689600], type=pa.timestamp("s")
            ),
            "line_item_usage_end_date": pa.array(
                [1735693200, 1735696800, 1738368000], type=pa.timestamp("s")
            ),
            "line_item_product_code": ["AmazonEC2", "AmazonEC2", "AmazonEC2"],
            "line_item_unblended_cost": pa.array([0.1, 0.2, 0.03], type=pa.float64()),
            "resource_tags": pa.array(
                [[("user_team", "a")], [], [("user_team", "b")]], type=pa.map_(pa.string(), pa.string())
            ),
            "product": pa.array(
                [[("instance_type", "t3.micro")], [("instance_type", "t3.large")], []],
                type=pa.map_(pa.string(), pa.string()),
            ),
        }
    )
    path = tmp_path / "cur2-00001.snappy.parquet"
    pq.write_table(table, path)
    with load(path) as bill:
        # doubles go through their shortest text: 0.1 + 0.2 + 0.03 is exactly 0.33, not 0.30000000000000004...
        assert bill.total("BilledCost") == Decimal("0.33")
        teams = bill.summary(by=["Tags.user_team"], metric="BilledCost").to_pandas()
        got = {
            (None if t != t else t): c
            for t, c in zip(teams["Tags.user_team"], teams["BilledCost"], strict=True)
        }
        assert got == {None: Decimal("0.2"), "a": Decimal("0.1"), "b": Decimal("0.03")}
        assert set(bill.sql("SELECT x_InstanceType FROM billing").to_pandas()["x_InstanceType"].dropna()) == {
            "t3.micro",
            "t3.large",
        }
        assert bill.periods() == ["2025-01"]


def test_dbr_zip_skips_total_rows_and_keeps_rounding(tmp_path: Path) -> None:
    src = DATA / "dbr_small.csv"
    name = "111111111111-aws-billing-detailed-line-items-with-resources-and-tags-2017-01.csv"
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(src, name)
    with load(archive) as bill:
        assert bill.rows() == 4  # 3 line items + rounding; AccountTotal and StatementTotal left out
        assert bill.total("BilledCost") == Decimal("0.10007393")
        assert bill.periods() == ["2017-01"]
        row = (
            bill.sql("SELECT x_InstanceType, Tags, PricingCategory FROM billing WHERE ResourceId = 'i-0abc'")
            .to_pandas()
            .iloc[0]
        )
        assert row["x_InstanceType"] == "c4.large"
        assert row["Tags"] == {"user:Spend_Category": "web", "user:Name": "web-1"}
        assert row["PricingCategory"] == "Standard"
        ri = bill.sql("SELECT CommitmentDiscountType FROM billing WHERE ResourceId = 'i-0def'").to_pandas()
        assert ri["CommitmentDiscountType"][0] == "Reserved Instances (RI)"
        assert (
            bill.sql("SELECT ChargeCategory FROM billing WHERE x_LineItemType = 'Rounding'").to_pandas()[
                "ChargeCategory"
            ][0]
            == "Adjustment"
        )


def test_one_pass_view_reads_quoted_empty_fields_as_null(
    tmp_path: Path,
) -> None:
    """A DBR quotes every field, empty ones too (""): the one-shot scan takes them for NULL, as the load does."""
    path = tmp_path / "111111111111-aws-billing-detailed-line-items-with-resources-and-tags-2017-01.csv"
    shutil.copy(DATA / "dbr_small.csv", path)
    query = "SELECT * EXCLUDE (Tags, x_Extra) FROM billing ORDER BY ALL"
    with load(path) as full, load(path, materialize=False) as lazy:
        assert lazy.total("BilledCost") == Decimal("0.10007393")
        assert (
            lazy.sql(query).to_pandas().astype(str).values.tolist()
            == full.sql(query).to_pandas().astype(str).values.tolist()
        )


def test_legacy_cur_zip_and_gzip_load_the_same(tmp_path: Path) -> None:
    src = DATA / "cur_small.csv"
    gz = tmp_path / "report-00001.csv.gz"
    with open(src, "rb") as fin, gzip.open(gz, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    archive = tmp_path / "report-00001.csv.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(src, "report-00001.csv")
    totals = []
    for path in (src, gz, archive):
        with load(path) as bill:
            totals.append((bill.rows(), bill.total("BilledCost"), bill.total("EffectiveCost")))
    assert totals[0] == totals[1] == totals[2]


def test_detection_picks_the_format_from_the_header() -> None:
    assert detect_reader(["identity/LineItemId", "lineItem/UnblendedCost", "lineItem/UsageStartDate",
                          "lineItem/LineItemType"], where="x").name == "cur"  # fmt: skip
    assert detect_reader(["line_item_unblended_cost", "line_item_usage_start_date",
                          "line_item_line_item_type"], where="x").name == "cur2"  # fmt: skip
    assert detect_reader(["BilledCost", "ChargePeriodStart", "EffectiveCost"], where="x").name == "focus"
    assert (
        detect_reader(["RecordType", "LinkedAccountId", "UsageStartDate", "UnBlendedCost"], where="x").name
        == "dbr"
    )


def test_focus_1_2_parquet_keeps_newer_columns_and_aws_x_columns(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "BilledCost": pa.array([Decimal("1.25"), Decimal("0.000000123")], type=pa.decimal128(20, 10)),
            "EffectiveCost": pa.array([Decimal("1.00"), Decimal("0.000000123")], type=pa.decimal128(20, 10)),
            "ChargeCategory": ["Usage", "Usage"],
            "ChargePeriodStart": pa.array([1727740800, 1727744400], type=pa.timestamp("s", tz="UTC")),
            "BillingPeriodStart": pa.array([1727740800, 1727740800], type=pa.timestamp("s", tz="UTC")),
            "ProviderName": ["AWS", "AWS"],
            "BillingAccountId": ["111111111111", "111111111111"],
            "ServiceSubcategory": ["Virtual Machines", "Object Storage"],  # FOCUS 1.1+
            "InvoiceId": ["INV-1", "INV-1"],  # FOCUS 1.2
            "x_ServiceCode": ["AmazonEC2", "AmazonS3"],
            "x_UsageType": ["BoxUsage:t3.micro", "TimedStorage-ByteHrs"],
            "Tags": ['{"user:team": "a"}', None],
        }
    )
    path = tmp_path / "focus-1-2.parquet"
    pq.write_table(table, path)
    with load(path) as bill:
        assert bill.total("BilledCost") == Decimal("1.250000123")
        rows = bill.sql(
            "SELECT x_ProductCode, x_UsageType, x_PayerAccountId, x_Extra, Tags['user:team'] AS team "
            "FROM billing ORDER BY 1"
        ).to_pandas()
        first = rows.iloc[0]
        assert first["x_ProductCode"] == "AmazonEC2" and first["x_UsageType"] == "BoxUsage:t3.micro"
        assert first["x_PayerAccountId"] == "111111111111" and first["team"] == "a"
        assert first["x_Extra"] == {"ServiceSubcategory": "Virtual Machines", "InvoiceId": "INV-1"}
        assert bill.periods() == ["2024-10"]


def test_legacy_cur_parquet_athena_layout_with_flattened_tags(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Column names and types as in aws-cudos' cur_columns.json (the Athena/Glue schema of the CUR parquet).
    glue = json.loads(refdata("aws-cudos/cur_columns.json").read_text(encoding="utf-8"))
    types = {c["Name"]: c["Type"] for c in glue}
    assert (
        types["line_item_unblended_cost"] == "double" and types["line_item_usage_start_date"] == "timestamp"
    )
    table = pa.table(
        {
            "bill_payer_account_id": ["111111111111", "111111111111"],
            "line_item_usage_account_id": ["222222222222", "222222222222"],
            "line_item_line_item_type": ["Usage", "DiscountedUsage"],
            "line_item_usage_start_date": pa.array([1700000000, 1700003600], type=pa.timestamp("ms")),
            "line_item_unblended_cost": pa.array([0.096, 0.0], type=pa.float64()),
            "reservation_effective_cost": pa.array([None, 0.0612], type=pa.float64()),
            "reservation_reservation_a_r_n": [
                None,
                "arn:aws:ec2:us-east-1:222222222222:reserved-instances/r1",
            ],
            "product_instance_type": ["m5.large", "m5.large"],
            "resource_tags_user_spend_category": ["web", None],
        }
    )
    path = tmp_path / "cur-legacy-athena.parquet"
    pq.write_table(table, path)
    with load(path) as bill:
        assert bill.total("BilledCost") == Decimal("0.096")
        assert bill.total("EffectiveCost") == Decimal("0.1572")
        tags = bill.sql(
            "SELECT Tags['user_spend_category'] AS cat FROM billing ORDER BY x_LineItemType DESC"
        ).to_pandas()
        assert list(tags["cat"].fillna("")) == ["web", ""]
        assert bill.commitments().to_pandas()["ReservedCovered"][0] == Decimal("0.0612")


@pytest.mark.parametrize(
    "relative",
    ["focus-sample-data/focus_sample.csv", "focus-converters/sample-anonymous-aws-export-dataset.csv"],
)
def test_one_pass_view_equals_the_materialized_load(
    relative: str,
) -> None:
    """The one-shot path (a view streamed from the file) gives the very rows
    the validated, materialized load gives."""
    path = refdata(relative)
    query = (
        "SELECT * EXCLUDE (Tags, x_Extra), CAST(Tags AS VARCHAR) AS t, CAST(x_Extra AS VARCHAR) AS x "
        "FROM billing ORDER BY ALL"
    )
    with load(path) as full, load(path, materialize=False) as lazy:
        a, b = full.sql(query).to_pandas(), lazy.sql(query).to_pandas()
    assert len(a) == len(b) > 0
    assert a.fillna("<null>").astype(str).equals(b.fillna("<null>").astype(str))


def test_one_pass_view_names_file_and_row_of_bad_data(
    tmp_path: Path,
) -> None:
    lines = (DATA / "cur_small.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:3], lines[3].replace(",43.20,", ",43.2O,"), *lines[4:]]) + "\n")
    with load(bad, materialize=False) as bill, pytest.raises(InputError) as err:
        bill.total("BilledCost")
    assert err.value.render() == f"{bad}: row 3: column lineItem/UnblendedCost: '43.2O' is not a valid number"
    truncated = tmp_path / "cut.csv.gz"
    payload = gzip.compress((DATA / "cur_small.csv").read_bytes() * 50)
    truncated.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(InputError) as err, load(truncated, materialize=False) as bill:
        bill.total("BilledCost")
    assert str(truncated) in err.value.render() and "\n" not in err.value.render()


def test_tag_keys_match_across_cur_and_cur2_naming() -> None:
    # CUR 2.0 normalizes `user:Spend_Category` to `user_spend_category`; the canonical key finds both.
    with load([DATA / "cur_small.csv", DATA / "cur2_small.csv"]) as bill:
        by_tag = bill.summary(
            by=["Tags.user:Spend_Category"], metric="BilledCost", where="ChargeCategory = 'Usage'"
        ).to_pandas()
        got = {
            (None if k != k else k): v
            for k, v in zip(by_tag["Tags.user:Spend_Category"], by_tag["BilledCost"], strict=True)
        }
        assert got["web"] == Decimal("0.096") + Decimal("0.0765")
        coverage = bill.tag_coverage("user:Spend_Category").to_pandas().set_index("SubAccountId")
        assert coverage.loc["222222222222", "TaggedCost"] == Decimal("0.096") + Decimal("0.0765")


# An All Upfront m3.large RI bought 2017-06-09 21:21:37 for one year, as its DBR sign-up row states it.
FEE = Decimal("1234.56")
TERM = ("2017-06-09 21:21:37", "2018-06-09 21:21:36")


def expected_shares(fee: Decimal, start: str, end: str) -> dict[str, Decimal]:
    """Month -> the fee's share, computed here by the documented rule with exact fractions: cumulative
    round(fee x elapsed seconds / term seconds) at 10 decimals, the last month taking the rest."""
    t0, t1 = (datetime.strptime(x, "%Y-%m-%d %H:%M:%S") for x in (start, end))
    total = int((t1 - t0).total_seconds())
    out: dict[str, Decimal] = {}
    taken, cursor = Decimal(0), t0
    while cursor < t1:
        nxt = datetime(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        stop = min(nxt, t1)
        exact = Fraction(fee) * int((stop - t0).total_seconds()) / total
        upto = (
            fee
            if stop == t1
            else (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
                Decimal("1e-10"), ROUND_HALF_EVEN
            )
        )
        out[f"{cursor:%Y-%m}"] = upto - taken
        taken, cursor = upto, stop
    return out


def dbr_year(directory: Path) -> list[Path]:
    """The 13 months the term touches, the purchase in the first; some months zipped as AWS delivered them."""
    periods = dbr_bills.months("2017-06", 13)
    return [
        dbr_bills.write_month(
            directory, period, [dbr_bills.sign_up(str(FEE), *TERM)] if i == 0 else [], zipped=i % 2 == 1
        )
        for i, period in enumerate(periods)
    ]


AMORTIZED_BY_MONTH = (
    "SELECT x_BillingPeriod AS p, sum(EffectiveCost) AS e FROM billing "
    "WHERE x_LineItemType = 'AmortizedUpfrontFee' GROUP BY 1 ORDER BY 1"
)


@pytest.mark.parametrize("materialize", [True, False])
def test_dbr_upfront_fee_is_amortized_over_its_term(tmp_path: Path, materialize: bool) -> None:
    """Billed once in the month paid; EffectiveCost spread over the 13 months of the term, to the fee exactly."""
    files = dbr_year(tmp_path / "dbr")
    expected = expected_shares(FEE, *TERM)
    assert len(expected) == 13 and sum(expected.values()) == FEE
    with load(files, materialize=materialize) as bill:
        by_month = bill.sql(AMORTIZED_BY_MONTH).to_pandas()
        assert dict(zip(by_month["p"], by_month["e"], strict=True)) == expected
        assert bill.total("EffectiveCost") == FEE  # the RI hours cost 0 hourly: the fee is all there is
        assert bill.total("BilledCost") == FEE
        billed = bill.summary(by=[], metric="BilledCost", granularity="month").to_pandas()
        assert dict(zip(billed["BillingPeriod"], billed["BilledCost"], strict=True))["2017-06"] == FEE
        purchase = bill.sql("SELECT * FROM billing WHERE ChargeCategory = 'Purchase'").to_pandas().iloc[0]
        assert (purchase["BilledCost"], purchase["EffectiveCost"]) == (FEE, 0)
        assert purchase["ChargeFrequency"] == "One-Time" and purchase["CommitmentDiscountId"] == "647735683"
        assert purchase["CommitmentDiscountStatus"] is None
        assert purchase["CommitmentDiscountType"] == "Reserved Instances (RI)"
        rows = bill.sql(
            "SELECT * FROM billing WHERE x_LineItemType = 'AmortizedUpfrontFee' ORDER BY 1"
        ).to_pandas()
        assert set(rows["BilledCost"]) == {0} and set(rows["ChargeCategory"]) == {"Usage"}
        assert set(rows["SubAccountId"]) == {"222222222222"} and set(rows["BillingAccountId"]) == {
            "111111111111"
        }
        assert set(rows["ServiceName"]) == {"Amazon Elastic Compute Cloud"}
        assert set(rows["x_SourceFile"]) == {str(files[0])}
        first = (
            bill.sql(
                "SELECT ChargePeriodStart, ChargePeriodEnd FROM billing WHERE x_LineItemType = 'AmortizedUpfrontFee' "
                "AND x_BillingPeriod = '2017-06'"
            )
            .to_pandas()
            .iloc[0]
        )
        assert (str(first["ChargePeriodStart"]), str(first["ChargePeriodEnd"])) == (
            "2017-06-09 21:21:37",
            "2017-07-01 00:00:00",
        )


def test_dbr_fee_amortized_only_over_the_months_given(tmp_path: Path) -> None:
    """Months of the term that are not loaded get no share; those that are get the same share as always."""
    files = dbr_year(tmp_path / "dbr")
    expected = expected_shares(FEE, *TERM)
    with load([files[0], files[5]]) as bill:
        by_month = bill.sql(AMORTIZED_BY_MONTH).to_pandas()
        assert dict(zip(by_month["p"], by_month["e"], strict=True)) == {
            "2017-06": expected["2017-06"],
            "2017-11": expected["2017-11"],
        }


@pytest.mark.parametrize("materialize", [True, False])
def test_dbr_fee_without_a_term_stays_in_the_month_paid_and_the_month_is_named(
    tmp_path: Path, materialize: bool
) -> None:
    july = dbr_bills.write_month(
        tmp_path, "2017-07",
        [dbr_bills.sign_up("500.00000000", "2017-07-14 08:00:00", "2017-07-14 08:00:00", "700000001",
                           "3000002", product="Amazon Relational Database Service")],
    )  # fmt: skip
    august = dbr_bills.write_month(tmp_path, "2017-08", [])
    with pytest.warns(AwsCostWarning) as caught, load([july, august], materialize=materialize) as bill:
        assert bill.total("EffectiveCost") == Decimal(500)  # as before: counted in the month paid
        assert (
            bill.sql("SELECT count(*) AS n FROM billing WHERE ChargeCategory = 'Purchase'").to_pandas()["n"][
                0
            ]
            == 0
        )
    lines = [str(w.message) for w in caught if issubclass(w.category, AwsCostWarning)]
    assert lines == [
        f"{july}: 1 RI upfront fee(s) of 2017-07 (500 USD) stay in the month paid, not amortized: the sign-up "
        "row's UsageStartDate..UsageEndDate is not a 1- or 3-year term"
    ]


def test_dbr_no_upfront_sign_up_of_zero_is_left_alone(tmp_path: Path) -> None:
    path = dbr_bills.write_month(
        tmp_path, "2017-06", [dbr_bills.sign_up("0.00000000", "2017-06-09 21:21:37", "2020-06-09 21:21:36")]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", AwsCostWarning)
        with load(path) as bill:
            assert (
                bill.sql("SELECT count(*) AS n FROM billing WHERE ChargeCategory = 'Purchase'").to_pandas()[
                    "n"
                ][0]
                == 0
            )
            assert bill.sql(AMORTIZED_BY_MONTH).to_pandas().empty


def test_one_pass_view_of_dbr_files_equals_the_materialized_load(
    tmp_path: Path,
) -> None:
    """DBR files quote every field, empty ones too (""): the one-shot scan reads them as NULL, as the
    materialized load does, and both carry the same amortization rows."""
    files = dbr_year(tmp_path / "dbr")[:3]
    query = (
        "SELECT * EXCLUDE (Tags, x_Extra), CAST(Tags AS VARCHAR) AS t, CAST(x_Extra AS VARCHAR) AS x "
        "FROM billing ORDER BY ALL"
    )
    with load(files) as full, load(files, materialize=False) as lazy:
        expected = full.sql(query).to_pandas()
        got = lazy.sql(query).to_pandas()
    assert len(expected) == 3 * 3 + 1  # 3 months of (usage, rounding, amortization) and the purchase
    assert got.astype(str).values.tolist() == expected.astype(str).values.tolist()
