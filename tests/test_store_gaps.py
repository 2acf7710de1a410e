"""Missing hours and days, per awsResource."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awscost.core.errors import InputError
from awscost.store import Store, UsageItem, open_store
from awscost.usage.gaps import Gap, cadence_of, find_gaps, missing_ranges

T0 = datetime(2026, 11, 26, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
A = "111111111111"


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path}/a.db")


def put(store: Store, kind: str, times: list[datetime], account: str = A, region: str = "us-east-1") -> None:
    store.put_items(UsageItem(kind, account, region, t, {"x": 1}) for t in times)


def test_cadence_of() -> None:
    assert [cadence_of(k) for k in ("ec2", "rds", "es", "redshift", "ri-ec2", "ri-es")] == [
        "hourly",
        "hourly",
        "daily",
        "daily",
        "daily",
        "daily",
    ]
    assert cadence_of("ec2", "daily") == "daily"
    with pytest.raises(InputError, match="unknown cadence"):
        cadence_of("ec2", "weekly")


def test_daily_job_kinds_are_checked_per_day(store: Store) -> None:
    """Cost Explorer's answers are fetched once a day (midnight items): complete days are no gaps (they were
    reported as 23 missing hours a day), a missed day is one."""
    put(store, "ce-cov", [T0 + d * D for d in (0, 1, 2, 4)], account="org")
    put(store, "ce-rec-7", [T0 + d * D for d in range(5)], account="org", region="global")
    assert [cadence_of(k) for k in ("ce-cov", "ce-util", "ce-rec-7", "ce-rec-60", "svc-cost")] == [
        "daily",
        "daily",
        "daily",
        "daily",
        "hourly",
    ]
    assert find_gaps(store) == [Gap("ce-cov:org:us-east-1", "daily", T0 + 3 * D, T0 + 4 * D, 1)]


def test_hourly_gaps_between_first_and_last(store: Store) -> None:
    put(store, "ec2", [T0 + h * H for h in (0, 1, 4, 5, 9)])
    put(store, "rds", [T0 + h * H for h in range(10)])  # complete
    assert find_gaps(store) == [
        Gap("ec2:111111111111:us-east-1", "hourly", T0 + 2 * H, T0 + 4 * H, 2),
        Gap("ec2:111111111111:us-east-1", "hourly", T0 + 6 * H, T0 + 9 * H, 3),
    ]
    assert find_gaps(store, kind="rds") == []


def test_window_reports_leading_trailing_and_silent_resources(store: Store) -> None:
    put(store, "ec2", [T0 + h * H for h in (3, 4)])
    put(store, "ec2", [T0 - 10 * D], region="eu-west-1")  # known, but silent in the window
    gaps = find_gaps(store, since=T0 + 1 * H, until=T0 + 7 * H)
    assert [g.to_row() for g in gaps] == [
        {
            "awsResource": "ec2:111111111111:eu-west-1",
            "cadence": "hourly",
            "from": "2026-11-26T01:00:00Z",
            "until": "2026-11-26T07:00:00Z",
            "missing": 6,
        },
        {
            "awsResource": "ec2:111111111111:us-east-1",
            "cadence": "hourly",
            "from": "2026-11-26T01:00:00Z",
            "until": "2026-11-26T03:00:00Z",
            "missing": 2,
        },
        {
            "awsResource": "ec2:111111111111:us-east-1",
            "cadence": "hourly",
            "from": "2026-11-26T05:00:00Z",
            "until": "2026-11-26T07:00:00Z",
            "missing": 2,
        },
    ]
    # filters apply to the silent ones too
    assert [g.aws_resource for g in find_gaps(store, region="us-east-1", since=T0 + H, until=T0 + 7 * H)] == [
        "ec2:111111111111:us-east-1",
        "ec2:111111111111:us-east-1",
    ]
    # one bound only: the other is the resource's own last sample; silent resources are not guessed at
    assert find_gaps(store, since=T0) == [Gap("ec2:111111111111:us-east-1", "hourly", T0, T0 + 3 * H, 3)]


def test_daily_kinds_expect_one_sample_per_utc_day(store: Store) -> None:
    # collected at varying hours; 28th missing; two on the 29th are still one day
    put(store, "ri-ec2", [T0 + 8 * H, T0 + D + 23 * H, T0 + 3 * D + 1 * H, T0 + 3 * D + 5 * H, T0 + 5 * D])
    put(store, "es", [T0 + 7 * H, T0 + D + 7 * H])
    assert find_gaps(store) == [
        Gap("ri-ec2:111111111111:us-east-1", "daily", T0 + 2 * D, T0 + 3 * D, 1),
        Gap("ri-ec2:111111111111:us-east-1", "daily", T0 + 4 * D, T0 + 5 * D, 1),
    ]
    # a window starting mid-day still sees that day's early sample
    assert find_gaps(store, kind="es", since=T0 + 12 * H, until=T0 + 3 * D) == [
        Gap("es:111111111111:us-east-1", "daily", T0 + 2 * D, T0 + 3 * D, 1)
    ]


def test_expected_daily_for_every_kind(store: Store) -> None:
    put(store, "ec2", [T0 + 5 * H, T0 + 2 * D])
    assert find_gaps(store, expected="daily") == [
        Gap("ec2:111111111111:us-east-1", "daily", T0 + D, T0 + 2 * D, 1)
    ]


def test_bad_window(store: Store) -> None:
    with pytest.raises(InputError, match="since must be before until"):
        find_gaps(store, since=T0, until=T0)


@settings(max_examples=50, deadline=None)
@given(present=st.sets(st.integers(min_value=0, max_value=47)))
def test_missing_ranges_partition_the_span(present: set[int]) -> None:
    """Every hour of the span is either present or in exactly one gap; gaps are maximal runs."""
    times = [T0 + h * H for h in present]
    ranges = missing_ranges(times, T0, T0 + 48 * H, "hourly")
    missing = [T0 + h * H for h in range(48) if h not in present]
    covered = [a + i * H for a, _, n in ranges for i in range(n)]
    assert covered == missing
    assert all(b == a + n * H for a, b, n in ranges)
    assert all(r1[1] < r2[0] for r1, r2 in itertools.pairwise(ranges))  # separated by a present hour


def test_items_marked_daily_are_checked_per_day(store: Store) -> None:
    # e.g. the per-service daily cost items (kind svc-cost, attrs granularity=day)
    store.put_items(
        UsageItem(
            "svc-cost", A, "us-east-1", T0 + d * D, {"web": 10}, {"unit": "micro-USD", "granularity": "day"}
        )
        for d in (0, 1, 3)
    )
    assert find_gaps(store) == [Gap("svc-cost:111111111111:us-east-1", "daily", T0 + 2 * D, T0 + 3 * D, 1)]
