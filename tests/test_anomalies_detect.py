"""The anomaly detector's core (awscost.anomalies.detect) and its synthetic back-test. Deterministic: every
series comes from a fixed seed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from awscost.anomalies import detect as dt
from awscost.anomalies import synthetic as sy
from awscost.core.errors import InputError

FIRST = date(2026, 1, 1)
KEY = ("111111111111", "AmazonEC2")


def series(
    days: int = 120, level: float = 1000.0, noise: float = 0.03, seed: int = 0, first: date = FIRST
) -> list[tuple[date, Decimal]]:
    """A weekly pattern (weekends at 70 %) times clipped noise, in cents."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(days):
        day = first + timedelta(days=k)
        factor = 0.7 if day.weekday() >= 5 else 1.0
        e = float(np.clip(rng.normal(0, noise / 2), -noise, noise))
        out.append((day, Decimal(f"{level * factor * (1 + e):.2f}")))
    return out


def shifted(values: list[tuple[date, Decimal]], start: int, end: int, by: str) -> list[tuple[date, Decimal]]:
    """Multiply the days start .. end-1 by `by` (a step, a spike or a drop)."""
    return [(d, v * Decimal(by) if start <= k < end else v) for k, (d, v) in enumerate(values)]


def added(values: list[tuple[date, Decimal]], day: int, amount: str) -> list[tuple[date, Decimal]]:
    return [(d, v + Decimal(amount) if k == day else v) for k, (d, v) in enumerate(values)]


def iso(k: int) -> str:
    return f"{FIRST + timedelta(days=k)}T00:00:00Z"


def test_the_backtest_on_a_fixed_seed_meets_the_targets() -> None:
    bills = sy.generate(5, series=400)
    n = len(bills.keys)
    limits = dt.Thresholds()
    events = dt.detect_matrix(
        bills.costs,
        min_impact=np.full(n, float(limits.min_impact)),
        score=np.full(n, limits.score),
        recurring=bills.recurring,
    )
    scores = sy.evaluate(bills, events.series, events.start, events.new)
    assert scores.eligible > 250 and scores.flagged > 250
    assert scores.precision >= 0.9, scores
    assert scores.recall >= 0.9, scores
    assert scores.median_delay <= sy.DETECT_DAYS


