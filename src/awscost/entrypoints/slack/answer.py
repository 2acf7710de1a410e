"""The answers of `/awscost`: each subcommand shows parts of the viewer's cost report (views/reports.py: the
report job's model for the viewer's audience, period and accounts), formatted by the reports' own cell
formats, so Slack shows the figures the mail and the dashboard show. Nothing here computes a figure.

    cost      the cost section: total, forecast, budget; per account, service, or the coverage tag
    top       the movers section: what rose most, and why
    usage     the live usage of the store (views/live.py) and the usage section's hours of the kind
    ri        the savings section (the last ri_plan) and the usage section's commitment figures
    anomalies the movers section's anomalies of the month
    forecast  the cost section's month-end forecast

`account NAME` narrows the viewer's audience to one of its accounts (by name or id): the report job refuses an
account outside the audience, and names are looked up among the audience's own accounts only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from awscost.core.config import Settings
from awscost.core.errors import AwsCostError, InputError
from awscost.entrypoints.slack import blocks
from awscost.entrypoints.slack.blocks import escape
from awscost.entrypoints.slack.config import SlackSettings
from awscost.entrypoints.slack.parse import Command, CommandError
from awscost.entrypoints.slack.quick import Asked, mistake, quick
from awscost.reports.model import Report, Section, Table
from awscost.views.reports import Ask, Reports

log = logging.getLogger("awscost.slack")
ROWS = 10  # rows of a table shown in a reply (the report has them all)


@dataclass
class Responder:
    """What answers the commands of a Slack app: the settings, its `[slack]`, the viewers' reports."""

    settings: Settings
    config: SlackSettings
    reports: Reports
    today: date | None = None  # fixed in tests; None: the clock's

    def answer(self, asked: Asked) -> dict[str, Any]:
        """The reply (a Block Kit message) to one command; a mistake or a refusal is an ephemeral line,
        never a traceback."""
        command, reply = quick(self.config, asked, self.today)
        if reply is not None:
            return dict(reply)
        assert command is not None
        from awscost.reports.config import ORG_AUDIENCE

        name = self.config.audience_of(asked.user_id, asked.channel_id)
        audience = None if name == ORG_AUDIENCE else name
        try:
            return ANSWERS[command.name](self, command, audience)
        except CommandError as exc:
            return mistake(exc)
        except AwsCostError as exc:
            return blocks.error(escape(exc.render()))
        except Exception:  # a bug must not reach Slack as a traceback; the log has it
            log.exception("slack command %r failed", asked.text)
            return blocks.error("awscost could not answer this (the error is logged).")

    def report(
        self, audience: str | None, period: str, account: str | None = None, tag_key: str | None = None
    ) -> Report:
        ask = Ask(audience=audience, period=period, today=self.today)
        if account is not None:
            ask = replace(ask, accounts=(self.account_id(ask, account),))
        if tag_key is not None:
            ask = replace(ask, tag_key=tag_key)
        report: Report = self.reports.get(ask)
        return report

    def account_id(self, ask: Ask, account: str) -> str:
        """`account NAME` as an id: a 12-digit id as it is (the report job refuses one outside the
        audience), a name looked up among the audience's accounts in its report."""
        if account.isdigit() and len(account) == 12:
            return account
        report = self.reports.get(ask)
        for row in report.data.get("accounts", []):
            if str(row.get("name", "")).lower() == account.lower():
                return str(row["account_id"])
        raise CommandError(f"no account named `{account}` among the accounts you may see", account)


def _title(report: Report, what: str) -> dict[str, Any]:
    return blocks.header(f"{what}, {report.data['period']['label']}: {report.audience}")


def _footer(report: Report) -> dict[str, Any]:
    from awscost.reports.render import formats

    p = dict(formats.provenance_lines(report))
    return blocks.context(
        escape(f"{p['Source']} · {p['Metric']} · {p['Period']} · as of {p['As of']} · bill {p['Bill']}")
    )


