"""The sandbox's daily bill history: it loads to the totals the generator states, covers six whole months of
daily rows with the monthly fees on the 1st, holds each injected anomaly at its size, is deterministic, and
its anomalies are the ones the detector finds (a check that the data is detectable, not the detector's test).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from awscost.anomalies.detect import detect
from awscost.billing import load_into
from awscost.billing.bill import load
from awscost_sandbox.history import INJECTED, History, Injection, build_history, window, write_history
from awscost_sandbox.scenario import default_scenario

CENT = Decimal("0.01")
DEMO_LAST_HOUR = datetime(2026, 11, 2, 17, tzinfo=UTC)  # the default demo's last hour (18 hours from start)

DAILY = """
SELECT SubAccountId, ServiceName, CAST(ChargePeriodStart AS DATE) AS day,
       SUM(EffectiveCost) AS cost,
       SUM(CASE WHEN ChargeFrequency = 'Usage-Based' THEN 0 ELSE EffectiveCost END) AS recurring,
       SUM(CASE WHEN ChargeFrequency = 'Usage-Based' THEN EffectiveCost ELSE 0 END) AS usage
FROM billing GROUP BY ALL ORDER BY ALL
"""


@dataclass
class Loaded:
    history: History
    dataset: Path
    daily: dict[tuple[str, str, date], tuple[Decimal, Decimal, Decimal]]  # cost, recurring, usage-based


def _load(history: History, out: Path) -> Loaded:
    scenario = default_scenario()
    cur = write_history(history, scenario, out / "bill")
    dataset = out / "dataset"
    load_into([cur], dataset)
    with load(dataset) as bill:
        rows = bill.sql(DAILY).rows
    return Loaded(history, dataset, {(a, s, d): (c, r, u) for a, s, d, c, r, u in rows})


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Loaded, Loaded]:
    """The history with its injections and the same history without them, each written and loaded."""
    first, last = window(DEMO_LAST_HOUR)
    scenario = default_scenario()
    base = tmp_path_factory.mktemp("history")
    with_ = _load(build_history(scenario, first, last), base / "with")
    without = _load(build_history(scenario, first, last, injections=()), base / "without")
    return with_, without


def test_the_window_is_the_six_whole_months_before_the_report_window() -> None:
    # reports.demo_step's bill starts on the 1st of the month two before the demo's: 2026-09-01.
    assert window(DEMO_LAST_HOUR) == (date(2026, 3, 1), date(2026, 8, 31))
    assert window(datetime(2027, 1, 5, tzinfo=UTC)) == (date(2026, 5, 1), date(2026, 10, 31))


def test_it_loads_to_the_totals_the_generator_states_to_the_cent(loaded: tuple[Loaded, Loaded]) -> None:
    for item in loaded:
        with load(item.dataset) as bill:
            for metric in ("BilledCost", "EffectiveCost"):
                assert bill.total(metric).quantize(CENT) == item.history.totals()[metric].quantize(CENT)


def test_six_months_of_daily_rows_and_the_recurring_fees_on_the_1st(loaded: tuple[Loaded, Loaded]) -> None:
    with load(loaded[0].dataset) as bill:
        usage = bill.sql(
            "SELECT COUNT(DISTINCT CAST(ChargePeriodStart AS DATE)), MIN(ChargePeriodStart), "
            "MAX(ChargePeriodStart), COUNT(*) FILTER (WHERE ChargePeriodEnd - ChargePeriodStart <> INTERVAL 1 DAY "
            "OR EXTRACT(hour FROM ChargePeriodStart) <> 0) FROM billing "
            # the unused-commitment twin of a fee is Usage-Based but spans its month, as the fee does
            "WHERE x_LineItemType NOT IN ('RIFee', 'SavingsPlanRecurringFee', 'Tax')"
        ).rows[0]
        fees = bill.sql(
            "SELECT x_LineItemType, CAST(ChargePeriodStart AS DATE) AS day, COUNT(*), SUM(BilledCost) "
            "FROM billing WHERE ChargeFrequency = 'Recurring' GROUP BY ALL ORDER BY ALL"
        ).rows
    days, first, last, not_daily = usage
    assert days == (date(2026, 8, 31) - date(2026, 3, 1)).days + 1 == 184
    assert (first.date(), last.date(), not_daily) == (date(2026, 3, 1), date(2026, 8, 31), 0)
    # every month, on its 1st
    assert {day for _, day, _, _ in fees} == {date(2026, m, 1) for m in range(3, 9)}
    assert {kind for kind, *_ in fees} == {"RIFee", "SavingsPlanRecurringFee"}
    assert all(cost > 0 for *_, cost in fees)


def test_each_injected_anomaly_is_in_the_bill_at_its_size(loaded: tuple[Loaded, Loaded]) -> None:
    with_, without = loaded
    assert set(with_.history.injected) == {i.name for i in INJECTED}
    for inj in INJECTED:
        days = with_.history.injected[inj.name]
        assert min(days) == inj.start.date()
        assert max(days) == ((inj.end - timedelta(hours=1)).date() if inj.end else date(2026, 8, 31))
        for day, cost in days.items():
            key = (inj.account, inj.service, day)
            delta = with_.daily[key][2] - without.daily.get(key, (0, 0, Decimal(0)))[2]
            assert delta.quantize(CENT) == cost.quantize(CENT), (inj.name, day)
        whole = [cost for day, cost in days.items() if inj.hours_on(day) == 24 and day != inj.start.date()]
        if inj.kind == "stop":  # the removed fleet varies by day; its weekdays are about the stated size
            weekdays = [c for d, c in days.items() if d.weekday() < 5 and inj.hours_on(d) == 24]
            assert abs(sum(weekdays) / len(weekdays) - inj.size) < abs(inj.size) / 5
            assert sum(weekdays) / len(weekdays) < Decimal("-0.5") * _mean_before(without, inj)
        elif inj.kind == "transfer":
            assert days[inj.start.date()].quantize(CENT) == inj.size
        else:
            assert whole and whole[-1].quantize(CENT) == inj.size
        # Detectable by the detector's rules: at least $50/day and 20 % of the series on a whole day.
        assert abs(inj.size) >= 50 and abs(inj.size) >= Decimal("0.2") * _mean_before(without, inj)


def _mean_before(item: Loaded, inj: Injection) -> Decimal:
    """The series' mean usage-based cost a day over the four weeks before the injection."""
    days = [inj.start.date() - timedelta(days=n) for n in range(1, 29)]
    costs = [item.daily.get((inj.account, inj.service, d), (0, 0, Decimal(0)))[2] for d in days]
    return sum(costs, Decimal(0)) / len(costs)


