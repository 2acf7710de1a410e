"""The sandbox's usage history: the items the collector would store for the bill history's last weeks, in the
collector's key shapes, with the bill history's instance injections running in them, written through the
store API; and the usage signal over them catches both instance injections in their first hour and nothing
else (the demo's anomalies step, tests/test_demo.py, checks the bill's confirmation of them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from awscost.anomalies import usage as us
from awscost.planning.pricing import load_price_book
from awscost.store import open_store
from awscost.store.base import Store
from awscost_sandbox.history import INJECTED, window
from awscost_sandbox.scenario import default_scenario
from awscost_sandbox.usage_history import HOUR, USAGE_DAYS, items_at, usage_window, write_usage_history

DEMO_LAST_HOUR = datetime(2026, 11, 2, 17, tzinfo=UTC)
CLUSTER = next(i for i in INJECTED if i.name == "forgotten-cluster")
RUNAWAY = next(i for i in INJECTED if i.name == "runaway-autoscaling-group")


def test_the_window_is_the_last_twelve_weeks_of_the_bill_history() -> None:
    _, last = window(DEMO_LAST_HOUR)
    first, end = usage_window(last)
    assert (first, end) == (datetime(2026, 6, 9, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC))
    assert end - first == timedelta(days=USAGE_DAYS)
    # Both instance injections have the hour-of-week model's history (HISTORY) before them.
    assert all(i.start - us.HISTORY >= first for i in (CLUSTER, RUNAWAY))


def test_items_are_the_fleet_in_the_collectors_key_shapes_with_the_injections() -> None:
    scenario = default_scenario()
    hour = RUNAWAY.start + timedelta(days=1)  # the second day: 8 instances
    items = items_at(scenario, hour)
    without = items_at(scenario, hour, injections=())
    by = {(i.kind, i.account, i.region): dict(i.usage) for i in items}
    base = {(i.kind, i.account, i.region): dict(i.usage) for i in without}
    key = ("ec2os", RUNAWAY.account, RUNAWAY.region)
    assert by[key].get("linux-m5.2xlarge", 0) - base[key].get("linux-m5.2xlarge", 0) == 8
    ec2 = ("ec2", RUNAWAY.account, RUNAWAY.region)
    assert by[ec2][f"m5.2xlarge:{RUNAWAY.region}a"] - base[ec2].get(f"m5.2xlarge:{RUNAWAY.region}a", 0) == 8
    # Every account x region has an item of every hourly kind (empty where nothing runs); daily kinds at 00:00.
    kinds = Counter(i.kind for i in items if i.account.isdigit())
    places = len(scenario.account_ids) * len(scenario.regions)
    assert kinds == {k: places for k in ("ec2", "ec2os", "rds", "elasticache", "dynamodb")}
    midnight = Counter(i.kind for i in items_at(scenario, hour.replace(hour=0)) if i.account.isdigit())
    assert midnight["es"] == midnight["redshift"] == places
    # The organization's total of each kind x region is the sum of its accounts' items.
    for item in (i for i in items if not i.account.isdigit()):
        summed: Counter[str] = Counter()
        for other in items:
            if other.account.isdigit() and (other.kind, other.region) == (item.kind, item.region):
                summed.update(other.usage)
        assert dict(item.usage) == dict(+summed) and item.account == scenario.org_name
    # The rds and ec2os keys are the collectors' (rds.rds_key, ec2os: os-type, spot- prefix).
    keys = {k for i in items for k in i.usage if i.kind in ("rds", "ec2os")}
    assert any(":" in k for k in keys) and all(k.split("-")[0] in _OS_OR_PREFIX for k in keys if ":" not in k)


_OS_OR_PREFIX = {"linux", "windows", "rhel", "suse", "spot", "multi_az"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The demo's usage history (its hour-of-week baseline needs weeks of residuals to learn the fleet's
    usual bursts: a shorter one flags some of them)."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('usage')) / 'history-usage.db'}"
    first, end = usage_window(window(DEMO_LAST_HOUR)[1])
    with open_store(url) as s:
        written = write_usage_history(default_scenario(), s, first, end)
        assert written == sum(1 for _ in s.query()) > 0  # every item written reads back
        yield s


def test_the_usage_signal_catches_both_instance_injections_in_their_first_hour_and_nothing_else(
    store: Store,
) -> None:
    found = us.scan(store, load_price_book(store))
    assert [(u.anomaly.account_id, u.kind, u.region, u.start) for u in found.anomalies] == [
        (i.account, "ec2os", i.region, i.start) for i in (RUNAWAY, CLUSTER)
    ]
    runaway, cluster = found.anomalies
    assert runaway.start + runaway.hours * HOUR == RUNAWAY.end and cluster.anomaly.end is None  # still open
    for event in found.anomalies:
        assert event.known_at == event.start + HOUR and event.anomaly.service == CLUSTER.service
    # 38 instances at the book's list price, against the bill's sandbox rate: the same size within 25 %.
    assert abs(cluster.anomaly.impact_per_day - CLUSTER.size) <= CLUSTER.size / 4
    assert found.left_out["spot"] > 0 and found.left_out["no price"] > 0  # spot workers, DynamoDB capacity