def _figures(section: Section) -> dict[str, Any] | None:
    from awscost.reports.render import formats

    pairs = []
    for f in section.figures:
        change = formats.figure_change(f)
        value = formats.figure_value(f) + ("" if change == formats.NONE else f" ({change})")
        pairs.append((escape(f.label), escape(value)))
    return blocks.fields(pairs) if pairs else None


def _table(table: Table, columns: tuple[str, ...], limit: int = ROWS) -> list[dict[str, Any]]:
    """A table's rows as lines `*first* col2 · col3 ...`, each value as the report formats it."""
    from awscost.reports.render import formats

    index = {c.name: i for i, c in enumerate(table.columns)}
    wanted = [c for c in columns if c in index]
    out = [f"*{escape(table.title)}*"]
    for row in table.rows[:limit]:
        cells = []
        for name in wanted:
            column = table.columns[index[name]]
            text = formats.cell(row[index[name]], column.kind, signed=column.change is not None)
            cells.append(formats.with_unit(text, column.unit))
        if cells:
            out.append(f"• *{escape(cells[0])}*  " + " · ".join(escape(c) for c in cells[1:]))
    if not table.rows:
        out.append("_nothing in the period_")
    elif len(table.rows) > limit:
        out.append(f"_{len(table.rows) - limit} more in the report_")
    return blocks.lines(out)


def _find(section: Section, name: str) -> Table | None:
    return next((t for t in section.tables if t.name == name), None)


def _unavailable(report: Report, section: Section, what: str) -> dict[str, Any]:
    return blocks.message(
        f"{what}: {section.unavailable}",
        [_title(report, what), blocks.section(escape(f"Not shown: {section.unavailable}.")), _footer(report)],
    )


def answer_cost(r: Responder, command: Command, audience: str | None) -> dict[str, Any]:
    report = r.report(audience, command.period, command.account)
    cost = report.section("cost")
    what = f"Cost of {command.account}" if command.account else "Cost"
    parts: list[dict[str, Any]] = [_title(report, what), blocks.section(escape(report.headline))]
    figures = _figures(cost)
    if figures:
        parts.append(figures)
    change = ("name", "cost", "change", "change_ratio")
    if command.by == "tag":
        tag = str(report.section("tags").data.get("tag", ""))
        key = str(command.tag)
        if key not in (tag, tag.removeprefix("user:")):
            # Another tag than the report's coverage tag: the same report, its Tags section of that key.
            key = key if ":" in key else f"user:{key}"
            report = r.report(audience, command.period, command.account, tag_key=key)
        parts += _by_tag(report)
    else:
        if command.by in (None, "account"):
            accounts = _find(cost, "accounts")
            if accounts is not None:
                parts += _table(accounts, change)
        if command.by in (None, "service"):
            services = _find(cost, "services")
            if services is not None:
                parts += _table(services, ("service", "cost", "change", "change_ratio"))
    parts.append(_footer(report))
    return blocks.message(report.headline, parts)


def _by_tag(report: Report) -> list[dict[str, Any]]:
    """The report's tag section: its tag's cost per value, share by account and the largest untagged
    resources."""
    tags = report.section("tags")
    out: list[dict[str, Any]] = []
    figures = _figures(tags)
    if figures:
        out.append(figures)
    for name, columns in (
        ("values", ("value", "cost", "change", "change_ratio")),
        ("by_account", ("name", "covered_cost", "total_cost", "share")),
        ("untagged", ("resource_id", "account_id", "service", "cost")),
    ):
        table = _find(tags, name)
        if table is not None:
            out += _table(table, columns)
    return out


def answer_top(r: Responder, command: Command, audience: str | None) -> dict[str, Any]:
    report = r.report(audience, command.period, command.account)
    movers = report.section("movers")
    what = f"What rose most in {command.account}" if command.account else "What rose most"
    parts: list[dict[str, Any]] = [_title(report, what)]
    for name, key in (("ServiceName", "service"), ("UsageType", "usage type"), ("ResourceId", "resource")):
        table = _find(movers, name)
        if table is not None and table.rows:
            parts += _table(table, (key, "change", "change_ratio", "why"), limit=5)
    if len(parts) == 1:
        parts.append(blocks.section("No cost rose against the previous period."))
    parts += [blocks.context(escape(n)) for n in movers.notes[:3]]
    parts.append(_footer(report))
    return blocks.message(f"What rose most, {report.data['period']['label']}", parts)


