"""The usage signal: collected counts x the price book as hourly cost rates (anomalies/usage.py), the
detector on them with hour-of-week seasonality, the bill's confirmation or withdrawal (anomalies/confirm.py),
the synthetic hourly back-test's targets, and `awscost anomalies detect --source usage`. Deterministic: every
series comes from a fixed seed or a fixed pattern; the stores are real SQLite stores written by the store API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from awscost.anomalies import detect as dt
from awscost.anomalies import synthetic_hourly as sh
from awscost.anomalies import usage as us
from awscost.anomalies.bill import BillSeries
from awscost.anomalies.confirm import BILL_LATENCY, bill_known_at, confirm
from awscost.core.errors import InputError
from awscost.entrypoints.cli import cli
from awscost.planning.pricing import PriceBook, snapshot_book
from awscost.store import open_store
from awscost.store.base import Store, UsageItem

HOUR = timedelta(hours=1)
FIRST = datetime(2026, 6, 1, tzinfo=UTC)  # a Monday
ACCOUNT, REGION = "111111111111", "us-east-1"
EC2 = "Amazon Elastic Compute Cloud"


def price(itype: str, os: str = "linux", service: str = "ec2", region: str = REGION) -> Decimal:
    found = snapshot_book().on_demand_hourly(service, itype, region, os)
    assert found is not None
    return found


def fleet(hour: datetime) -> int:
    """m5.large instances of a business-hours pattern: 10 at night, 14 in working hours on weekdays."""
    busy = hour.weekday() < 5 and 14 <= hour.hour < 22
    return 14 if busy else 10


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'usage.db'}") as s:
        yield s


def write(store: Store, hours: int, extra: dict[datetime, int] | None = None) -> None:
    items = []
    for i in range(hours):
        hour = FIRST + i * HOUR
        n = fleet(hour) + (extra or {}).get(hour, 0)
        items.append(UsageItem("ec2os", ACCOUNT, REGION, hour, {"linux-m5.large": n}))
        items.append(UsageItem("ec2", ACCOUNT, REGION, hour, {f"m5.large:{REGION}a": n}))
    store.put_items(items)


def test_counts_times_prices_per_account_kind_and_region_with_what_is_left_out(store: Store) -> None:
    at = FIRST + 5 * HOUR
    store.put_items(
        [
            UsageItem(
                "ec2os",
                ACCOUNT,
                REGION,
                at,
                {"linux-m5.large": 3, "windows-m5.large": 1, "spot-linux-m5.large": 4},
            ),
            UsageItem("ec2", ACCOUNT, REGION, at, {f"m5.large:{REGION}a": 4}),  # the same instances
            UsageItem("ec2", ACCOUNT, "eu-west-1", at, {"m5.large:eu-west-1a": 2}),  # no ec2os here
            UsageItem("rds", ACCOUNT, REGION, at, {"multi_az-db.r5.large:mysql": 1}),
            UsageItem("dynamodb", ACCOUNT, REGION, at, {"read_capacity": 100, "write_capacity": 10}),
            UsageItem("ec2os", "sandbox-org", REGION, at, {"linux-m5.large": 99}),  # the org's total
            UsageItem("es", ACCOUNT, REGION, FIRST + 20 * HOUR, {"r6g.large.search": 2}),  # daily
        ]
    )
    data = us.cost_rates(store, snapshot_book())
    assert data.keys == [
        (ACCOUNT, "ec2", "eu-west-1"),
        (ACCOUNT, "ec2os", REGION),
        (ACCOUNT, "es", REGION),
        (ACCOUNT, "rds", REGION),
    ]
    rds = snapshot_book().lookup("rds", "db.r5.large", REGION, "mysql")
    assert rds is not None and rds.on_demand is not None
    es = price("r6g.large.search", "", "es")
    expected = {
        (ACCOUNT, "ec2", "eu-west-1"): 2 * price("m5.large", region="eu-west-1"),
        (ACCOUNT, "ec2os", REGION): 3 * price("m5.large") + price("m5.large", "windows"),
        (ACCOUNT, "rds", REGION): 2 * rds.on_demand,  # Multi-AZ: twice the Single-AZ rate
    }
    for key, rate in expected.items():
        assert data.series(key) == [(at, rate.quantize(Decimal("0.001")))]
    # A daily kind's item stands for the rest of its UTC day.
    assert data.series((ACCOUNT, "es", REGION)) == [
        (FIRST + h * HOUR, (2 * es).quantize(Decimal("0.001"))) for h in range(20, 24)
    ]
    assert data.left_out == {"spot": 1, "no price": 2, us.EC2_LEFT: 1}
    assert data.price_sources and all(s.startswith("snapshot") for s in data.price_sources)


def test_a_short_gap_keeps_the_rate_and_a_long_one_stays_unknown(store: Store) -> None:
    hours = [0, 1, 5, 20]  # gaps of 3 and 14 hours
    store.put_items(
        UsageItem("ec2os", ACCOUNT, REGION, FIRST + h * HOUR, {"linux-m5.large": 1}) for h in hours
    )
    row = us.cost_rates(store, snapshot_book()).rates[0]
    known = np.flatnonzero(~np.isnan(row)).tolist()
    assert known == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20]  # 2 .. 4 filled; 6 .. 11 within FILL_HOURS


def test_a_step_of_instances_is_flagged_in_its_first_hour_with_the_hourly_threshold(store: Store) -> None:
    start = FIRST + timedelta(days=40, hours=9)  # Saturday 2026-07-11 09:00 UTC
    days = 45
    step = {start + i * HOUR: 30 for i in range(30)}  # +30 m5.large for 30 hours: $2.88/h
    write(store, days * 24, step)
    found = us.detect_hourly(us.cost_rates(store, snapshot_book()))
    assert len(found) == 1
    event = found[0]
    a = event.anomaly
    assert (a.start, a.date, a.end, event.hours) == (
        "2026-07-11T09:00:00Z",
        "2026-07-11",
        "2026-07-12T15:00:00Z",
        30,
    )
    assert a.service == EC2 and (event.kind, event.region, a.account_id) == ("ec2os", REGION, ACCOUNT)
    assert event.known_at == start + HOUR  # known at the end of its first hour
    # Money per day is the mean hourly rate x 24; the total is the dollars of its 30 hours.
    rate = 30 * price("m5.large")
    assert a.impact_per_day == (rate * 24).quantize(Decimal("0.01"))
    assert a.impact_total == (rate * 30).quantize(Decimal("0.01"))
    assert a.kind == "step" and a.days == 2  # two UTC days touched
    assert a.id == us.usage_event_id(ACCOUNT, "ec2os", REGION, start)
    assert json.loads(json.dumps(event.to_json()))["known_at"] == "2026-07-11T10:00:00Z"


def test_min_impact_is_dollars_per_day_divided_by_24_an_hour(store: Store) -> None:
    start = FIRST + timedelta(days=40, hours=2)
    step = {start + i * HOUR: 10 for i in range(48)}
    write(store, 45 * 24, step)
    data = us.cost_rates(store, snapshot_book())
    per_day = 10 * price("m5.large") * 24  # the step's size in $/day
    below = dt.Thresholds(min_impact=per_day + Decimal("0.5"))
    above = dt.Thresholds(min_impact=per_day - Decimal("0.5"))
    assert us.detect_hourly(data, thresholds=below) == []
    assert [u.anomaly.start for u in us.detect_hourly(data, thresholds=above)] == ["2026-07-11T02:00:00Z"]


def test_the_weekly_pattern_is_not_an_anomaly(store: Store) -> None:
    write(store, 60 * 24)
    data = us.cost_rates(store, snapshot_book())
    assert us.detect_hourly(data, thresholds=dt.Thresholds(min_impact=Decimal(1))) == []
    with pytest.raises(InputError, match="unknown hourly model"):
        us.detect_hourly(data, model="weekday_median")


def test_the_synthetic_hourly_backtest_meets_the_targets() -> None:
    usage = sh.generate(7, series=200, days=50)
    n = usage.costs.shape[0]
    events = dt.detect_matrix(
        usage.costs, min_impact=np.full(n, 50 / 24), score=np.full(n, 6.0), model=dt.DEFAULT_HOURLY_MODEL
    )
    scores = sh.evaluate(usage, events.series, events.start, events.new)
    assert scores.eligible >= 100
    assert scores.precision >= 0.9 and scores.recall >= 0.9
    assert scores.median_delay <= 2  # hours from the start to the end of the flagged hour
    # Deterministic per seed.
    again = sh.generate(7, series=200, days=50)
    assert np.array_equal(again.costs, usage.costs, equal_nan=True) and again.events == usage.events


# -- the bill's verdict


def bill_series(days: int, extra: dict[date, Decimal]) -> BillSeries:
    first = date(2026, 5, 1)
    items = []
    for k in range(days):
        day = first + timedelta(days=k)
        cost = Decimal(300 if day.weekday() < 5 else 240) + Decimal(k % 3)
        items.append((day, cost + extra.get(day, Decimal(0))))
    return BillSeries({(ACCOUNT, EC2): items}, {}, "USD", first, items[-1][0])


def usage_event(store: Store, start: datetime, count: int, hours: int) -> us.UsageAnomaly:
    write(store, 45 * 24, {start + i * HOUR: count for i in range(hours)})
    (found,) = us.detect_hourly(us.cost_rates(store, snapshot_book()))
    return found


def test_confirmed_by_the_bills_event_with_the_hours_of_early_warning(store: Store) -> None:
    start = FIRST + timedelta(days=40, hours=9)
    event = usage_event(store, start, 60, 60)  # 09:00 on day one to 21:00 on day three
    rate = Decimal(60) * price("m5.large")
    day = start.date()
    hours_on = {day: 15, day + timedelta(days=1): 24, day + timedelta(days=2): 21}
    bill = bill_series(80, {d: rate * h for d, h in hours_on.items()})
    bill_events = dt.detect(bill.series)
    assert [b.date for b in bill_events] == [day.isoformat()]
    (verdict,) = confirm([event], bill_events, bill)
    assert verdict.status == "confirmed" and verdict.bill_id == bill_events[0].id
    # The bill knows the event's first day 24 h after it ends; the usage signal at 10:00 that day.
    assert verdict.bill_known_at == bill_known_at(day) == datetime(2026, 7, 13, tzinfo=UTC)
    assert verdict.hours_earlier == (datetime(2026, 7, 13, tzinfo=UTC) - (start + HOUR)) // HOUR == 38
    assert "38 h earlier" in verdict.note
    # The latency is a parameter: a bill that lands 8 h after the day leaves a 22-hour lead.
    (sooner,) = confirm([event], bill_events, bill, latency=timedelta(hours=8))
    assert sooner.hours_earlier == 22
    assert timedelta(hours=24) == BILL_LATENCY  # the default


def test_confirmed_by_a_comparable_move_withdrawn_without_one_pending_before_the_bill(store: Store) -> None:
    start = FIRST + timedelta(days=40, hours=0)
    event = usage_event(store, start, 30, 24)  # one whole day
    day = start.date()
    dollars = event.anomaly.impact_total
    # The bill's day moved by 60 % of the estimate (reservations cover part of it), below the bill's score.
    moved = bill_series(80, {day: dollars * Decimal("0.6")})
    (verdict,) = confirm([event], [], moved)
    assert verdict.status == "confirmed" and verdict.bill_id is None
    assert verdict.hours_earlier == 47 and "no bill event" in verdict.note
    (verdict,) = confirm([event], [], bill_series(80, {}))
    assert verdict.status == "withdrawn" and verdict.hours_earlier is None
    assert "withdrawn: the bill covers 2026-07-11 .. 2026-07-11" in verdict.note
    early = bill_series(70, {})  # ends 2026-07-09, before the event's day
    (verdict,) = confirm([event], [], early)
    assert verdict.status == "pending" and verdict.bill_known_at == bill_known_at(day)


def test_the_command_reads_the_store_and_says_what_it_left_out(store: Store, tmp_path: Path) -> None:
    start = FIRST + timedelta(days=40, hours=9)
    write(store, 45 * 24, {start + i * HOUR: 30 for i in range(30)})
    store.put_items([UsageItem("dynamodb", ACCOUNT, REGION, FIRST, {"read_capacity": 5})])
    args = ["anomalies", "detect", "--source", "usage", "--store", store.url, "--format", "json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["source"], row["usage_kind"], row["region"], row["start"], row["date"], row["hours"]) == (
        "usage",
        "ec2os",
        REGION,
        "2026-07-11T09:00:00Z",
        "2026-07-11",
        30,
    )
    assert "bill" not in row  # no bill given: nothing to confirm it with
    assert "left out: 1 ec2 series counted by ec2os, 1 key-hours without a price" in result.stderr
    table = CliRunner().invoke(cli, args[:-2], catch_exceptions=False)
    assert table.exit_code == 0 and "ec2os us-east-1" in table.stdout
    missing = CliRunner().invoke(cli, [*args[:4], "--store", f"sqlite:///{tmp_path / 'none.db'}"])
    assert missing.exit_code != 0 and "no store here" in str(missing.exception)


def test_only_priced_kinds_are_read() -> None:
    assert us.PRICED_KINDS == ("ec2", "ec2os", "rds", "dynamodb", "elasticache", "es", "redshift")
    with pytest.raises(InputError, match="has no price"):
        us.cost_rates(None, PriceBook(), kinds=("ri-ec2",))  # type: ignore[arg-type]


def _rule(name: str, dataset: Path | None = None) -> dict[str, object]:
    """The event an anomaly_scan rule sends, without notices (the notice path has its tests in
    test_anomalies_log.py) and with a local dataset for the stack's."""
    from awscost.jobs import JOBS

    (rule,) = [r for r in JOBS.get("anomaly_scan").rules if r.name == name]
    event = {k: v for k, v in rule.event.items() if k != "job"}
    event["notify"] = ""
    if "dataset" in event:
        assert dataset is not None
        event["dataset"] = str(dataset)
    return event


