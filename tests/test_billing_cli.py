"""`awscost billing ...` through click's CliRunner and the real entry point (one-line errors, exit codes)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import dbr_bills
from awscost.billing.readers import READER_VERSION
from awscost.entrypoints.cli import cli

DATA = Path(__file__).parent / "data" / "billing"
CUR = str(DATA / "cur_small.csv")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_summary_json_is_exact() -> None:
    rows = json.loads(
        invoke(
            "billing", "summary", CUR, "--by", "ChargeCategory", "--metric", "BilledCost", "--format", "json"
        )
    )
    totals = {r["ChargeCategory"]: Decimal(r["BilledCost"]) for r in rows}
    assert totals == {
        "Purchase": Decimal("53.2"),
        "Usage": Decimal("0.096"),
        "Tax": Decimal("1.81E-8"),
        "Adjustment": Decimal("-1.25"),
        "Credit": Decimal("-5"),
    }
    assert sum(totals.values()) == Decimal("47.0460000181")


def test_summary_by_tag_with_where_and_granularity_csv() -> None:
    out = invoke(
        "billing", "summary", CUR, "--by", "Tags.user:Spend_Category", "--where", "ChargeCategory = 'Usage'",
        "--granularity", "month", "--format", "csv",
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    # The unused commitment (RI 2.00 + SP 0.50) is Usage in FOCUS, on rows no resource tags: untagged.
    assert {r["Tags.user:Spend_Category"]: r["EffectiveCost"] for r in rows} == {"web": "0.096", "": "2.6982"}
    assert {r["BillingPeriod"] for r in rows} == {"2024-03"}


def test_load_then_every_command_over_the_dataset(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    loaded = json.loads(
        invoke("billing", "load", CUR, str(DATA / "cur2_small.csv"), "--into", str(ds), "--format", "json")
    )
    assert {r["BillingPeriod"]: r["Rows"] for r in loaded} == {"2024-03": 9 + 2, "2025-02": 3}
    mom = json.loads(
        invoke("billing", "mom", "--dataset", str(ds), "--by", "SubAccountId", "--format", "json")
    )
    assert {r["SubAccountId"] for r in mom} == {"111111111111", "222222222222", "333333333333"}
    # 2025-02 holds its first hour only: compared with day 1 of 2024-03, the columns naming the days.
    assert {"2024-03-01..2024-03-01", "2025-02-01..2025-02-01", "Change", "ChangePct"} <= set(mom[0])
    top = json.loads(invoke("billing", "top", "--dataset", str(ds), "-n", "2", "--format", "json"))
    # The unused commitments lead: FOCUS books them on rows whose resource is the commitment itself.
    assert [r["ResourceId"] for r in top] == [
        "arn:aws:ec2:us-east-1:222222222222:reserved-instances/ri-1",
        "arn:aws:savingsplans::111111111111:savingsplan/sp-1",
    ]
    adj = json.loads(invoke("billing", "adjustments", "--dataset", str(ds), "--format", "json"))
    assert {r["Kind"] for r in adj} == {"Credit", "Refund", "Tax"}
    tags = json.loads(invoke("billing", "tags", "--dataset", str(ds), "--format", "json"))
    by_account = {r["SubAccountId"]: r for r in tags}
    # 0.096 tagged in the legacy CUR + 0.0765 in the CUR 2.0 file (key written as user_spend_category)
    assert Decimal(by_account["222222222222"]["TaggedCost"]) == Decimal("0.1725")
    # The share is the exact 0-1 ratio in json and csv, never a rounded percentage.
    for r in tags:
        share, tagged, total = (Decimal(r[k]) for k in ("CoverageShare", "TaggedCost", "TotalCost"))
        assert 0 <= share <= 1 and share == tagged / total
    assert "CoveragePct" not in tags[0]
    shares = list(
        csv.DictReader(io.StringIO(invoke("billing", "tags", "--dataset", str(ds), "--format", "csv")))
    )
    assert {r["SubAccountId"]: r["CoverageShare"] for r in shares} == {
        r["SubAccountId"]: r["CoverageShare"] for r in tags
    }
    table = invoke("billing", "tags", "--dataset", str(ds), "-n", "0")
    percent = f"{Decimal(by_account['222222222222']['CoverageShare']) * 100:.2f} %"
    assert "Coverage" in table and percent in table
    # The tag key comes from the config's tag_key when --tag is not given.
    config = tmp_path / "awscost.toml"
    config.write_text('[awscost]\ntag_key = "user:team"\n')
    team = json.loads(
        invoke("billing", "tags", "--dataset", str(ds), "--config", str(config), "--format", "json")
    )
    assert all(Decimal(r["TaggedCost"]) == 0 for r in team)  # nothing in these bills carries user:team
    assert (
        json.loads(
            invoke(
                "billing",
                "tags",
                "--dataset",
                str(ds),
                "--config",
                str(config),
                "--tag",
                "user:Spend_Category",
                "--format",
                "json",
            )
        )
        == tags
    )
    com = json.loads(invoke("billing", "commitments", "--dataset", str(ds), "--format", "json"))
    assert {r["BillingPeriod"]: Decimal(r["ReservedCovered"]) for r in com} == {
        "2024-03": Decimal("0.06"),
        "2025-02": Decimal("0.16"),
    }
    q = json.loads(
        invoke(
            "billing",
            "query",
            "SELECT count(*) AS n, sum(BilledCost) AS b FROM billing",
            "--dataset",
            str(ds),
            "--format",
            "json",
        )
    )
    assert q == [{"n": 12 + 2, "b": "47.1225115181"}]
    table = invoke("billing", "summary", "--dataset", str(ds), "--by", "SubAccountId")
    assert "222222222222" in table and "EffectiveCost" in table


def test_query_over_files_and_table_output() -> None:
    out = invoke(
        "billing", "query", "SELECT x_LineItemType, BilledCost FROM billing ORDER BY 1", "--file", CUR
    )
    assert "SavingsPlanNegation" in out and "-0.192" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["billing", "summary", str(DATA / "nope.csv")], "nope.csv: no such file or directory"),
        (["billing", "summary", CUR, "--by", "NoSuchColumn"], "--by: unknown column 'NoSuchColumn'"),
        (["billing", "summary"], "no billing files given"),
        (["billing", "summary", "--dataset", str(DATA)], "not an awscost billing dataset"),
        (["billing", "query", "SELECT nope FROM billing", "--file", CUR], "query:"),
    ],
)
def test_user_errors_are_one_line_with_nonzero_exit(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "awscost", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("awscost: error: ")
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "awscost", *args], capture_output=True, text=True, timeout=120, check=False
    )


def focus_march(path: Path) -> Path:
    """A FOCUS export of the month cur_small.csv holds (billing account 111111111111, 2024-03)."""
    path.write_text(
        "BillingAccountId,BillingPeriodStart,ChargePeriodStart,ChargeCategory,BilledCost,EffectiveCost\n"
        "111111111111,2024-03-01T00:00:00Z,2024-03-05T10:00:00Z,Usage,10,10\n",
        encoding="utf-8",
    )
    return path


def test_a_month_in_two_formats_exits_2_naming_both_files_unless_prefer(tmp_path: Path) -> None:
    focus = focus_march(tmp_path / "focus.csv")
    expected = (
        f"awscost: error: --prefer: {CUR} (cur) and {focus} (focus) both hold billing account 111111111111 "
        "for 2024-03: loading both would count it twice (keep one format: prefer cur or focus)"
    )
    for args in (
        ["billing", "summary", CUR, str(focus)],
        ["billing", "load", CUR, str(focus), "--into", str(tmp_path / "ds")],
    ):
        proc = run_cli(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.strip() == expected
    assert not (tmp_path / "ds").exists()
    totals = {}
    for prefer in ("cur", "focus"):
        out = invoke(
            "billing",
            "summary",
            CUR,
            str(focus),
            "--prefer",
            prefer,
            "--by",
            "",
            "--metric",
            "BilledCost",
            "--format",
            "json",
        )
        totals[prefer] = json.loads(out)[0]["BilledCost"]
    assert totals == {"cur": "47.0460000181", "focus": "10"}
    # Loaded into a dataset, the month is kept once; the FOCUS export given later is refused, or preferred.
    ds = tmp_path / "ds"
    invoke("billing", "load", CUR, "--into", str(ds))
    proc = run_cli("billing", "load", str(focus), "--into", str(ds))
    assert proc.returncode == 2 and f"{CUR} (cur, in the dataset {ds})" in proc.stderr
    invoke("billing", "load", str(focus), "--into", str(ds), "--prefer", "focus")
    q = json.loads(
        invoke(
            "billing",
            "query",
            "SELECT sum(BilledCost) AS b FROM billing",
            "--dataset",
            str(ds),
            "--format",
            "json",
        )
    )
    assert q == [{"b": "10"}]
    proc = run_cli("billing", "top", "--dataset", str(ds), "--prefer", "cur")
    assert proc.returncode == 2 and "--prefer: a dataset holds each month once already" in proc.stderr


def test_dbr_fee_without_a_term_is_a_warning_of_the_load_and_of_a_summary(tmp_path: Path) -> None:
    july = dbr_bills.write_month(
        tmp_path, "2017-07", [dbr_bills.sign_up("500.00000000", "2017-07-14 08:00:00", "2017-07-14 08:00:00")]
    )
    warning = (
        f"awscost: warning: {july}: 1 RI upfront fee(s) of 2017-07 (500 USD) stay in the month paid, not "
        "amortized: the sign-up row's UsageStartDate..UsageEndDate is not a 1- or 3-year term"
    )
    result = CliRunner().invoke(
        cli, ["billing", "load", str(july), "--into", str(tmp_path / "ds"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == warning
    assert json.loads(result.stdout) == [
        {"BillingPeriod": "2017-07", "Rows": 3, "BilledCost": "500", "Sources": 1}
    ]
    result = CliRunner().invoke(cli, ["billing", "summary", str(july), "--by", "", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == warning
    assert json.loads(result.stdout) == [{"EffectiveCost": "500"}]
    # The job's result carries it too (`awscost run billing_load`, the Lambda event path).
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {"job": "billing_load", "paths": [str(july)], "into": str(tmp_path / "ds2"), "prefer": "dbr"}
        )
    )
    result = CliRunner().invoke(cli, ["run", "billing_load", "--event", str(event), "--no-save"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["warnings"] == [warning.removeprefix("awscost: warning: ")]


def test_an_older_dataset_says_reload_once_per_command(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    invoke("billing", "load", CUR, "--into", str(ds))
    marker = ds / "_awscost_billing.json"
    data = json.loads(marker.read_text(encoding="utf-8"))
    data["periods"]["2024-03"]["reader_version"] = 1
    marker.write_text(json.dumps(data), encoding="utf-8")
    proc = run_cli("billing", "tags", "--dataset", str(ds))  # two analyses over one opened dataset
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        f"awscost: warning: {ds}: billing period(s) 2024-03 were loaded by older readers (version 1; now "
        f"{READER_VERSION}) and keep their numbers; reload to apply: awscost billing load {CUR} --into {ds}"
    ]
    invoke("billing", "load", CUR, "--into", str(ds))
    proc = run_cli("billing", "summary", "--dataset", str(ds))
    assert proc.returncode == 0 and proc.stderr == ""


def test_mom_of_a_partial_month_says_it_compares_like_for_like(tmp_path: Path) -> None:
    from test_billing_dataset import daily_cur

    october = daily_cur(tmp_path / "oct.csv", "2024-10", {d: "2" if d <= 3 else "1" for d in range(1, 32)})
    november = daily_cur(tmp_path / "nov.csv", "2024-11", dict.fromkeys(range(1, 4), "3"))
    files = (str(october), str(november))
    rows = json.loads(
        invoke("billing", "mom", *files, "--by", "", "--metric", "BilledCost", "--format", "json")
    )
    assert rows == [
        {"2024-10-01..2024-10-03": "6", "2024-11-01..2024-11-03": "9", "Change": "3", "ChangePct": 50.0}
    ]
    table = invoke("billing", "mom", *files, "--by", "")
    assert "2024-11 is not complete (the bill holds 2024-11-01..2024-11-03)" in table
    assert "compared like for like with 2024-10-01..2024-10-03 of 2024-10" in table
