"""A user's filter is parsed, checked against the canonical columns and rendered again (billing/filters.py):
one condition, nothing else, never spliced in as text."""

from __future__ import annotations

import pytest

from awscost.billing.filters import where_sql
from awscost.core.errors import InputError


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        ("ChargeCategory = 'Usage'", "ChargeCategory = 'Usage'"),
        (
            "Tags['team'] = 'search' and x_UsageType ILIKE '%Box%'",
            "Tags['team'] = 'search' AND x_UsageType ILIKE '%Box%'",
        ),
        (
            "ServiceName in ('AmazonEC2', 'AmazonRDS') or BilledCost > 10.5",
            "ServiceName IN ('AmazonEC2', 'AmazonRDS') OR BilledCost > 10.5",
        ),
        (
            "ResourceId is not null and not (RegionId = 'us-east-1')",
            "NOT ResourceId IS NULL AND NOT (RegionId = 'us-east-1')",
        ),
        (
            "ChargePeriodStart >= TIMESTAMP '2026-11-01'",
            "ChargePeriodStart >= CAST('2026-11-01' AS TIMESTAMP)",
        ),
        ("lower(ServiceName) like 'amazon%'", "LOWER(ServiceName) LIKE 'amazon%'"),
        ("  ", None),
    ],
)
def test_a_filter_is_rendered_from_its_parsed_tree(text: str, sql: str | None) -> None:
    assert where_sql(text) == sql


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1=1; drop table billing", "one condition, not 2 statements"),
        ("BilledCost > 0; SELECT * FROM billing", "one condition, not 2 statements"),
        ("Foo > 1", "unknown column 'Foo' in the filter"),
        ("BiledCost > 1", "unknown column 'BiledCost'"),
        ("(select max(BilledCost) from billing) > 1", "is not allowed in a filter"),
        ("BilledCost > 0 UNION SELECT 1", "is not allowed in a filter"),
        ("read_csv('/etc/passwd') is not null", "is not allowed in a filter"),
        ("billing.BilledCost > 0", "a column of the table only"),
        ("Tags = 'x'", "Tags is a map: filter on Tags['key']"),
        ("BilledCost", "not a condition"),
        ("BilledCost >", "not a filter"),
    ],
)
def test_anything_but_one_condition_over_canonical_columns_is_a_clear_error(text: str, says: str) -> None:
    with pytest.raises(InputError) as err:
        where_sql(text)
    assert says in err.value.render()
    assert err.value.param == "where"


def test_the_nearest_columns_are_suggested() -> None:
    with pytest.raises(InputError) as err:
        where_sql("BiledCost > 1")
    assert "did you mean BilledCost" in err.value.render()


def test_billing_summary_refuses_an_injected_where_naming_it() -> None:
    """The whole command line: exit 2, one line naming --where, no traceback; a good filter still works."""
    import subprocess
    import sys
    from pathlib import Path

    cur = str(Path(__file__).parent / "data" / "billing" / "cur_small.csv")

    def run(where: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "awscost", "billing", "summary", cur, "--where", where],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    ok = run("ChargeCategory = 'Usage'")
    assert ok.returncode == 0, ok.stderr
    for where, says in (
        ("1=1; drop table billing", "--where: one condition, not 2 statements"),
        ("Team = 'x'", "--where: unknown column 'Team' in the filter"),
    ):
        bad = run(where)
        assert bad.returncode == 2 and says in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
