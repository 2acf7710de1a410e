"""The billing dataset: atomic loads, re-delivery replacing a period, bad input leaving it untouched, and a
load larger than DuckDB's memory limit."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import warnings
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import dbr_bills
from awscost.billing import dataset as billing_dataset
from awscost.billing import load, load_into
from awscost.billing.readers import READER_VERSION
from awscost.billing.sources import DATASET_MARKER
from awscost.core.errors import AwsCostWarning, InputError

DATA = Path(__file__).parent / "data" / "billing"
HEADER = DATA.joinpath("cur_small.csv").read_text(encoding="utf-8").splitlines()[0]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_delivery(base: Path, period: str, assembly: str, rows: list[str]) -> Path:
    """A CUR delivery as AWS lays it out: manifest + gzip report parts in an assembly folder."""
    year, month = period.split("-")
    span = f"{year}{month}01-{year}{month}28"
    part_dir = base / "rep" / span / assembly
    part_dir.mkdir(parents=True, exist_ok=True)
    keys = []
    for i, chunk in enumerate((rows[: len(rows) // 2], rows[len(rows) // 2 :]), start=1):
        key = f"rep/{span}/{assembly}/rep-0000{i}.csv.gz"
        with gzip.open(base / key, "wt", encoding="utf-8") as fh:
            fh.write(HEADER + "\n" + "".join(r + "\n" for r in chunk))
        keys.append(key)
    manifest = base / "rep" / span / assembly / "rep-Manifest.json"
    manifest.write_text(
        json.dumps({"assemblyId": assembly, "reportKeys": keys,
                    "billingPeriod": {"start": f"{year}{month}01T000000.000Z", "end": "x"}}),
        encoding="utf-8",
    )  # fmt: skip
    return manifest


def usage_row(period: str, item: str, cost: str, account: str = "222222222222") -> str:
    start = f"{period}-05T10:00:00Z"
    return (
        f'{item},{start}/{start},"Amazon Web Services, Inc.",Anniversary,111111111111,{period}-01T00:00:00Z,,'
        f"{account},Usage,{start},{start},AmazonEC2,BoxUsage:m5.large,RunInstances,us-east-1a,i-{item},1,USD,"
        f',{cost},desc,"AWS",Amazon Elastic Compute Cloud,m5.large,Linux,us-east-1,SKU1,'
        f"{cost},{cost},OnDemand,Hrs,"
        ",,,,,,,,,web,n,"
    )


def test_manifest_delivery_loads_all_report_keys_in_order(tmp_path: Path) -> None:
    rows = [usage_row("2024-03", f"a{i}", "1.5") for i in range(4)]
    manifest = write_delivery(tmp_path / "s3", "2024-03", "asm1", rows)
    with load(manifest) as bill:
        assert bill.rows() == 4
        assert bill.total("BilledCost") == Decimal("6")
        assert bill.sql("SELECT count(DISTINCT x_SourceFile) AS n FROM billing").to_pandas()["n"][0] == 2


def test_redelivery_replaces_the_period_and_keeps_others(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    march1 = write_delivery(
        tmp_path / "d1", "2024-03", "asm1", [usage_row("2024-03", f"a{i}", "1") for i in range(4)]
    )
    april = write_delivery(
        tmp_path / "d2", "2024-04", "asm2", [usage_row("2024-04", f"b{i}", "2") for i in range(2)]
    )
    load_into([march1, april], ds)
    with load(ds) as bill:
        assert bill.periods() == ["2024-03", "2024-04"]
        assert bill.total("BilledCost") == Decimal("8")
    # The month-to-date March report is delivered again, with more (and different) rows.
    march2 = write_delivery(
        tmp_path / "d3", "2024-03", "asm3", [usage_row("2024-03", f"c{i}", "3") for i in range(6)]
    )
    marker = load_into([march2], ds)
    assert marker["periods"]["2024-03"]["rows"] == 6
    with load(ds) as bill:
        by = bill.summary(by=[], metric="BilledCost", granularity="month").to_pandas()
        assert dict(zip(by["BillingPeriod"], by["BilledCost"], strict=True)) == {
            "2024-03": Decimal("18"),
            "2024-04": Decimal("4"),
        }
        assert bill.rows() == 8
    # Loading the same delivery twice changes nothing.
    before = snapshot(ds)
    load_into([march2], ds)
    after = snapshot(ds)
    assert {k for k in before if k != DATASET_MARKER} == {k for k in after if k != DATASET_MARKER}
    with load(ds) as bill:
        assert bill.total("BilledCost") == Decimal("22")


def test_two_deliveries_of_one_period_in_one_load_keep_the_newest(tmp_path: Path) -> None:
    old = write_delivery(tmp_path / "s3", "2024-03", "asm-old", [usage_row("2024-03", "a", "1")] * 2)
    new = write_delivery(tmp_path / "s3", "2024-03", "asm-new", [usage_row("2024-03", "b", "5")] * 2)
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_700_010_000, 1_700_010_000))
    with load(tmp_path / "s3") as bill:
        assert bill.total("BilledCost") == Decimal("10")


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = DATA / "cur_small.csv"
    truncated = tmp_path / "truncated.csv.gz"
    payload = gzip.compress((good.read_text(encoding="utf-8") * 200).encode())
    truncated.write_bytes(payload[: len(payload) // 2])
    not_bill = tmp_path / "people.csv"
    not_bill.write_text("name,age\nann,3\n", encoding="utf-8")
    missing = tmp_path / "missing.csv"
    missing.write_text(
        "lineItem/UsageStartDate,lineItem/LineItemType\n2024-03-01T00:00:00Z,Usage\n", encoding="utf-8"
    )
    lines = good.read_text(encoding="utf-8").splitlines()
    bad_number = tmp_path / "bad_number.csv"
    bad_number.write_text("\n".join([*lines[:3], lines[3].replace(",43.20,", ",43.2O,"), *lines[4:]]) + "\n")
    bad_date = tmp_path / "bad_date.csv"
    broken = lines[5].replace("2024-03-05T10:00:00Z,2024", "2024-13-05T10:00:00Z,2024", 1)
    bad_date.write_text("\n".join([*lines[:5], broken, *lines[6:]]) + "\n")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join([*lines[:2], lines[2] + ",extra", *lines[3:]]) + "\n")
    return {
        "truncated gzip": (
            truncated,
            "truncated.csv.gz: cannot read as cur bill: truncated or corrupt gzip data",
        ),
        "not a bill": (not_bill, "not a billing file"),
        "missing column": (missing, "lacks required column(s) lineItem/UnblendedCost"),
        "bad number": (bad_number, "row 3: column lineItem/UnblendedCost: '43.2O' is not a valid number"),
        "bad date": (
            bad_date,
            "row 5: column lineItem/UsageStartDate: '2024-13-05T10:00:00Z' is not a valid date/time",
        ),
        "ragged row": (ragged, "line 3: 43 fields where the header has 42 (a ragged row)"),
    }


@pytest.mark.parametrize(
    "case", ["truncated gzip", "not a bill", "missing column", "bad number", "bad date", "ragged row"]
)
def test_bad_input_names_file_and_row_and_leaves_dataset_untouched(tmp_path: Path, case: str) -> None:
    ds = tmp_path / "ds"
    load_into([DATA / "cur_small.csv"], ds)
    before = snapshot(ds)
    path, expected = _bad_inputs(tmp_path)[case]
    with pytest.raises(InputError) as err:
        load_into([DATA / "cur2_small.csv", path], ds)
    text = err.value.render()
    assert str(path) in text
    assert expected in text
    assert "\n" not in text
    assert snapshot(ds) == before
    # no temp dirs left behind (the lock file stays: removing it would let two loads lock two files)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")] == [".ds.lock"]


def test_refuses_to_overwrite_a_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match="not an awscost billing dataset"):
        load_into([DATA / "cur_small.csv"], target)
    assert (target / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_load_larger_than_the_memory_limit(tmp_path: Path) -> None:
    """A CUR file larger than DuckDB's memory limit loads (streamed to parquet, spilling) and ties out."""
    lines = DATA.joinpath("cur_small.csv").read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    path = tmp_path / "big.csv"
    n_copies = 12000
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(lines[0] + "\n")
        for i in range(n_copies):
            for row in body:
                fh.write(row.replace("li-0", f"li{i}-0", 1) + "\n")
    limit_mb = 32
    assert path.stat().st_size > limit_mb * 2**20
    ds = tmp_path / "ds"
    marker = load_into([path], ds, memory_limit=f"{limit_mb}MB", threads=1)
    info = marker["periods"]["2024-03"]
    # Two of the lines are commitment fees with an unused part: each yields one more canonical row.
    assert info["rows"] == n_copies * (len(body) + 2)
    assert Decimal(info["BilledCost"]) == Decimal("47.0460000181") * n_copies
    with load(ds, memory_limit=f"{limit_mb}MB", threads=1) as bill:
        assert bill.total("EffectiveCost") == Decimal("-3.4557999819") * n_copies
        top = bill.summary(by=["SubAccountId"], metric="BilledCost").to_pandas()
        assert sum(top["BilledCost"]) == Decimal("47.0460000181") * n_copies


