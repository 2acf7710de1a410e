"""`awscost billing`: load bills of any AWS format into one table and run the weekly FinOps analyses.

Each command reads billing files (PATH..., any format, auto-detected; local or `s3://bucket/prefix`, reached
with the [billing.s3] settings of --config) or a dataset made by `billing load --into DIR` (--dataset DIR),
and prints a table, JSON or CSV. Money is printed exactly as summed. A billing
account's month given in two formats is refused unless --prefer names the format to keep.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from awscost.core.config import Settings, load_settings
from awscost.core.errors import InputError
from awscost.core.output import emit
from awscost.entrypoints.cli._common import (
    DatasetLocation,
    csv_list,
    format_option,
    job_context,
    prefer_option,
    run_job,
    with_config,
)

if TYPE_CHECKING:
    from awscost.billing.analyses import Analyses
    from awscost.billing.frame import Frame

METRIC_CHOICE = click.Choice(["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"])
# A billing PATH stays a string: `s3://bucket/prefix` as a Path would lose its '//'.
BILL_PATH = click.Path()


def source_options(func: Any) -> Any:
    """PATH... (or --dataset), --prefer and --config; the command is called with `settings`."""
    func = with_config(func)
    func = click.option(
        "--dataset",
        type=DatasetLocation(),
        default=None,
        help="A dataset made by `awscost billing load --into` (a directory or s3://BUCKET/PREFIX/).",
    )(func)
    func = prefer_option(func)
    func = click.argument("paths", nargs=-1, type=BILL_PATH)(func)
    return func


def engine_option(func: Any) -> Any:
    """--engine: where an analysis runs; the same query, rendered for it (billing/portable.py)."""
    return click.option(
        "--engine",
        type=click.Choice(["duckdb", "spark", "athena"]),
        default="duckdb",
        show_default=True,
        help="duckdb (here), spark ([billing.spark]) or athena ([billing.athena]; the table over an S3 "
        "--dataset made by `billing athena-ddl`). The same query on each; spark and athena read a --dataset.",
    )(func)


def _s3_options(settings: Settings | None, paths: tuple[str, ...]) -> Any:
    """[billing.s3] of the settings, read only when a path is in S3."""
    from awscost.billing.s3 import S3Options, is_s3

    if not any(is_s3(p) for p in paths):
        return None
    return S3Options.from_settings(settings or load_settings(None))


@contextmanager
def open_bill(
    paths: tuple[str, ...],
    dataset: Path | str | None,
    prefer: str | None = None,
    *,
    materialize: bool = False,
    settings: Settings | None = None,
    engine: str = "duckdb",
) -> Iterator[Analyses]:
    from awscost.billing.bill import load
    from awscost.billing.dataset import recover
    from awscost.billing.s3 import S3Options, is_s3
    from awscost.billing.sources import is_dataset

    if dataset is not None and paths:
        raise InputError("give billing files or --dataset, not both", where="PATH")
    if dataset is not None and prefer is not None:
        raise InputError(
            "a dataset holds each month once already; --prefer is for billing files", param="prefer"
        )
    bill: Analyses
    if engine != "duckdb":
        bill = _engine_bill(engine, dataset, settings)
    elif is_s3(dataset):  # [billing.s3] of the default config (AWSCOST_CONFIG, ./awscost.toml) reaches it
        bill = load(
            str(dataset),
            materialize=materialize or None,
            s3_options=S3Options.from_settings(settings or load_settings()),
        )
    elif isinstance(dataset, Path):
        recover(dataset)  # a load killed between its swap's renames left the dataset beside its path
        if not is_dataset(dataset):
            raise InputError(
                "not an awscost billing dataset (run `awscost billing load --into`)", where=str(dataset)
            )
        bill = load(dataset, materialize=materialize or None)
    elif paths:
        # One-shot commands stream the files once instead of converting them first; a command running many
        # queries (conform) copies them once.
        bill = load(
            list(paths), materialize=materialize, prefer=prefer, s3_options=_s3_options(settings, paths)
        )
    else:
        raise InputError(
            "no billing files given", where="PATH", hint="pass files/directories or --dataset DIR"
        )
    try:
        yield bill
    finally:
        bill.close()


def _engine_bill(engine: str, dataset: Path | str | None, settings: Settings | None) -> Analyses:
    """The dataset on another engine than DuckDB (billing/engines.py): files are loaded into a dataset first."""
    from awscost.billing.engines import open_bill as open_on

    if dataset is None:
        raise InputError(
            f"{engine} reads a dataset, not billing files",
            param="engine",
            hint="load the files first: awscost billing load PATH... --into DIR, then --dataset DIR",
        )
    return open_on(engine, dataset, settings or load_settings())


def show(frame: Frame, fmt: str, title: str) -> None:
    """Print an analysis' rows as they are (NULL is None; money Decimal): no DataFrame on the way."""
    emit(frame, fmt, columns=frame.columns, title=title)


