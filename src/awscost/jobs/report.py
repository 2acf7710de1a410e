"""Job `report` (B): the cost reports of the configured audiences, from the bill or Cost Explorer, rendered to
HTML mail, XLSX and JSON, written to a folder, archived in S3 and mailed (SES or SMTP); with
`publish_dashboard`, each audience's dashboard set goes beside its archive and its presigned link in its mail.

The bill is scanned once into a cost cube for every audience (billing/cube.py); Cost Explorer is asked once
per distinct scope, its calls cached. Each audience is rendered completely before anything of it is sent;
one audience (or recipient) that fails is reported and never stops the others. The scheduled run (`due`)
sends what is due today: daily audiences every day (month-to-date), weekly on Mondays (last week), monthly on
the 1st (last month). Needs the `reports` and `billing` extras.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from awscost.core.config import ACCOUNT_ID, REGION
from awscost.core.errors import AwsCostError, InputError, ReportError
from awscost.jobs.base import Context, Job, Rule

# AWS allows letters, digits, spaces and + - = . _ : / @ in a tag key, up to 128 characters.
TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")
Source = Literal["billing", "ce"]
FORECAST_HISTORY_DAYS = 56  # eight weeks of daily history behind a month-end forecast


@dataclass(frozen=True)
class Params:
    audience: str | None = None  # one configured audience; None: the organization (or all/due below)
    all_audiences: bool = False
    due: bool = False  # the scheduled run: the audiences whose schedule is due today
    period: str | None = None  # None: each audience's schedule's natural period (organization: month-to-date)
    source: Source = "billing"
    dataset: str | None = None
    files: tuple[str, ...] = ()
    metric: str | None = None  # overrides the audiences' metric
    out: str | None = None  # folder for <audience>/<period>/cost-report.{html,xlsx,json}
    send: bool = False
    archive: bool = False
    resend: bool = False
    dry_run: bool = False
    today: date | None = None  # the UTC day of the run (default: the clock's)
    # Where the bill is asked (billing/engines.py): duckdb here, or spark / athena over the --dataset, for a
    # bill bigger than this machine (docs/scaling.md). The cube's one scan runs there; the rest is local.
    engine: str = "duckdb"
    # Narrow each audience to these of its accounts (a dashboard's or a Slack question's filter): never wider
    # than the audience; an account outside it is an error, not an empty report.
    accounts: tuple[str, ...] = ()
    # Narrow it further to the bill's rows of these regions (and the store's items of them): a viewer's filter
    # only, never an audience's scope. Rows without a region (tax, Savings Plans fees, global services) drop.
    regions: tuple[str, ...] = ()
    # The tag the Tags section measures (coverage, cost per value, untagged) instead of [report] tag_key: a
    # Slack `cost by tag KEY` question; any key of the bill (`user:team`, or CUR 2.0's normalized form).
    tag_key: str | None = None
    # False: build the reports and keep each one's model (AudienceResult.report) without rendering any file,
    # for a front end that shows it its own way (the dashboard); nothing is written, sent or archived.
    render: bool = True
    # Put each audience's dashboard set (reports/dashboard: the pages of `awscost dashboard export`, its
    # audience's alone) beside its archive in the [report] bucket, private, and its presigned link in the mail
    # (valid dashboard_link_days, 1..7; no longer than the signing credentials: docs/dashboard.md).
    publish_dashboard: bool = False
    dashboard_link_days: int = 7

    def __post_init__(self) -> None:
        from awscost.reports.deliver.dashboard import check_days

        check_days(self.dashboard_link_days)
        for account in self.accounts:
            if not ACCOUNT_ID.match(account):
                raise InputError(f"account id {account!r} is not 12 digits", param="accounts")
        if self.tag_key is not None and not TAG_KEY.match(self.tag_key):
            raise InputError(
                f"not a tag key: {self.tag_key!r}", param="tag_key", hint="e.g. user:Spend_Category"
            )
        for region in self.regions:
            if not REGION.match(region):
                raise InputError(f"not an AWS region: {region!r}", param="regions", hint="e.g. us-east-1")
        if not self.render and (
            self.out or self.send or self.archive or self.dry_run or self.publish_dashboard
        ):
            raise InputError(
                "a report that is not rendered cannot be written, sent or archived", param="render"
            )
        if sum((self.audience is not None, self.all_audiences, self.due)) > 1:
            raise InputError("give one of an audience, all audiences or the due ones", param="audience")
        if self.source == "billing" and not self.dataset and not self.files:
            raise InputError(
                "no billing data given", param="dataset", hint="--dataset DIR or --file PATH (or --source ce)"
            )
        if self.engine != "duckdb":
            from awscost.billing.portable import check_engine

            check_engine(self.engine)
            if self.source != "billing" or not self.dataset or self.files:
                raise InputError(
                    f"the {self.engine} engine reads a billing dataset",
                    param="engine",
                    hint="--dataset DIR|s3://...",
                )
        if self.metric is not None and self.metric not in ("EffectiveCost", "BilledCost"):
            raise InputError(
                f"unknown metric {self.metric!r}", param="metric", hint="EffectiveCost or BilledCost"
            )


@dataclass
class AudienceResult:
    audience: str
    period: str
    headline: str | None = None
    document: dict[str, Any] | None = None
    paths: dict[str, str] = field(default_factory=dict)
    delivery: dict[str, Any] | None = None
    error: str | None = None
    report: Any = None  # the model (reports.model.Report), kept when the job is asked not to render

    def to_json(self) -> dict[str, Any]:
        return {
            "audience": self.audience,
            "period": self.period,
            "headline": self.headline,
            "paths": self.paths,
            "delivery": self.delivery,
            "error": self.error,
        }


@dataclass
class Result:
    reports: list[AudienceResult]
    source: str
    cube_rows: int = 0

    @property
    def failed(self) -> list[AudienceResult]:
        return [r for r in self.reports if r.error]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "cube_rows": self.cube_rows,
            "reports": [r.to_json() for r in self.reports],
            "failed": len(self.failed),
            # As the collector's: one entry per failed unit (here an audience), logged one line each in Lambda.
            "failures": [{"audience": r.audience, "period": r.period, "error": r.error} for r in self.failed],
        }


def _audiences(ctx: Context, params: Params, today: date) -> tuple[Any, list[Any]]:
    from awscost.reports.config import organization_audience, report_settings
    from awscost.reports.periods import is_due

    settings = report_settings(ctx.settings)
    if params.audience is not None:
        chosen = [settings.audience(params.audience)]
    elif params.all_audiences:
        chosen = list(settings.audiences)
    elif params.due:
        chosen = [a for a in settings.audiences if is_due(a.schedule, today)]
    else:
        chosen = [organization_audience()]
    if params.metric:
        chosen = [replace(a, metric=params.metric) for a in chosen]
    return settings, chosen


def _spec(params: Params, audience: Any) -> str:
    from awscost.reports.config import ORG_AUDIENCE
    from awscost.reports.periods import SCHEDULE_PERIOD

    if params.period:
        return params.period
    if audience.name == ORG_AUDIENCE and not audience.recipients:
        return "month-to-date"
    return SCHEDULE_PERIOD[audience.schedule]


def _org_units(ctx: Context) -> Any:
    """OU id -> its accounts (recursively), through Organizations; asked once per OU."""
    from awscost.aws.accounts import accounts_of_ou

    cache: dict[str, list[str]] = {}

    def resolve(unit: str) -> list[str]:
        if unit not in cache:
            cache[unit] = accounts_of_ou(ctx.session(), unit)
        return cache[unit]

    return resolve


def _names(ctx: Context, cube: Any) -> dict[str, str]:
    """Account names: [accounts.names], else Organizations' (when it can be asked), else the bill's."""
    from awscost.aws.accounts import organization_names

    names = dict(cube.account_names())
    names.update(organization_names(ctx.session()))
    names.update(ctx.settings.account_names)
    return names


def run(ctx: Context, params: Params) -> Result:
    from awscost.billing.cube import CostCube
    from awscost.reports.cost_report import build_report, scope_of
    from awscost.reports.periods import resolve
    from awscost.reports.sections.commitments import from_bill as commitments_of

    today = params.today or ctx.now().date()
    report_settings, audiences = _audiences(ctx, params, today)
    if params.tag_key is not None:
        report_settings = replace(report_settings, tag_key=params.tag_key)
    if not audiences:
        return Result([], source=params.source)
    tag_keys = [report_settings.tag_key, *(k for a in audiences for k in a.tags)]
    org_units = _org_units(ctx)
    saved = _saved_results(ctx)
    budgets = _budgets(ctx)
    results: list[AudienceResult] = []
    if params.source == "billing":
        from awscost.billing.engines import open_source

        # A dataset in S3 (what the deployed billing ingest writes) is reached with [billing.s3].
        with open_source(params.engine, params.dataset, params.files, ctx.settings) as bill:
            until = bill.usage_until()
            covered = until.date() if until is not None else today
            comparisons = {
                a.name: resolve(_spec(params, a), today=today, covered_until=covered) for a in audiences
            }
            lo = min(c.previous.start for c in comparisons.values()) - timedelta(days=FORECAST_HISTORY_DAYS)
            hi = max(c.current.end for c in comparisons.values())
            with CostCube.from_bill(bill, lo, hi, tag_keys) as cube:
                names = _names(ctx, cube)
                commitments = commitments_of(bill)
                for audience in audiences:
                    results.append(
                        _one(
                            ctx,
                            params,
                            report_settings,
                            audience,
                            comparisons[audience.name],
                            cube,
                            names,
                            org_units,
                            saved,
                            build_report,
                            scope_of,
                            commitments=commitments,
                            budgets=budgets,
                        )
                    )
                rows = cube.rows()
        paths = [params.dataset] if params.dataset else list(params.files)
        return Result(results, source=f"billing {', '.join(str(p) for p in paths)}", cube_rows=rows)
    from awscost.aws.session import client
    from awscost.reports.cost_explorer import CostExplorerSource

    # Cost Explorer's endpoint is us-east-1 whatever the region; identical requests are asked once a run.
    source = CostExplorerSource(client(ctx.session(), "ce", "us-east-1"))
    for audience in audiences:
        try:
            scope = scope_of(audience, org_units)
            comparison = resolve(_spec(params, audience), today=today, covered_until=today)
            start = comparison.previous.start - timedelta(days=FORECAST_HISTORY_DAYS)
            costs = source.fetch_costs(
                start,
                comparison.current.end,
                metric=audience.metric,
                accounts=scope.accounts,
                tags=dict(scope.tags),
                tag_key=report_settings.tag_key,
            )
        except AwsCostError as exc:
            results.append(AudienceResult(audience.name, params.period or "", error=exc.render()))
            continue
        with costs.cube() as cube:
            names = _names(ctx, cube)
            results.append(
                _one(
                    ctx,
                    params,
                    report_settings,
                    audience,
                    comparison,
                    cube,
                    names,
                    org_units,
                    saved,
                    build_report,
                    scope_of,
                    forecast=_ce_forecast(source, today),
                    prefiltered=True,
                    budgets=budgets,
                )
            )
    return Result(results, source="Cost Explorer GetCostAndUsage")


def _ce_forecast(source: Any, today: date) -> Any:
    """Cost Explorer's own month-end forecast (GetCostForecast) for a month-to-date report of every
    account: the month so far from its answers plus its forecast of the days left."""
    from decimal import Decimal

    def forecast(sctx: Any) -> dict[str, Any] | None:
        period = sctx.comparison.current
        month_start = period.last_day.replace(day=1)
        month_end = (month_start + timedelta(days=32)).replace(day=1)
        if period.start != month_start or period.end >= month_end or sctx.scope != type(sctx.scope)():
            return None  # a closed period, or a scope GetCostForecast is not asked for
        actual = sctx.cube.totals(sctx.scope, month_start, period.end, sctx.metric).get(
            sctx.currency, Decimal(0)
        )
        mean, low, high = source.forecast(max(today, period.end), month_end, sctx.metric)
        return {
            "month": f"{month_start:%Y-%m}",
            "total": actual + mean,
            "low": actual + low,
            "high": actual + high,
            "level": 0.8,
            "method": "GetCostForecast of the days left, added to the month so far",
            "source": "Cost Explorer forecast",
        }

    return forecast


def _budgets(ctx: Context) -> Any:
    """audience name -> a callable giving its budgets for the cost section ([budgets] of the config; the
    amounts from AWS Budgets when report_source = "aws", asked once a run and only when a report shows them)."""
    cache: dict[str, Any] = {}

    def of(audience: str) -> Any:
        def budgets() -> Any:
            from awscost.reports import budgets as module

            if "config" not in cache:
                cache["config"] = module.budget_settings(ctx.settings)
            config = cache["config"]
            if not config.entries:
                return ()
            amounts = None
            if config.report_source == "aws":
                if "amounts" not in cache:
                    from awscost.aws.accounts import caller_account

                    session = ctx.session()
                    client = module.budgets_client(session)
                    cache["amounts"] = module.held_amounts(client, caller_account(session))
                amounts = cache["amounts"]
            return module.report_budgets(config, audience, amounts)

        return budgets

    return of


def _saved_results(ctx: Context) -> Any:
    from awscost.jobs.results import latest_result

    cache: dict[str, Any] = {}

    def saved(job: str) -> Any:
        if job not in cache:
            with ctx.optional_store() as store:
                cache[job] = latest_result(store, job) if store is not None else None
        return cache[job]

    return saved


def _one(
    ctx: Context,
    params: Params,
    report_settings: Any,
    audience: Any,
    comparison: Any,
    cube: Any,
    names: dict[str, str],
    org_units: Any,
    saved: Any,
    build_report: Any,
    scope_of: Any,
    forecast: Any = None,
    prefiltered: bool = False,
    commitments: Any = None,
    budgets: Any = None,
) -> AudienceResult:
    """Build, render, write, archive and mail one audience's report; an error is this audience's alone."""
    from awscost.reports.forecasting import bill_forecast

    out = AudienceResult(audience.name, comparison.current.label)
    try:
        scope = scope_of(audience, org_units)
        if prefiltered:
            # Cost Explorer was asked with the audience's tag filter: its rows carry no tag values to filter.
            scope = replace(scope, tags=())
        if params.accounts:
            outside = sorted(set(params.accounts) - scope.accounts) if scope.accounts is not None else []
            if outside:
                raise InputError(
                    f"account {', '.join(outside)} is not in the audience {audience.name}", param="accounts"
                )
            scope = replace(scope, accounts=frozenset(params.accounts))
        if params.regions:
            scope = replace(scope, regions=frozenset(params.regions))
        with ctx.optional_store() as store:
            report = build_report(
                cube,
                audience,
                comparison,
                scope=scope,
                metric=audience.metric,
                tag_key=report_settings.tag_key,
                names={a: n for a, n in names.items() if scope.accounts is None or a in scope.accounts},
                generated_at=ctx.now(),
                store=store,
                saved=saved,
                forecast=forecast or bill_forecast,
                commitments=commitments,
                today=params.today or ctx.now().date(),
                budgets=None if budgets is None else budgets(audience.name),
            )
            out.headline = report.headline
            out.document = report.data
            if not params.render:
                out.report = report
                return out
            artifacts = _render(report, comparison.current.label)
            if params.out:
                out.paths = _write(Path(params.out), artifacts)
            published = (
                _dashboard_set(ctx, params, report_settings, report, comparison.current.label, store)
                if params.publish_dashboard
                else None
            )
            if params.send or params.archive or params.dry_run or published is not None:
                from awscost.reports.deliver import deliver

                with ctx.store() as records:  # the delivery record: a retried run mails nobody twice
                    delivered = deliver(
                        ctx,
                        report_settings,
                        audience,
                        artifacts,
                        store=records,
                        send=params.send,
                        archive=params.archive,
                        resend=params.resend,
                        dry_run=params.dry_run,
                        now=ctx.now(),
                        dashboard=published,
                    )
                out.delivery = delivered.to_json()
                if out.delivery.get("failed"):
                    out.error = f"{len(out.delivery['failed'])} recipient(s) not reached"
    except AwsCostError as exc:
        out.error = exc.render()
    return out


def _dashboard_set(
    ctx: Context, params: Params, report_settings: Any, report: Any, period: str, store: Any
) -> Any:
    """The audience's dashboard set (reports/dashboard/render.py, as `dashboard export` writes it), its pages
    linking to each other by presigned URLs of their keys in the [report] bucket (signed before the put)."""
    from awscost.core.errors import ConfigError
    from awscost.reports.dashboard.live import live_view
    from awscost.reports.dashboard.render import environment, set_files, static_set
    from awscost.reports.deliver import DashboardSet, presigned_links
    from awscost.reports.deliver.archive import s3_client
    from awscost.reports.deliver.dashboard import OVERVIEW

    if not report_settings.bucket:
        raise ConfigError("no bucket to publish the dashboard in", where="[report] bucket")
    links = presigned_links(
        s3_client(ctx.session()),
        report_settings.bucket,
        report.audience,
        period,
        set_files(),
        params.dashboard_link_days,
    )
    # The live page of the audience's wholly covered accounts (a tag-scoped audience: none of the store's).
    live = None if store is None else live_view(store, accounts=report.whole_accounts)
    files = static_set(environment(), report, live, audience=report.audience, period=period, links=links)
    return DashboardSet(report.audience, period, files, links[OVERVIEW], params.dashboard_link_days)


def _render(report: Any, period: str) -> Any:
    from awscost.core.output import dumps
    from awscost.reports.deliver import Artifacts
    from awscost.reports.render import render_all

    rendered = render_all(report)
    return Artifacts(
        audience=report.audience,
        period=period,
        subject=report.title,
        html=rendered.html,
        text=rendered.text,
        images=rendered.images,
        xlsx=rendered.xlsx,
        json=dumps(report.data).encode("utf-8"),
        html_file=rendered.html_file,
    )


def _write(root: Path, artifacts: Any) -> dict[str, str]:
    """The three files of an audience's report under root/<audience>/<period>/, each replaced whole."""
    folder = root / artifacts.audience / artifacts.period
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for ext, body in (
        ("html", artifacts.html_file.encode("utf-8")),
        ("xlsx", artifacts.xlsx),
        ("json", artifacts.json),
    ):
        target = folder / f"cost-report.{ext}"
        tmp = target.with_suffix(f".{ext}.tmp")
        tmp.write_bytes(body)
        tmp.replace(target)  # a reader never sees half a file
        paths[ext] = str(target)
    return paths


