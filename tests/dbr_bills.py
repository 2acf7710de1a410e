"""Small DBR files in the real layout (`<payer>-aws-billing-detailed-line-items-with-resources-and-tags-YYYY-MM
.csv[.zip]`, every field quoted, the header AWS wrote, account and statement total rows) for the tests of
reading and amortizing them. One month: an RI-applied usage hour, optionally a sign-up charge (an RI's
upfront fee, whose UsageStartDate..UsageEndDate is the reservation's term) and other rows."""

from __future__ import annotations

import csv
import zipfile
from decimal import Decimal
from pathlib import Path

PAYER = "111111111111"
LINKED = "222222222222"
HEADER = [
    "InvoiceID", "PayerAccountId", "LinkedAccountId", "RecordType", "RecordId", "ProductName", "RateId",
    "SubscriptionId", "PricingPlanId", "UsageType", "Operation", "AvailabilityZone", "ReservedInstance",
    "ItemDescription", "UsageStartDate", "UsageEndDate", "UsageQuantity", "BlendedRate", "BlendedCost",
    "UnBlendedRate", "UnBlendedCost", "ResourceId", "user:Name",
]  # fmt: skip
EC2 = "Amazon Elastic Compute Cloud"
SUBSCRIPTION, PLAN = "647735683", "2195643"


def row(**values: str) -> list[str]:
    r = dict.fromkeys(HEADER, "")
    r.update(InvoiceID="Estimated", PayerAccountId=PAYER, LinkedAccountId=LINKED, RecordType="LineItem")
    r.update(values)
    return [r[h] for h in HEADER]


def usage(period: str, cost: str = "0.00000000", record: str = "1") -> list[str]:
    """An hour of an m3.large covered by an All Upfront RI (hourly fee 0), as the DBR writes it."""
    return row(
        RecordId=record, ProductName=EC2, RateId="100", SubscriptionId="5001", PricingPlanId="3001",
        UsageType="HeavyUsage:m3.large", Operation="RunInstances", AvailabilityZone="us-east-1a",
        ReservedInstance="Y", ItemDescription=f"USD {cost} hourly fee per Linux/UNIX (Amazon VPC), m3.large "
        "reserved instance applied", UsageStartDate=f"{period}-10 00:00:00", UsageEndDate=f"{period}-10 01:00:00",
        UsageQuantity="1.00000000", BlendedRate=cost, BlendedCost=cost, UnBlendedRate=cost, UnBlendedCost=cost,
        ResourceId="i-0aaa", **{"user:Name": "web-1"},
    )  # fmt: skip


def sign_up(
    fee: str,
    start: str,
    end: str,
    subscription: str = SUBSCRIPTION,
    plan: str = PLAN,
    product: str = EC2,
    linked: str = LINKED,
) -> list[str]:
    """The row of an RI purchase: `fee` paid upfront, the term from `start` to `end` ('YYYY-MM-DD HH:MM:SS')."""
    return row(
        LinkedAccountId=linked, RecordId="2", ProductName=product, RateId="101", SubscriptionId=subscription,
        PricingPlanId=plan, ReservedInstance="Y",
        ItemDescription=f"Sign up charge for subscription: {subscription}, planId: {plan}",
        UsageStartDate=start, UsageEndDate=end, UsageQuantity="1.00000000", BlendedRate=fee, BlendedCost=fee,
        UnBlendedRate=fee, UnBlendedCost=fee,
    )  # fmt: skip


def write_month(
    directory: Path, period: str, rows: list[list[str]], *, zipped: bool = False, payer: str = PAYER
) -> Path:
    """One month's DBR with `rows` plus the usage hour, its rounding, account and statement totals."""
    lines = [usage(period), *rows]
    total = sum((Decimal(r[HEADER.index("UnBlendedCost")] or "0") for r in lines), Decimal(0))
    year, month = period.split("-")
    lines += [
        row(RecordType="Rounding", ItemDescription="Rounding of the unblended cost", BlendedCost="0.00000000",
            UnBlendedCost="0.00000000"),
        row(RecordType="AccountTotal", ItemDescription=f"Total amount for linked account# {LINKED}",
            BlendedCost=f"{total:.8f}", UnBlendedCost=f"{total:.8f}"),
        row(LinkedAccountId="", RecordType="StatementTotal",
            ItemDescription=f"Total statement amount for period {year}-{month}-01 00:00:00 - ...",
            BlendedCost=f"{total:.8f}", UnBlendedCost=f"{total:.8f}"),
    ]  # fmt: skip
    for line in lines:
        line[HEADER.index("PayerAccountId")] = payer
    name = f"{payer}-aws-billing-detailed-line-items-with-resources-and-tags-{period}.csv"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
        writer.writerow(HEADER)
        writer.writerows(lines)
    if not zipped:
        return path
    archive = directory / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, name)
    path.unlink()
    return archive


def months(first: str, count: int) -> list[str]:
    year, month = (int(x) for x in first.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
