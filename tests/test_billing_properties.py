"""Properties: whatever the amounts (any scale, sign, scientific notation) and whatever the grouping, every
summary of a loaded bill sums to the source column exactly, and no row is lost or doubled; a DBR upfront fee
amortized over any term adds up to the fee exactly; files of several formats never leave one billing
account's month counted twice."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dbr_bills
from awscost.billing import load, table
from awscost.billing.amortize import UpfrontFee
from awscost.billing.overlaps import Coverage, overlapping, resolve_files
from awscost.core.errors import InputError

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
SERVICES = ["Amazon Elastic Compute Cloud", "Amazon Simple Storage Service", "AWS Lambda"]
CATEGORIES = ["Usage", "Tax", "Credit", "Purchase"]


def amount_text(value: Decimal, scientific: bool) -> str:
    if scientific and value != 0:
        return f"{value:E}"  # e.g. 1.810000E-8, as some exports write small costs
    return format(value, "f")


# Mostly what bills carry (fits the narrow DECIMAL(18,10) storage); sometimes more decimals or a magnitude
# beyond 1e8, which must switch the column to DECIMAL(38,18) rather than round.
amounts = st.one_of(
    st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=10, allow_nan=False),
    st.decimals(min_value=Decimal("-1"), max_value=Decimal("1"), places=18, allow_nan=False),
    st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=3, allow_nan=False),
)
rows = st.lists(
    st.tuples(
        st.sampled_from(ACCOUNTS),
        st.sampled_from(SERVICES),
        st.sampled_from(CATEGORIES),
        st.one_of(st.none(), st.sampled_from(["web", "data", ""])),
        amounts,
        st.booleans(),
        st.integers(min_value=1, max_value=28),
        st.sampled_from(["2024-01", "2024-02"]),
    ),
    min_size=1,
    max_size=40,
)
groupings = st.lists(
    st.sampled_from(["SubAccountId", "ServiceName", "ChargeCategory", "Tags.team"]), unique=True, max_size=3
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, by=groupings, granularity=st.sampled_from([None, "day", "month"]), enums=st.booleans())
def test_every_summary_conserves_the_source_total(rows, by, granularity, enums) -> None:  # type: ignore[no-untyped-def]
    saved = table.ENUM_MIN_ROWS
    table.ENUM_MIN_ROWS = 0 if enums else saved  # text as ENUM (as for large bills) or as VARCHAR
    try:
        with TemporaryDirectory() as tmp:
            path = Path(tmp) / "focus.csv"
            with open(path, "w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(
                    ["BillingPeriodStart", "ChargePeriodStart", "ChargeCategory", "SubAccountId", "ServiceName",
                     "BilledCost", "EffectiveCost", "Tags"]
                )  # fmt: skip
                for account, service, category, team, amount, sci, day, month in rows:
                    tags = "NULL" if team is None else json.dumps({"team": team})
                    writer.writerow(
                        [f"{month}-01 00:00:00", f"{month}-{day:02d}T05:00:00Z", category, account, service,
                         amount_text(amount, sci), amount_text(-amount, not sci), tags]
                    )  # fmt: skip
            # Python's default 28 significant digits would round a sum of 1e15 and 1e-18 amounts.
            exact = localcontext(prec=80)
            with exact:
                expected = sum((r[4] for r in rows), Decimal(0))
                wants = (("BilledCost", expected), ("EffectiveCost", -expected))
            with load(path) as bill:
                assert bill.rows() == len(rows)
                for metric, want in wants:
                    frame = bill.summary(by=by, metric=metric, granularity=granularity).to_pandas()
                    with exact:
                        assert sum(frame[metric], Decimal(0)) == want
                assert bill.periods() == sorted({r[7] for r in rows})
    finally:
        table.ENUM_MIN_ROWS = saved


fees = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000000"), places=8, allow_nan=False)
starts = st.datetimes(min_value=datetime(2012, 1, 1), max_value=datetime(2019, 12, 31))
# The spans a sign-up row may give: 1 or 3 years of 365 days, a leap day more, a second less.
terms = st.sampled_from([365, 366, 1095, 1096]).flatmap(
    lambda days: st.sampled_from([timedelta(days=days), timedelta(days=days, seconds=-1)])
)


def _fee(fee: Decimal, start: datetime, term: timedelta) -> UpfrontFee:
    return UpfrontFee(
        "111111111111", "222222222222", "1", "Sign up charge for subscription: 1, planId: 2",
        start.replace(microsecond=0), start.replace(microsecond=0) + term, fee, "USD",
        None, None, None, None, None, "f.csv",
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(fee=fees, start=starts, term=terms)
def test_amortized_shares_add_up_to_the_fee_month_by_month(
    fee: Decimal, start: datetime, term: timedelta
) -> None:
    upfront = _fee(fee, start, term)
    months = upfront.months()
    assert sum((m[3] for m in months), Decimal(0)) == fee  # exactly, whatever the fee and term
    total = (upfront.end - upfront.start).total_seconds()
    cursor = upfront.start
    for period, chunk_start, chunk_end, share in months:
        assert chunk_start == cursor and chunk_end > chunk_start and period == f"{chunk_start:%Y-%m}"
        assert share >= 0
        exact = Fraction(fee) * Fraction(int((chunk_end - chunk_start).total_seconds()), int(total))
        assert abs(Fraction(share) - exact) <= Fraction(1, 10**10)  # cut at 10 decimals, no drift
        cursor = chunk_end
    assert cursor == upfront.end
    assert len(months) in range(12, 39)  # 13 for a year begun mid-month, a leap day may add one


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fee=fees,
    day=st.integers(min_value=1, max_value=28),
    second=st.integers(min_value=0, max_value=86399),
    years=st.sampled_from([1, 3]),
    materialize=st.booleans(),
)
def test_a_dbr_fee_loaded_ties_out_to_its_schedule(
    fee: Decimal, day: int, second: int, years: int, materialize: bool
) -> None:
    """End to end through the DBR reader: billed once, amortized as the schedule says, for the months given."""
    start = datetime(2017, 6, day) + timedelta(seconds=second)
    end = start + timedelta(days=365 * years, seconds=-1)
    schedule = {m[0]: m[3] for m in _fee(fee, start, end - start).months()}
    with TemporaryDirectory() as tmp:
        files = [
            dbr_bills.write_month(
                Path(tmp),
                "2017-06",
                [dbr_bills.sign_up(str(fee), f"{start:%Y-%m-%d %H:%M:%S}", f"{end:%Y-%m-%d %H:%M:%S}")],
            ),
            dbr_bills.write_month(Path(tmp), "2017-07", []),
        ]
        with load(files, materialize=materialize) as bill:
            assert bill.total("BilledCost") == fee
            frame = bill.sql(
                "SELECT x_BillingPeriod AS p, sum(EffectiveCost) AS e FROM billing GROUP BY 1 ORDER BY 1"
            ).to_pandas()
            assert dict(zip(frame["p"], frame["e"], strict=True)) == {
                "2017-06": schedule["2017-06"],
                "2017-07": schedule["2017-07"],
            }


ACCOUNT_OR_NONE = st.sampled_from(["111111111111", "222222222222", None])
coverages = st.lists(
    st.tuples(
        st.sampled_from(["cur", "cur2", "focus", "dbr"]),
        st.sets(st.tuples(ACCOUNT_OR_NONE, st.sampled_from(["2024-01", "2024-02", "2024-03"])), max_size=4),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(files=coverages, prefer=st.sampled_from([None, "cur", "cur2", "focus", "dbr"]))
def test_no_billing_account_month_is_left_in_two_formats(files, prefer) -> None:  # type: ignore[no-untyped-def]
    """Files of any formats, accounts and months: either refused (naming prefer) or, after what is left out,
    no account's month is held by two formats, the preferred format loses nothing, and nothing that overlaps
    no other format is left out."""
    given_files = [Coverage(f"f{i}.csv", fmt, frozenset(keys)) for i, (fmt, keys) in enumerate(files)]
    try:
        drops = resolve_files(given_files, prefer)
    except InputError as exc:
        assert exc.param == "prefer"
        return
    kept = [(c.fmt, c.keys - d) for c, d in zip(given_files, drops, strict=True)]
    for (fmt_a, keys_a), (fmt_b, keys_b) in ((a, b) for a in kept for b in kept if a[0] < b[0]):
        for period in {p for _, p in keys_a}:
            accounts_a = {a for a, p in keys_a if p == period}
            accounts_b = {a for a, p in keys_b if p == period}
            assert not overlapping(accounts_a, accounts_b), (fmt_a, fmt_b, period)
    for c, d in zip(given_files, drops, strict=True):
        assert d <= c.keys
        if c.fmt == prefer:
            assert not d
        for account, period in d:  # each key left out overlaps a key of another format
            assert any(
                o.fmt != c.fmt and overlapping([account], [a for a, p in o.keys if p == period])
                for o in given_files
            )