def _percent(share: Any) -> str | None:
    """A 0-1 Decimal share as a percentage for the table format, e.g. 0.8625 -> "86.25 %"."""
    if share is None:
        return None
    return f"{Decimal(share) * 100:.2f} %"


@click.group()
def billing() -> None:
    """Billing files (legacy CUR, CUR 2.0, FOCUS, DBR) as one fast table: load, summarize, query."""


@billing.command("load")
@click.argument("paths", nargs=-1, required=True, type=BILL_PATH)
@click.option(
    "--into",
    type=DatasetLocation(),
    required=True,
    help="Dataset directory or s3://BUCKET/PREFIX/ (parquet by billing period); periods loaded again are "
    "replaced.",
)
@prefer_option
@format_option()
@with_config
def load_cmd(
    settings: Settings, paths: tuple[str, ...], into: Path | str, prefer: str | None, fmt: str
) -> None:
    """Load billing files, directories or CUR manifests into a dataset (atomic; re-delivery replaces).

    PATHS may be s3://bucket/prefix/: legacy CUR reports, CUR 2.0 / FOCUS data exports or plain objects,
    read with [billing.s3] of --config (role_arn, external_id, region). From S3 only the billing periods
    whose newest delivery the dataset does not hold yet are read.

    A month the dataset holds from another format (or that two of the files hold) is refused unless
    --prefer names the format to keep."""
    from awscost.jobs.billing_load import Params

    params = Params(paths=tuple(paths), into=str(into), prefer=prefer)
    with job_context(settings, "loading") as ctx:
        result = run_job("billing_load", ctx, params)
    for line in result.warnings:
        click.echo(f"awscost: warning: {line}", err=True)
    if result.nothing_new:
        held = f" (periods {', '.join(result.unchanged)} are loaded already)" if result.unchanged else ""
        click.echo(f"nothing new{held}", err=True)
    rows = [
        {"BillingPeriod": p.period, "Rows": p.rows, "BilledCost": p.billed_cost, "Sources": p.sources}
        for p in result.periods
    ]
    emit(rows, fmt, title=f"dataset {into}")


@billing.command("summary")
@source_options
@click.option(
    "--by", "by", default="SubAccountId,ServiceName", show_default=True, help="Columns, or Tags.KEY."
)
@click.option("--metric", type=METRIC_CHOICE, default="EffectiveCost", show_default=True)
@click.option(
    "--where",
    default=None,
    help="One condition over canonical columns, parsed and checked (never run as text), "
    "e.g. \"ChargeCategory = 'Usage' AND Tags['team'] = 'search'\".",
)
@click.option("--granularity", type=click.Choice(["day", "month"]), default=None)
@format_option()
@engine_option
def summary_cmd(
    settings: Settings,
    paths: tuple[str, ...],
    dataset: Path | None,
    prefer: str | None,
    by: str,
    metric: str,
    where: str | None,
    granularity: str | None,
    fmt: str,
    engine: str,
) -> None:
    """Cost by canonical columns or tag keys.

    PATHS are billing files, directories or CUR manifests (read in one pass), or use --dataset DIR.
    --by takes canonical column names (SubAccountId,ServiceName) or Tags.KEY (Tags.user:Spend_Category).
    """
    with open_bill(paths, dataset, prefer, settings=settings, engine=engine) as bill:
        frame = bill.summary(by=csv_list(by) or [], metric=metric, where=where, granularity=granularity)
        show(frame, fmt, f"{metric} by {by}")


