"""The check that a report fits the model's contract before any renderer starts: a malformed section fails the
whole rendering up front, naming the section and table or chart, instead of leaving one artifact half made."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from awscost.core.errors import ReportError
from awscost.reports.model import Report

_KINDS: dict[str, tuple[type, ...]] = {
    "money": (Decimal, int),
    "ratio": (Decimal, int),
    "number": (Decimal, int),
    "date": (date,),
}


def check(report: Report) -> None:
    """Raise ReportError naming the section, table or chart that does not fit the model's contract."""
    charts: set[str] = set()
    for s in report.sections:
        for t in s.tables:
            where = f"section {s.name!r}, table {t.name!r}"
            for i, row in enumerate(t.rows):
                if len(row) != len(t.columns):
                    raise ReportError(
                        f"row {i} has {len(row)} values for {len(t.columns)} columns", where=where
                    )
                for col, v in zip(t.columns, row, strict=True):
                    ok = _KINDS.get(col.kind)
                    if v is not None and ok and (isinstance(v, bool) or not isinstance(v, ok)):
                        raise ReportError(
                            f"row {i}, column {col.name!r} ({col.kind}) holds {type(v).__name__} {v!r}",
                            where=where,
                        )
        for c in s.charts:
            where = f"section {s.name!r}, chart {c.name!r}"
            if c.name in charts:
                raise ReportError("a second chart of this name in the report", where=where)
            charts.add(c.name)
            lengths = [len(x.values) for x in c.series]
            if c.band:
                if c.kind != "line":
                    raise ReportError("a band (an interval) is drawn on a line chart only", where=where)
                if c.band[0] not in {x.name for x in c.series}:
                    raise ReportError(f"the band is around {c.band[0]!r}, not a series of it", where=where)
                lengths += [len(c.band[1]), len(c.band[2])]
            if any(n != len(c.labels) for n in lengths):
                raise ReportError(f"series of {lengths} values for {len(c.labels)} labels", where=where)
