"""A CUR with a known anomaly, written by the sandbox's own CUR writer (real legacy-CUR layout, manifests):
twelve weeks of hourly EC2 and RDS usage in two accounts, weekends quieter, a little deterministic noise,
a support fee on the 1st of each month, and one injected forgotten cluster: 38 x r6g.2xlarge in eu-west-1,
tagged user:Spend_Category=search, launched 2026-10-10 09:00 and still running at the end."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from awscost_sandbox.bill import CUR_COLUMNS, Line, cur_row, write_cur_period

FIRST = datetime(2026, 8, 1, tzinfo=UTC)
DAYS = 84  # to 2026-10-24
CLUSTER_START = datetime(2026, 10, 10, 9, tzinfo=UTC)
CLUSTER = {"count": 38, "itype": "r6g.2xlarge", "region": "eu-west-1", "rate": Decimal("0.4032")}
PAYER, TEAM_A, TEAM_B = "111122223333", "222233334444", "333344445555"
TAG = "user:Spend_Category"


def _ec2(
    account: str, start: datetime, count: int, itype: str, region: str, rate: Decimal, team: str
) -> Line:
    prefix = {"us-east-1": "", "eu-west-1": "EU-"}[region]
    cost = rate * count
    return Line(
        account=account,
        kind="ec2",
        line_type="Usage",
        start=start,
        end=start + timedelta(hours=1),
        region=region,
        az=f"{region}a",
        resource=f"i-{account[-4:]}{itype.replace('.', '')}",
        itype=itype,
        os="Linux",
        usage_type=f"{prefix}BoxUsage:{itype}",
        operation="RunInstances",
        amount=Decimal(count),
        rate=rate,
        unblended=cost,
        public_cost=cost,
        public_rate=rate,
        description=f"${rate} per On Demand Linux {itype} Instance Hour",
        product_code="AmazonEC2",
        product_name="Amazon Elastic Compute Cloud",
        tags={TAG: team},
    )


def _rds(account: str, start: datetime, count: int) -> Line:
    rate = Decimal("0.342")
    return Line(
        account=account,
        kind="rds",
        line_type="Usage",
        start=start,
        end=start + timedelta(hours=1),
        region="us-east-1",
        resource=f"arn:aws:rds:us-east-1:{account}:db:orders",
        itype="db.r5.large",
        engine="postgres",
        usage_type="InstanceUsage:db.r5.large",
        operation="CreateDBInstance:0014",
        amount=Decimal(count),
        rate=rate,
        unblended=rate * count,
        public_cost=rate * count,
        public_rate=rate,
        description="RDS db.r5.large PostgreSQL",
        product_code="AmazonRDS",
        product_name="Amazon Relational Database Service",
        tags={TAG: "orders"},
    )


def lines(with_cluster: bool = True) -> list[Line]:
    noise = random.Random(15)
    out: list[Line] = []
    for day in range(DAYS):
        start = FIRST + timedelta(days=day)
        weekend = start.weekday() >= 5
        if start.day == 1:  # a monthly fee: One-Time, on the 1st, never an anomaly
            out.append(
                Line(
                    account=PAYER,
                    kind="fee",
                    line_type="Fee",
                    start=start,
                    end=start + timedelta(days=1),
                    usage_type="Business-Support",
                    amount=Decimal(1),
                    rate=Decimal(900),
                    unblended=Decimal(900),
                    description="AWS Support (Business)",
                    product_code="AWSSupportBusiness",
                    product_name="AWS Support (Business)",
                    unit="",
                )
            )
        for hour in range(24):
            at = start + timedelta(hours=hour)
            base_a = round((200 if not weekend else 160) * (1 + noise.uniform(-0.03, 0.03)))
            base_b = round((90 if not weekend else 75) * (1 + noise.uniform(-0.03, 0.03)))
            out.append(_ec2(TEAM_A, at, base_a, "m5.large", "us-east-1", Decimal("0.096"), "web"))
            out.append(_ec2(TEAM_B, at, base_b, "c5.xlarge", "us-east-1", Decimal("0.17"), "batch"))
            out.append(_rds(TEAM_A, at, 6))
            if with_cluster and at >= CLUSTER_START:
                c = CLUSTER
                out.append(_ec2(TEAM_A, at, c["count"], c["itype"], c["region"], c["rate"], "search"))
    return out


def write(out_dir: Path, with_cluster: bool = True) -> Path:
    """The CUR (one delivery per billing period) under out_dir/cur; returns that folder."""
    items = lines(with_cluster)
    header = [*CUR_COLUMNS, f"resourceTags/{TAG}"]
    by_period: dict[str, list[list[str]]] = {}
    for i, line in enumerate(items):
        by_period.setdefault(f"{line.start:%Y-%m}", []).append(cur_row(i, line, PAYER, [TAG]))
    for period, rows in sorted(by_period.items()):
        write_cur_period(rows, header, out_dir / "cur", period)
    return out_dir / "cur"
