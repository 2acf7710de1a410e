"""RI upfront fees of DBR bills spread over their term: the amortized cost a DBR does not carry.

The DBR reader makes a sign-up charge whose row gives the reservation's start and end (a 1- or 3-year span) a
Purchase: BilledCost is the fee paid, EffectiveCost 0. Here each such fee becomes rows of EffectiveCost, one
per month of its term that the data covers (DBR rows of the same billing account in that month): the fee times
the month's share of the term, by the second. The shares are cut cumulatively (round(fee x elapsed / term) at
10 decimals, minus what the months before took; the last month takes the rest), so over the whole term they
add up to the fee exactly. A month of the term the data does not hold, or holds from a CUR (which amortizes
the same reservation itself), gets no row. BilledCost, ListCost and ContractedCost of these rows are 0: the
fee was billed once, in the month paid.

The rows say nothing of which hours used the reservation (a DBR cannot tell): no commitment discount columns,
ChargeCategory Usage, ChargeFrequency Recurring, PricingCategory Committed, x_LineItemType
`AmortizedUpfrontFee` (`AMORTIZED`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import TYPE_CHECKING, Any

from awscost.billing.readers._sql import lit
from awscost.billing.readers.base import Projection
from awscost.billing.readers.dbr import SIGN_UP
from awscost.billing.schema import CANONICAL, MONEY, TAGS

if TYPE_CHECKING:
    import duckdb

AMORTIZED = "AmortizedUpfrontFee"  # x_LineItemType of the rows made here
PLACES = Decimal("1e-10")  # as CUR costs: the narrow money storage (table.py) keeps holding them
_TS = "%Y-%m-%d %H:%M:%S"

# The canonical columns of a purchase that its amortization rows repeat, in the order the query reads them.
_FEE_COLUMNS = (
    "BillingAccountId", "SubAccountId", "CommitmentDiscountId", "ChargeDescription", "ChargePeriodStart",
    "ChargePeriodEnd", "BilledCost", "BillingCurrency", "ServiceName", "ServiceCategory", "x_ProductCode",
    "InvoiceIssuerName", "PublisherName", "x_SourceFile",
)  # fmt: skip


@dataclass(frozen=True)
class UpfrontFee:
    """One reservation's upfront fee as its DBR sign-up row states it."""

    billing_account: str | None
    sub_account: str | None
    commitment_id: str | None
    description: str
    start: datetime  # the term, [start, end), UTC
    end: datetime
    fee: Decimal
    currency: str
    service_name: str | None
    service_category: str | None
    product_code: str | None
    invoice_issuer: str | None
    publisher: str | None
    source: str  # the file whose row says it

    @property
    def key(self) -> str:
        """Identifies the fee across loads (a dataset's marker records which fees each month amortizes)."""
        return f"{self.billing_account}/{self.sub_account}/{self.start:{_TS}}/{self.description}"

    def months(self) -> list[tuple[str, datetime, datetime, Decimal]]:
        """(period, start, end, share) for every month the term touches, in order; the shares sum to `fee`."""
        total = _micros(self.end - self.start)
        out: list[tuple[str, datetime, datetime, Decimal]] = []
        cursor, taken = self.start, Decimal(0)
        with localcontext() as ctx:
            ctx.prec = 60
            while cursor < self.end:
                chunk_end = min(self.end, _next_month(cursor))
                if chunk_end == self.end:
                    upto = self.fee
                else:
                    upto = (self.fee * _micros(chunk_end - self.start) / total).quantize(
                        PLACES, ROUND_HALF_EVEN
                    )
                out.append((f"{cursor:%Y-%m}", cursor, chunk_end, upto - taken))
                cursor, taken = chunk_end, upto
        return out

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(start=f"{self.start:{_TS}}", end=f"{self.end:{_TS}}", fee=str(self.fee))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UpfrontFee:
        values = dict(data)
        values.update(
            start=datetime.strptime(data["start"], _TS),
            end=datetime.strptime(data["end"], _TS),
            fee=Decimal(data["fee"]),
        )
        return cls(**values)


@dataclass(frozen=True)
class Share:
    """The part of a fee that one month carries."""

    fee: UpfrontFee
    period: str
    start: datetime
    end: datetime
    amount: Decimal


def _micros(delta: Any) -> int:
    return int(delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds)


def _next_month(ts: datetime) -> datetime:
    year, month = (ts.year + 1, 1) if ts.month == 12 else (ts.year, ts.month + 1)
    return ts.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def read_fees(con: duckdb.DuckDBPyConnection, rows_sql: str) -> list[UpfrontFee]:
    """The DBR purchases with a term among canonical rows (`rows_sql`: any SELECT of the canonical table)."""
    columns = ", ".join(_FEE_COLUMNS)
    rows = con.execute(
        f"SELECT {columns} FROM ({rows_sql}) WHERE x_SourceFormat = 'dbr' AND ChargeCategory = 'Purchase' "
        "ORDER BY ChargePeriodStart, ChargeDescription"
    ).fetchall()
    return [
        UpfrontFee(
            billing_account=r[0],
            sub_account=r[1],
            commitment_id=r[2],
            description=str(r[3]),
            start=_naive(r[4]),
            end=_naive(r[5]),
            fee=Decimal(_plain(r[6] or 0)),
            currency=str(r[7] or "USD"),
            service_name=r[8],
            service_category=r[9],
            product_code=r[10],
            invoice_issuer=r[11],
            publisher=r[12],
            source=str(r[13]),
        )
        for r in rows
    ]


