"""The report job publishing each audience's dashboard set to the reports bucket (moto S3 over HTTP) and
mailing its presigned link (SES via moto, the mail parsed back): the link, fetched, is that audience's
overview and holds no other audience's account; its pages link to each other by presigned URLs that work."""

from __future__ import annotations

import email
import json
import re
import shutil
import urllib.request
from datetime import date
from email import policy
from pathlib import Path

import pytest

import anomaly_bills as ab
import dashboard_data
from awscost.core.config import Settings, load_settings
from awscost.core.errors import InputError
from awscost.jobs import Context, run_job
from awscost.jobs.report import JOB
from awscost.jobs.report import Params as ReportParams

TODAY = date(2026, 10, 24)
BUCKET = "reports-bucket"
LINK = re.compile(r"^(http://\S+/dashboard/overview\.html\?\S+?)\r?$", re.M)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("publish")
    dataset, _ = dashboard_data.make(root)
    return dataset, root / "store.db"


def settings_of(tmp_path: Path, store: Path) -> Settings:
    copy = tmp_path / "store.db"  # the job writes delivery records: each test its own store
    shutil.copy(store, copy)
    (tmp_path / "awscost.toml").write_text(
        f'[awscost]\nstore = "sqlite:///{copy}"\n'
        f'[report]\nbucket = "{BUCKET}"\nmail_from = "finops@example.com"\nses_region = "us-east-1"\n'
        f'[[report.audience]]\nname = "ml"\naccounts = ["{ab.TEAM_B}"]\nrecipients = ["ml@example.com"]\n'
        f'[[report.audience]]\nname = "web"\naccounts = ["{ab.TEAM_A}"]\nrecipients = ["web@example.com"]\n'
    )
    return load_settings(tmp_path / "awscost.toml")


def sent(endpoint: str) -> dict[str, email.message.EmailMessage]:
    data = json.loads(urllib.request.urlopen(f"{endpoint}/moto-api/data.json").read())
    mails = [
        email.message_from_string(m["raw_data"], policy=policy.default)  # type: ignore[arg-type]
        for m in data["ses"]["RawMessage"]
    ]
    return {str(m["To"]): m for m in mails}  # type: ignore[misc]


def get(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url) as response:
        return response.read().decode("utf-8"), response.headers["Content-Type"]


def test_each_audiences_mail_links_its_own_published_dashboard(
    aws: str, data: tuple[Path, Path], tmp_path: Path
) -> None:
    import boto3

    dataset, store = data
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="finops@example.com")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    params = ReportParams(
        dataset=str(dataset),
        all_audiences=True,
        period="month-to-date",
        today=TODAY,
        send=True,
        archive=True,
        publish_dashboard=True,
        dashboard_link_days=2,
    )
    result = run_job("report", Context(settings_of(tmp_path, store)), params)
    assert [r.error for r in result.reports] == [None, None]
    period = result.reports[0].period
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="reports/")["Contents"]}
    for audience in ("ml", "web"):
        for name in ("overview", "usage", "reservations", "tags", "services"):
            assert f"reports/{audience}/{period}/dashboard/{name}.html" in keys
    acl = s3.get_object_acl(Bucket=BUCKET, Key=f"reports/ml/{period}/dashboard/overview.html")
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]  # the owner's only: private

    mails = sent(aws)
    for audience, mine, other in (("ml", ab.TEAM_B, ab.TEAM_A), ("web", ab.TEAM_A, ab.TEAM_B)):
        mail = mails[f"{audience}@example.com"]
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html_body = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        (link,) = LINK.findall(text)
        assert f"/{BUCKET}/reports/{audience}/" in link and "X-Amz-Expires=172800" in link
        assert "expires within 2 days" in text and "Open the dashboard" in html_body
        page, kind = get(link)
        assert kind.startswith("text/html")
        assert "<title>Overview:" in page and f"Static export for <b>{audience}</b>" in page
        assert mine in page and other not in page
        # The navigation of a private set: each sibling by its own presigned URL (a relative one would be
        # refused by S3), and every one of them opens.
        hrefs = re.findall(r'href="([^"]+)"', page)
        pages = [h.replace("&amp;", "&") for h in hrefs if "/dashboard/" in h]
        assert len(pages) == 6 and all("X-Amz-Signature=" in h for h in pages)  # 5 pages + the stylesheet
        for href in pages:
            body, kind = get(href)
            assert other not in body, href
            if "usage.html" in href:
                assert "Estimated cost rate" in body and mine in body
        css = next(h for h in pages if "dashboard.css" in h)
        assert get(css)[1].startswith("text/css")
    result_json = result.reports[0].to_json()["delivery"]
    assert any(k.endswith("/dashboard/overview.html") for k in result_json["archived"])


def test_the_daily_rule_publishes_and_the_link_lives_at_most_seven_days() -> None:
    (rule,) = JOB.rules
    assert rule.event["publish_dashboard"] is True and rule.event["send"] is True
    for days in (0, 8):
        with pytest.raises(InputError, match="1 to 7 days"):
            ReportParams(dataset="d", publish_dashboard=True, dashboard_link_days=days)
    with pytest.raises(InputError, match="not rendered"):
        ReportParams(dataset="d", publish_dashboard=True, render=False)
