"""The report job end to end on the sandbox: both sources give the same figures; the reports are mailed
through SES (parsed back), archived in S3, written as HTML/XLSX/JSON (read back); an engineer audience's
artifacts hold no other team's figure; the page renders in headless Chromium."""

from __future__ import annotations

import email
import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from email import policy
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

HOURS = 40  # Monday 2026-11-02 00:00 .. Tuesday 15:00
DAY = "2026-11-02..2026-11-02"
MINE = ("222233334444", "333344445555")
REPORT = {
    "bucket": "reports-bucket",
    "mail_from": "finops@example.com",
    "ses_region": "us-east-1",
    "audience": [
        {"name": "managers", "recipients": ["cto@example.com", "cfo@example.com"], "accounts": "all"},
        {
            "name": "ml",
            "recipients": ["ml@example.com"],
            "accounts": list(MINE),
            "tags": {"user:Spend_Category": ["ml"]},
            "schedule": "weekly",
        },
    ],
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.demo import sandbox_environment
    from awscost_sandbox.seed import seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)  # then the environment calls as the management (payer) account
        server.clock = server.scenario.hours(HOURS)[-1]
        with sandbox_environment(server):
            written = write_bill(
                server.scenario, server.scenario.hours(HOURS), tmp_path_factory.mktemp("b"), ("cur",)
            )
            yield server, written["cur"]


def run(tmp_path: Path, **kw: Any) -> Any:
    from awscost.core.config import Settings
    from awscost.jobs import Context, run_job
    from awscost.jobs.report import Params

    settings = replace(Settings(store=f"sqlite:///{tmp_path / 's.db'}"), raw={"report": REPORT})
    return run_job("report", Context(settings), Params(today=date(2026, 11, 3), **kw))


def test_both_sources_give_the_same_figures(sandbox: tuple[Any, Path], tmp_path: Path) -> None:
    _, cur = sandbox
    for audience in (None, "ml"):
        runs = [
            run(tmp_path, files=(str(cur),), period=DAY, audience=audience).reports[0],
            run(tmp_path, source="ce", period=DAY, audience=audience).reports[0],
        ]
        assert [r.error for r in runs] == [None, None]
        bill, ce = (r.document for r in runs)
        assert bill["total"] == ce["total"] and Decimal(bill["total"]["cost"]) > 0
        assert bill["accounts"] == ce["accounts"]
        assert bill["tag_coverage"]["covered_cost"] == ce["tag_coverage"]["covered_cost"]


def _sent(endpoint: str) -> list[email.message.EmailMessage]:
    data = json.loads(urllib.request.urlopen(f"{endpoint}/moto-api/data.json").read())
    raw = [m["raw_data"] for m in data["ses"]["RawMessage"]]
    return [email.message_from_string(r, policy=policy.default) for r in raw]  # type: ignore[misc]


def test_reports_are_mailed_archived_and_scoped(sandbox: tuple[Any, Path], tmp_path: Path) -> None:
    import boto3
    import openpyxl

    server, cur = sandbox
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="finops@example.com")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="reports-bucket")
    result = run(tmp_path, files=(str(cur),), period=DAY, all_audiences=True, send=True, archive=True,
                 out=str(tmp_path / "out"))  # fmt: skip
    assert [r.error for r in result.reports] == [None, None]
    managers, ml = result.reports
    mails = {str(m["To"]): m for m in _sent(server.endpoint) if DAY in str(m["Subject"])}
    assert set(mails) == {"cto@example.com", "cfo@example.com", "ml@example.com"}
    mail = mails["ml@example.com"]
    assert mail["From"] == "finops@example.com" and "ml" in str(mail["Subject"])
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    cids = [p["Content-ID"].strip("<>") for p in mail.walk() if p.get_content_type() == "image/png"]
    assert cids and all(f"cid:{c}" in html for c in cids)
    attachment = next(p for p in mail.iter_attachments() if str(p.get_filename()).endswith(".xlsx"))
    workbook = openpyxl.load_workbook(BytesIO(attachment.get_content()))
    assert "Summary" in workbook.sheetnames and len(workbook.sheetnames) > 3
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="reports-bucket")["Contents"]}
    assert f"reports/ml/{DAY}/cost-report.xlsx" in keys and "reports/managers/latest/cost-report.html" in keys
    # Nobody sees a figure outside their scope: another team's account and spend category appear nowhere in
    # the engineer's mail, workbook, page or JSON.
    others = [a["account_id"] for a in managers.document["accounts"] if a["account_id"] not in MINE]
    assert others
    cells = " ".join(
        str(c.value) for ws in workbook for row in ws.iter_rows() for c in row if c.value is not None
    )
    page = Path(ml.paths["html"]).read_text()
    doc = Path(ml.paths["json"]).read_text()
    for artifact in (html, text, cells, page, doc):
        for account in others:
            assert account not in artifact
        assert "platform" not in artifact and "shared" not in artifact  # the other Spend_Category values
    manager_total = f"{Decimal(managers.document['total']['cost']):,.2f}"
    assert manager_total not in page and manager_total in Path(managers.paths["html"]).read_text()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_the_report_page_renders_in_headless_chromium(sandbox: tuple[Any, Path], tmp_path: Path) -> None:
    from PIL import Image

    _, cur = sandbox
    result = run(tmp_path, files=(str(cur),), period=DAY, audience="managers", out=str(tmp_path / "out"))
    shot = tmp_path / "page.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=900,2000", Path(result.reports[0].paths["html"]).as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    image = Image.open(shot).convert("L")
    assert image.size == (900, 2000)
    dark = sum(image.histogram()[:128])  # pixels darker than mid-grey
    assert dark > 2000  # text and the chart were drawn, not a blank page


def test_accounts_narrow_an_audience_and_never_widen_it(sandbox: tuple[Any, Path], tmp_path: Path) -> None:
    """The dashboard's and Slack's account filter: the report of one of the audience's accounts has exactly
    that account's figures; an account outside the audience is refused, not reported as zeros; render=False
    keeps the model and writes nothing."""
    from awscost.core.errors import InputError
    from awscost.jobs.report import Params

    _server, cur = sandbox
    whole = run(tmp_path, files=(str(cur),), period=DAY, audience="managers")
    (everything,) = whole.reports
    by_account = {a["account_id"]: Decimal(a["cost"]) for a in everything.document["accounts"]}
    one = run(tmp_path, files=(str(cur),), period=DAY, audience="managers", accounts=(MINE[0],), render=False)
    (narrow,) = one.reports
    assert narrow.error is None and narrow.paths == {} and narrow.report is not None
    assert Decimal(narrow.document["total"]["cost"]) == by_account[MINE[0]]
    assert [a["account_id"] for a in narrow.document["accounts"]] == [MINE[0]]
    outside = next(a for a in by_account if a not in MINE)
    (refused,) = run(tmp_path, files=(str(cur),), period=DAY, audience="ml", accounts=(outside,)).reports
    assert refused.error is not None and f"account {outside} is not in the audience ml" in refused.error
    with pytest.raises(InputError, match="cannot be written"):
        Params(files=(str(cur),), render=False, out=str(tmp_path))
    with pytest.raises(InputError, match="is not 12 digits"):
        Params(files=(str(cur),), accounts=("12",))