def unamortized(con: duckdb.DuckDBPyConnection, rows_sql: str) -> list[str]:
    """What cannot be amortized, one line per file and month: DBR upfront fees whose row gives no term."""
    rows = con.execute(
        f"SELECT x_SourceFile, x_BillingPeriod, BillingCurrency, count(*), sum(BilledCost) FROM ({rows_sql}) "
        f"WHERE x_SourceFormat = 'dbr' AND starts_with(ChargeDescription, {lit(SIGN_UP)}) AND BilledCost > 0 "
        "AND ChargeCategory IS DISTINCT FROM 'Purchase' GROUP BY 1, 2, 3 ORDER BY 2, 1, 3"
    ).fetchall()
    return [
        f"{source}: {count} RI upfront fee(s) of {period} ({_plain(total)} {currency or 'USD'}) stay in the month "
        "paid, not amortized: the sign-up row's UsageStartDate..UsageEndDate is not a 1- or 3-year term"
        for source, period, currency, count, total in rows
    ]


def _plain(value: Any) -> str:
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def plan(fees: Iterable[UpfrontFee], covered: set[tuple[str | None, str]]) -> dict[str, list[Share]]:
    """Period -> the shares it carries: each fee's months that `covered` (billing account, period) holds."""
    out: dict[str, list[Share]] = {}
    for fee in fees:
        for period, start, end, amount in fee.months():
            if (fee.billing_account, period) in covered and amount != 0:
                out.setdefault(period, []).append(Share(fee, period, start, end, amount))
    return dict(sorted(out.items()))


_VALUES = (
    "acct", "sub", "descr", "period", "cstart", "cend", "share", "currency", "service", "category", "code",
    "issuer", "publisher", "source",
)  # fmt: skip


def rows_sql(shares: Iterable[Share]) -> str | None:
    """A SELECT of the canonical amortization rows for `shares`; None when there are none."""
    values = []
    for s in shares:
        f = s.fee
        description = f"RI upfront fee over its term {f.start:{_TS}} to {f.end:{_TS}}: {f.description}"
        items = (
            f.billing_account, f.sub_account, description, s.period, f"{s.start:{_TS}}", f"{s.end:{_TS}}",
            format(s.amount, "f"), f.currency, f.service_name, f.service_category, f.product_code,
            f.invoice_issuer, f.publisher, f.source,
        )  # fmt: skip
        values.append("(" + ", ".join("NULL" if v is None else lit(str(v)) for v in items) + ")")
    if not values:
        return None

    def v(name: str) -> str:
        return f"CAST(v.{name} AS VARCHAR)"

    period_start = f"CAST({v('period')} || '-01' AS TIMESTAMP)"
    exprs = {
        "BilledCost": f"CAST(0 AS {MONEY})",
        "BillingAccountId": v("acct"),
        "BillingCurrency": v("currency"),
        "BillingPeriodEnd": f"{period_start} + INTERVAL 1 MONTH",
        "BillingPeriodStart": period_start,
        "ChargeCategory": "'Usage'",
        "ChargeDescription": v("descr"),
        "ChargeFrequency": "'Recurring'",
        "ChargePeriodEnd": f"CAST({v('cend')} AS TIMESTAMP)",
        "ChargePeriodStart": f"CAST({v('cstart')} AS TIMESTAMP)",
        "ContractedCost": f"CAST(0 AS {MONEY})",
        # Bills nothing, as the CUR's unused-commitment row: prices and quantity 0, so price x quantity is
        # its ContractedCost and ListCost of 0 (FOCUS: a usage row always has them).
        "ContractedUnitPrice": f"CAST(0 AS {MONEY})",
        "EffectiveCost": f"CAST({v('share')} AS {MONEY})",
        "InvoiceIssuerName": v("issuer"),
        "ListCost": f"CAST(0 AS {MONEY})",
        "ListUnitPrice": f"CAST(0 AS {MONEY})",
        "PricingCategory": "'Committed'",
        "PricingQuantity": f"CAST(0 AS {MONEY})",
        "ProviderName": "'AWS'",
        "PublisherName": v("publisher"),
        "ServiceCategory": v("category"),
        "ServiceName": v("service"),
        "SubAccountId": v("sub"),
        "Tags": f"NULL::{TAGS}",
        "x_BillingPeriod": v("period"),
        "x_PayerAccountId": v("acct"),
        "x_LineItemType": lit(AMORTIZED),
        "x_ProductCode": v("code"),
        "x_SourceFormat": "'dbr'",
        "x_SourceFile": v("source"),
    }
    for column, typ in CANONICAL.items():
        exprs.setdefault(column, f"NULL::{typ}")
    return Projection(exprs).select_sql(f"(VALUES {', '.join(values)}) AS v({', '.join(_VALUES)})")