def test_synthetic_bills_are_deterministic_per_seed() -> None:
    a, b, c = sy.generate(3, series=50), sy.generate(3, series=50), sy.generate(4, series=50)
    assert np.array_equal(a.costs, b.costs, equal_nan=True) and a.events == b.events
    assert not np.array_equal(a.costs, c.costs, equal_nan=True)
    assert {e.kind for e in a.events} >= {"spike", "step", "drop"}
    # Fees land on the 1st only; without events, a day's usage is within 8 % of its weekly-pattern level.
    firsts = [(a.first_day + timedelta(days=k)).day == 1 for k in range(a.costs.shape[1])]
    assert (a.recurring[:, firsts] > 0).any() and not (a.recurring[:, np.logical_not(firsts)] > 0).any()
    quiet = [row for row in range(50) if not any(e.series == row for e in a.events)]
    usage = (a.costs - a.recurring)[quiet]
    week = np.array([np.median(usage[:, k::7] / a.level[quiet, k::7], axis=1) for k in range(7)]).T
    ratio = usage / (a.level[quiet] * np.tile(week, a.costs.shape[1] // 7 + 1)[:, : a.costs.shape[1]])
    assert quiet and np.nanmax(np.abs(ratio - 1)) < 0.1  # 8 % and the weekday factor estimated from data


def test_a_monthly_fee_on_the_first_is_not_flagged_when_given_as_recurring() -> None:
    values = series(days=150)
    fees = [(d, Decimal("3000.00")) for d, _ in values if d.day == 1]
    with_fees = [(d, v + Decimal("3000.00") if d.day == 1 else v) for d, v in values]
    assert dt.detect({KEY: with_fees}, recurring={KEY: fees}) == []
    # Scored as usage, the same fees are spikes on each 1st the series is scored on (the contrast).
    flagged = dt.detect({KEY: with_fees})
    assert [a.date for a in flagged] == ["2026-03-01", "2026-04-01", "2026-05-01"]
    assert {a.kind for a in flagged} == {"spike"}


def test_a_spike_below_the_dollar_minimum_or_below_the_score_is_not_flagged() -> None:
    small = series(level=100.0)
    assert dt.detect({KEY: shifted(small, 90, 91, "1.45")}) == []  # +45 %, a high score, but < $50
    [spike] = dt.detect({KEY: shifted(small, 90, 91, "1.80")})  # +$80
    assert (spike.kind, spike.date, spike.end, spike.days) == ("spike", "2026-04-01", iso(91), 1)
    big = series(level=100000.0)
    assert dt.detect({KEY: added(big, 90, "1000")}) == []  # +$1,000 is 1 %: within the noise
    [spike] = dt.detect({KEY: added(big, 90, "40000")})
    assert spike.score > dt.Thresholds().score and spike.impact_total > Decimal(30000)


def test_a_step_is_one_open_event_while_it_lasts_and_closed_when_it_ends() -> None:
    values = series(days=120)
    lasting = shifted(values, 80, 120, "1.5")
    [open_] = dt.detect({KEY: lasting})
    assert (open_.kind, open_.date, open_.start, open_.end, open_.days) == (
        "step",
        "2026-03-22",
        iso(80),
        None,
        40,
    )
    assert Decimal(400) < open_.impact_per_day < Decimal(600)  # +50 % of ~$914/day on average
    assert abs(open_.actual * 40 - sum((v for _, v in lasting[80:]), Decimal(0))) <= Decimal("0.20")
    assert abs(open_.impact_total - open_.impact_per_day * 40) <= Decimal("0.20")  # per day: rounded
    # Ended after 20 days: the same event, closed; its end back to normal is not a drop.
    [closed] = dt.detect({KEY: shifted(values, 80, 100, "1.5")})
    assert (closed.id, closed.kind, closed.end, closed.days) == (open_.id, "step", iso(100), 20)
    # Re-run day by day: the event keeps its id and stays open until its last day is past.
    for last in (81, 90, 99, 100):
        [seen] = dt.detect({KEY: shifted(values, 80, 100, "1.5")[:last]})
        assert (seen.id, seen.end, seen.days) == (open_.id, None, last - 80)


def test_a_quiet_drop_is_an_event_with_a_negative_impact() -> None:
    [drop] = dt.detect({KEY: shifted(series(), 70, 90, "0")})
    assert (drop.kind, drop.date, drop.end, drop.days) == ("drop", "2026-03-12", iso(90), 20)
    assert drop.impact_per_day < Decimal(-600) and drop.actual == Decimal("0.00") and drop.score < 0


def test_re_running_on_the_same_data_gives_the_same_events_and_ids() -> None:
    data = {
        KEY: shifted(shifted(series(seed=1), 60, 61, "3"), 90, 105, "1.4"),
        ("222222222222", "AmazonRDS"): shifted(series(seed=2, level=5000.0), 75, 120, "0.5"),
    }
    first, again = dt.detect(data), dt.detect(data)
    assert first == again and len(first) == 3
    assert len({a.id for a in first}) == 3
    assert first[0].id == dt.event_id(KEY[0], KEY[1], "2026-03-02")


def test_thresholds_per_account_and_per_service_override_the_global_ones() -> None:
    spiked = shifted(series(level=300.0), 90, 91, "1.5")  # +$150
    data = {(acct, svc): spiked for acct in ("A", "B") for svc in ("AmazonEC2", "AmazonS3")}
    assert len(dt.detect(data)) == 4
    quiet_a = dt.Thresholds(accounts={"A": dt.Limit(min_impact=Decimal(500))})
    assert {(a.account_id, a.service) for a in dt.detect(data, thresholds=quiet_a)} == {
        ("B", "AmazonEC2"),
        ("B", "AmazonS3"),
    }
    # A service's override wins over the account's, field by field.
    s3 = dt.Thresholds(
        accounts={"A": dt.Limit(min_impact=Decimal(500))},
        services={"AmazonS3": dt.Limit(min_impact=Decimal(10))},
    )
    assert {(a.account_id, a.service) for a in dt.detect(data, thresholds=s3)} == {
        ("A", "AmazonS3"),
        ("B", "AmazonEC2"),
        ("B", "AmazonS3"),
    }
    strict = dt.Thresholds(services={"AmazonEC2": dt.Limit(score=1000.0)})
    assert {a.service for a in dt.detect(data, thresholds=strict)} == {"AmazonS3"}
    assert strict.of("A", "AmazonEC2") == (Decimal(50), 1000.0)
    with pytest.raises(InputError, match="thresholds must be positive"):
        dt.detect(data, thresholds=dt.Thresholds(score=0))


def test_a_short_history_is_not_scored_but_big_new_spend_is_its_own_event() -> None:
    old = series(days=120, seed=3)
    # Present from the first day but only 30 days long: too short to score, not new either.
    assert dt.detect({KEY: shifted(series(days=30), 25, 26, "5")}) == []
    new = series(days=60, level=500.0, first=FIRST + timedelta(days=60), seed=4)
    tiny = series(days=60, level=20.0, first=FIRST + timedelta(days=60), seed=5)
    spiked_young = shifted(new, 10, 11, "4")  # inside its unscored weeks: part of the new spend, not a spike
    key_new, key_tiny = ("111111111111", "AmazonSageMaker"), ("111111111111", "AWSGlue")
    events = dt.detect({KEY: old, key_new: spiked_young, key_tiny: tiny})
    [event] = events
    assert (event.kind, event.service, event.date, event.score) == (
        "new",
        "AmazonSageMaker",
        "2026-03-02",
        0.0,
    )
    assert event.expected == Decimal("0.00") and event.actual > Decimal(400)
    # Scored from the first week (weeks counted from the input's first day) with four weeks of history and
    # two of residuals behind it: day 60 + 28 + 14 = 102 falls in the week starting on day 98, so day 105.
    assert event.end == iso(105)
    assert "new spend" in event.explanation


def test_money_is_decimal_at_the_edges_and_json_has_decimal_strings() -> None:
    [event] = dt.detect(
        {KEY: shifted(series(), 90, 93, "1.3")}, explain=lambda e: f"{e.impact_per_day} because of tests"
    )
    for money in (event.expected, event.actual, event.impact_per_day, event.impact_total):
        assert isinstance(money, Decimal) and money.as_tuple().exponent == -2
    doc = json.loads(json.dumps(event.to_json()))
    assert doc["date"] == "2026-04-01" and doc["start"] == "2026-04-01T00:00:00Z" and doc["end"] == iso(93)
    assert Decimal(doc["impact_total"]) == event.impact_total and Decimal(doc["actual"]) == event.actual
    assert doc["explanation"] == f"{event.impact_per_day} because of tests"
    # The default explanation: the size and the start, one sentence.
    [plain] = dt.detect({KEY: shifted(series(), 90, 93, "1.3")})
    assert plain.explanation.startswith(f"+${plain.impact_per_day:,}/day on AmazonEC2 in 111111111111")
    assert plain.explanation.endswith("started 2026-04-01T00:00Z")
    with pytest.raises(InputError, match="not a cost") as err:
        dt.detect({KEY: [(FIRST, Decimal(1)), (FIRST + timedelta(days=1), "lots")]})
    assert err.value.where == "series 111111111111/AmazonEC2[1]"
