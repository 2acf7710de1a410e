"""`awscost usage show|export|import|gaps`: read, move and check the collected usage items."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from awscost.core.config import Settings
from awscost.core.errors import InputError
from awscost.core.output import emit
from awscost.core.timeutil import parse_time
from awscost.store import Store, UsageItem, open_store
from awscost.usage.kinds import BACKFILL_KINDS

from ._common import format_option, prefer_option, with_settings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_GAPS_FOUND = 6


def filter_options(func: F) -> F:
    """--kind --account --region --since --until, shared by every command that selects items; the command
    receives them checked, as one `filters` dict of Store.query arguments."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        kind: str | None,
        account: str | None,
        region: str | None,
        since: str | None,
        until: str | None,
        **kwargs: Any,
    ) -> Any:
        return func(*args, filters=_filters(kind, account, region, since, until), **kwargs)

    for option in reversed(
        [
            click.option("--kind", default=None, help="Resource kind, e.g. ec2, rds, ri-ec2."),
            click.option("--account", default=None, help="12-digit account id, or the organization name."),
            click.option("--region", default=None, help="Region, e.g. us-east-1."),
            click.option("--since", default=None, help="First UTC time to include (ISO 8601)."),
            click.option("--until", default=None, help="UTC time to stop before (ISO 8601, exclusive)."),
        ]
    ):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def _is_name(text: str) -> bool:
    """An organization name as written in awsResource: no ':' (the key separator), not all digits."""
    return bool(text) and ":" not in text and not text.isdigit()


def _filters(
    kind: str | None, account: str | None, region: str | None, since: str | None, until: str | None
) -> dict[str, Any]:
    if kind is not None:
        from awscost.usage.kinds import KINDS

        KINDS.get(kind)  # an unknown kind is an error naming the known ones
    if account is not None and not (account.isdigit() and len(account) == 12) and not _is_name(account):
        raise InputError(
            f"{account!r} is neither a 12-digit account id nor an organization name", where="--account"
        )
    start = parse_time(since, where="--since") if since else None
    stop = parse_time(until, where="--until") if until else None
    if start is not None and stop is not None and start >= stop:
        raise InputError(f"--since {since} is not before --until {until}", where="--since/--until")
    return {"kind": kind, "account": account, "region": region, "since": start, "until": stop}


def opened(settings: Settings, *, must_exist: bool = True) -> Store:
    """The settings' store, for a `with` block; read-only commands (the default) never create one, and
    open it read-only (no write on open: no lock waited for, nothing added to a file that is no store)."""
    return open_store(settings.store, must_exist=must_exist, read_only=must_exist)


def compact_usage(usage: dict[str, Any]) -> str:
    """`{"b": 2, "a": 1}` -> `a=1 b=2`: one item per table row stays readable."""
    return " ".join(f"{k}={v}" for k, v in sorted(usage.items()))


def show_rows(items: Iterator[UsageItem], fmt: str) -> Iterator[dict[str, Any]]:
    for item in items:
        if fmt == "table":
            usage = compact_usage(dict(item.usage))
            yield {"awsResource": item.aws_resource, "time": item.time_key, "usage": usage}
        else:
            yield item.to_json()


@click.group()
def usage() -> None:
    """Show, export, import and check the usage items in the store."""


@usage.command()
@filter_options
@format_option()
@with_settings
def show(
    settings: Settings,
    filters: dict[str, Any],
    fmt: str,
) -> None:
    """Print usage items: one row per awsResource and hour, ordered by awsResource then time."""
    with opened(settings) as store:
        n = emit(show_rows(store.query(**filters), fmt), fmt)
    if n == 0 and fmt == "table":
        click.echo("no items match", err=True)


@usage.command()
@filter_options
@format_option(default="jsonl", formats=("jsonl", "json"))
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="File (default stdout).")
@with_settings
def export(
    settings: Settings,
    filters: dict[str, Any],
    fmt: str,
    out_path: str | None,
) -> None:
    """Write items as JSON lines (or a JSON array): {"awsResource": ..., "time": ..., "usage": {...}}."""
    from awscost.usage.transfer import export_items

    with opened(settings) as store:
        if out_path is None:
            export_items(store.query(**filters), sys.stdout, fmt)
            return
        try:
            with open(out_path, "w", encoding="utf-8") as out:
                n = export_items(store.query(**filters), out, fmt)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", where=out_path) from None
    click.echo(f"exported {n} items to {out_path}", err=True)