@billing.command("mom")
@source_options
@click.option("--by", "by", default="SubAccountId,ServiceName", show_default=True)
@click.option("--metric", type=METRIC_CHOICE, default="EffectiveCost", show_default=True)
@format_option()
@engine_option
def mom_cmd(
    settings: Settings,
    paths: tuple[str, ...],
    dataset: Path | None,
    prefer: str | None,
    by: str,
    metric: str,
    fmt: str,
    engine: str,
) -> None:
    """Month-over-month change of the last two billing periods.

    When the last period is not complete (the bill holds its first N days), it is compared like for like
    with days 1..N of the previous period; the columns then name the day ranges."""
    with open_bill(paths, dataset, prefer, settings=settings, engine=engine) as bill:
        frame = bill.month_over_month(by=csv_list(by) or [], metric=metric)
    comparison = frame.attrs.get("comparison", {})
    show(frame, fmt, f"{metric} month over month")
    if fmt == "table" and comparison.get("like_for_like"):
        cur, prev = comparison["current"], comparison["previous"]
        click.echo(
            f"note: {cur['period']} is not complete (the bill holds {cur['label']}); compared like for like "
            f"with {prev['label']} of {prev['period']}, not the whole month"
        )


@billing.command("top")
@source_options
@click.option("-n", "--limit", "n", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--metric", type=METRIC_CHOICE, default="EffectiveCost", show_default=True)
@format_option()
@engine_option
def top_cmd(
    settings: Settings,
    paths: tuple[str, ...],
    dataset: Path | None,
    prefer: str | None,
    n: int,
    metric: str,
    fmt: str,
    engine: str,
) -> None:
    """The N most expensive resources."""
    with open_bill(paths, dataset, prefer, settings=settings, engine=engine) as bill:
        show(bill.top_resources(n, metric=metric), fmt, f"top {n} resources")


@billing.command("adjustments")
@source_options
@format_option()
@engine_option
def adjustments_cmd(
    settings: Settings,
    paths: tuple[str, ...],
    dataset: Path | None,
    prefer: str | None,
    fmt: str,
    engine: str,
) -> None:
    """Credits, refunds and tax, apart from usage."""
    with open_bill(paths, dataset, prefer, settings=settings, engine=engine) as bill:
        show(bill.credits_refunds_tax(), fmt, "credits, refunds, tax")


@billing.command("tags")
@source_options
@click.option(
    "--tag", "tag_key", default=None, help="Tag key (default: tag_key of the config, user:Spend_Category)."
)
@click.option("-n", "--limit", "n", default=10, show_default=True, type=click.IntRange(min=0))
@format_option()
@engine_option
def tags_cmd(
    settings: Settings,
    paths: tuple[str, ...],
    dataset: Path | None,
    prefer: str | None,
    tag_key: str | None,
    n: int,
    fmt: str,
    engine: str,
) -> None:
    """Tag coverage by account, then the largest untagged resources."""
    tag_key = tag_key or settings.tag_key
    with open_bill(paths, dataset, prefer, settings=settings, engine=engine) as bill:
        coverage = bill.tag_coverage(tag_key)
        if fmt == "table":  # people read a percentage; json/csv keep the exact 0-1 ratio
            coverage = coverage.with_column(
                "CoverageShare", [_percent(v) for v in coverage.column("CoverageShare")]
            ).rename({"CoverageShare": "Coverage"})
        show(coverage, fmt, f"coverage of {tag_key}")
        if n and fmt == "table":
            show(bill.untagged_resources(tag_key, n), fmt, f"largest resources without {tag_key}")


@billing.command("commitments")
@source_options
@format_option()
@engine_option
def commitments_cmd(
    settings: Settings,
    paths: tuple[str, ...],
    dataset: Path | None,
    prefer: str | None,
    fmt: str,
    engine: str,
) -> None:
    """RI and Savings Plan coverage and utilization by billing period."""
    with open_bill(paths, dataset, prefer, settings=settings, engine=engine) as bill:
        show(bill.commitments(), fmt, "commitments")


@billing.command("query")
@click.argument("sql")
@click.option("--dataset", type=DatasetLocation(), default=None)
@click.option("--file", "files", multiple=True, type=BILL_PATH, help="Billing file (repeatable).")
@prefer_option
@format_option()
@with_config
@engine_option
def query_cmd(
    settings: Settings,
    sql: str,
    dataset: Path | None,
    files: tuple[str, ...],
    prefer: str | None,
    fmt: str,
    engine: str,
) -> None:
    """Run SQL over the table `billing`."""
    with open_bill(files, dataset, prefer, settings=settings, engine=engine) as bill:
        show(bill.sql(sql), fmt, "query")


@billing.command("athena-ddl")
@click.argument("dataset_url", metavar="DATASET_URL")
@click.option(
    "--database", default=None, help="Glue database of the table [default: [billing.athena] database]."
)
@click.option("--table", default=None, help="The table's name [default: [billing.athena] table].")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the DDL to this file instead of printing it.",
)
@click.option(
    "--write-symlinks",
    is_flag=True,
    help="Write the dataset's Athena symlink files first where they differ from its manifest (as each load "
    "does; for a dataset last loaded before awscost wrote them).",
)
@with_config
def athena_ddl_cmd(
    settings: Settings,
    dataset_url: str,
    database: str | None,
    table: str | None,
    out: Path | None,
    write_symlinks: bool,
) -> None:
    """Print the Athena CREATE EXTERNAL TABLE over a billing dataset in S3 (partitions projected by period).

    DATASET_URL is s3://BUCKET/PREFIX/ of `billing load --into`; its manifest is read with [billing.s3] of
    --config. The table reads the period symlink files each load writes under PREFIX/_athena/, so only the
    objects the manifest lists. Run the DDL once in Athena (docs/athena.md says how, and the IAM it needs)."""
    from awscost.billing.athena import AthenaOptions, dataset_ddl
    from awscost.billing.s3 import S3Options

    options = AthenaOptions.from_settings(settings).with_names(database, table)
    ddl = dataset_ddl(dataset_url, options, S3Options.from_settings(settings), write_symlinks=write_symlinks)
    if out is None:
        click.echo(ddl, nl=False)
    else:
        out.write_text(ddl, encoding="utf-8")


