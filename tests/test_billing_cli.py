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
    assert {"2024-03", "2025-02", "Change", "ChangePct"} <= set(mom[0])
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