@usage.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
@with_settings
def import_(settings: Settings, file: str, dry_run: bool) -> None:
    """Load items from FILE (`-` = stdin): JSON lines, a JSON array, or `aws dynamodb scan --output json`.

    Items of the original AwsCost system (`node_types`, `time` as %Y%m%d-%H US/Pacific) are converted:
    the UTC hour is computed, OS `sles` becomes `suse`, reservation product descriptions become the OS
    short names (linux, windows, rhel, suse) and a Multi-AZ suffix becomes the `multi_az-` prefix. Items
    without a usage map (the original's `state` item) are skipped and counted. Everything is validated
    before anything is written: a bad record stops the import, naming its file and line.
    """
    from awscost.store import check_url
    from awscost.usage.transfer import read_items, write_items

    check_url(settings.store)  # a bad --store is named before the input is read
    result = read_items(file)  # the whole file checked before the store is opened (or created)
    if not dry_run:
        with opened(settings, must_exist=False) as store:
            write_items(store, result)
    click.echo(f"read {result.records} records from {result.source}")
    verb = "would import" if dry_run else "imported"
    extra = f" ({result.legacy} converted from the original format)" if result.legacy else ""
    click.echo(f"{verb} {len(result.items)} items{extra}")
    if result.duplicates:
        click.echo(f"duplicate keys: {result.duplicates} (the later record kept)")
    for reason, n in sorted(result.skipped.items()):
        click.echo(f"skipped {n}: {reason}, e.g. {result.skipped_examples[reason]!r}")
    for rule, n in sorted(result.normalised.items()):
        click.echo(f"normalised {n} usage keys: {rule}")


@usage.command()
@filter_options
@click.option(
    "--expected",
    type=click.Choice(["hourly", "daily"]),
    default="hourly",
    show_default=True,
    help="Cadence for kinds the catalog does not know (es, redshift, ri-* and ce-* are always daily).",
)
@click.option("--fail-on-gaps", is_flag=True, help=f"Exit {EXIT_GAPS_FOUND} when any gap is found.")
@format_option()
@with_settings
def gaps(
    settings: Settings,
    filters: dict[str, Any],
    expected: str,
    fail_on_gaps: bool,
    fmt: str,
) -> None:
    """List missing hours (days for daily kinds) per awsResource, as ranges [from, until).

    Without --since/--until each resource is checked between its first and last sample.
    """
    from awscost.usage.gaps import find_gaps

    with opened(settings) as store:
        found = find_gaps(store, expected=expected, **filters)
    columns = ["awsResource", "cadence", "from", "until", "missing"]
    if found or fmt != "table":
        emit((g.to_row() for g in found), fmt, columns=columns)
    if fmt == "table":
        total = sum(g.missing for g in found)
        click.echo(f"{len(found)} gaps, {total} periods missing" if found else "no gaps", err=True)
    if found and fail_on_gaps:
        raise click.exceptions.Exit(EXIT_GAPS_FOUND)


@usage.command()
@click.option(
    "--from-billing",
    "dataset",
    required=True,
    type=click.Path(exists=True),
    help="A billing dataset (awscost billing load --into DIR) or billing files.",
)
@click.option(
    "--kinds",
    default=None,
    help=f"Comma list of kinds (default: {','.join(BACKFILL_KINDS)}).",
)
@click.option("--since", default=None, help="First hour to rebuild (ISO time).")
@click.option("--until", default=None, help="Hour to stop before (ISO time).")
@prefer_option
@format_option()
@with_settings
def backfill(
    settings: Settings,
    dataset: str,
    kinds: str | None,
    since: str | None,
    until: str | None,
    prefer: str | None,
    fmt: str,
) -> None:
    """Rebuild hourly usage items from a bill's usage lines: history on day one.

    Hours (days for es/redshift) that were collected live are never overwritten. Backfilled items carry
    attrs source=billing. Usage types of these products that the backfill does not map are listed.
    """
    from awscost.core.timeutil import parse_hour
    from awscost.usage.backfill import backfill_from_billing

    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else BACKFILL_KINDS
    unknown = sorted(set(chosen) - set(BACKFILL_KINDS))
    if unknown:
        raise click.BadParameter(f"cannot backfill {', '.join(unknown)}; known: {', '.join(BACKFILL_KINDS)}")
    with opened(settings, must_exist=False) as store:
        result = backfill_from_billing(
            dataset,
            store,
            org_name=settings.org_name,
            kinds=chosen,
            since=parse_hour(since, where="--since") if since else None,
            until=parse_hour(until, where="--until") if until else None,
            prefer=prefer,
        )
    rows = [{"kind": k, "items_written": n} for k, n in sorted(result.by_kind.items())]
    emit(rows, fmt, columns=["kind", "items_written"])
    click.echo(
        f"{result.written} items written, {result.skipped_collected} left as collected"
        + (
            f", hours {result.first_hour:%Y-%m-%dT%H}Z..{result.last_hour:%Y-%m-%dT%H}Z"
            if result.first_hour
            else ""
        ),
        err=True,
    )
    for usage_type, n in result.unrecognized.most_common(10):
        click.echo(f"not mapped: {usage_type} ({n} lines)", err=True)
