"""The analyses on Spark (local[2], a real session, Java 17) equal DuckDB's on the same dataset, every one
of them, to the last decimal: the sandbox's bill over two billing periods (month over month, a partial last
month), the refdata CUR and FOCUS files, and an S3 dataset (moto over HTTP) read through the cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from awscost.billing import load, load_into
from awscost.billing.analyses import Analyses
from awscost.billing.cube import CostCube, Scope
from awscost.billing.spark import SparkBill, SparkOptions, dataset_paths, open_dataset, session
from awscost.core.config import Settings
from awscost.core.errors import ConfigError, InputError
from awscost_sandbox.bill import write_bill
from awscost_sandbox.scenario import default_scenario
from conftest import refdata

TAG = "user:Spend_Category"
ANALYSES: dict[str, Callable[[Analyses], Any]] = {
    "periods": lambda b: b.periods(),
    "rows": lambda b: b.rows(),
    "usage_until": lambda b: b.usage_until(),
    "summary": lambda b: b.summary(),
    "summary by tag and day": lambda b: b.summary(by=["SubAccountId", f"Tags.{TAG}"], granularity="day"),
    "summary by month, billed": lambda b: b.summary(
        by=["ServiceName"], metric="BilledCost", granularity="month"
    ),
    "summary where": lambda b: b.summary(
        by=["RegionId"], where=f"Tags['{TAG}'] IS NOT NULL OR ServiceName ILIKE '%compute%'"
    ),
    "total billed": lambda b: b.total("BilledCost"),
    "total effective": lambda b: b.total("EffectiveCost", where="ChargeCategory = 'Usage'"),
    "month over month": lambda b: b.month_over_month(),
    "month over month by service": lambda b: b.month_over_month(by=["ServiceName"], metric="ListCost"),
    "top resources": lambda b: b.top_resources(15),
    "adjustments": lambda b: b.credits_refunds_tax(),
    "tag coverage": lambda b: b.tag_coverage(TAG),
    "untagged resources": lambda b: b.untagged_resources(TAG, 15),
    "commitments": lambda b: b.commitments(),
    "commitments by account": lambda b: b.commitments(by_account=True),
    "daily costs (the anomaly series)": lambda b: b.daily_costs(start=date(2026, 11, 1)),
    "cost drivers by usage": lambda b: b.cost_drivers(
        "222233334444",
        "Amazon Elastic Compute Cloud",
        (date(2026, 11, 2), date(2026, 11, 4)),
        (date(2026, 10, 1), date(2026, 11, 2)),
    ),
    "cost drivers by tag": lambda b: b.cost_drivers(
        "222233334444",
        "Amazon Elastic Compute Cloud",
        (date(2026, 11, 2), date(2026, 11, 4)),
        (date(2026, 10, 1), date(2026, 11, 2)),
        f"Tags.{TAG}",
    ),
}


@pytest.fixture(scope="module")
def spark() -> Any:
    return session(SparkOptions(master="local[2]"))


@pytest.fixture(scope="module")
def sandbox_cur(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox's CUR over two billing periods, the second partial (10 hours across the boundary)."""
    scenario = default_scenario()
    edge = datetime(2026, 11, 30, 20, tzinfo=UTC)
    hours = scenario.hours(30) + [edge + timedelta(hours=i) for i in range(10)]
    return write_bill(scenario, hours, tmp_path_factory.mktemp("spark-bill"))["cur"]


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory, sandbox_cur: Path) -> dict[str, Path]:
    """Datasets of real layouts: the sandbox's CUR and the refdata files (where present)."""
    root = tmp_path_factory.mktemp("spark-data")
    out = {"sandbox cur": root / "sandbox"}
    load_into([sandbox_cur], out["sandbox cur"])
    for name, relative in (
        ("refdata cur", "focus-converters/sample-anonymous-aws-export-dataset.csv"),
        ("refdata focus", "focus-sample-data/focus_sample.csv"),
    ):
        try:
            path = refdata(relative)
        except pytest.skip.Exception:
            continue
        out[name] = root / name.replace(" ", "-")
        load_into([path], out[name])
    return out


