"""Hostile strings leave awscost as text: CSV cells a spreadsheet would run as formulas are neutralised (OWASP),
workbook chart titles and series names are cell references XlsxWriter never parses, and the IAM policy grants
AssumeRole on the member role only and the store's DynamoDB actions on its tables."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from awscost.core.output import csv_text, emit
from awscost.entrypoints.cli import cli
from awscost.store import open_store
from awscost.store.base import UsageItem
from test_ri_plan import END, HOURS, ORG, fill

# The review's payloads (reliability-probes.md, "Formula / CSV injection"), and the OWASP leading characters.
PAYLOADS = ['=HYPERLINK("http://x.example","y")', "+1+1", "-2+3", "@SUM(1)", "=cmd|' /C calc'!A0"]
LEADING = ["\tx=1", "\r=1"]
DATA = Path(__file__).parent / "data" / "billing"


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _formula(cell: str) -> bool:
    """What a spreadsheet would run: a cell starting with a formula character, unless it is a plain number."""
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(
        r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cell
    )


def test_csv_text_cells_are_neutralised_numbers_stay_numbers() -> None:
    rows = [{"key": p, "n": Decimal("-5"), "f": -1.25, "i": -7, "s": "-5", "e": "-1e-3"} for p in PAYLOADS]
    rows += [{"key": p} for p in LEADING]
    out = io.StringIO()
    emit(rows, "csv", out=out)
    got = _csv(out.getvalue())
    assert [r["key"] for r in got] == ["'" + p for p in PAYLOADS + LEADING]
    assert not any(_formula(v) for r in got for v in r.values())
    # numbers, and text that is a plain number, are what they were: a spreadsheet still sums them
    assert {(r["n"], r["f"], r["i"], r["s"], r["e"]) for r in got[: len(PAYLOADS)]} == {
        ("-5", "-1.25", "-7", "-5", "-1e-3")
    }
    # a header from data (a tag key, a group value) is a cell too
    header = io.StringIO()
    emit([{"=1+1": 1}], "csv", out=header)
    assert header.getvalue().splitlines()[0] == "'=1+1"
    assert csv_text("web") == "web" and csv_text("") == ""


def _hostile_cur(tmp_path: Path) -> Path:
    """cur_small.csv with the payloads as the Spend_Category tag values and the resource ids."""
    with (DATA / "cur_small.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    head = rows[0]
    tag, rid = head.index("resourceTags/user:Spend_Category"), head.index("lineItem/ResourceId")
    for n, row in enumerate(rows[1:]):
        row[tag] = PAYLOADS[n % len(PAYLOADS)]
        row[rid] = PAYLOADS[(n + 1) % len(PAYLOADS)]
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_billing_summary_and_top_csv_write_no_formula(tmp_path: Path) -> None:
    cur = str(_hostile_cur(tmp_path))
    by_tag = _csv(
        _invoke("billing", "summary", cur, "--by", "Tags.user:Spend_Category", "--format", "csv")
    )  # X4
    tags = {r["Tags.user:Spend_Category"] for r in by_tag}
    assert {"'" + p for p in PAYLOADS} <= tags
    top = _csv(_invoke("billing", "top", cur, "-n", "20", "--format", "csv"))  # X5
    assert {"'" + p for p in PAYLOADS} <= {r["ResourceId"] for r in top}
    for rows in (by_tag, top):
        assert not any(_formula(v) for r in rows for v in r.values() if v)
    # the money columns are numbers still (negative ones too: the credit is -5)
    summary = _csv(_invoke("billing", "summary", cur, "--by", "ChargeCategory", "--format", "csv"))
    assert {r["ChargeCategory"]: r["EffectiveCost"] for r in summary}["Credit"] == "-5"


@pytest.fixture()
def hostile_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The planning store of test_ri_plan, and usage keys that are the payloads (as `usage import` can write)."""
    monkeypatch.setenv("AWSCOST_ORG_NAME", ORG)
    monkeypatch.delenv("AWSCOST_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    url = fill(tmp_path)
    start = END - timedelta(hours=HOURS - 1)
    with open_store(url) as store:
        store.put_items(
            UsageItem(
                kind, ORG, "us-east-1", start + timedelta(hours=h), {p: 1 + n for n, p in enumerate(PAYLOADS)}
            )
            for h in range(HOURS)
            for kind in ("ec2os", "elasticache")
        )
    return url


def test_ri_plan_and_stats_csv_write_no_formula(hostile_store: str) -> None:
    until = END.isoformat()
    plan = _csv(_invoke("ri", "plan", "--store", hostile_store, "--until", until, "--format", "csv"))  # X6
    stats = _csv(_invoke("ri", "stats", "--store", hostile_store, "--until", until, "--format", "csv"))  # X7
    for rows in (plan, stats):
        assert {"'" + p for p in PAYLOADS} <= {r["key"] for r in rows}
        assert not any(_formula(v) for r in rows for v in r.values() if v)


CELL_REF = re.compile(r"^('[^']+'|[A-Za-z0-9_.]+)!\$[A-Z]+\$\d+(:\$[A-Z]+\$\d+)?$")


def _chart_formulas(xlsx: bytes | Path) -> tuple[list[str], str]:
    with zipfile.ZipFile(io.BytesIO(xlsx) if isinstance(xlsx, bytes) else xlsx) as z:
        bodies = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert bodies, "no chart in the workbook"
    return [f for b in bodies for f in re.findall(r"<c:f>(.*?)</c:f>", b, re.S)], "".join(bodies)


def test_ri_workbook_chart_names_are_cell_references_not_formulas(hostile_store: str, tmp_path: Path) -> None:
    out = tmp_path / "ri.xlsx"
    _invoke("report", "ri", "--store", hostile_store, "--out", str(out), "--until", END.isoformat())
    formulas, xml = _chart_formulas(out)
    # X2: was <c:f>ec2os us-east-1 =cmd|' /C calc'!A0</c:f>; now every <c:f> is a reference to a cell
    assert all(CELL_REF.match(f.replace("&apos;", "'")) for f in formulas), [
        f for f in formulas if not CELL_REF.match(f.replace("&apos;", "'"))
    ]
    assert not any("cmd|" in f or "HYPERLINK" in f for f in formulas)
    # the names are there, as the referenced cells' cached text
    assert "ec2os us-east-1 =cmd|" in xml.replace("&apos;", "'") and "owned" in xml

    import openpyxl

    ws = openpyxl.load_workbook(out)["ec2os us-east-1"]
    texts = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "cmd|" in c.value]
    assert texts and all(c.data_type == "s" for c in texts)


