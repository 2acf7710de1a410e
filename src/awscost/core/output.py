"""Printing rows for the command line: `--format table|json|jsonl|csv`.

Rows are plain dicts. Decimal and datetime values are rendered exactly (Decimal as its string in JSON/CSV) so
money is never rounded by the printer.

CSV is opened by spreadsheets, which run a cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return
before one) as a formula: a usage key, tag value or resource id like `=HYPERLINK(...)` would be one. Such a text
cell is written with a leading `'` (OWASP's CSV injection rule), which a spreadsheet shows as text. Numbers stay
numbers: a number value (int, float, Decimal) is never touched, and neither is a text cell that is a plain
number (`-5`, `-1.25`, `+3`, `-1e-3`: a spreadsheet reads it as that number, which runs nothing).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

FORMATS = ("table", "json", "jsonl", "csv")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Fixed-point always: str() writes an exponent for some values (Decimal("9E+2"), "0E-4").
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, datetime):
        from awscost.core.timeutil import format_hour

        return format_hour(value) if value.minute == value.second == 0 else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=_jsonable, separators=(",", ":"), ensure_ascii=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, dict | list):
        return dumps(value)
    if isinstance(value, datetime | date | Decimal):
        return str(_jsonable(value))
    return str(value)


def emit(
    rows: Iterable[Mapping[str, Any]],
    fmt: str = "table",
    *,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    out: IO[str] | None = None,
) -> int:
    """Print rows in `fmt`; returns the number of rows. Columns default to the union of keys, in first-seen order."""
    out = out or sys.stdout
    if fmt == "jsonl":
        n = 0
        for row in rows:
            out.write(dumps(dict(row)) + "\n")
            n += 1
        return n
    materialized = [dict(r) for r in rows]
    if columns is None:
        seen: dict[str, None] = {}
        for r in materialized:
            seen.update(dict.fromkeys(r))
        columns = list(seen)
    if fmt == "json":
        out.write(json.dumps(materialized, default=_jsonable, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        # Rows end in "\n"; the writer is told "\r\n" so that it quotes a cell holding either character
        # (told "\n" alone, it leaves a lone "\r" unquoted and a reader splits the row there).
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        for cells in (
            [csv_text(str(c)) for c in columns],
            *([_csv_cell(r.get(c)) for c in columns] for r in materialized),
        ):
            writer.writerow(cells)
            out.write(buf.getvalue()[:-2] + "\n")
            buf.seek(0)
            buf.truncate()
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for c in columns:
            numeric = any(isinstance(r.get(c), int | float | Decimal) for r in materialized)
            table.add_column(c, justify="right" if numeric else "left", overflow="fold")
        for r in materialized:
            table.add_row(*[_cell(r.get(c)) for c in columns])
        Console(file=out, width=None if out is sys.stdout else 200).print(table)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return len(materialized)


def csv_text(text: str) -> str:
    """`text` as a CSV cell no spreadsheet runs as a formula: a `'` before a formula's first character."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return dumps(value)  # starts with { or [
    if isinstance(value, int | float | Decimal):
        return _jsonable_or(value)  # a number value is a number, whatever its sign
    plain = _jsonable_or(value)  # times and dates as ISO text; numpy scalars as numbers
    if isinstance(plain, int | float):
        return plain
    return csv_text(str(plain))


def _jsonable_or(value: Any) -> Any:
    if value is None:
        return ""
    try:
        return _jsonable(value)
    except TypeError:
        return value
