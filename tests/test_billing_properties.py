"""Property: whatever the amounts (any scale, sign, scientific notation) and whatever the grouping, every
summary of a loaded bill sums to the source column exactly, and no row is lost or doubled."""

from __future__ import annotations

import csv
import json
from decimal import Decimal, localcontext
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awscost.billing import load, table

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
                    frame = bill.summary(by=by, metric=metric, granularity=granularity)
                    with exact:
                        assert sum(frame[metric], Decimal(0)) == want
                assert bill.periods() == sorted({r[7] for r in rows})
    finally:
        table.ENUM_MIN_ROWS = saved