def _same(duck: Any, spark: Any) -> bool:
    if hasattr(duck, "rows"):
        return bool(duck.columns == spark.columns and duck.rows == spark.rows)
    return bool(duck == spark)


@pytest.mark.parametrize("analysis", list(ANALYSES))
def test_every_analysis_on_spark_equals_duckdb(spark: Any, datasets: dict[str, Path], analysis: str) -> None:
    call = ANALYSES[analysis]
    checked = 0
    for name, path in datasets.items():
        with load(path) as duck, open_dataset(path, spark=spark) as sbill:
            expected, got = call(duck), call(sbill)
            assert _same(expected, got), f"{analysis} on {name}:\nduckdb {expected!r}\nspark  {got!r}"
            if hasattr(expected, "rows"):
                checked += len(expected.rows)
    if analysis not in ("periods", "rows", "usage_until", "total billed", "total effective"):
        assert checked > 0, f"{analysis} returned no rows on any dataset: the comparison would prove nothing"


def test_the_sandbox_month_over_month_is_like_for_like_on_both(spark: Any, datasets: dict[str, Path]) -> None:
    path = datasets["sandbox cur"]
    with load(path) as duck, open_dataset(path, spark=spark) as sbill:
        a, b = duck.month_over_month(), sbill.month_over_month()
    assert a.attrs["comparison"]["like_for_like"] and a.attrs == b.attrs
    assert a.columns[-4:-2] == ["2026-11-01..2026-11-01", "2026-12-01..2026-12-01"]
    assert sum(r["Change"] for r in a) == sum(r["Change"] for r in b) != 0


def test_the_cost_cube_scanned_by_spark_answers_as_duckdb_s(spark: Any, datasets: dict[str, Path]) -> None:
    """The cost report's sections ask the cube; a cube scanned by Spark holds the same rows as DuckDB's."""
    path = datasets["sandbox cur"]
    start, end = date(2026, 11, 1), date(2026, 12, 2)
    with (
        load(path) as duck,
        open_dataset(path, spark=spark) as sbill,
        CostCube.from_bill(duck, start, end, [TAG]) as a,
        CostCube.from_bill(sbill, start, end, [TAG]) as b,
    ):
        query = "SELECT * FROM cost_cube ORDER BY ALL"
        rows_a, rows_b = a.con.execute(query).fetchall(), b.con.execute(query).fetchall()
        assert rows_a == rows_b and len(rows_a) > 100
        scope = Scope.of(None)
        totals = a.totals(scope, start, end, "EffectiveCost")
        assert totals == b.totals(scope, start, end, "EffectiveCost") and totals["USD"] > 0
        assert a.as_of() == b.as_of() is not None
        assert b.source.endswith("(spark)")


def test_an_s3_dataset_on_spark_through_the_cache(spark: Any, sandbox_cur: Path, aws: Any) -> None:
    from awscost.billing.s3 import client

    s3 = client()
    s3.create_bucket(Bucket="spark-bills")
    url = "s3://spark-bills/billing/"
    load_into([sandbox_cur], url)
    paths = dataset_paths(url)
    assert paths and all(Path(p).is_file() for p in paths)  # the manifest's objects, downloaded
    direct = dataset_paths(url, direct=True, scheme="s3a")
    assert len(direct) == len(paths) and all(
        p.startswith("s3a://spark-bills/billing/x_BillingPeriod=") for p in direct
    )
    with load(url) as duck, open_dataset(url, spark=spark) as sbill:
        assert duck.summary() == sbill.summary()


