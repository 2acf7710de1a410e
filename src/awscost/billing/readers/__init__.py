"""The registry of billing readers, one module per format; `detect_reader` picks one from a file's header."""

from __future__ import annotations

from awscost.billing.readers.base import Projection, Reader
from awscost.billing.readers.cur2 import Cur2Reader
from awscost.billing.readers.cur_legacy import CurLegacyReader
from awscost.billing.readers.dbr import DbrReader
from awscost.billing.readers.focus import FocusReader
from awscost.core.errors import InputError
from awscost.core.registry import Registry

# The version of what the readers produce. A dataset records, per billing period, the version that loaded it;
# a period loaded by an older version keeps the older numbers until it is loaded again, and opening such a
# dataset says so (`dataset.read_marker`). Bump it once per change that alters a reader's rows or amounts.
# Missing from a dataset = 1 (before issue 9); 2 = issue 9 (cost truth: net/gross, ContractedCost, charge
# categories, DBR amortization, ...).
READER_VERSION = 2

# Format name -> reader. Detection tries them in this order; it matters only for headers that could match two
# formats, so the most specific marker comes first.
READERS: Registry[Reader] = Registry("billing format")
for _reader in (CurLegacyReader(), Cur2Reader(), DbrReader(), FocusReader()):
    READERS.add(_reader.name, _reader)


def detect_reader(columns: list[str], *, where: str) -> Reader:
    """The reader for a header; InputError when no format matches or a required column is missing."""
    for reader in READERS.values():
        if reader.detect(columns):
            missing = [c for c in reader.required if c not in columns]
            if missing:
                raise InputError(
                    f"{reader.name} billing file lacks required column(s) {', '.join(missing)}", where=where
                )
            return reader
    shown = ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")
    raise InputError(
        f"not a billing file: header ({shown}) matches no known format",
        where=where,
        hint="expected a legacy CUR, CUR 2.0, FOCUS or DBR export",
    )


__all__ = ["READERS", "READER_VERSION", "Projection", "Reader", "detect_reader"]
