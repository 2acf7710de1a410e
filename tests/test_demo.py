"""`awscost demo` end to end: sandbox server, seeding, the REAL collector over HTTP, the SQLite store."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from awscost.core.errors import InputError
from awscost.core.registry import Registry
from awscost.core.timeutil import format_hour
from awscost.entrypoints.cli import cli
from awscost_sandbox.demo import DemoContext, DemoError, run_demo
from awscost_sandbox.scenario import Scenario

ALL_KINDS = {
    "ec2",
    "ec2os",
    "rds",
    "dynamodb",
    "elasticache",
    "es",
    "redshift",
    "ri-ec2",
    "ri-rds",
    "ri-elasticache",
    "ri-es",
    "ri-redshift",
    "sp",
}
HOURS = 3


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoContext, str]:
    out = tmp_path_factory.mktemp("demo")
    buf = io.StringIO()
    try:
        ctx = run_demo(HOURS, out, Console(file=buf, width=140))
    except DemoError as exc:  # the failed step's own lines say why; show them rather than the summary alone
        pytest.fail(f"{exc.render()}\n{buf.getvalue()}")
    return ctx, buf.getvalue()


@pytest.fixture(scope="module")
def exported(demo: tuple[DemoContext, str]) -> list[dict]:  # type: ignore[type-arg]
    ctx, _ = demo
    result = CliRunner().invoke(cli, ["usage", "export", "--format", "jsonl", "--store", ctx.store_url])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def test_every_kind_with_exact_keys_and_hours(demo: tuple[DemoContext, str], exported: list[dict]) -> None:  # type: ignore[type-arg]
    ctx, _ = demo
    sc = ctx.scenario
    hours = {format_hour(h) for h in sc.hours(HOURS)}
    kinds = set()
    for item in exported:
        kind, account, region = item["awsResource"].split(":")
        assert account in sc.account_ids or account == sc.org_name
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z", item["time"])
        if kind == "svc-cost":
            # The container step stores service costs per host-hour of the collected hours.
            assert item["time"] in hours and item["unit"] == "micro-USD"
            continue
        if kind.startswith("ce-"):
            # The RI step stores Cost Explorer's daily answers: one item per UTC day, regional or global.
            assert item["time"].endswith("T00:00:00Z") and region in (*sc.regions, "global")
            continue
        # Savings Plans are global: one item per account (and the org total) in region "global".
        assert region in sc.regions or (kind == "sp" and region == "global")
        if item.get("source") == "billing":
            # The RI step rebuilds the days before collection from the sandbox bill (history on day one).
            assert item["time"] < min(hours)
            continue
        kinds.add(kind)
        assert item["time"] in hours
    assert kinds == ALL_KINDS
    hourly = {
        (i["awsResource"], i["time"])
        for i in exported
        if i["awsResource"].startswith("ec2:") and i.get("source") != "billing"
    }
    assert {t for _, t in hourly} == hours  # every hour collected
    assert all(not s.failures for s in ctx.summaries)


def test_every_capability_leaves_its_output(demo: tuple[DemoContext, str]) -> None:
    ctx, printed = demo
    assert not ctx.results.get("failed_steps")
    assert (ctx.out_dir / "AwsRIUsageReport.xlsx").stat().st_size > 0  # B: the RI workbook
    # B: DynamoDB reserved capacity is planned; unpriced in the sandbox (its Price List is the snapshot, which has
    # no DynamoDB rates), and it says so
    assert "DynamoDB rows (read / write units x region) have no price" in " ".join(printed.split())
    assert list((ctx.out_dir / "billing").glob("x_BillingPeriod=*/*.parquet"))  # D: the loaded bill
    assert "Sandbox bill by account and service" in printed
    # The bill history (daily CUR, six months) with its injected anomalies, for the anomaly detector.
    assert list((ctx.out_dir / "history-billing").glob("x_BillingPeriod=*/*.parquet"))
    assert set(ctx.results["history"]["injected"]) >= {"forgotten-cluster", "data-transfer-spike"}
    assert "Bill history (daily CUR) 2026-03-01 .. 2026-08-31" in printed.replace("\n", "")
    # The anomaly scan of it: each injected anomaly caught within two days, nothing else flagged.
    scan = ctx.results["anomalies"]
    assert len(scan.anomalies) == len(ctx.results["history"]["injected"]) == 4
    # each notified once on the sandbox's SNS, read back from the queue subscribed to it
    assert len(ctx.results["anomaly_notices"]) == 4 and sorted(scan.notified) == sorted(
        a.id for a in scan.anomalies
    )
    flat = printed.replace("\n", "")
    assert "not caught" not in flat and "not injected" not in flat
    assert "38 × r5.xlarge in eu-west-1, tag Spend_Category=search" in " ".join(flat.split())
    # AWS Cost Anomaly Detection as the sandbox emulates it, side by side: the cluster caught by both (AWS a day
    # later), the drop awscost's alone (AWS reports increases only), the others past AWS's 90 days.
    words = " ".join(printed.split())  # rich wraps at spaces
    assert "AWS Cost Anomaly Detection, emulated by the sandbox (awscost sandbox: EMULATED" in words
    assert "1 caught by both, 3 by awscost only, 0 by AWS only" in words
    assert "awscost 28 h earlier" in words and "reports spend increases only" in words
    assert [p.caught_by for p in ctx.results["anomalies_ce"]["pairs"]].count("both") == 1
    # The usage signal over the hourly usage history catches the two instance injections in their first
    # hour, and the bill history confirms both, each with the hours the usage signal was earlier.
    from awscost.anomalies.confirm import bill_known_at
    from awscost_sandbox.history import INJECTED

    usage = ctx.results["usage_anomalies"]
    instances = [i for i in INJECTED if i.kind == "instances"]
    assert [(u.anomaly.account_id, u.region, u.start) for u in usage.anomalies] == [
        (i.account, i.region, i.start) for i in instances
    ]
    assert [c.status for c in usage.confirmations] == ["confirmed", "confirmed"]
    words = " ".join(flat.split())
    for injection, verdict in zip(instances, usage.confirmations, strict=True):
        bill = next(a for a in scan.anomalies if a.id == verdict.bill_id)
        assert (bill.account_id, bill.service) == (injection.account, injection.service)
        earlier = (bill_known_at(date.fromisoformat(bill.date)) - injection.start - timedelta(hours=1)) // (
            timedelta(hours=1)
        )
        assert verdict.hours_earlier == earlier > 24
        assert (
            f"the usage signal knew {injection.start + timedelta(hours=1):%Y-%m-%dT%H}:00:00Z: {earlier} h earlier"
            in words
        )
    assert "Usage history (hourly, as the collector stores it) 2026-06-09 00:00 .. 2026-08-31 23:00" in words
    assert "data-transfer-spike: data transfer is not usage the collector counts" in words
    assert "Top services by cost" in printed and "__idle__" in printed  # C: service costs
    # The config the demo leaves makes every command read its store and organization.
    from awscost.core.config import load_settings

    settings = load_settings(ctx.out_dir / "awscost.toml", env={})
    assert settings.store == ctx.store_url and settings.org_name == ctx.scenario.org_name
    assert settings.account_names == {a.id: a.name for a in ctx.scenario.accounts}
    from awscost.views.reports import default_dataset

    assert default_dataset(settings) == str(ctx.out_dir / "report-billing")  # what `awscost dashboard` shows
    assert f"export AWSCOST_CONFIG={ctx.out_dir / 'awscost.toml'}" in printed.replace("\n", "")


def _org(exported: list[dict], kind: str, region: str, time: str) -> dict[str, int]:  # type: ignore[type-arg]
    for item in exported:
        if item["awsResource"] == f"{kind}:sandbox-org:{region}" and item["time"] == time:
            return dict(item["usage"])
    return {}


def _person_counts(sc: Scenario, kind: str, region: str, hour) -> Counter[str]:  # type: ignore[no-untyped-def]
    """What a person counts in the scenario for one org-wide item (the collector's key shapes)."""
    out: Counter[str] = Counter()
    for u in sc.fleet_at(hour):
        if u.region != region:
            continue
        if kind == "ec2" and u.kind == "ec2":
            out[f"{'spot-' if u.spot else ''}{u.type}:{u.az}"] += u.count
        elif kind == "rds" and u.kind == "rds":
            out[f"{'multi_az-' if u.multi_az else ''}{u.type}:{u.engine}"] += u.count
        elif kind in ("elasticache", "es", "redshift") and u.kind == kind:
            out[u.type] += u.count
        elif kind == "dynamodb" and u.kind == "dynamodb" and not u.on_demand:
            out["read_capacity"] += u.read_capacity
            out["write_capacity"] += u.write_capacity
            out["table_count"] += 1
    if kind.startswith("ri-"):
        for r in sc.active_reservations(hour):
            if r.kind == kind and r.region == region:
                out[
                    r.type if kind != "ri-rds" else f"{'multi_az-' if r.multi_az else ''}{r.type}:{r.engine}"
                ] += 0
                out[_ri_key(r)] += r.count
        return Counter({k: v for k, v in out.items() if v})
    return out


def _ri_key(r) -> str:  # type: ignore[no-untyped-def]
    if r.kind == "ri-ec2":
        return f"{r.os}-{r.type}"
    if r.kind == "ri-rds":
        return f"{'multi_az-' if r.multi_az else ''}{r.type}:{r.engine}"
    return str(r.type)


def test_counts_are_what_a_person_counts(demo: tuple[DemoContext, str], exported: list[dict]) -> None:  # type: ignore[type-arg]
    ctx, _ = demo
    sc = ctx.scenario
    last = sc.hours(HOURS)[-1]
    first = sc.start
    for region in sc.regions:
        for kind in ("ec2", "rds", "elasticache", "dynamodb"):
            assert _org(exported, kind, region, format_hour(last)) == _person_counts(
                sc, kind, region, last
            ), kind
        # Daily kinds were collected once, at the first hour of the simulated day.
        for kind in ("es", "redshift", "ri-ec2", "ri-rds", "ri-elasticache", "ri-es", "ri-redshift"):
            assert _org(exported, kind, region, format_hour(first)) == _person_counts(
                sc, kind, region, first
            ), kind
    # The Savings Plans owned: their hourly commitment in micro-USD, once per day, for the whole org.
    owned = [p for p in sc.savings_plans() if p.active_at(first)]
    assert owned and _org(exported, "sp", "global", format_hour(first)) == {
        "compute/1y/no": int(sum(p.commitment for p in owned) * 1_000_000)
    }
    # ec2os partitions the same instances by OS.
    for region in sc.regions:
        ec2 = _org(exported, "ec2", region, format_hour(last))
        ec2os = _org(exported, "ec2os", region, format_hour(last))
        assert sum(ec2.values()) == sum(ec2os.values())
    windows = sum(u.count for u in sc.fleet_at(last) if u.kind == "ec2" and u.os == "windows")
    got = sum(
        v
        for r in sc.regions
        for k, v in _org(exported, "ec2os", r, format_hour(last)).items()
        if k.startswith("windows-") and not k.startswith("windows-sql")
    )
    assert got == windows > 0


def test_demo_prints_what_it_collected(demo: tuple[DemoContext, str]) -> None:
    ctx, text = demo
    assert "Usage samples in" in text and "ri-redshift" in text and "Org-wide EC2 instances" in text
    assert "0 failed units" in text
    rows = {r["kind"]: r for r in ctx.results["summary_rows"]}
    assert set(rows) == ALL_KINDS
    assert rows["ec2"]["items"] == HOURS * (len(ctx.scenario.accounts) + 1) * len(ctx.scenario.regions)


def test_demo_rejects_bad_hours(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--hours", "0", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--hours" in result.output


def test_a_failing_step_does_not_stop_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:

    ran: list[str] = []

    def broken(ctx: DemoContext) -> None:
        raise InputError("the bill is missing", where="bill.csv")

    def after(ctx: DemoContext) -> None:
        ran.append(ctx.server.endpoint)

    steps: Registry[Callable[[DemoContext], None]] = Registry("demo step")
    steps.add("broken_step", broken)
    steps.add("after_step", after)
    buf = io.StringIO()
    with pytest.raises(DemoError) as err:
        run_demo(
            1,
            tmp_path,
            Console(file=buf, width=140),
            steps=steps,
        )
    assert "broken_step" in str(err.value) and err.value.exit_code != 0
    assert ran and "bill.csv: the bill is missing" in buf.getvalue()


def test_the_dashboard_serves_the_demos_data(demo: tuple[DemoContext, str]) -> None:
    """`awscost dashboard` after the demo: its config names the store and the dataset; every page answers,
    the live page with the demo's last collected hour."""
    from starlette.testclient import TestClient

    from awscost.core.config import load_settings
    from awscost.entrypoints.cli.dashboard import _dashboard
    from awscost.entrypoints.web.app import create_app

    ctx, _printed = demo
    dash = _dashboard(load_settings(ctx.out_dir / "awscost.toml", env={}), None)
    with TestClient(create_app(dash)) as client:
        for path in ("/", "/usage", "/reservations", "/tags", "/services", "/?audience=managers"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text[:400])
        assert f"{ctx.last_hour:%Y-%m-%d %H:00}Z" in client.get("/usage").text
        # the saved plan and allocation of the demo's ri and services steps, not "run ... first"
        reservations, services = client.get("/reservations").text, client.get("/services").text
        assert "no saved plan" not in reservations and "Monthly savings of the plan" in reservations
        assert "no saved allocation" not in services and "storefront" in services
