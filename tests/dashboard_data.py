"""The dashboard tests' data: anomaly_bills' CUR (real legacy-CUR layout) with the forgotten cluster tagged with
a script (a string from AWS is data), loaded into a dataset; a store with its anomaly log and 48 collected
hours of EC2 counts of the two teams' accounts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anomaly_bills as ab
from awscost.billing import load_into
from awscost.core.config import Settings
from awscost.jobs import Context, run_job
from awscost.jobs.anomaly_scan import Params as ScanParams
from awscost.store import open_store
from awscost.store.base import UsageItem
from awscost_sandbox.bill import CUR_COLUMNS, cur_row, write_cur_period

EVIL = "<script>alert(1)</script>"
LAST_HOUR = datetime(2026, 10, 23, 23, tzinfo=UTC)


def write_bill(root: Path) -> Path:
    items = [
        replace(x, tags={ab.TAG: EVIL}) if (x.tags or {}).get(ab.TAG) == "search" else x for x in ab.lines()
    ]
    header = [*CUR_COLUMNS, f"resourceTags/{ab.TAG}"]
    by_period: dict[str, list[list[str]]] = {}
    for i, line in enumerate(items):
        by_period.setdefault(f"{line.start:%Y-%m}", []).append(cur_row(i, line, ab.PAYER, [ab.TAG]))
    for period, rows in sorted(by_period.items()):
        write_cur_period(rows, header, root / "cur", period)
    return root / "cur"


def make(root: Path) -> tuple[Path, str]:
    """(dataset, store URL) under root."""
    load_into([write_bill(root)], root / "dataset")
    store_url = f"sqlite:///{root / 'store.db'}"
    run_job(
        "anomaly_scan",
        Context(Settings(store=store_url)),
        ScanParams(dataset=str(root / "dataset"), notify=""),
    )
    with open_store(store_url) as store:
        store.put_items(
            UsageItem("ec2", account, "us-east-1", LAST_HOUR - timedelta(hours=h), {"m5.large:us-east-1a": n})
            for h in range(48)
            for account, n in ((ab.TEAM_A, 200), (ab.TEAM_B, 90))
        )
        store.put_map("collected:ec2", {"hour": LAST_HOUR.isoformat()})
    return root / "dataset", store_url