def metrics(params: Params, result: Result) -> tuple[dict[str, str], dict[str, float]]:
    """CloudWatch: reports built and mails sent, and the audiences that failed (what an alarm watches)."""
    sent = sum(len((r.delivery or {}).get("sent", [])) for r in result.reports)
    return {"Job": "report"}, {
        "Reports": len(result.reports) - len(result.failed),
        "MailsSent": sent,
        "FailedReports": len(result.failed),
    }


def check(result: Result) -> None:
    """Raise after the run when an audience failed (the others were delivered)."""
    if result.failed:
        raise ReportError(
            f"{len(result.failed)} of {len(result.reports)} report(s) failed: "
            + "; ".join(f"{r.audience}: {r.error}" for r in result.failed),
            where="report",
        )


JOB: Job[Params, Result] = Job(
    name="report",
    params=Params,
    run=run,
    description="Cost reports of the audiences: mail (SES/SMTP), S3 archive, HTML/XLSX/JSON.",
    schedule="daily",
    iam_actions=(
        "ce:GetCostAndUsage",
        "ce:GetCostForecast",
        "organizations:ListAccounts",
        "organizations:ListAccountsForParent",
        "organizations:ListChildren",
        # Not budgets:ViewBudget: only [budgets] report_source = "aws" reads AWS Budgets, and that action has
        # resource-level permissions (budget/awscost-*), so it is no "Resource: *" action; the stack grants
        # it not yet (docs/budgets.md): without it the cost section says the budgets are not shown.
    ),
    # One daily rule: the job sends the audiences whose schedule is due that day, from the billing dataset
    # the ingest job keeps in the stack's bucket, archived beside it.
    rules=(
        Rule(
            "daily",
            "cron(0 8 * * ? *)",
            {
                "job": "report",
                "due": True,
                "send": True,
                "archive": True,
                "publish_dashboard": True,
                "dataset": "s3://${DataBucket}/billing/",
            },
        ),
    ),
    uses=("store", "data", "mail", "budgets-read"),
    memory_mb=3008,
    metrics=metrics,
    extra="reports",
    needs=("duckdb", "xlsxwriter", "matplotlib", "jinja2"),
    # Runs in Lambda with the extra (the analytics artifact is the deployment's): awscost.toml from S3 or SSM
    # (AWSCOST_CONFIG), Cost Explorer or a billing dataset in S3 (s3://..., billing/s3_dataset.py) as the
    # source.
)

__all__ = ["JOB", "Params", "Result", "check"]