def test_the_injections_carry_the_usage_type_region_and_tags_recorded(loaded: tuple[Loaded, Loaded]) -> None:
    with load(loaded[0].dataset) as bill:
        rows = bill.sql(
            "SELECT SubAccountId, ServiceName, x_UsageType, RegionId, Tags['user:Name'] AS name, "
            "MIN(ChargePeriodStart) FROM billing WHERE Tags['user:Name'] IS NOT NULL GROUP BY ALL"
        ).rows
    found = {(a, s, u, r, n): start for a, s, u, r, n, start in rows}
    for inj in INJECTED:
        if inj.kind == "stop":
            continue
        key = (inj.account, inj.service, inj.usage_type, inj.region, dict(inj.tags)["user:Name"])
        assert found[key].date() == inj.start.date(), inj.name


def test_the_history_is_deterministic() -> None:
    scenario = default_scenario()
    days = (date(2026, 5, 1), date(2026, 5, 31))
    assert build_history(scenario, *days).lines == build_history(default_scenario(), *days).lines


def test_the_detector_finds_the_injected_anomalies_and_nothing_else(loaded: tuple[Loaded, Loaded]) -> None:
    series: dict[tuple[str, str], list[tuple[date, Decimal]]] = defaultdict(list)
    recurring: dict[tuple[str, str], list[tuple[date, Decimal]]] = defaultdict(list)
    for (account, service, day), (cost, rec, _) in sorted(loaded[0].daily.items()):
        series[(account, service)].append((day, cost))
        recurring[(account, service)].append((day, rec))
    events = [e for e in detect(series, recurring=recurring) if abs(e.impact_per_day) >= 50]
    unmatched = list(events)
    for inj in INJECTED:
        hits = [
            e
            for e in events
            if (e.account_id, e.service) == (inj.account, inj.service)
            and timedelta(0) <= date.fromisoformat(e.date) - inj.start.date() <= timedelta(days=2)
        ]
        assert len(hits) == 1, (inj.name, events)
        event = hits[0]
        unmatched.remove(event)
        assert (event.impact_per_day < 0) == (inj.size < 0)
        assert (event.end is None) == (inj.end is None)
    assert unmatched == []
