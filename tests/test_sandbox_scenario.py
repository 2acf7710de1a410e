"""The sandbox scenario: deterministic, and realistic enough for the RI planner and tag coverage."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest

from awscost.core.timeutil import HOUR
from awscost_sandbox.scenario import KINDS, RI_KINDS, SPEND_TAG, Scenario, default_scenario, resource_tags

WEEK = 24 * 7


@pytest.fixture(scope="module")
def sc() -> Scenario:
    return default_scenario()


def _ec2_total(sc: Scenario, hour, region: str | None = None) -> int:  # type: ignore[no-untyped-def]
    return sum(
        u.count for u in sc.fleet_at(hour) if u.kind == "ec2" and (region is None or u.region == region)
    )


def test_same_seed_same_scenario_other_seed_other_fleet(sc: Scenario) -> None:
    again = default_scenario(7)
    for hour in sc.hours(30)[::7]:
        assert again.fleet_at(hour) == sc.fleet_at(hour)
    assert again.reservations() == sc.reservations()
    other = default_scenario(8)
    assert [u.ids for u in other.fleet_at(sc.start)] != [u.ids for u in sc.fleet_at(sc.start)]


def test_organization_accounts_and_regions(sc: Scenario) -> None:
    assert sum(a.management for a in sc.accounts) == 1
    assert len([a for a in sc.accounts if not a.management]) >= 3
    assert all(re.fullmatch(r"\d{12}", a.id) for a in sc.accounts)
    assert len({a.id for a in sc.accounts}) == len(sc.accounts)
    assert {"us-east-1", "us-west-2", "eu-west-1"} <= set(sc.regions)
    assert sc.start.minute == 0 and sc.start.tzinfo is not None
    assert sc.hours(3) == [sc.start, sc.start + HOUR, sc.start + 2 * HOUR]


def test_every_kind_and_variant_is_present(sc: Scenario) -> None:
    fleet = sc.fleet_at(sc.start + 14 * HOUR)  # a Monday, business hours in Europe
    assert {u.kind for u in fleet} == set(KINDS)
    ec2 = [u for u in fleet if u.kind == "ec2"]
    assert {"linux", "windows", "rhel", "suse"} <= {u.os for u in ec2}
    assert len({u.type for u in ec2}) >= 8 and len({u.az for u in ec2}) >= 6
    week = [u for h in sc.hours(WEEK)[::3] for u in sc.fleet_at(h)]
    assert any(u.spot for u in week if u.kind == "ec2")
    rds = [u for u in fleet if u.kind == "rds"]
    assert any(u.engine and u.engine.startswith("aurora") for u in rds)
    assert any(u.engine in ("mysql", "postgres") for u in rds)
    assert any(u.multi_az for u in rds)
    assert {"redis", "memcached"} <= {u.engine for u in fleet if u.kind == "elasticache"}
    assert {"data", "master"} <= {u.role for u in fleet if u.kind == "es"}
    ddb = [u for u in fleet if u.kind == "dynamodb"]
    assert any(u.gsis for u in ddb) and any(u.on_demand for u in ddb)
    for u in ddb:
        if u.on_demand:
            assert (u.read_capacity, u.write_capacity) == (0, 0)
        else:
            # The unit's capacity is the table's plus its GSIs'.
            assert u.read_capacity > sum(r for _, r, _ in u.gsis) and u.write_capacity > sum(
                w for _, _, w in u.gsis
            )
    hosts = [u for u in fleet if u.kind == "ec2" and u.tags.get("Role") == "container-host"]
    assert hosts and all(u.tags.get("ecs:cluster-name") for u in hosts)


def test_units_are_well_formed(sc: Scenario) -> None:
    for hour in sc.hours(WEEK)[::11]:
        fleet = sc.fleet_at(hour)
        ec2_ids = [i for u in fleet if u.kind == "ec2" for i in u.ids]
        assert len(ec2_ids) == len(set(ec2_ids))
        assert all(re.fullmatch(r"i-[0-9a-f]{17}", i) for i in ec2_ids)
        for u in fleet:
            assert u.count == len(u.ids) > 0
            assert u.account in sc.account_ids and u.region in sc.regions
            if u.az:
                assert u.az.startswith(u.region)


def test_business_hours_peak_above_night_and_a_steady_baseline(sc: Scenario) -> None:
    # us-east-1 is UTC-5: Tuesday 12:00 local = 17:00 UTC, 03:00 local = 08:00 UTC.
    tuesday = sc.start + timedelta(days=1)
    assert _ec2_total(sc, tuesday + 17 * HOUR, "us-east-1") > _ec2_total(sc, tuesday + 8 * HOUR, "us-east-1")
    totals = [_ec2_total(sc, h) for h in sc.hours(WEEK)]
    weekend = totals[5 * 24 :]
    assert min(totals) > 0.4 * max(totals)  # a baseline runs all the time ...
    assert max(totals) > 1.3 * min(totals)  # ... and autoscaling adds to it on weekdays
    assert max(weekend) < max(totals[: 5 * 24])
    assert len(set(totals)) > 20  # a spread of values, not two levels
    # Some instances run through the whole week (the steady baseline).
    ids_per_hour = [{i for u in sc.fleet_at(h) if u.kind == "ec2" for i in u.ids} for h in sc.hours(WEEK)]
    always = set.intersection(*ids_per_hour)
    assert len(always) > 0.3 * min(len(s) for s in ids_per_hour)


def test_instances_come_and_go(sc: Scenario) -> None:
    first = {i for u in sc.fleet_at(sc.start) for i in u.ids}
    later = {i for u in sc.fleet_at(sc.start + 40 * HOUR) for i in u.ids}
    assert first - later and later - first
    # A project group exists for a window of hours only.
    names = [Counter(u.tags.get("Name") for u in sc.fleet_at(h) if u.kind == "ec2") for h in sc.hours(80)]
    assert any(n["production-project"] for n in names) and any(not n["production-project"] for n in names)


def test_redshift_cluster_paused_part_of_the_time(sc: Scenario) -> None:
    paused_hours = [h for h in sc.hours(WEEK) if sc.paused_at(h)]
    assert 0 < len(paused_hours) < WEEK
    for h in paused_hours[:5]:
        paused = {u.name for u in sc.paused_at(h)}
        running = {u.name for u in sc.fleet_at(h) if u.kind == "redshift"}
        assert paused and not paused & running


def test_some_resources_miss_the_spend_tag(sc: Scenario) -> None:
    fleet = sc.fleet_at(sc.start)
    tagged = [u for u in fleet if SPEND_TAG in u.tags]
    untagged = [u for u in fleet if SPEND_TAG not in u.tags]
    assert untagged and len(tagged) > 2 * len(untagged)
    unit = tagged[0]
    assert resource_tags(unit)["Spend_Category"] == unit.tags[SPEND_TAG]


def test_reservations_cover_part_of_the_baseline(sc: Scenario) -> None:
    start = sc.start
    active = sc.active_reservations(start)
    assert {r.kind for r in active} == set(RI_KINDS)
    assert any(start < r.end <= start + timedelta(days=30) for r in active)
    assert any(start + timedelta(days=30) < r.end <= start + timedelta(days=90) for r in active)
    assert any(r.end <= start for r in sc.reservations())  # one expired
    fleet = sc.fleet_at(start)
    for r in sc.reservations():
        assert r.end - r.start == timedelta(seconds=r.duration_seconds)
        assert r.fixed_price >= 0 and r.usage_price >= 0 and (r.fixed_price or r.usage_price)
        if r.offering_type == "All Upfront":
            assert r.usage_price == 0
        # Every reservation matches a shape that runs in its account and region.
        kind = r.kind.removeprefix("ri-")
        assert any(
            u.kind == kind and u.type == r.type and u.account == r.account and u.region == r.region
            for u in fleet
        ), r
    by_shape = Counter((r.kind, r.account, r.region, r.type, r.os) for r in active)
    for (kind, account, region, itype, os), reserved in by_shape.items():
        running = sum(
            u.count
            for u in fleet
            if f"ri-{u.kind}" == kind
            and (u.account, u.region, u.type) == (account, region, itype)
            and (kind != "ri-ec2" or u.os == os)
        )
        assert running >= reserved  # reservations cover part of the baseline, not more
