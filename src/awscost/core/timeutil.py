"""UTC hours: the `time` sort key of every usage item is the UTC hour a sample is *for*.

Format: ISO 8601 with a `Z`, always on the hour: `2026-11-26T10:00:00Z`. Local time (and so DST) is never used,
which is what duplicated and skipped hours in the original system.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from awscost.core.errors import InputError

HOUR = timedelta(hours=1)
HOUR_FORMAT = "%Y-%m-%dT%H:00:00Z"


def floor_hour(dt: datetime) -> datetime:
    """The UTC hour containing `dt` (naive datetimes are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def format_hour(dt: datetime) -> str:
    return floor_hour(dt).strftime(HOUR_FORMAT)


def current_hour() -> datetime:
    return floor_hour(datetime.now(UTC))


def parse_time(text: str, *, where: str = "time") -> datetime:
    """Parse an ISO 8601 time (`2026-11-26T10:00:00Z`, `2026-11-26T10:30`, `2026-11-26`) as an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{text!r} is not an ISO 8601 time", where=where, hint="use e.g. 2026-11-26T10:00:00Z"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:30+01:00 is a time before year 1 in UTC
        raise InputError(f"{text!r} is outside the years 1 to 9999 in UTC", where=where) from None


def parse_hour(text: str, *, where: str = "time") -> datetime:
    """Parse a time and floor it to its UTC hour."""
    return floor_hour(parse_time(text, where=where))


_PACIFIC = ZoneInfo("US/Pacific")


def parse_legacy_time(text: str, *, where: str = "time") -> datetime:
    """Parse the original system's `time` (`%Y%m%d-%H` or `%Y%m%d`, US/Pacific local) into a UTC hour.

    Ambiguous DST hours (the repeated 01:00 in November) resolve to the first occurrence (fold=0); the
    original could not tell them apart either, so one of its two samples for that hour is overwritten.
    """
    fmt = "%Y%m%d-%H" if "-" in text else "%Y%m%d"
    try:
        local = datetime.strptime(text.strip(), fmt)
    except ValueError:
        raise InputError(f"{text!r} is neither %Y%m%d-%H nor %Y%m%d", where=where) from None
    return floor_hour(local.replace(tzinfo=_PACIFIC))


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """Every UTC hour h with start <= h < end (both floored)."""
    h, stop = floor_hour(start), floor_hour(end)
    out = []
    while h < stop:
        out.append(h)
        h += HOUR
    return out
