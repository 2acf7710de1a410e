"""One definition of every bill analysis, three engines: the SQL is written once, rendered for each.

Each analysis (`analyses.py`) and the cost cube's one scan (`cube.py`) is SQL in DuckDB's dialect over the
canonical columns (`schema.py`) and the table `billing`, with every value a literal (`readers._sql.lit`) and
every user filter a checked tree (`filters.py`), never raw text. sqlglot parses it into one expression tree
and renders that tree for the engine that runs it:

    duckdb  DuckDB, local or over the S3 dataset's cache (the default): the text runs as written, since it is
            written in DuckDB's dialect (no round trip that could change what the tested query means)
    spark   Spark SQL (`spark.py`: local[N], EMR, Glue) over the same parquet files
    athena  Trino, Athena engine v3 (`athena.py`) over the S3 dataset's symlink table

Why sqlglot and not ibis (docs/portable-analyses.md has the measurement): sqlglot is already how a user's
filter is parsed and checked, it adds nothing to install, and the analyses stay readable SQL that
`awscost billing query` users can copy; ibis compiles through sqlglot itself.

What sqlglot's transpiler does not know, the rewrites below add (each with a golden test of the Trino text in
tests/test_portable.py, since no Trino runs here):
- A map lookup `Tags['k']` is `element_at(Tags, 'k')` in Trino: its subscript FAILS on a missing key
  ("Key not present in map") where DuckDB and Spark give NULL; an untagged row must give NULL.
- `any_value(x)` becomes Trino's `arbitrary(x)`, which already skips NULLs (as DuckDB's any_value does);
  sqlglot's `IGNORE NULLS` after it is a window-function clause Trino refuses on an aggregate.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Engine name -> sqlglot dialect.
DIALECTS = {"duckdb": "duckdb", "spark": "spark", "athena": "trino"}
ENGINES = tuple(DIALECTS)
MAP_COLUMNS = ("Tags", "x_Extra")


def check_engine(engine: str) -> str:
    from awscost.core.errors import InputError

    if engine not in DIALECTS:
        raise InputError(f"unknown engine {engine!r}", param="engine", hint=", ".join(ENGINES))
    return engine


@lru_cache(maxsize=1024)
def render(sql: str, engine: str, table: str | None = None) -> str:
    """`sql` (DuckDB's dialect) as the engine runs it; `table` names the engine's own table for `billing`
    (Athena's Glue table, when it is not called billing)."""
    check_engine(engine)
    if engine == "duckdb" and table is None:
        return sql
    tree = _tree(sql, engine)
    if table is not None:
        from sqlglot import exp

        def rename(node: Any) -> Any:
            if isinstance(node, exp.Table) and node.name == "billing" and not node.db:
                renamed = exp.to_table(table)
                return renamed.as_(node.alias) if node.alias else renamed  # `FROM billing AS b` keeps b
            return node

        tree = tree.transform(rename)
    return str(tree.sql(DIALECTS[engine]))


@lru_cache(maxsize=1024)
def select_names(sql: str) -> tuple[str, ...] | None:
    """The output column names of a SELECT, as written (Athena gives them back lowercased); None when the
    query does not name every column (a `*`, an unnamed expression): the engine's own names then stand."""
    import sqlglot
    from sqlglot import exp

    tree: Any = sqlglot.parse_one(sql, read="duckdb")
    selects = tree.selects if isinstance(tree, exp.Query) else []
    names = tuple(tree.named_selects) if selects else ()
    if not selects or len(names) != len(selects) or any(s.is_star for s in selects):
        return None
    return names


def _tree(sql: str, engine: str) -> Any:
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    if engine != "athena":
        return tree

    def rewrite(node: Any) -> Any:
        if (
            isinstance(node, exp.Bracket)
            and isinstance(node.this, exp.Column)
            and node.this.name in MAP_COLUMNS
            and len(node.expressions) == 1
        ):
            return exp.func("element_at", node.this.copy(), node.expressions[0].copy())
        if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
            return exp.func("arbitrary", node.this.this.copy())
        if isinstance(node, exp.AnyValue):
            return exp.func("arbitrary", node.this.copy())
        return node

    return tree.transform(rewrite)


__all__ = ["DIALECTS", "ENGINES", "check_engine", "render", "select_names"]
