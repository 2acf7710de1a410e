"""The demo's cost report step: two months of the sandbox bill, reports for a manager and an engineer
audience, mailed through the sandbox's SES, archived in its S3 and written to demo-out/reports/."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from awscost.core.timeutil import HOUR, floor_hour

BUCKET = "awscost-demo-reports"
SENDER = "finops@example.com"
ENGINEER_ACCOUNTS = ("222233334444", "333344445555")


def report_section(ctx: Any) -> dict[str, Any]:
    """The [report] table the demo runs with (written into demo-out/awscost.toml too)."""
    return {
        "bucket": BUCKET,
        "mail_from": SENDER,
        "ses_region": "us-east-1",
        "audience": [
            {
                "name": "managers",
                "recipients": ["cto@example.com", "finance@example.com"],
                "accounts": "all",
                "schedule": "monthly",
            },
            {
                "name": "ml-engineers",
                "recipients": ["ml-team@example.com"],
                "accounts": list(ENGINEER_ACCOUNTS),
                "schedule": "weekly",
                "tags": {"user:Spend_Category": ["ml"]},
            },
        ],
    }


def report_toml(ctx: Any) -> str:
    section = report_section(ctx)
    lines = ["[report]"]
    lines += [f'{k} = "{v}"' for k, v in section.items() if isinstance(v, str)]
    for audience in section["audience"]:
        lines += ["", "[[report.audience]]"]
        for key, value in audience.items():
            if key == "tags":
                continue
            text = f'"{value}"' if isinstance(value, str) else "[" + ", ".join(f'"{v}"' for v in value) + "]"
            lines.append(f"{key} = {text}")
        if audience.get("tags"):
            lines.append("[report.audience.tags]")
            lines += [
                f'"{k}" = [' + ", ".join(f'"{v}"' for v in values) + "]"
                for k, values in audience["tags"].items()
            ]
    return "\n".join(lines) + "\n"


def demo_step(ctx: Any) -> None:
    import boto3

    from awscost.billing import load_into
    from awscost.jobs import run_job
    from awscost.jobs.base import Context
    from awscost.jobs.report import Params, check
    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.demo import sandbox_environment

    last = floor_hour(ctx.last_hour)
    # Two whole months before the demo's day: last month compared with the month before, and weeks of history.
    first = datetime(last.year if last.month > 2 else last.year - 1, (last.month - 3) % 12 + 1, 1, tzinfo=UTC)
    hours = [first + i * HOUR for i in range((last - first) // HOUR + 1)]
    written = write_bill(ctx.scenario, hours, Path(ctx.out_dir) / "report-bill", formats=("cur",))
    dataset = Path(ctx.out_dir) / "report-billing"
    load_into([written["cur"]], dataset)
    settings = replace(ctx.settings, raw={**ctx.settings.raw, "report": report_section(ctx)})
    out = Path(ctx.out_dir) / "reports"
    with sandbox_environment(ctx.server):
        boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
        s3 = boto3.client("s3", region_name="us-east-1")
        if BUCKET not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=BUCKET)
        params = Params(
            all_audiences=True,
            dataset=str(dataset),
            out=str(out),
            send=True,
            archive=True,
            resend=True,  # a rerun of the demo mails again
            today=last.date(),
        )
        result = run_job("report", Context(settings), params)
    ctx.results["reports"] = result
    ctx.console.print(
        f"[bold]Cost reports[/] from the sandbox bill {first:%Y-%m-%d} .. {last:%Y-%m-%d %H:00} "
        f"({result.cube_rows} cube rows), mailed through the sandbox's SES, archived in s3://{BUCKET}/reports/:"
    )
    for item in result.reports:
        if item.error:
            ctx.console.print(f"  [red]{item.audience}[/] {item.period}: {item.error}")
            continue
        sent = len((item.delivery or {}).get("sent", []))
        ctx.console.print(f"  [bold]{item.audience}[/] {item.period}: {item.headline}")
        ctx.console.print(f"    {item.paths.get('html')}  (mailed to {sent} recipient(s))")
    check(result)
