"""UTC hours: the sample hour, never local time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awscost.core.errors import InputError
from awscost.core.timeutil import floor_hour, format_hour, hours_between, parse_hour, parse_legacy_time


def test_parse_and_format_round_trip() -> None:
    assert format_hour(parse_hour("2026-11-26T10:37:12Z")) == "2026-11-26T10:00:00Z"
    assert format_hour(parse_hour("2026-11-26T12:00:00+02:00")) == "2026-11-26T10:00:00Z"
    assert format_hour(parse_hour("2026-11-26")) == "2026-11-26T00:00:00Z"


def test_bad_time_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="--at: 'yesterday' is not an ISO 8601 time"):
        parse_hour("yesterday", where="--at")


def test_legacy_pacific_time_converts_to_utc() -> None:
    # 2018-07-01 10:00 PDT (UTC-7) is 17:00 UTC; 2018-12-01 10:00 PST (UTC-8) is 18:00 UTC.
    assert format_hour(parse_legacy_time("20180701-10")) == "2018-07-01T17:00:00Z"
    assert format_hour(parse_legacy_time("20181201-10")) == "2018-12-01T18:00:00Z"
    assert format_hour(parse_legacy_time("20181201")) == "2018-12-01T08:00:00Z"
    with pytest.raises(InputError):
        parse_legacy_time("2018-12-01")


def test_hours_between_counts_dst_days_as_24_hours() -> None:
    # The US DST change (2026-11-01) has no effect on UTC hours: a day is always 24 samples.
    hours = hours_between(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    assert len(hours) == 24 and len(set(hours)) == 24


@given(st.datetimes(timezones=st.just(UTC)))
def test_floor_is_idempotent_and_on_the_hour(dt: datetime) -> None:
    h = floor_hour(dt)
    assert floor_hour(h) == h
    assert h.minute == h.second == h.microsecond == 0
    assert h <= dt and (dt - h).total_seconds() < 3600