def test_cost_report_workbook_chart_names_are_cell_references() -> None:
    pytest.importorskip("openpyxl")
    from awscost.reports.model import Series
    from awscost.reports.render import render_xlsx
    from test_report_render import _report

    report = _report()
    for section in report.sections:
        section.charts[:] = [
            dataclasses.replace(
                c,
                title=PAYLOADS[4],
                labels=tuple(PAYLOADS[n % len(PAYLOADS)] for n in range(len(c.labels))),
                series=tuple(Series(f"{PAYLOADS[n]} {s.name}", s.values) for n, s in enumerate(c.series)),
                band=None,
            )
            for c in section.charts
        ]
    formulas, _ = _chart_formulas(render_xlsx(report))
    assert formulas and all(CELL_REF.match(f.replace("&apos;", "'")) for f in formulas)
    assert not any("cmd|" in f or "HYPERLINK" in f for f in formulas)


# -- awscost iam-policy ---------------------------------------------------------------------------------------


def _policy(tmp_path: Path, *args: str) -> dict[str, list[dict[str, object]]]:
    config = tmp_path / "awscost.toml"
    if not config.exists():
        config.write_text('[awscost]\nrole_name = "OrganizationAccountAccessRole"\n')
    out = _invoke("iam-policy", "--config", str(config), *args)
    policy: dict[str, list[dict[str, object]]] = json.loads(out)
    return policy


def _statements(policy: dict[str, list[dict[str, object]]], action: str) -> list[dict[str, object]]:
    return [s for s in policy["Statement"] if action in s["Action"]]  # type: ignore[operator]


def test_iam_policy_assumes_only_the_member_role(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "--kinds", "ec2")
    [assume] = _statements(policy, "sts:AssumeRole")
    assert assume["Resource"] == ["arn:aws:iam::*:role/OrganizationAccountAccessRole"]
    assert assume["Action"] == ["sts:AssumeRole"]
    # explicit accounts: their roles only
    ids = _policy(tmp_path, "--accounts", "111122223333,222233334444", "--role-name", "Reader")
    [assume] = _statements(ids, "sts:AssumeRole")
    assert assume["Resource"] == [
        "arn:aws:iam::111122223333:role/Reader",
        "arn:aws:iam::222233334444:role/Reader",
    ]
    # no role name: nothing is assumed, so nothing is granted
    (tmp_path / "awscost.toml").write_text("[awscost]\n")
    assert _statements(_policy(tmp_path), "sts:AssumeRole") == []
    assert all(
        s["Resource"] != "*" or "sts:AssumeRole" not in s["Action"]  # type: ignore[operator]
        for p in (policy, ids)
        for s in p["Statement"]
    )


def test_iam_policy_grants_the_dynamodb_store_its_tables(tmp_path: Path) -> None:
    from awscost.store.dynamodb import DATA_ACTIONS

    url = "dynamodb://AWSCost?region=eu-west-1&map_table=CostMap"
    [store] = _statements(_policy(tmp_path, "--store", url), "dynamodb:BatchWriteItem")
    assert store["Action"] == list(DATA_ACTIONS)
    assert store["Resource"] == [
        "arn:aws:dynamodb:eu-west-1:*:table/AWSCost",
        "arn:aws:dynamodb:eu-west-1:*:table/CostMap",
    ]
    # a SQLite store needs no IAM; the member policy holds describes only
    assert _statements(_policy(tmp_path, "--store", "sqlite:///x.db"), "dynamodb:Query") == []
    member = _policy(tmp_path, "--member", "--store", url)
    assert [s["Resource"] for s in member["Statement"]] == ["*"]
    assert not {"sts:AssumeRole", *DATA_ACTIONS} & set(member["Statement"][0]["Action"])  # type: ignore[arg-type]


def test_the_declared_dynamodb_actions_are_exactly_what_the_backend_calls() -> None:
    from awscost.store import dynamodb

    source = Path(dynamodb.__file__).read_text(encoding="utf-8")
    ops = set(re.findall(r"(?:_call|_call_refusable|_paginate)\(\s*\"([a-z_]+)\"", source))
    ops |= set(re.findall(r"self\.client\.([a-z_]+)\(", source)) - {"close", "get_waiter"}
    ops |= {"describe_table"} if 'get_waiter("table_exists")' in source else set()  # the waiter polls it
    declared = {*dynamodb.DATA_ACTIONS, *dynamodb.INIT_ACTIONS}
    assert {"dynamodb:" + "".join(w.title() for w in op.split("_")) for op in ops} == declared