def answer_usage(r: Responder, command: Command, audience: str | None) -> dict[str, Any]:
    from awscost.store import open_store, store_exists
    from awscost.usage.kinds import CATALOG
    from awscost.views.live import HOURLY, live_usage

    kinds = sorted(s.name for s in CATALOG)
    if command.kind not in kinds:
        raise CommandError(f"`{command.kind}` is not a usage kind: {', '.join(kinds)}", command.kind)
    report = r.report(audience, "month-to-date")
    parts: list[dict[str, Any]] = [_title(report, f"Usage {command.kind}")]
    whole = report.whole_accounts
    if whole is not None and not whole:
        parts.append(
            blocks.section("The usage store has no tags, and no account is wholly in your audience.")
        )
        return blocks.message("no usage to show", parts)
    if command.kind in HOURLY and store_exists(r.settings.store):
        with open_store(r.settings.store) as store:
            live = live_usage(store, accounts=whole, region=command.region, hours=1)
        now = [(a, g, v) for (k, a, g), v in live.now.items() if k == command.kind]
        head = (
            f"*Running in the last collected hour* ({live.last_hour:%Y-%m-%d %H:00}Z)"
            if live.last_hour
            else ""
        )
        rows = [f"• *{escape(a)}* {escape(g)}: {v:,}" for a, g, v in now[:ROWS]]
        parts += blocks.lines(
            [head, *(rows or ["_none collected_"])] if head else ["_nothing collected yet_"]
        )
    usage = report.section("usage")
    hours = _find(usage, "hours") if usage.unavailable is None else None
    if hours is not None:
        kept = tuple(row for row in hours.rows if row[0] == command.kind and command.region in (None, row[3]))
        parts += _table(
            Table(hours.name, f"{hours.title} (month to date)", hours.columns, kept),
            ("name", "region", "hours", "previous_hours", "change"),
        )
    elif usage.unavailable:
        parts.append(blocks.context(escape(f"Usage section: {usage.unavailable}")))
    parts.append(_footer(report))
    return blocks.message(f"Usage {command.kind}", parts)


def answer_ri(r: Responder, command: Command, audience: str | None) -> dict[str, Any]:
    report = r.report(audience, "month-to-date")
    savings = report.section("savings")
    if savings.unavailable:
        return _unavailable(report, savings, "Reservations and savings")
    parts: list[dict[str, Any]] = [_title(report, "Reservations and savings")]
    for section in (savings, report.section("usage")):
        figures = _figures(section)
        if figures:
            parts.append(figures)
    for name, columns in (
        ("plan", ("group", "kind", "region", "recommended", "monthly_savings")),
        ("expiring", ("group", "kind", "region", "expiring_30d", "expiring_90d")),
    ):
        table = _find(savings, name)
        if table is not None:
            parts += _table(table, columns)
            if table.note:
                parts.append(blocks.context(escape(table.note)))
    parts.append(_footer(report))
    return blocks.message("Reservations and savings", parts)


def answer_anomalies(r: Responder, command: Command, audience: str | None) -> dict[str, Any]:
    report = r.report(audience, "month-to-date")
    movers = report.section("movers")
    parts: list[dict[str, Any]] = [_title(report, "Cost anomalies")]
    table = _find(movers, "anomalies")
    if table is None:
        said = [n for n in movers.notes if n.startswith(("Anomalies", "No cost anomaly"))]
        parts.append(blocks.section(escape(said[0] if said else "No cost anomaly recorded in the period.")))
    else:
        parts += _table(table, ("first day", "account", "service", "impact so far", "state", "why"))
        if table.note:
            parts.append(blocks.context(escape(table.note)))
    parts.append(_footer(report))
    return blocks.message("Cost anomalies", parts)


