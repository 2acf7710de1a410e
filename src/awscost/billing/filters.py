"""A user's row filter (`--where`, `where=`): parsed, checked and rendered again, never spliced in as text.

The text is parsed by sqlglot (DuckDB's dialect) into one expression tree; it must be one condition (a
second statement after `;`, a subquery, a UNION, a function outside the short list below: an InputError
naming it), and every column it names must be a canonical one (billing/schema.py), the error naming the
unknown column and the nearest known ones. What reaches an engine is the tree rendered by sqlglot, so a
Slack or web front end that passes a user's filter through cannot be made to run anything else. The same
tree renders for Spark or Trino when the analyses move there.

Allowed: AND, OR, NOT, comparisons, IN (a list), BETWEEN, LIKE / ILIKE, IS [NOT] NULL, literals, CAST to a
type, `Tags['key']` / `x_Extra['key']`, arithmetic, and lower, upper, coalesce, date_trunc.
"""

from __future__ import annotations

import difflib
import re

from awscost.billing.schema import CANONICAL, TAGS
from awscost.core.errors import InputError

_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")
FUNCTIONS = ("Lower", "Upper", "Coalesce", "DateTrunc", "TimestampTrunc")


def _allowed() -> tuple[type, ...]:
    from sqlglot import exp

    return (
        exp.And,
        exp.Or,
        exp.Not,
        exp.Paren,
        exp.EQ,
        exp.NEQ,
        exp.GT,
        exp.GTE,
        exp.LT,
        exp.LTE,
        exp.NullSafeEQ,
        exp.NullSafeNEQ,
        exp.In,
        exp.Between,
        exp.Like,
        exp.ILike,
        exp.Is,
        exp.Null,
        exp.Boolean,
        exp.Literal,
        exp.Column,
        exp.Identifier,
        exp.Bracket,
        exp.Cast,
        exp.DataType,
        exp.Neg,
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Div,
        exp.Var,  # the unit of date_trunc('day', ...) as sqlglot parses some of them
        *(getattr(exp, name) for name in FUNCTIONS if hasattr(exp, name)),
    )


def where_sql(text: str | None, *, param: str = "where") -> str | None:
    """`text` as one condition over the canonical columns, rendered for DuckDB; None or blank: no filter."""
    if text is None or not text.strip():
        return None
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        trees = [t for t in sqlglot.parse(text, read="duckdb") if t is not None]
    except (ParseError, TokenError) as exc:
        message = _ESCAPES.sub("", str(exc)).strip().splitlines()[0]
        raise InputError(f"not a filter: {message}", param=param) from None
    if len(trees) != 1:
        raise InputError(
            f"one condition, not {len(trees)} statements: {text!r}",
            param=param,
            hint="a filter cannot hold ';' (nothing but the condition is run)",
        )
    (tree,) = trees
    allowed = _allowed()
    for node in tree.walk():
        if not isinstance(node, allowed):
            what = node.key.upper() if isinstance(node, exp.Func) else type(node).__name__
            raise InputError(
                f"{what} is not allowed in a filter: {node.sql('duckdb')!r}",
                param=param,
                hint="conditions over canonical columns: =, <>, <, IN, BETWEEN, LIKE, IS NULL, AND, OR, NOT",
            )
        if isinstance(node, exp.Column):
            _check_column(node, param)
    if not _is_condition(tree):
        raise InputError(f"not a condition: {text!r}", param=param, hint="e.g. ChargeCategory = 'Usage'")
    sql: str = tree.sql("duckdb")
    return sql


def _check_column(column: object, param: str) -> None:
    from sqlglot import exp

    assert isinstance(column, exp.Column)
    if column.table:
        raise InputError(f"a column of the table only, not {column.sql('duckdb')!r}", param=param)
    name = column.name
    if name not in CANONICAL:
        near = difflib.get_close_matches(name, CANONICAL, n=3)
        raise InputError(
            f"unknown column {name!r} in the filter",
            param=param,
            hint=f"did you mean {', '.join(near)}?"
            if near
            else "FOCUS column names (ServiceName, ...) or x_ columns",
        )
    parent = column.parent
    if CANONICAL[name] == TAGS and not (isinstance(parent, exp.Bracket) and parent.this is column):
        raise InputError(f"{name} is a map: filter on {name}['key']", param=param)


def _is_condition(tree: object) -> bool:
    from sqlglot import exp

    predicates = (exp.Connector, exp.Not, exp.Predicate, exp.Boolean)
    if isinstance(tree, exp.Paren):
        return _is_condition(tree.this)
    return isinstance(tree, predicates)


__all__ = ["where_sql"]