def test_a_missing_map_key_is_null_on_spark_as_on_duckdb(spark: Any, datasets: dict[str, Path]) -> None:
    """Spark 4's ANSI mode (on by default) still gives NULL for a missing map key, so `Tags['k']` needs no
    rewrite for Spark (Trino's does: tests/test_portable.py)."""
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    query = "SELECT count(*) AS n FROM billing WHERE Tags['no-such-key'] IS NULL"
    with load(datasets["sandbox cur"]) as duck, open_dataset(datasets["sandbox cur"], spark=spark) as sbill:
        assert sbill.sql(query) == duck.sql(query) and sbill.sql(query).rows[0][0] == sbill.rows() > 0


def test_spark_errors_are_input_errors(spark: Any, datasets: dict[str, Path], tmp_path: Path) -> None:
    with open_dataset(datasets["sandbox cur"], spark=spark) as sbill:
        with pytest.raises(InputError, match=r"spark: .*no_such_column"):
            sbill.sql("SELECT no_such_column FROM billing")
        with pytest.raises(InputError, match="unknown column 'Nope'"):
            sbill.summary(where="Nope = 1")
        for statement in ("DROP TABLE billing", "SELECT 1; DROP TABLE billing"):
            with pytest.raises(InputError, match="one SELECT"):
                sbill.sql(statement)
        for query, says in (
            ("SELECT reflect('java.lang.System', 'getProperty', 'user.name') AS u", "function not allowed"),
            ("SELECT * FROM information_schema.tables", "of the table billing only"),
            ("SELECT * FROM read_parquet('/etc/passwd')", "of the table billing only"),
            ("SELECT * FROM other_table", "of the table billing only"),
        ):
            with pytest.raises(InputError, match=says):
                sbill.sql(query)
        assert sbill.sql("SELECT count(*) AS n FROM billing").rows == [(sbill.rows(),)]
        assert sbill.sql("WITH b AS (SELECT BilledCost FROM billing) SELECT count(*) AS n FROM b").rows == [
            (sbill.rows(),)
        ]
    with pytest.raises(InputError, match="not an awscost billing dataset"):
        open_dataset(tmp_path, spark=spark)
    empty = SparkBill(spark, [], source="empty")
    assert empty.rows() == 0 and len(empty.summary()) == 0


def test_spark_settings_are_checked() -> None:
    ok = Settings(raw={"billing": {"spark": {"master": "local[4]", "conf": {"spark.driver.memory": "2g"}}}})
    assert SparkOptions.from_settings(ok) == SparkOptions(
        master="local[4]", conf={"spark.driver.memory": "2g"}
    )
    for raw, message in (
        ({"mastr": "x"}, "unknown key"),
        ({"master": ""}, "master must be"),
        ({"direct": "yes"}, "direct must be"),
        ({"scheme": "gs"}, "scheme must be"),
    ):
        with pytest.raises(ConfigError, match=message):
            SparkOptions.from_settings(Settings(raw={"billing": {"spark": raw}}))


