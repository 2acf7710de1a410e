"""Every analysis is one query written in DuckDB's dialect and rendered per engine (billing/portable.py).

No Trino runs here, so what only Trino would show is held by its text: every query the analyses really send
(recorded from a DuckDB bill of the sandbox's CUR) renders for Trino and Spark and parses back in their
dialects; a map key is `element_at` in Trino (its `map[key]` fails on a missing key, where DuckDB and Spark
give NULL); any_value is Trino's arbitrary, without the IGNORE NULLS Trino refuses on an aggregate; and one
query is golden, word for word."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlglot

from awscost.billing import load
from awscost.billing.cube import CostCube, scan_sql
from awscost.billing.portable import ENGINES, check_engine, render, select_names
from awscost.core.errors import InputError
from awscost_sandbox.bill import write_bill
from awscost_sandbox.scenario import default_scenario
from sent_queries import record_queries

TAG = "user:Spend_Category"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The DuckDB-dialect text of every query the analyses and the cube's scan send, on a real bill."""
    scenario = default_scenario()
    edge = datetime(2026, 11, 30, 22, tzinfo=UTC)
    hours = scenario.hours(6) + [edge + timedelta(hours=i) for i in range(4)]
    cur = write_bill(scenario, hours, tmp_path_factory.mktemp("portable"))["cur"]
    with load(cur) as bill:
        queries = record_queries(bill)
        bill.periods()
        bill.rows()
        bill.usage_until()
        bill.summary(by=["SubAccountId", f"Tags.{TAG}"], granularity="day", where="ChargeCategory = 'Usage'")
        bill.total("BilledCost")
        bill.month_over_month()
        bill.top_resources(5)
        bill.credits_refunds_tax()
        bill.tag_coverage(TAG)
        bill.untagged_resources(TAG, 5)
        bill.commitments(start=date(2026, 11, 1), end=date(2026, 12, 1), by_account=True)
        CostCube.from_bill(bill, date(2026, 11, 1), date(2026, 12, 2), [TAG]).close()
    # On DuckDB the cube is CREATE TEMP TABLE AS its scan; another engine is sent the scan itself.
    queries.append(scan_sql(date(2026, 11, 1), date(2026, 12, 2), {TAG: "t0"}))
    return queries


def test_the_analyses_send_their_queries_through_the_renderer(recorded: list[str]) -> None:
    assert len(recorded) >= 14
    assert any("FILTER (WHERE" in q for q in recorded) and any("Tags[" in q for q in recorded)


@pytest.mark.parametrize("engine", ["spark", "athena"])
def test_every_query_renders_and_parses_in_the_engine_s_dialect(recorded: list[str], engine: str) -> None:
    dialect = {"spark": "spark", "athena": "trino"}[engine]
    for query in recorded:
        text = render(query, engine)
        tree = sqlglot.parse_one(text, read=dialect)
        assert tree.sql(dialect) == text, "the rendering is stable in its own dialect"
        assert tuple(tree.named_selects) == select_names(query), "columns keep their names"


def test_trino_never_subscripts_a_map_nor_ignores_nulls_of_an_aggregate(recorded: list[str]) -> None:
    tagged = [q for q in recorded if "Tags[" in q]
    assert tagged
    for query in recorded:
        text = render(query, "athena")
        assert "Tags[" not in text and "x_Extra[" not in text
        assert "ANY_VALUE" not in text.upper() and "IGNORE NULLS" not in text.upper()
    for query in tagged:
        assert "ELEMENT_AT(Tags, 'user:Spend_Category')" in render(query, "athena")
    # Spark keeps the subscript: its map[key] is NULL on a missing key (tests/test_spark.py runs it).
    assert all("Tags[" in render(q, "spark") for q in tagged)


def test_duckdb_runs_the_text_as_written(recorded: list[str]) -> None:
    assert all(render(q, "duckdb") == q for q in recorded)


def test_a_summary_by_tag_in_trino_word_for_word(recorded: list[str]) -> None:
    (summary,) = [q for q in recorded if 'AS "Tags.user:Spend_Category"' in q and "GROUP BY 1, 2, 3, 4" in q]
    assert render(summary, "athena") == (
        'SELECT CAST(ChargePeriodStart AS DATE) AS "Day", "SubAccountId" AS "SubAccountId", '
        "COALESCE(ELEMENT_AT(Tags, 'user:Spend_Category'), ELEMENT_AT(Tags, 'user_spend_category')) "
        'AS "Tags.user:Spend_Category", BillingCurrency AS "BillingCurrency", '
        "SUM(EffectiveCost) AS \"EffectiveCost\" FROM billing WHERE ChargeCategory = 'Usage' "
        'GROUP BY 1, 2, 3, 4 ORDER BY 1, "EffectiveCost" DESC, 2, 3, 4'
    )


def test_an_unknown_engine_is_refused() -> None:
    assert ENGINES == ("duckdb", "spark", "athena")
    with pytest.raises(InputError, match="unknown engine 'presto'"):
        check_engine("presto")
    with pytest.raises(InputError, match="unknown engine"):
        render("SELECT 1", "presto")


def test_a_renamed_table_keeps_its_alias_and_star_queries_keep_the_engines_names() -> None:
    assert render("SELECT b.ServiceName FROM billing AS b", "athena", "bills") == (
        "SELECT b.ServiceName FROM bills AS b"
    )
    assert select_names("SELECT * FROM billing") is None
    assert select_names("SELECT sum(BilledCost) FROM billing") is None  # unnamed: Athena's _col0 stands
    assert select_names('SELECT ServiceName, sum(BilledCost) AS "Cost" FROM billing GROUP BY 1') == (
        "ServiceName",
        "Cost",
    )


@pytest.mark.parametrize(
    ("part", "whole", "pct"),
    [
        ("2.675", "100", 2.68),
        ("1.005", "100", 1.01),
        ("-1.005", "100", -1.01),
        ("1", "3", 33.33),
        ("5", "0", None),
    ],
)
def test_a_percentage_is_rounded_once_from_the_exact_sums(part: str, whole: str, pct: float | None) -> None:
    """In Python, half up, from Decimals: DuckDB's double round gives 2.67 for 2.675, Spark's decimal 2.68."""
    from decimal import Decimal

    from awscost.billing.analyses import percent

    assert percent(Decimal(part), Decimal(whole)) == pct
