"""The [report] table and its audiences, and the report periods (reports/config.py, reports/periods.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from awscost.core.config import load_settings
from awscost.core.errors import ConfigError, InputError
from awscost.reports.config import report_settings
from awscost.reports.periods import is_due, resolve


def settings_of(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "awscost.toml"
    path.write_text(text, encoding="utf-8")
    return report_settings(load_settings(path, env={}))


AUDIENCES = """
[report]
bucket = "reports"
mail_from = "FinOps <finops@example.com>"
smtp_host = "127.0.0.1"
smtp_port = 2525
smtp_starttls = false
smtp_password_env = "SMTP_PASSWORD"

[[report.audience]]
name = "managers"
recipients = ["cto@example.com", "cfo@example.com"]
accounts = "all"
schedule = "monthly"

[[report.audience]]
name = "payments"
recipients = "pay@example.com"
accounts = ["111111111111", "ou-ab12-cdef3456", "111111111111"]
schedule = "weekly"
metric = "BilledCost"
[report.audience.tags]
"user:team" = ["payments", "billing"]
"""


def test_audiences_and_delivery_settings_parse(tmp_path: Path) -> None:
    report = settings_of(tmp_path, AUDIENCES)
    assert (report.bucket, report.mail_from, report.transport) == (
        "reports",
        "FinOps <finops@example.com>",
        "smtp",
    )
    assert (report.smtp_port, report.smtp_starttls, report.smtp_password_env) == (
        2525,
        False,
        "SMTP_PASSWORD",
    )
    managers, payments = report.audiences
    assert managers.accounts is None and managers.recipients == ("cto@example.com", "cfo@example.com")
    assert payments.accounts == ("111111111111", "ou-ab12-cdef3456")  # the repeated id once
    assert payments.account_ids == ("111111111111",) and payments.org_units == ("ou-ab12-cdef3456",)
    assert payments.tags == {"user:team": ("payments", "billing")}
    assert (payments.schedule, payments.metric) == ("weekly", "BilledCost")
    assert report.audience("payments") is payments


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[report]\nbukcet = "x"\n', r"report: unknown key\(s\) bukcet"),
        ('[[report.audience]]\nname = "a"\n', r"report.audience\[0\] \(a\).accounts: an audience names"),
        ('[[report.audience]]\nname = "a b"\naccounts = "all"\n', "may hold only letters"),
        ('[[report.audience]]\nname = "a"\naccounts = ["12"]\n', "'12' is not 12 digits"),
        ('[[report.audience]]\nname = "a"\naccounts = "all"\nschedule = "hourly"\n', "unknown schedule"),
        ('[[report.audience]]\nname = "a"\naccounts = "all"\nmetric = "ListCost"\n', "unknown metric"),
        (
            '[[report.audience]]\nname = "a"\naccounts = "all"\nrecipients = ["nobody"]\n',
            "not a mail address",
        ),
        (
            '[[report.audience]]\nname = "a"\naccounts = "all"\n[[report.audience]]\nname = "a"\naccounts = "all"\n',
            "defined twice",
        ),
        ("[report]\nsmtp_port = 0\n", "port number"),
    ],
)
def test_bad_report_settings_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        settings_of(tmp_path, text)
    assert str(tmp_path / "awscost.toml") in str(err.value)


def test_an_unknown_audience_names_the_known(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown audience 'ops'.*managers, payments"):
        settings_of(tmp_path, AUDIENCES).audience("ops")


@pytest.mark.parametrize(
    ("spec", "today", "covered", "current", "previous"),
    [
        ("last-month", date(2026, 12, 1), None, ("2026-11-01", "2026-11-30"), ("2026-10-01", "2026-10-31")),
        ("last-month", date(2026, 1, 15), None, ("2025-12-01", "2025-12-31"), ("2025-11-01", "2025-11-30")),
        # Like for like: the same days of the previous month, clipped to its length.
        (
            "month-to-date",
            date(2026, 11, 16),
            date(2026, 11, 16),
            ("2026-11-01", "2026-11-15"),
            ("2026-10-01", "2026-10-15"),
        ),
        (
            "month-to-date",
            date(2026, 3, 31),
            date(2026, 3, 31),
            ("2026-03-01", "2026-03-30"),
            ("2026-02-01", "2026-02-28"),
        ),
        # The bill is a day late: month-to-date ends at its last complete day.
        (
            "month-to-date",
            date(2026, 11, 16),
            date(2026, 11, 14),
            ("2026-11-01", "2026-11-13"),
            ("2026-10-01", "2026-10-13"),
        ),
        # On the 1st, month-to-date is the month just ended.
        (
            "month-to-date",
            date(2026, 12, 1),
            date(2026, 12, 1),
            ("2026-11-01", "2026-11-30"),
            ("2026-10-01", "2026-10-30"),
        ),
        ("last-week", date(2026, 11, 4), None, ("2026-10-26", "2026-11-01"), ("2026-10-19", "2026-10-25")),
        ("last-week", date(2026, 11, 2), None, ("2026-10-26", "2026-11-01"), ("2026-10-19", "2026-10-25")),
        ("2026-03", date(2026, 12, 1), None, ("2026-03-01", "2026-03-31"), ("2026-02-01", "2026-02-28")),
        (
            "2026-11-10..2026-11-12",
            date(2026, 12, 1),
            None,
            ("2026-11-10", "2026-11-12"),
            ("2026-11-07", "2026-11-09"),
        ),
    ],
)
def test_periods_and_their_previous_period(
    spec: str, today: date, covered: date | None, current: tuple[str, str], previous: tuple[str, str]
) -> None:
    comparison = resolve(spec, today=today, covered_until=covered)
    assert (comparison.current.start.isoformat(), comparison.current.last_day.isoformat()) == current
    assert (comparison.previous.start.isoformat(), comparison.previous.last_day.isoformat()) == previous


@pytest.mark.parametrize("spec", ["yesterday", "2026-13", "2026-11-05..2026-11-01", "2026-02-30..2026-03-01"])
def test_bad_periods_say_what_is_accepted(spec: str) -> None:
    with pytest.raises(InputError, match="period"):
        resolve(spec, today=date(2026, 12, 1))


def test_schedules_are_due_on_their_day() -> None:
    monday, first = date(2026, 11, 2), date(2026, 12, 1)
    assert is_due("daily", monday) and is_due("weekly", monday) and not is_due("monthly", monday)
    assert is_due("monthly", first) and not is_due("weekly", first)
