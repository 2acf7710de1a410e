"""The sandbox's bill history: six whole months of a DAILY legacy CUR before the demo's report window, with
injected anomalies of known start, size and cause (`INJECTED`), so the anomaly detector has a history to
learn from and events to catch.

Each day's lines are the scenario fleet's hourly bill (`bill.build_lines`) at six sampled hours (every four
hours from 02:00Z, which cuts each region's business day), each standing for four hours, summed per
resource and usage type into one line from 00:00Z to the next day's 00:00Z as a daily CUR has it. That keeps
the fleet's weekly seasonality (business-hours autoscaling on weekdays only) and costs a quarter of an hourly
bill to build. On top of it:

- a gentle trend with noise: each on-demand EC2 resource-day runs with a probability rising from 88 % to
  100 % over the history, drawn from a hash of (seed, resource, day): deterministic, seeded;
- a data-transfer-out baseline of the production account (AWSDataTransfer), weekdays busier, with noise;
- the monthly recurring fees on the 1st: RIFee per reservation and the Savings Plan's recurring fee
  (ChargeFrequency Recurring once loaded), and Tax per account and product (One-Time), as a CUR books them;
- the injected anomalies, each its own usage lines (or, for a drop, the fleet's lines it removes), so the
  day's cost of a series with and without the injection differ by exactly `History.injected[name][day]`.

Credits and refunds of the hourly bill are left out of the history (they are not what it is for).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from awscost_sandbox.bill import (
    CUR_COLUMNS,
    PRODUCT,
    TAX_RATE,
    Line,
    _ri_arn,
    bill_totals,
    build_lines,
    cur_row,
    q,
    rate_of,
    rifee_line,
    spfee_line,
    write_cur_period,
)

DAY = timedelta(days=1)
MONTHS = 6
SAMPLE_HOURS = (2, 6, 10, 14, 18, 22)  # each stands for four hours of its day
SAMPLE_WEIGHT = Decimal(4)
TREND_FROM = 0.88  # share of on-demand EC2 resource-days running on the history's first day (1.0 on its last)
SEED = 15
PERIOD_TYPES = ("RIFee", "SavingsPlanRecurringFee", "Tax", "Credit", "Refund")

TRANSFER = ("AWSDataTransfer", "AWS Data Transfer", "DataTransfer-Out-Bytes", "GB")
TRANSFER_RATE = Decimal("0.09")  # $/GB out to the internet, the first pricing tier
TRANSFER_ACCOUNT, TRANSFER_REGION = "222233334444", "us-east-1"
TRANSFER_GB = (Decimal(1500), Decimal(900))  # GB/day on a weekday, on a weekend day, before trend and noise
EC2_NAME = PRODUCT["ec2"][1]


@dataclass(frozen=True)
class Injection:
    """One injected anomaly. `kind`: "instances" (`count` instances of `instance_type`, on demand; `ramp` the
    counts of its first days, then the last of them), "transfer" (`quantity` GB an hour out) or "stop" (the
    fleet's on-demand EC2 lines of the account and region are removed). Runs from `start` to `end` (None:
    still running at the history's end). `size` is its $/day on a whole day (for a stop, the weekday cost it
    removes, measured; negative)."""

    name: str
    cause: str
    kind: str
    account: str
    service: str  # ServiceName as loaded (product/ProductName)
    usage_type: str
    region: str
    start: datetime
    end: datetime | None
    size: Decimal
    tags: tuple[tuple[str, str], ...] = ()
    instance_type: str = ""
    ramp: tuple[int, ...] = ()
    quantity: Decimal = Decimal(0)

    def hours_on(self, day: date) -> int:
        """Hours of `day` (UTC) it runs."""
        lo = datetime.combine(day, datetime.min.time(), UTC)
        hi = lo + DAY
        start, end = max(lo, self.start), min(hi, self.end or hi)
        return max(0, (end - start) // timedelta(hours=1))

    def count_on(self, day: date) -> int:
        step = (day - self.start.date()).days
        return self.ramp[min(step, len(self.ramp) - 1)] if self.ramp else 0


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


INJECTED: tuple[Injection, ...] = (
    Injection(
        name="data-transfer-spike",
        cause="a misconfigured backup job copied 18 TB from production to the internet in one day",
        kind="transfer",
        account="222233334444",
        service="AWS Data Transfer",
        usage_type="DataTransfer-Out-Bytes",
        region="us-east-1",
        start=_at("2026-05-13T02:00:00"),
        end=_at("2026-05-13T20:00:00"),
        quantity=Decimal(1000),
        size=Decimal("1620.00"),  # 18 h x 1,000 GB x $0.09
        tags=(("user:Spend_Category", "platform"), ("user:Name", "nightly-backup")),
    ),
    Injection(
        name="quiet-drop",
        cause="a failed deploy drained production's eu-west-1 EC2 capacity for a week; costs fell, nobody looked",
        kind="stop",
        account="222233334444",
        service=EC2_NAME,
        usage_type="EU-BoxUsage:*",
        region="eu-west-1",
        start=_at("2026-06-08T06:00:00"),
        end=_at("2026-06-15T06:00:00"),
        size=Decimal("-211.70"),  # the eu-west-1 on-demand EC2 of a weekday (about 60 % of the series)
    ),
    Injection(
        name="runaway-autoscaling-group",
        cause="staging's queue workers scaled out on a stuck queue, doubling daily up to their maximum of 32",
        kind="instances",
        account="333344445555",
        service=EC2_NAME,
        usage_type="BoxUsage:m5.2xlarge",
        region="us-east-1",
        start=_at("2026-07-14T10:00:00"),
        end=_at("2026-07-24T16:00:00"),
        instance_type="m5.2xlarge",
        ramp=(4, 8, 16, 32),
        size=Decimal("294.91"),  # 32 x $0.384 x 24 h (rounded to the cent)
        tags=(
            ("user:Spend_Category", "shared"),
            ("user:Name", "staging-queue-workers"),
            ("user:Role", "worker"),
        ),
    ),
    Injection(
        name="forgotten-cluster",
        cause="a 38-node search re-index cluster left running after the migration test",
        kind="instances",
        account="444455556666",
        service=EC2_NAME,
        usage_type="EU-BoxUsage:r5.xlarge",
        region="eu-west-1",
        start=_at("2026-08-18T14:00:00"),
        end=None,
        instance_type="r5.xlarge",
        ramp=(38,),
        size=Decimal(0),  # filled below from the sandbox's rate for the type
        tags=(
            ("user:Spend_Category", "search"),
            ("user:Name", "search-reindex"),
            ("user:Role", "opensearch-data"),
        ),
    ),
)
# The cluster's size follows the sandbox's price table.
INJECTED = (
    *INJECTED[:-1],
    replace(INJECTED[-1], size=(38 * 24 * rate_of("ec2", "r5.xlarge", "linux")).quantize(Decimal("0.01"))),
)


@dataclass
class History:
    first: date  # the first day
    last: date  # the last day (inclusive)
    lines: list[Line]
    injected: dict[str, dict[date, Decimal]] = field(default_factory=dict)  # name -> day -> its cost that day

    def totals(self) -> dict[str, Decimal]:
        return bill_totals(self.lines)


def window(last_hour: datetime) -> tuple[date, date]:
    """The history's first and last day: the six whole months before the report step's first month (the
    month two before `last_hour`'s, as reports.demo_step computes it)."""
    first_report = date(
        last_hour.year if last_hour.month > 2 else last_hour.year - 1, (last_hour.month - 3) % 12 + 1, 1
    )
    month = first_report.month - MONTHS
    start = date(first_report.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return start, first_report - DAY


def _unit(*parts: object) -> float:
    """A deterministic draw in [0, 1) from its parts."""
    digest = hashlib.sha256("|".join(str(p) for p in (SEED, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


Key = tuple[Any, ...]
_SUMMED = (
    "amount",
    "unblended",
    "public_cost",
    "ri_effective",
    "ri_recurring",
    "ri_amortized",
    "sp_effective",
    "sp_rate",
)


def _key(line: Line) -> Key:
    return (
        line.account,
        line.kind,
        line.line_type,
        line.region,
        line.az,
        line.resource,
        line.itype,
        line.os,
        line.engine,
        line.usage_type,
        line.operation,
        line.rate,
        line.public_rate,
        line.description,
        line.product_code,
        line.product_name,
        line.unit,
        tuple(sorted((line.tags or {}).items())),
        line.ri_arn,
        line.sp_arn,
    )


def _daily(day: date, groups: Mapping[Key, Line], sums: Mapping[Key, dict[str, Decimal]]) -> list[Line]:
    start = datetime.combine(day, datetime.min.time(), UTC)
    out = []
    for key, line in groups.items():
        values = sums[key]
        fields = {name: (values[name] if getattr(line, name) is not None else None) for name in _SUMMED}
        out.append(
            Line(
                **{
                    **line.__dict__,
                    **fields,
                    "start": start,
                    "end": start + DAY,
                    "tags": dict(line.tags) if line.tags else None,
                }
            )
        )
    return out


def _stopped(injections: Iterable[Injection], line: Line, hour: datetime) -> Injection | None:
    for inj in injections:
        if (
            inj.kind == "stop"
            and line.account == inj.account
            and line.kind == "ec2"
            and line.line_type == "Usage"
            and line.region == inj.region
            and inj.start <= hour < (inj.end or hour + DAY)
        ):
            return inj
    return None


def _usage_day(
    scenario: Any,
    day: date,
    progress: float,
    injections: tuple[Injection, ...],
    injected: dict[str, dict[date, Decimal]],
) -> list[Line]:
    groups: dict[Key, Line] = {}
    sums: dict[Key, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    keep = TREND_FROM + (1 - TREND_FROM) * progress
    for h in SAMPLE_HOURS:
        hour = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=h)
        for line in build_lines(scenario, [hour]):
            if line.line_type in PERIOD_TYPES:
                continue
            if line.kind == "ec2" and line.line_type == "Usage" and _unit("run", line.resource, day) >= keep:
                continue
            stop = _stopped(injections, line, hour)
            if stop is not None:
                removed = injected.setdefault(stop.name, {})
                removed[day] = removed.get(day, Decimal(0)) - line.unblended * SAMPLE_WEIGHT
                continue
            key = _key(line)
            groups.setdefault(key, line)
            for name in _SUMMED:
                value = getattr(line, name)
                if value is not None:
                    sums[key][name] += value * SAMPLE_WEIGHT
    return _daily(day, groups, sums)


def _transfer_line(
    account: str,
    region: str,
    day: date,
    gb: Decimal,
    resource: str | None,
    tags: dict[str, str] | None,
    what: str,
) -> Line:
    code, name, usage_type, unit = TRANSFER
    start = datetime.combine(day, datetime.min.time(), UTC)
    cost = q(gb * TRANSFER_RATE)
    return Line(
        account=account,
        kind="transfer",
        line_type="Usage",
        start=start,
        end=start + DAY,
        region=region,
        resource=resource,
        usage_type=usage_type,
        operation="RunInstances",
        amount=gb,
        rate=TRANSFER_RATE,
        unblended=cost,
        public_cost=cost,
        public_rate=TRANSFER_RATE,
        description=f"${TRANSFER_RATE} per GB - first 10 TB / month data transfer out ({what})",
        product_code=code,
        product_name=name,
        unit=unit,
        tags=tags,
    )


def _injected_lines(inj: Injection, day: date) -> list[Line]:
    """The injection's own lines of `day` (a stop has none: it removes the fleet's)."""
    hours = inj.hours_on(day)
    if not hours:
        return []
    tags = dict(inj.tags) or None
    if inj.kind == "transfer":
        gb = inj.quantity * hours
        return [_transfer_line(inj.account, inj.region, day, gb, f"i-{_hex(inj.name)}", tags, inj.name)]
    if inj.kind != "instances":
        return []
    code, pname, _, operation, unit = PRODUCT["ec2"]
    rate = rate_of("ec2", inj.instance_type, "linux")
    start = datetime.combine(day, datetime.min.time(), UTC)
    cost = q(rate * hours)
    return [
        Line(
            account=inj.account,
            kind="ec2",
            line_type="Usage",
            start=start,
            end=start + DAY,
            region=inj.region,
            az=f"{inj.region}a",
            resource=f"i-{_hex(inj.name, n)}",
            itype=inj.instance_type,
            os="linux",
            usage_type=inj.usage_type,
            operation=operation,
            amount=Decimal(hours),
            rate=rate,
            unblended=cost,
            public_cost=cost,
            public_rate=rate,
            description=f"${rate} per On Demand Linux {inj.instance_type} Instance Hour",
            product_code=code,
            product_name=pname,
            unit=unit,
            tags=tags,
        )
        for n in range(inj.count_on(day))
    ]


def _hex(*parts: object) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:17]


def _period_lines(scenario: Any, period: date, lines: list[Line]) -> list[Line]:
    """The month's recurring fees (RIFee, Savings Plan fee) and tax, dated on its 1st as a CUR books them."""
    pstart = datetime.combine(period, datetime.min.time(), UTC)
    pend = datetime.combine(
        date(period.year + period.month // 12, period.month % 12 + 1, 1), datetime.min.time(), UTC
    )
    month = [ln for ln in lines if pstart <= ln.start < pend]
    used: dict[str, Decimal] = defaultdict(Decimal)
    for ln in month:
        if ln.line_type == "DiscountedUsage" and ln.ri_arn:
            used[ln.ri_arn] += ln.amount
        if ln.line_type == "SavingsPlanCoveredUsage" and ln.sp_arn:
            used[ln.sp_arn] += ln.sp_effective or Decimal(0)
    out: list[Line] = []
    for r in scenario.reservations():
        lo, hi = max(r.start, pstart), min(r.end, pend)
        if hi <= lo:
            continue
        units = Decimal((hi - lo) // timedelta(hours=1) * r.count)
        unused = max(Decimal(0), units - used.get(_ri_arn(r), Decimal(0)))
        out.append(rifee_line(r, pstart, pend, units, unused))
    for plan in scenario.savings_plans():
        lo, hi = max(plan.start, pstart), min(plan.start + timedelta(seconds=plan.term_seconds), pend)
        if hi <= lo:
            continue
        n_hours = Decimal((hi - lo) // timedelta(hours=1))
        sp_used = min(q(plan.commitment * n_hours), q(used.get(plan.arn, Decimal(0))))
        out.append(spfee_line(plan, pstart, pend, n_hours, sp_used))
    per_product: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for ln in month + out:
        per_product[(ln.account, ln.product_code, ln.product_name)] += ln.unblended
    for (account, code, name), amount in sorted(per_product.items()):
        tax = q(amount * TAX_RATE)
        if tax > 0:
            out.append(
                Line(
                    account,
                    "tax",
                    "Tax",
                    pstart,
                    pend,
                    unblended=tax,
                    amount=Decimal(1),
                    description=f"Tax of {name} for the sandbox bill",
                    product_code=code,
                    product_name=name,
                    unit="",
                )
            )
    return out


def build_history(
    scenario: Any, first: date, last: date, injections: tuple[Injection, ...] = INJECTED
) -> History:
    """The daily bill lines of the days `first`..`last` (whole months), with `injections` (those that start
    inside the window)."""
    injections = tuple(i for i in injections if first <= i.start.date() <= last)
    injected: dict[str, dict[date, Decimal]] = {i.name: {} for i in injections}
    lines: list[Line] = []
    n_days = (last - first).days + 1
    for i in range(n_days):
        day = first + i * DAY
        progress = i / max(1, n_days - 1)
        lines += _usage_day(scenario, day, progress, injections, injected)
        weekend = day.weekday() >= 5
        gb = TRANSFER_GB[weekend] * Decimal(
            str(round(0.9 + 0.1 * progress + 0.08 * (_unit("gb", day) - 0.5), 4))
        )
        lines.append(_transfer_line(TRANSFER_ACCOUNT, TRANSFER_REGION, day, gb, None, None, "internet"))
        for inj in injections:
            extra = _injected_lines(inj, day)
            if extra:
                lines += extra
                injected[inj.name][day] = sum((ln.unblended for ln in extra), Decimal(0))
    periods = sorted({date(ln.start.year, ln.start.month, 1) for ln in lines})
    for period in periods:
        lines += _period_lines(scenario, period, lines)
    for inj in injections:
        injected[inj.name] = {d: q(v) for d, v in sorted(injected[inj.name].items())}
    return History(first, last, lines, injected)


_BUILT: dict[tuple[int, date, date], History] = {}


def history_for(scenario: Any, first: date, last: date) -> History:
    """`build_history` with the INJECTED anomalies, once per process for a scenario (a pure function of its
    seed) and window: the demo's history step and the sandbox's emulated Cost Anomaly Detection
    (ce_anomalies) read the same history, built once (about 10 s)."""
    key = (scenario.seed, first, last)
    found = _BUILT.get(key)
    if found is None:
        found = _BUILT[key] = build_history(scenario, first, last)
    return found


def write_history(history: History, scenario: Any, out_dir: Path) -> Path:
    """Write the history as a legacy CUR (one delivery and manifest per month) under `out_dir/cur`."""
    payer = next(a.id for a in scenario.accounts if a.management)
    tag_keys = sorted({k for line in history.lines for k in (line.tags or {})})
    header = list(CUR_COLUMNS) + [f"resourceTags/{k}" for k in tag_keys]
    by_period: dict[str, list[tuple[int, Line]]] = defaultdict(list)
    for i, line in enumerate(history.lines):
        by_period[line.start.strftime("%Y-%m")].append((i, line))
    cur_dir = Path(out_dir) / "cur"
    for period, items in sorted(by_period.items()):
        write_cur_period((cur_row(i, ln, payer, tag_keys) for i, ln in items), header, cur_dir, period)
    return cur_dir


def prepare(scenario: Any, last_hour: datetime, out_dir: Path) -> tuple[History, Path, Path]:
    """Build the history, write it into out_dir/history-bill and load it into the dataset
    out_dir/history-billing: (history, its CUR folder, the dataset)."""
    from awscost.billing import load_into

    first, last = window(last_hour)
    history = history_for(scenario, first, last)
    cur = write_history(history, scenario, Path(out_dir) / "history-bill")
    dataset = Path(out_dir) / "history-billing"
    load_into([cur], dataset)
    return history, cur, dataset


def prepare_apart(seed: int, last_hour: datetime, out_dir: str) -> tuple[History, Path, Path]:
    """`prepare` in a process of its own, which the demo starts before its first step (demo.background):
    the history is a pure function of the scenario's seed and window, so it is built on the second core while
    the collect, RI and report steps keep the first busy."""
    from awscost_sandbox.scenario import default_scenario

    return prepare(default_scenario(seed), last_hour, Path(out_dir))


def demo_step(ctx: Any) -> None:
    """Write the history into out_dir/history-bill and load it into the dataset out_dir/history-billing
    (or take what the background process did so)."""
    first, last = window(ctx.last_hour)
    pending = ctx.background.pop("history", None)
    if pending is not None:
        history, cur, dataset = pending.result()
        _BUILT[(ctx.scenario.seed, first, last)] = history  # what ce_anomalies reads, built once
    else:
        history, cur, dataset = prepare(ctx.scenario, ctx.last_hour, ctx.out_dir)
    ctx.results["history"] = {"dataset": dataset, "bill": cur, "injected": history.injected}
    names = ", ".join(f"{i.name} {i.start:%Y-%m-%d %H:00}" for i in INJECTED if i.name in history.injected)
    ctx.console.print(
        f"[bold]Bill history[/] (daily CUR) {first} .. {last}: {len(history.lines):,} lines, "
        f"EffectiveCost {history.totals()['EffectiveCost']:,.2f} USD, in {dataset}; injected anomalies: {names}"
    )


def anomalies_step(ctx: Any) -> None:
    """The anomaly scan (job anomaly_scan) over the history's dataset: each injected anomaly against what the
    detector caught of it (its first day, how many days after the injection's start, its explanation), and
    whatever it flagged that was not injected."""
    from awscost.jobs import run_job
    from awscost.jobs.anomaly_scan import Params
    from awscost.jobs.base import Context

    dataset = ctx.results["history"]["dataset"]
    # The notices go to a topic of the sandbox's SNS with a queue subscribed, read back below.
    sns, sqs = ctx.server.client("sns"), ctx.server.client("sqs")
    topic = sns.create_topic(Name="awscost-anomalies")["TopicArn"]
    queue = sqs.create_queue(QueueName="awscost-anomaly-notices")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    result = run_job("anomaly_scan", Context(ctx.settings), Params(dataset=str(dataset), notify=topic))
    ctx.results["anomalies"] = result
    injected = [i for i in INJECTED if i.name in ctx.results["history"]["injected"]]
    ctx.console.print(
        f"[bold]Anomalies[/] of the bill history ({result.series} account x service series): "
        f"{len(result.anomalies)} found, {len(injected)} injected"
    )
    caught: set[str] = set()
    for injection in injected:
        match = next(
            (
                a
                for a in result.anomalies
                if (a.account_id, a.service) == (injection.account, injection.service)
                and 0 <= (date.fromisoformat(a.date) - injection.start.date()).days <= 2
            ),
            None,
        )
        if match is None:
            ctx.console.print(f"  [red]{injection.name}[/] ({injection.start:%Y-%m-%d %H:00}): not caught")
            continue
        caught.add(match.id)
        late = (date.fromisoformat(match.date) - injection.start.date()).days
        ctx.console.print(
            f"  [bold]{injection.name}[/] injected {injection.start:%Y-%m-%d %H:00}, caught on its "
            f"{'first' if late == 0 else f'day +{late}'} bill day: {match.explanation}"
        )
    for other in (a for a in result.anomalies if a.id not in caught):
        ctx.console.print(
            f"  [yellow]not injected[/] {other.date} {other.account_id} {other.service}: {other.explanation}"
        )
    subjects = []
    while got := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in got:
            subjects.append(json.loads(message["Body"])["Subject"])
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    ctx.results["anomaly_notices"] = subjects
    ctx.console.print(
        f"  {len(subjects)} notices on SNS {topic} (recorded in the store's anomaly log: a re-run sends none "
        "again; `awscost anomalies ack ID` stops an event's notices), e.g. "
        + (subjects[0] if subjects else "none")
    )
    from awscost_sandbox.usage_history import anomalies_lines

    anomalies_lines(ctx)  # the usage signal over the usage history, confirmed by this bill
    side_by_side(ctx, result)


def side_by_side(ctx: Any, bill: Any) -> None:
    """AWS Cost Anomaly Detection's anomalies (job anomaly_scan, source ce: EMULATED by the sandbox,
    ce_anomalies.py) next to the bill scan's, as of the sandbox's clock: who caught each, when each knew."""
    from awscost.anomalies.side_by_side import compare, summary
    from awscost.jobs import run_job
    from awscost.jobs.anomaly_scan import Params
    from awscost.jobs.base import Context

    # As the management account (its keys; the demo's environment holds the sandbox's default key), which owns
    # the organization's monitors.
    job_ctx = Context(ctx.settings, session_factory=ctx.server.session, clock=lambda: ctx.server.clock)
    aws = run_job("anomaly_scan", job_ctx, Params(source="ce", since=bill.first_day))
    pairs = compare(
        bill.anomalies, aws.aws, as_of=ctx.server.clock, bill_days=(bill.first_day, bill.last_day)
    )
    ctx.results["anomalies_ce"] = {"result": aws, "pairs": pairs}
    monitors = sorted({a.monitor.name for a in aws.aws})
    totals = summary(pairs)
    ctx.console.print(
        f"[bold]AWS Cost Anomaly Detection[/], emulated by the sandbox ({', '.join(monitors) or 'no anomaly'}), "
        f"as of {ctx.server.clock:%Y-%m-%d %H:00}: {len(aws.aws)} anomal{'y' if len(aws.aws) == 1 else 'ies'}; "
        f"{totals['both']} caught by both, {totals['awscost_only']} by awscost only, {totals['aws_only']} by AWS only"
    )
    for p in pairs:
        where = f"{p.account_id} {p.service}"
        if p.awscost is not None and p.aws is not None:
            ctx.console.print(
                f"  [bold]both[/] {where}: awscost knew {p.awscost_detected:%Y-%m-%d %H:%M} (from {p.awscost.date}), "
                f"AWS (emulated) {p.aws_detected:%Y-%m-%d %H:%M} (from {p.aws.anomaly.date}): awscost "
                f"{p.hours_earlier} h earlier; impact {p.awscost.impact_total:,} vs AWS's "
                f"{p.aws.anomaly.impact_total:,} ({p.impact_difference:+,})"
            )
        else:
            event = p.awscost or (p.aws.anomaly if p.aws else None)
            assert event is not None
            ctx.console.print(f"  [yellow]{p.caught_by} only[/] {where} {event.date}: {p.reason}")