def test_the_scheduled_usage_scans_log_the_event_hourly_and_the_bills_verdict_daily(tmp_path: Path) -> None:
    """The two usage rules as deployed, on tests/anomaly_bills.py's fleet collected hour by hour: the hourly
    one logs the forgotten cluster the day it starts, the daily one with the bill confirms it and keeps the
    verdict in the anomaly log, and the next hourly run (no bill) leaves that verdict as it was."""
    import anomaly_bills as ab
    from awscost.anomalies import events
    from awscost.billing import load_into
    from awscost.core.config import load_settings
    from awscost.jobs import Context, run_job
    from awscost.jobs.anomaly_scan import Params

    config = tmp_path / "awscost.toml"
    config.write_text(f'[awscost]\nstore = "sqlite:///{tmp_path / "store.db"}"\n')
    s = load_settings(config)
    counts: dict[tuple[str, str, datetime], dict[str, int]] = {}
    for line in ab.lines():
        if line.kind == "ec2":
            key = f"linux-{line.itype}"
            cell = counts.setdefault((line.account, str(line.region), line.start), {})
            cell[key] = cell.get(key, 0) + int(line.amount)
    with open_store(s.store) as st:
        st.put_items([UsageItem("ec2os", a, r, h, c) for (a, r, h), c in sorted(counts.items())])
    dataset = tmp_path / "billing"
    load_into([ab.write(tmp_path / "bill")], dataset)

    def scan(rule: str, now: datetime) -> object:
        return run_job("anomaly_scan", Context(s, clock=lambda: now), Params(**_rule(rule, dataset)))  # type: ignore[arg-type]

    hourly = scan("usage_hourly", ab.CLUSTER_START + 2 * HOUR)
    cluster = [a for a in hourly.anomalies if a.region == "eu-west-1"]  # type: ignore[attr-defined]
    assert [a.start for a in cluster] == [ab.CLUSTER_START]
    event_id = cluster[0].anomaly.id
    assert hourly.status[event_id] == "new" and hourly.confirmations == []  # type: ignore[attr-defined]
    with open_store(s.store) as st:
        assert events.find(st, event_id).verdict is None
    daily = scan("usage_confirm", datetime(2026, 10, 24, 8, tzinfo=UTC))
    (verdict,) = [c for c in daily.confirmations if c.usage_id == event_id]  # type: ignore[attr-defined]
    assert verdict.status == "confirmed" and verdict.hours_earlier is not None and verdict.hours_earlier > 0
    with open_store(s.store) as st:
        kept = events.find(st, event_id)
    assert kept.verdict == verdict.to_json() and kept.status == "known"
    scan("usage_hourly", ab.CLUSTER_START + 30 * HOUR)
    with open_store(s.store) as st:
        assert events.find(st, event_id).verdict == verdict.to_json()
    listed = CliRunner().invoke(
        cli, ["anomalies", "list", "--source", "usage"], env={"AWSCOST_CONFIG": str(config), "COLUMNS": "250"}
    )
    assert listed.exit_code == 0, listed.output
    assert f"confirmed {verdict.hours_earlier} h earlier" in listed.stdout
