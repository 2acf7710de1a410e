"""The same month of a billing account given twice, in two formats: refused, or settled by `prefer`.

A FOCUS export and the CUR of the same month (or a CUR and the DBR of 2017) hold the same charges: loaded
together they count the month twice. So wherever several files are read at once (a one-shot command, a
materialized bill, a load into a dataset, which also holds the months loaded before), the (billing account,
billing period) pairs each file holds are compared: two formats holding one pair is refused, naming both
files, unless `prefer` names the format to keep. Then the other format's rows of that pair are left out, and
its other months stay.

Files of one format are not overlaps: a CUR split into parts, or a manifest's report files, are one bill.
Rows with no billing account (a FOCUS export without BillingAccountId) cannot be told apart from any account,
so they overlap every account of their month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from awscost.billing.readers import READERS
from awscost.billing.readers._sql import lit
from awscost.core.errors import InputError

# (BillingAccountId, billing period YYYY-MM); None: rows that name no billing account.
Key = tuple[str | None, str]


@dataclass(frozen=True)
class Coverage:
    """What one source file holds: its format and (billing account, period) pairs."""

    source: str  # the file as messages name it
    fmt: str
    keys: frozenset[Key]
    manifest_period: str | None = None  # the period of the manifest that delivered it, if one did


def check_prefer(prefer: str | None) -> str | None:
    """`prefer` as given when it names a billing format; InputError otherwise."""
    if prefer is None:
        return None
    if prefer not in READERS:
        raise InputError(
            f"unknown billing format {prefer!r}", param="prefer", hint=", ".join(sorted(READERS))
        )
    return prefer


def overlapping(accounts: Iterable[str | None], others: Iterable[str | None]) -> set[str | None]:
    """The accounts of `accounts` that `others` also holds (None, no account, overlaps every account)."""
    theirs = set(others)
    if not theirs:
        return set()
    return {a for a in accounts if a is None or a in theirs or None in theirs}


def accounts_sql(accounts: Iterable[str | None]) -> str:
    """SQL: the row's BillingAccountId is one of `accounts` (None: the rows with none)."""
    accounts = list(accounts)
    named = sorted({a for a in accounts if a is not None})
    terms = [f"BillingAccountId IN ({', '.join(lit(a) for a in named)})"] if named else []
    if None in accounts:
        terms.append("BillingAccountId IS NULL")
    return "(" + " OR ".join(terms) + ")" if terms else "false"


def keys_sql(keys: Iterable[Key]) -> str:
    """SQL: the row's (BillingAccountId, x_BillingPeriod) is one of `keys`."""
    by_period: dict[str, set[str | None]] = {}
    for account, period in keys:
        by_period.setdefault(period, set()).add(account)
    terms = [f"(x_BillingPeriod = {lit(p)} AND {accounts_sql(a)})" for p, a in sorted(by_period.items())]
    return "(" + " OR ".join(terms) + ")" if terms else "false"


def _who(accounts: set[str | None]) -> str:
    named = sorted(a for a in accounts if a is not None)
    parts = []
    if named:
        parts.append("billing account " + ", ".join(named[:3]) + (", ..." if len(named) > 3 else ""))
    if None in accounts:
        parts.append("rows with no billing account")
    return " and ".join(parts)


def refusal(
    first: str, second: str, formats: tuple[str, str], accounts: set[str | None], period: str
) -> InputError:
    """The refusal of one month in two formats; `first` and `second` name the files holding it."""
    return InputError(
        f"{first} and {second} both hold {_who(accounts)} for {period}: loading both would count it twice",
        param="prefer",
        hint=f"keep one format: prefer {formats[0]} or {formats[1]}",
    )


def resolve_files(coverages: list[Coverage], prefer: str | None) -> list[set[Key]]:
    """For each source, the keys to leave out. A manifest's delivery is complete for its period: loose files
    of its format leave that period out (a re-delivery); formats overlapping are settled by `prefer` or
    refused (InputError naming a file of each)."""
    prefer = check_prefer(prefer)
    drops: list[set[Key]] = [set() for _ in coverages]
    for c in coverages:
        if c.manifest_period is None:
            continue
        for j, other in enumerate(coverages):
            if other.manifest_period is None and other.fmt == c.fmt:
                drops[j] |= {k for k in other.keys if k[1] == c.manifest_period}
    for period in sorted({p for c in coverages for _, p in c.keys}):
        held: dict[str, set[str | None]] = {}
        for i, c in enumerate(coverages):
            accounts = {a for a, p in c.keys - drops[i] if p == period}
            if accounts:
                held.setdefault(c.fmt, set()).update(accounts)
        if len(held) < 2:
            continue
        if prefer in held:
            for fmt in held:
                if fmt == prefer:
                    continue
                lost = overlapping(held[fmt], held[prefer])
                held[fmt] -= lost
                for i, c in enumerate(coverages):
                    if c.fmt == fmt:
                        drops[i] |= {(a, period) for a in lost if (a, period) in c.keys}
        for fmt_a, fmt_b in combinations(sorted(held), 2):
            both = overlapping(held[fmt_a], held[fmt_b]) | overlapping(held[fmt_b], held[fmt_a])
            if both:
                first = _holder(coverages, drops, fmt_a, both, period)
                second = _holder(coverages, drops, fmt_b, both, period)
                raise refusal(f"{first} ({fmt_a})", f"{second} ({fmt_b})", (fmt_a, fmt_b), both, period)
    return drops


def _holder(
    coverages: list[Coverage], drops: list[set[Key]], fmt: str, accounts: set[str | None], period: str
) -> str:
    for i, c in enumerate(coverages):
        if c.fmt == fmt and overlapping({a for a, p in c.keys - drops[i] if p == period}, accounts):
            return c.source
    return next(c.source for c in coverages if c.fmt == fmt)


# A dataset period's accounts: account -> (format, a source file of it).
Held = Mapping[str | None, tuple[str, str]]


def resolve_dataset(
    old: Mapping[str, Held], new: Mapping[str, Held], prefer: str | None, dataset: str
) -> tuple[dict[str, set[str | None]], dict[str, set[str | None]]]:
    """A load into a dataset: per period, the accounts of the dataset that the load replaces, and the loaded
    accounts left out. Same format: the load replaces (a re-delivery); another format: `prefer` decides, or
    InputError naming the file loaded and the dataset's."""
    prefer = check_prefer(prefer)
    replaced: dict[str, set[str | None]] = {}
    kept_out: dict[str, set[str | None]] = {}
    for period in sorted(set(old) & set(new)):
        pairs = [
            (old_account, old_fmt, old_source, new_account, new_fmt, new_source)
            for old_account, (old_fmt, old_source) in old[period].items()
            for new_account, (new_fmt, new_source) in new[period].items()
            if overlapping([old_account], [new_account])
        ]
        for old_account, old_fmt, old_source, new_account, new_fmt, new_source in pairs:
            if new_fmt != old_fmt and prefer != new_fmt:
                if prefer != old_fmt:
                    raise refusal(
                        f"{new_source} ({new_fmt})", f"{old_source} ({old_fmt}, in the dataset {dataset})",
                        (new_fmt, old_fmt), {old_account, new_account}, period,
                    )  # fmt: skip
                kept_out.setdefault(period, set()).add(new_account)
        # Loaded rows left out replace nothing.
        out = kept_out.get(period, set())
        for old_account, _, _, new_account, _, _ in pairs:
            if new_account not in out:
                replaced.setdefault(period, set()).add(old_account)
    return replaced, kept_out