@billing.command("conform")
@source_options
@click.option(
    "--model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The FOCUS validator's rules (model-1.2.json of finopsfoundation/focus_validator); without it, "
    "only awscost's own checks run.",
)
@click.option("--all", "show_all", is_flag=True, help="List passing and skipped rules too.")
@format_option()
def conform_cmd(
    settings: Settings,
    paths: tuple[str, ...],
    dataset: Path | None,
    prefer: str | None,
    model: Path | None,
    show_all: bool,
    fmt: str,
) -> None:
    """Check the canonical table against the FOCUS rules; exit 1 when a MUST rule fails."""
    from awscost.billing import conformance
    from awscost.billing.bill import Bill

    rules = conformance.load_model(model) if model is not None else None
    with open_bill(
        paths, dataset, prefer, materialize=True, settings=settings
    ) as bill:  # some 300 queries: read the files once
        assert isinstance(bill, Bill)  # the default engine: the rules read DuckDB's own connection
        results = conformance.check(bill, rules)
    counts = conformance.summary(results)
    shown = [r for r in results if show_all or r.status in ("fail", "warn")]
    rows = [
        {
            "Rule": r.rule,
            "Status": r.status,
            "Keyword": r.keyword,
            "CheckedRows": r.checked_rows,
            "FailedRows": r.failed_rows,
            "Why": r.reason or r.text,
        }
        for r in shown
    ]
    title = ", ".join(f"{v} {k}" for k, v in counts.items())
    emit(rows, fmt, columns=["Rule", "Status", "Keyword", "CheckedRows", "FailedRows", "Why"], title=title)
    if counts["failed"]:
        raise SystemExit(1)