def answer_forecast(r: Responder, command: Command, audience: str | None) -> dict[str, Any]:
    from awscost.reports.render import formats

    report = r.report(audience, "month-to-date")
    cost = report.section("cost")
    forecast = cost.data.get("forecast")
    parts: list[dict[str, Any]] = [_title(report, "Forecast")]
    if not forecast:
        parts.append(blocks.section("No month-end forecast for this period (see the cost report's notes)."))
    else:
        figure = next(f for f in cost.figures if f.label.startswith("Forecast for"))
        budget = next((f for f in cost.figures if f.label.startswith("Budget for")), None)
        total = next(f for f in cost.figures if f.label.startswith("Total"))
        pairs = [
            (escape(figure.label), escape(formats.figure_value(figure))),
            (
                "Interval",
                escape(f"{formats.money(_d(forecast['low']))} .. {formats.money(_d(forecast['high']))}"),
            ),
            (escape(f"{total.label} so far"), escape(formats.figure_value(total))),
        ]
        if budget is not None:
            pairs.append((escape(budget.label), escape(formats.figure_value(budget))))
        parts.append(blocks.fields(pairs))
        parts.append(blocks.context(escape(f"{forecast['source']}: {forecast['method']}")))
    parts.append(_footer(report))
    return blocks.message("Forecast", parts)


def _d(value: Any) -> Any:
    from decimal import Decimal

    return Decimal(str(value))


ANSWERS: dict[str, Callable[[Responder, Command, str | None], dict[str, Any]]] = {
    "cost": answer_cost,
    "top": answer_top,
    "usage": answer_usage,
    "ri": answer_ri,
    "anomalies": answer_anomalies,
    "forecast": answer_forecast,
}


def responder(
    settings: Settings, dataset: str | None = None, today: date | None = None, fallback: str | None = None
) -> Responder:
    """The Responder of these settings: `[slack]`, and the billing dataset (`[billing] dataset` by default,
    else `fallback`)."""
    from awscost.entrypoints.slack.config import slack_settings
    from awscost.views.reports import default_dataset

    location = dataset or default_dataset(settings) or fallback
    if not location:
        raise InputError(
            "no billing dataset to answer from",
            param="dataset",
            hint="--dataset DIR|s3://... or [billing] dataset",
        )
    config = slack_settings(settings)
    return Responder(settings, config, Reports(settings, str(location), max_age=config.max_age), today)


__all__ = ["ANSWERS", "Responder", "responder"]


RESPONSE_URL_PREFIX = "https://hooks.slack.com/"  # where Slack's response_urls point
_responders: dict[str, Responder] = {}  # a warm analytics container's: its reports cache kept


def deployed_dataset() -> str | None:
    """The stack's billing dataset (what the report job's rule reads), when `[billing] dataset` names none:
    the answers function's AWSCOST_REPORT_BUCKET (the stack's data bucket), billing/ in it."""
    import os

    bucket = os.environ.get("AWSCOST_REPORT_BUCKET")
    return f"s3://{bucket}/billing/" if bucket else None


def answer_event(payload: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """The analytics function's part (lambda_handler: an event `{"slack": ...}` the Slack function handed
    on): answer the command and POST the reply to its response_url. The caller is the Slack function (only
    it may invoke this one); the user's audience is looked up again here, from the same [slack]."""
    import os
    import urllib.request

    from awscost.core.config import load_settings

    asked = Asked.of(payload)
    url = asked.response_url or ""
    if not url.startswith(RESPONSE_URL_PREFIX):
        raise InputError(f"response_url {url[:60]!r} is not Slack's", where="slack event")
    try:
        if settings is None:
            key = os.environ.get("AWSCOST_CONFIG") or ""
            if key not in _responders:
                _responders[key] = responder(load_settings(key or None), fallback=deployed_dataset())
            r = _responders[key]
        else:
            r = responder(settings, fallback=deployed_dataset())
        reply = {**r.answer(asked), "replace_original": False}
    except AwsCostError as exc:  # the config or the dataset: said to the asker, who is waiting for an answer
        reply = {**blocks.error(escape(exc.render())), "replace_original": False}
    request = urllib.request.Request(
        url,
        data=json.dumps(reply).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as sent:
        status = sent.status
    return {"slack": "answered", "status": status, "command": asked.text.split()[:1]}