def test_empty_dataset_directory_is_created_and_readable(tmp_path: Path) -> None:
    ds = tmp_path / "new"
    load_into([DATA / "cur_small.csv"], ds)
    shutil.rmtree(ds / "x_BillingPeriod=2024-03")
    (ds / DATASET_MARKER).write_text(json.dumps({"version": 1, "periods": {}}), encoding="utf-8")
    with load(ds) as bill:
        assert bill.rows() == 0


def test_month_over_month_per_group_and_in_total(tmp_path: Path) -> None:
    march = write_delivery(
        tmp_path / "d1", "2024-03", "a1", [usage_row("2024-03", f"a{i}", "1") for i in range(4)]
    )
    april = write_delivery(
        tmp_path / "d2",
        "2024-04",
        "a2",
        [usage_row("2024-04", "b0", "10"), usage_row("2024-04", "b1", "2", account="333333333333")],
    )
    with load([march, april]) as bill:
        # The bill holds April 1-5 only (its one usage hour is on the 5th): compared with March 1-5.
        march_1_5, april_1_5 = "2024-03-01..2024-03-05", "2024-04-01..2024-04-05"
        total = bill.month_over_month(by=[], metric="BilledCost").to_pandas().iloc[0]
        assert (total[march_1_5], total[april_1_5], total["Change"]) == (Decimal(4), Decimal(12), Decimal(8))
        assert total["ChangePct"] == 200.0
        per = (
            bill.month_over_month(by=["SubAccountId"], metric="BilledCost")
            .to_pandas()
            .set_index("SubAccountId")
        )
        assert per.loc["222222222222", "Change"] == Decimal(6)
        assert per.loc["333333333333", march_1_5] == 0 and per.loc["333333333333", "Change"] == Decimal(2)


