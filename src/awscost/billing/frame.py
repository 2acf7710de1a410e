"""`Frame`: what a `Bill` analysis or query returns — column names and rows of plain Python values.

Money stays exact `Decimal`, timestamps `datetime`, NULL `None`: the rows are DuckDB's `fetchall()` as is
(DECIMAL sums without the trailing zeros of their scale). No pandas and no pyarrow here, so a one-shot
command line (`awscost billing summary`) imports neither: pandas alone costs more than the query over a
million loaded rows. A notebook asks for `.to_pandas()` (or `.to_arrow()`), each imported on that call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


def plain(value: Any) -> Any:
    """A DECIMAL sum without the trailing zeros of its scale (1.682309, not 1.682309000000000000): every
    engine's sums print and compare alike whatever scale it summed in."""
    if isinstance(value, Decimal):
        if value == 0:
            return Decimal(0)
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return Decimal(text)
    return value


class Frame:
    """Columns and rows (tuples, in column order). Iterating gives each row as a dict."""

    __slots__ = ("_index", "attrs", "columns", "rows")

    def __init__(
        self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], attrs: Mapping[str, Any] | None = None
    ) -> None:
        self.columns: list[str] = [str(c) for c in columns]
        self.rows: list[tuple[Any, ...]] = [tuple(r) for r in rows]
        # What a result says beside its rows (month_over_month: what was compared); to_pandas keeps it.
        self.attrs: dict[str, Any] = dict(attrs or {})
        self._index = {c: i for i, c in enumerate(self.columns)}

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self.rows:
            yield dict(zip(self.columns, row, strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self.columns == other.columns and self.rows == other.rows

    __hash__ = None  # type: ignore[assignment]  # mutable attrs: compared by value, never hashed

    def __repr__(self) -> str:
        return f"Frame({len(self.rows)} rows: {', '.join(self.columns)})"

    def _repr_html_(self) -> str:
        """A notebook shows the rows as pandas would (pandas imported only then)."""
        return str(self.to_pandas()._repr_html_())

    def _at(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"no column {name!r} (columns: {', '.join(self.columns)})") from None

    def column(self, name: str) -> list[Any]:
        """The values of column `name`, in row order."""
        i = self._at(name)
        return [r[i] for r in self.rows]

    def to_dicts(self) -> list[dict[str, Any]]:
        return list(self)

    def drop(self, *names: str) -> Frame:
        keep = [i for i, c in enumerate(self.columns) if c not in names]
        return Frame(
            [self.columns[i] for i in keep], [tuple(r[i] for i in keep) for r in self.rows], self.attrs
        )

    def with_column(self, name: str, values: Sequence[Any]) -> Frame:
        """This frame with column `name` set to `values` (replaced in place of the old one, or appended)."""
        if len(values) != len(self.rows):
            raise ValueError(f"{len(values)} values for {len(self.rows)} rows")
        if name in self._index:
            i = self._index[name]
            rows = [(*r[:i], v, *r[i + 1 :]) for r, v in zip(self.rows, values, strict=True)]
            return Frame(self.columns, rows, self.attrs)
        return Frame(
            [*self.columns, name], [(*r, v) for r, v in zip(self.rows, values, strict=True)], self.attrs
        )

    def rename(self, names: Mapping[str, str]) -> Frame:
        return Frame([names.get(c, c) for c in self.columns], self.rows, self.attrs)

    def to_pandas(self) -> pd.DataFrame:
        """A pandas DataFrame of the same rows (money as Decimal objects, exact), `attrs` carried over."""
        import pandas as pd

        frame = pd.DataFrame.from_records(self.rows, columns=self.columns)
        frame.attrs.update(self.attrs)
        return frame

    def to_arrow(self) -> pa.Table:
        """A pyarrow Table of the same rows (Decimal as decimal128, inferred per column)."""
        import pyarrow as pa

        return pa.Table.from_arrays(
            [pa.array([r[i] for r in self.rows]) for i in range(len(self.columns))], names=self.columns
        )