def test_the_command_line_runs_an_analysis_on_spark(spark: Any, datasets: dict[str, Path]) -> None:
    """`--engine spark` prints the figures DuckDB prints (the session is the test's: getOrCreate reuses it)."""
    import json

    from click.testing import CliRunner

    from awscost.entrypoints.cli import cli

    path = str(datasets["sandbox cur"])

    def run(*args: str) -> Any:
        result = CliRunner().invoke(
            cli, [*args, "--dataset", path, "--format", "json"], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    for command in (
        ["billing", "summary", "--by", "ServiceName"],
        ["billing", "mom"],
        ["billing", "commitments"],
    ):
        duck, on_spark = run(*command), run(*command, "--engine", "spark")
        assert duck == on_spark and duck, command
    refused = CliRunner().invoke(cli, ["billing", "top", path, "--engine", "spark"])
    assert isinstance(refused.exception, InputError) and refused.exception.param == "engine"
    assert "spark reads a dataset, not billing files" in str(refused.exception)


def test_the_cost_report_on_spark_is_the_report_on_duckdb(
    spark: Any, datasets: dict[str, Path], tmp_path: Path, aws: Any
) -> None:
    """The report job with engine=spark: its cube scanned by Spark, every section and figure the same."""
    from dataclasses import replace

    from awscost.jobs import Context, run_job
    from awscost.jobs.report import Params

    report = {"audience": [{"name": "managers", "recipients": ["cto@example.com"], "accounts": "all"}]}
    settings = replace(Settings(store=f"sqlite:///{tmp_path / 's.db'}"), raw={"report": report})
    documents = []
    for engine in ("duckdb", "spark"):
        params = Params(
            dataset=str(datasets["sandbox cur"]),
            period="2026-11-02..2026-11-02",
            audience="managers",
            today=date(2026, 11, 3),
            engine=engine,
        )
        (item,) = run_job("report", Context(settings), params).reports
        assert item.error is None
        documents.append(item.document)
    duck, on_spark = documents
    assert duck is not None and on_spark is not None
    # Where the figures came from differs, and says so; every figure and section is the same.
    assert on_spark.pop("source") == duck.pop("source") + " (spark)"
    for doc in (duck, on_spark):
        doc.pop("generated_at", None)
    assert duck["total"] == on_spark["total"] and Decimal(duck["total"]["cost"]) > 0
    assert duck == on_spark and len(duck) > 10
    with pytest.raises(InputError, match="the spark engine reads a billing dataset"):
        Params(files=("x.csv",), engine="spark")


def test_the_period_floor_drops_no_row_of_the_days_asked(spark: Any, tmp_path: Path) -> None:
    """A report's scan reads from the month before its first day (analyses.period_floor): on a dataset
    with an older month, the cube holds exactly the rows of its days, on DuckDB and Spark alike."""
    scenario = default_scenario()
    september = [datetime(2026, 9, 10, h, tzinfo=UTC) for h in range(6)]
    november = [datetime(2026, 11, 2, h, tzinfo=UTC) for h in range(6)]
    cur = write_bill(scenario, september + november, tmp_path / "bill")["cur"]
    load_into([cur], tmp_path / "ds")
    start, end = date(2026, 11, 1), date(2026, 11, 3)
    with load(tmp_path / "ds") as duck, open_dataset(tmp_path / "ds", spark=spark) as sbill:
        assert duck.periods() == ["2026-09", "2026-11"]
        direct = duck.sql(
            "SELECT sum(EffectiveCost) AS c FROM billing "
            "WHERE ChargePeriodStart >= TIMESTAMP '2026-11-01' AND ChargePeriodStart < TIMESTAMP '2026-11-03'"
        ).rows[0][0]
        for bill in (duck, sbill):
            with CostCube.from_bill(bill, start, end) as cube:
                assert cube.totals(Scope.of(None), start, end, "EffectiveCost") == {"USD": direct}
        assert duck.commitments(start=start, end=end, by_account=True) == sbill.commitments(
            start=start, end=end, by_account=True
        )
        mom = duck.month_over_month(by=["BillingCurrency"])
        assert mom.columns[0] == "BillingCurrency" and mom == sbill.month_over_month(by=["BillingCurrency"])


def test_anomalies_scanned_on_spark_are_duckdbs(spark: Any, tmp_path: Path) -> None:
    """The detector's series and each event's drill-down asked of Spark: the same events, explained alike."""
    import anomaly_bills as ab
    from awscost.anomalies.bill import scan

    load_into([ab.write(tmp_path)], tmp_path / "ds")
    with load(tmp_path / "ds") as duck, open_dataset(tmp_path / "ds", spark=spark) as sbill:
        a, b = scan(duck, tag_keys=[ab.TAG]), scan(sbill, tag_keys=[ab.TAG])
    assert a == b and len(a.anomalies) == 1 and "38 × r6g.2xlarge" in a.anomalies[0].explanation