def test_load_into_reports_each_file(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    load_into(
        [DATA / "cur_small.csv", DATA / "cur2_small.csv"], tmp_path / "ds", on_file=lambda *a: seen.append(a)
    )
    assert [(Path(name).name, n, total) for name, n, total in seen] == [
        ("cur_small.csv", 1, 2),
        ("cur2_small.csv", 2, 2),
    ]


def test_manifest_and_archive_problems_are_named(tmp_path: Path) -> None:
    manifest = write_delivery(tmp_path / "s3", "2024-03", "asm1", [usage_row("2024-03", "a", "1")] * 2)
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["reportKeys"].append("rep/20240301-20240328/asm1/rep-00009.csv.gz")
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(
        InputError, match=re.escape("report key 'rep/20240301-20240328/asm1/rep-00009.csv.gz' not found")
    ):
        load(manifest)
    wrong = write_delivery(tmp_path / "s4", "2024-04", "asm2", [usage_row("2024-03", "a", "1")] * 2)
    with pytest.raises(InputError, match="holds rows of period 2024-03, but its manifest is for 2024-04"):
        load(wrong)
    import zipfile

    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(InputError, match=re.escape("zip archive holds no .csv or .parquet file")):
        load(archive)
    (tmp_path / "garbage.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(InputError, match="unreadable zip archive"):
        load(tmp_path / "garbage.zip")


def focus_file(path: Path, account: str, period: str, costs: list[str]) -> Path:
    """A FOCUS export of `account`'s `period` with one usage row per cost."""
    header = (
        "BillingAccountId,SubAccountId,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,"
        "BilledCost,EffectiveCost,BillingCurrency,ProviderName,ServiceName"
    )
    rows = [
        f"{account},222222222222,{period}-01T00:00:00Z,{period}-05T{i % 24:02d}:00:00Z,"
        f"{period}-05T{i % 24:02d}:59:59Z,Usage,{cost},{cost},USD,AWS,Amazon Elastic Compute Cloud"
        for i, cost in enumerate(costs)
    ]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


CUR = DATA / "cur_small.csv"  # billing account 111111111111, 2024-03, BilledCost 47.0460000181
CUR_BILLED = Decimal("47.0460000181")


@pytest.mark.parametrize("materialize", [True, False])
def test_two_formats_of_one_month_are_refused_naming_both_files(tmp_path: Path, materialize: bool) -> None:
    """A FOCUS export and the CUR of the same account's month would count it twice: refused, unless `prefer`
    says which to keep; the other months of the file not kept stay."""
    focus = focus_file(tmp_path / "focus.csv", "111111111111", "2024-03", ["10", "2.5"])
    with pytest.raises(InputError) as err:
        load([CUR, focus], materialize=materialize)
    assert err.value.param == "prefer"
    assert err.value.render() == (
        f"prefer: {CUR} (cur) and {focus} (focus) both hold billing account 111111111111 for 2024-03: loading "
        "both would count it twice (keep one format: prefer cur or focus)"
    )
    with load([CUR, focus], materialize=materialize, prefer="cur") as bill:
        assert bill.total("BilledCost") == CUR_BILLED
    with load([CUR, focus], materialize=materialize, prefer="focus") as bill:
        assert bill.total("BilledCost") == Decimal("12.5")
    # The FOCUS file also holds April: kept, only March comes from the preferred CUR.
    april = focus_file(tmp_path / "focus2.csv", "111111111111", "2024-04", ["7"])
    both = tmp_path / "focus-mar-apr.csv"
    both.write_text(
        focus.read_text(encoding="utf-8") + april.read_text(encoding="utf-8").split("\n", 1)[1],
        encoding="utf-8",
    )
    with load([CUR, both], materialize=materialize, prefer="cur") as bill:
        by = bill.summary(by=[], metric="BilledCost", granularity="month").to_pandas()
        assert dict(zip(by["BillingPeriod"], by["BilledCost"], strict=True)) == {
            "2024-03": CUR_BILLED,
            "2024-04": Decimal(7),
        }
    # Another billing account's month is no overlap; nor are files of one format (a CUR in parts).
    other = focus_file(tmp_path / "other.csv", "999999999999", "2024-03", ["1"])
    with load([CUR, other], materialize=materialize) as bill:
        assert bill.total("BilledCost") == CUR_BILLED + 1
    with load([CUR, CUR], materialize=materialize) as bill:
        assert bill.total("BilledCost") == 2 * CUR_BILLED
    with pytest.raises(InputError, match="unknown billing format 'cvs'"):
        load([CUR], materialize=materialize, prefer="cvs")


def test_rows_without_a_billing_account_overlap_every_account_of_their_month(tmp_path: Path) -> None:
    focus = tmp_path / "no-account.csv"
    focus.write_text(
        "ChargePeriodStart,BillingPeriodStart,BilledCost,ChargeCategory\n"
        "2024-03-02T00:00:00Z,2024-03-01T00:00:00Z,3,Usage\n",
        encoding="utf-8",
    )
    with pytest.raises(
        InputError,
        match="both hold billing account 111111111111 and rows with no billing account for 2024-03",
    ):
        load([CUR, focus])
    with load([CUR, focus], prefer="focus") as bill:
        assert bill.total("BilledCost") == Decimal(3)


def test_dataset_refuses_a_month_it_holds_from_another_format(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    load_into([CUR], ds)
    before = snapshot(ds)
    focus = focus_file(tmp_path / "focus.csv", "111111111111", "2024-03", ["10", "2.5"])
    with pytest.raises(InputError) as err:
        load_into([focus], ds)
    assert err.value.render() == (
        f"prefer: {focus} (focus) and {CUR} (cur, in the dataset {ds}) both hold billing account 111111111111 "
        "for 2024-03: loading both would count it twice (keep one format: prefer focus or cur)"
    )
    assert snapshot(ds) == before
    marker = load_into([focus], ds, prefer="cur")  # the dataset's CUR is kept
    assert marker["periods"]["2024-03"]["accounts"] == {"111111111111": "cur"}
    assert {k for k in snapshot(ds) if k != DATASET_MARKER} == {k for k in before if k != DATASET_MARKER}
    marker = load_into([focus], ds, prefer="focus")  # the FOCUS export replaces it
    assert marker["periods"]["2024-03"]["accounts"] == {"111111111111": "focus"}
    with load(ds) as bill:
        assert bill.total("BilledCost") == Decimal("12.5")
    marker = load_into([focus], ds)  # the same format again: a reload, as always
    assert marker["periods"]["2024-03"]["rows"] == 2


def test_reload_of_one_billing_account_keeps_the_other_accounts_of_the_month(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    a = focus_file(tmp_path / "a.csv", "111111111111", "2024-03", ["1", "2"])
    b = focus_file(tmp_path / "b.csv", "333333333333", "2024-03", ["5"])
    load_into([a, b], ds)
    a2 = focus_file(tmp_path / "a2.csv", "111111111111", "2024-03", ["4"])
    marker = load_into([a2], ds)
    assert marker["periods"]["2024-03"]["accounts"] == {"111111111111": "focus", "333333333333": "focus"}
    with load(ds) as bill:
        by = bill.summary(by=["BillingAccountId"], metric="BilledCost").to_pandas()
        assert dict(zip(by["BillingAccountId"], by["BilledCost"], strict=True)) == {
            "111111111111": Decimal(4),
            "333333333333": Decimal(5),
        }
    assert marker["periods"]["2024-03"]["sources"] == sorted([str(a2), str(b)])


FEE = Decimal("1234.56")
TERM = ("2017-06-09 21:21:37", "2018-06-09 21:21:36")


def test_dbr_months_loaded_one_by_one_in_any_order_carry_the_fee_once(tmp_path: Path) -> None:
    """A month loaded before or after the month of the purchase gets its share; the dataset holds the fee
    once, however the months came in."""
    periods = dbr_bills.months("2017-05", 15)  # a month before the term, its 13 months, one after
    files = {
        p: dbr_bills.write_month(
            tmp_path / "dbr", p, [dbr_bills.sign_up(str(FEE), *TERM)] if p == "2017-06" else []
        )
        for p in periods
    }
    together = load_into(list(files.values()), tmp_path / "together")
    one_by_one = tmp_path / "one-by-one"
    order = periods[7:] + periods[:7][::-1]  # later months first, the purchase month in the middle
    for p in order:
        marker = load_into([files[p]], one_by_one)
    assert {p: i["EffectiveCost"] for p, i in marker["periods"].items()} == {
        p: i["EffectiveCost"] for p, i in together["periods"].items()
    }
    assert marker["periods"]["2017-05"]["amortized"] == [] and marker["periods"]["2018-07"]["amortized"] == []
    for ds in (one_by_one, tmp_path / "together"):
        with load(ds) as bill:
            assert bill.total("EffectiveCost") == FEE and bill.total("BilledCost") == FEE
            assert (
                bill.sql(
                    "SELECT count(*) AS n FROM billing WHERE x_LineItemType = 'AmortizedUpfrontFee'"
                ).to_pandas()["n"][0]
                == 13
            )
    # The purchase month loaded again (a re-delivery) changes nothing.
    again = load_into([files["2017-06"]], one_by_one)
    assert {p: i["EffectiveCost"] for p, i in again["periods"].items()} == {
        p: i["EffectiveCost"] for p, i in together["periods"].items()
    }


def test_a_failed_load_that_changed_other_months_amortization_leaves_the_dataset_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading the purchase month rewrites the shares of months already loaded: in the new copy only (the old
    files are hard links and are never written over)."""
    july = dbr_bills.write_month(tmp_path / "dbr", "2017-07", [])
    june = dbr_bills.write_month(tmp_path / "dbr", "2017-06", [dbr_bills.sign_up(str(FEE), *TERM)])
    ds = tmp_path / "ds"
    load_into([july], ds)
    before = snapshot(ds)

    def fail(new: Path, into: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(billing_dataset, "_swap", fail)
    with pytest.raises(OSError):
        load_into([june], ds)
    assert snapshot(ds) == before
    monkeypatch.undo()
    marker = load_into([june], ds)
    assert Decimal(marker["periods"]["2017-07"]["EffectiveCost"]) > 0


def test_reader_version_is_recorded_and_an_older_dataset_says_reload(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    march = write_delivery(tmp_path / "d1", "2024-03", "asm1", [usage_row("2024-03", "a", "1")])
    april = write_delivery(tmp_path / "d2", "2024-04", "asm2", [usage_row("2024-04", "b", "2")])
    marker = load_into([march, april], ds)
    assert {p: i["reader_version"] for p, i in marker["periods"].items()} == {
        "2024-03": READER_VERSION,
        "2024-04": READER_VERSION,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", AwsCostWarning)
        load(ds).close()  # current: nothing to say
    # As a dataset loaded before the reader version existed: March has none recorded.
    data = json.loads((ds / DATASET_MARKER).read_text(encoding="utf-8"))
    del data["periods"]["2024-03"]["reader_version"]
    (ds / DATASET_MARKER).write_text(json.dumps(data), encoding="utf-8")
    for materialize in (None, True):
        with pytest.warns(AwsCostWarning) as caught, load(ds, materialize=materialize) as bill:
            assert bill.total("BilledCost") == Decimal(3)  # the old numbers, as loaded
        lines = [str(w.message) for w in caught if issubclass(w.category, AwsCostWarning)]
        assert len(lines) == 1
        march_files = " ".join(sorted(marker["periods"]["2024-03"]["sources"]))
        assert lines[0] == (
            f"{ds}: billing period(s) 2024-03 were loaded by older readers (version 1; now {READER_VERSION}) "
            f"and keep their numbers; reload to apply: awscost billing load {march_files} --into {ds}"
        )
    load_into([march], ds)  # reloaded: the warning is gone
    with warnings.catch_warnings():
        warnings.simplefilter("error", AwsCostWarning)
        load(ds).close()


def daily_cur(path: Path, period: str, costs: dict[int, str]) -> Path:
    """A legacy CUR of `period` at daily granularity: one usage line per day of `costs` (day -> cost)."""
    year, month = (int(x) for x in period.split("-"))
    end = f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"
    rows = []
    for day, cost in costs.items():
        first = date(year, month, day)
        start, stop = (f"{d.isoformat()}T00:00:00Z" for d in (first, first + timedelta(days=1)))
        rows.append(
            f'd{day},{start}/{stop},"Amazon Web Services, Inc.",Anniversary,111111111111,{period}-01T00:00:00Z,'
            f"{end}-01T00:00:00Z,222222222222,Usage,{start},{stop},AmazonEC2,BoxUsage:m5.large,RunInstances,"
            f'us-east-1a,i-{day},1,USD,{cost},{cost},desc,"AWS",Amazon Elastic Compute Cloud,m5.large,Linux,'
            f"us-east-1,SKU1,{cost},{cost},OnDemand,Hrs,,,,,,,,,web,n,"
        )
    path.write_text(HEADER + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_month_over_month_of_a_partial_month_is_like_for_like(tmp_path: Path) -> None:
    # A full October (days 1-3 at 2, the rest at 1: 34 in all) and November 1-3 at 3 a day.
    october = daily_cur(tmp_path / "oct.csv", "2024-10", {d: "2" if d <= 3 else "1" for d in range(1, 32)})
    november = daily_cur(tmp_path / "nov.csv", "2024-11", dict.fromkeys(range(1, 4), "3"))
    with load([october, november]) as bill:
        total = bill.month_over_month(by=[], metric="BilledCost").to_pandas()
    row = total.iloc[0]
    # Nov 1-3 against Oct 1-3 (6), not against all of October (34, which would read as -73.53 %).
    assert list(total.columns) == ["2024-10-01..2024-10-03", "2024-11-01..2024-11-03", "Change", "ChangePct"]
    assert (row.iloc[0], row.iloc[1], row["Change"], row["ChangePct"]) == (
        Decimal(6),
        Decimal(9),
        Decimal(3),
        50.0,
    )
    assert total.attrs["comparison"]["like_for_like"] is True


def test_month_over_month_clips_the_days_to_the_previous_month(tmp_path: Path) -> None:
    # March 1-30 (the 31st not yet delivered) against a 29-day February: all of February.
    february = daily_cur(tmp_path / "feb.csv", "2024-02", dict.fromkeys(range(1, 30), "1"))
    march = daily_cur(tmp_path / "mar.csv", "2024-03", dict.fromkeys(range(1, 31), "1"))
    with load([february, march]) as bill:
        total = bill.month_over_month(by=[], metric="BilledCost").to_pandas()
    assert list(total.columns[:2]) == ["2024-02-01..2024-02-29", "2024-03-01..2024-03-30"]
    assert (total.iloc[0, 0], total.iloc[0, 1]) == (Decimal(29), Decimal(30))


def test_month_over_month_of_complete_months_names_the_periods(tmp_path: Path) -> None:
    october = daily_cur(tmp_path / "oct.csv", "2024-10", dict.fromkeys(range(1, 32), "1"))
    november = daily_cur(tmp_path / "nov.csv", "2024-11", dict.fromkeys(range(1, 31), "2"))
    with load([october, november]) as bill:
        total = bill.month_over_month(by=[], metric="BilledCost").to_pandas()
    assert list(total.columns[:2]) == ["2024-10", "2024-11"]
    assert (total.iloc[0, 0], total.iloc[0, 1]) == (Decimal(31), Decimal(60))
    assert total.attrs["comparison"]["like_for_like"] is False
