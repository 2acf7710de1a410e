"""What a billing reader is: it recognises its format from the header and projects it onto the "
"canonical table."""

from __future__ import annotations

from dataclasses import dataclass, field

from awscost.billing.readers._sql import Cols, quote, tag_map
from awscost.billing.schema import COLUMN_NAMES

TWIN = '"__twin"'


@dataclass(frozen=True)
class Projection:
    """SQL for one source: `exprs` has one expression per canonical column; `where` filters source rows.

    `twin`, when set, is a condition on a source row under which it yields a second canonical row; the
    expressions tell the two apart by the boolean column TWIN (false on the row itself). FOCUS needs this
    for a CUR's RIFee / SavingsPlanRecurringFee line: the purchase (BilledCost, EffectiveCost 0) and, beside
    it, the unused commitment as a Usage row (BilledCost 0, EffectiveCost the unused part)."""

    exprs: dict[str, str]
    where: str | None = None
    numeric: list[str] = field(default_factory=list)
    timestamps: list[str] = field(default_factory=list)
    pre: dict[str, str] = field(default_factory=dict)  # alias -> typed source column, computed once per row
    twin: str | None = None

    def select_sql(self, source: str) -> str:
        missing = [c for c in COLUMN_NAMES if c not in self.exprs]
        if missing:
            raise AssertionError(f"projection lacks canonical columns {missing}")
        items = ", ".join(f"{self.exprs[c]} AS {quote(c)}" for c in COLUMN_NAMES)
        if self.pre:
            pre = ", ".join(f"{expr} AS {quote(alias)}" for alias, expr in self.pre.items())
            source = f"(SELECT *, {pre} FROM {source})"
        if self.twin:
            # One scan: unnest gives each source row one or two output rows, streaming.
            source = (
                f"(SELECT *, unnest(CASE WHEN {self.twin} THEN [false, true] ELSE [false] END) AS {TWIN} "
                f"FROM {source})"
            )
        sql = f"SELECT {items} FROM {source}"
        if self.where:
            sql += f" WHERE {self.where}"
        return sql


class Reader:
    """One billing format. Subclasses set `name`, `required` and implement `detect` and `project`."""

    name: str = ""
    required: tuple[str, ...] = ()
    # Strings that mean NULL in this format's CSV files.
    null_strings: tuple[str, ...] = ("",)

    def detect(self, columns: list[str]) -> bool:
        raise NotImplementedError

    def known(self, column: str) -> bool:
        """True for a column this format defines (used or deliberately ignored); others go to x_Extra."""
        raise NotImplementedError

    def project(self, cols: Cols, *, source_file: str, period_hint: str | None = None) -> Projection:
        raise NotImplementedError

    def extras(self, cols: Cols) -> str:
        return tag_map((c, cols.s(c)) for c in cols.types if not self.known(c))
