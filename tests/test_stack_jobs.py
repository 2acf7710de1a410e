"""Every scheduled job of the stack, run once through the Lambda handler exactly as deployed: `deploy package`
and `deploy push` into the sandbox (moto over HTTP, with its layer), the stack created from the pushed
source.zip's template and configuration, each function's environment read back from Lambda, each rule's event
read back from EventBridge, awscost.toml from S3. Only the clock is fixed (a schedule's event carries no time:
the jobs take the hour they run at)."""

from __future__ import annotations

import functools
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from awscost.core.timeutil import parse_time

INFRA = Path(__file__).resolve().parents[1] / "infra"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/awscost-analytics:test"  # the pipeline's build stage
HOUR = "2026-11-09T12:00:00Z"
RUN_AT = parse_time("2026-11-09T12:20:00Z", where="test")  # the hourly rules run some minutes past the hour
CONFIG = """
[awscost]
org_name = "sandbox-org"

[report]
mail_from = "finops@example.com"
ses_region = "us-east-1"

[[report.audience]]
name = "payments"
recipients = ["payments@example.com"]
accounts = ["222233334444"]
schedule = "weekly"
"""


@dataclass
class Deployed:
    server: Any
    functions: dict[str, dict[str, Any]]  # function name -> its configuration (environment included)
    events: dict[str, tuple[str, dict[str, Any]]]  # rule id -> (function name, the event it sends)
    data_bucket: str


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    """The sandbox, seeded at HOUR, and the stack created in it with every option set."""
    import boto3

    import awscost_sandbox.ce  # noqa: F401  (the layer answers Cost Explorer)
    from awscost.core.timeutil import parse_hour
    from awscost_sandbox.demo import demo_settings, sandbox_environment
    from awscost_sandbox.seed import apply_fleet, seed_organization
    from awscost_sandbox.server import SandboxServer

    with SandboxServer() as server:
        seed_organization(server)
        hour = parse_hour(HOUR)
        server.clock = hour
        apply_fleet(server, server.scenario, hour)
        settings = demo_settings(server.scenario, "unused")
        with sandbox_environment(server):
            # What a release does: `deploy package`, `deploy push` to the pipeline's versioned source bucket,
            # and the pipeline's deploy stage: the stack from source.zip's template and configuration (its
            # build stage adds the analytics image's URI, built from the pushed context; not built here).
            from awscost.deploy.package import build
            from awscost.deploy.push import TEMPLATE_CONFIGURATION, push

            s3 = boto3.client("s3")
            s3.create_bucket(Bucket="awscost-source")
            s3.put_bucket_versioning(Bucket="awscost-source", VersioningConfiguration={"Status": "Enabled"})
            s3.create_bucket(Bucket="awscost-config")
            s3.put_object(Bucket="awscost-config", Key="awscost.toml", Body=CONFIG.encode())
            with tempfile.TemporaryDirectory() as tmp:
                build(Path(tmp) / "dist")
                pushed = push(
                    boto3.Session(),
                    Path(tmp) / "dist",
                    "awscost-source",
                    parameters={
                        "ConfigLocation": "s3://awscost-config/awscost.toml",
                        "OrgName": settings.org_name,
                        "Accounts": ",".join(settings.accounts),
                        "MemberRoleName": str(settings.role_name),
                        "Regions": ",".join(settings.regions),
                        "BillExportUrl": "s3://sandbox-bills/cur/",
                        "MailIdentity": "example.com",
                    },
                )
            body = s3.get_object(Bucket="awscost-source", Key=pushed.source_key, VersionId=pushed.version_id)
            with zipfile.ZipFile(io.BytesIO(body["Body"].read())) as source:
                template = source.read("awscost.yaml").decode()
                configuration = json.loads(source.read(TEMPLATE_CONFIGURATION))
            assert template == (INFRA / "awscost.yaml").read_text()
            params = {**configuration["Parameters"], "AnalyticsImageUri": IMAGE}
            cfn = boto3.client("cloudformation")
            cfn.create_stack(
                StackName="awscost",
                TemplateBody=template,
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
                Tags=[{"Key": k, "Value": v} for k, v in configuration["Tags"].items()],
                Capabilities=["CAPABILITY_NAMED_IAM"],
            )
            assert cfn.describe_stacks(StackName="awscost")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
            lam, events = boto3.client("lambda"), boto3.client("events")
            functions = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
            by_arn = {f["FunctionArn"]: name for name, f in functions.items()}
            rules = {}
            for rule in events.list_rules()["Rules"]:
                (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
                rules[rule["Name"]] = (by_arn[target["Arn"]], json.loads(target["Input"]))
            outputs = {
                o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks()["Stacks"][0]["Outputs"]
            }
            # The inputs the stack reads from outside: the payer's CUR export and the hosts' container logs.
            _put_sandbox_inputs(server, outputs["DataBucketName"])
            boto3.client("ses").verify_email_identity(EmailAddress="finops@example.com")
            yield Deployed(server, functions, rules, outputs["DataBucketName"])


def _put_sandbox_inputs(server: Any, data_bucket: str) -> None:
    import tempfile

    import boto3

    from awscost_sandbox.bill import write_bill
    from awscost_sandbox.containers import write_logs

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="sandbox-bills")
    with tempfile.TemporaryDirectory() as tmp:
        hours = server.scenario.hours(3)
        cur = write_bill(server.scenario, hours, Path(tmp) / "bill", formats=("cur",))["cur"]
        logs = write_logs(server.scenario, hours, Path(tmp) / "containers")[0].parent
        for root, bucket, prefix in ((cur, "sandbox-bills", "cur/"), (logs, data_bucket, "containers/")):
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                s3.upload_file(str(path), bucket, prefix + path.relative_to(root).as_posix())


def invoke(deployed: Deployed, job: str, kinds: str | None = None) -> dict[str, Any]:
    """The handler with the function's environment and its rule's event, at RUN_AT."""
    import awscost.jobs
    from awscost.entrypoints.lambda_handler import handler
    from awscost.jobs import Context

    (fn, event), *more = [
        (f, e) for f, e in deployed.events.values() if e["job"] == job and e.get("kinds", kinds) == kinds
    ]
    assert not more, f"{job} has more than one rule: say which"
    env = deployed.functions[fn]["Environment"]["Variables"]
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("AWSCOST_")]:
            mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        mp.setattr(awscost.jobs, "Context", functools.partial(Context, clock=lambda: RUN_AT))
        result: dict[str, Any] = handler(event)
    print(f"{job}: {json.dumps({k: v for k, v in result.items() if k not in ('rows', 'failures')})[:300]}")
    return result


def test_the_stack_schedules_every_job_that_declares_a_rule(deployed: Deployed) -> None:
    from awscost.deploy import stack

    declared = sorted((j.name, dict(r.event).get("kinds")) for j in stack.deployed_jobs() for r in j.rules)
    scheduled = sorted((e["job"], e.get("kinds")) for _, e in deployed.events.values())
    assert scheduled == declared
    for fn, event in deployed.events.values():
        assert "${" not in json.dumps(event), (fn, event)  # every ${Name} resolved by the stack
        if "into" in event:
            assert event["into"] == f"s3://{deployed.data_bucket}/billing/"


def test_collect_hourly_and_daily_as_deployed(deployed: Deployed) -> None:
    from awscost.store import open_store

    hourly = invoke(deployed, "collect", "hourly")
    assert hourly["failures"] == [] and hourly["time"] == HOUR and hourly["items_written"] > 0
    daily = invoke(deployed, "collect", "daily")
    assert daily["failures"] == [] and "ri-ec2" in daily["kinds"]
    env = deployed.functions["awscost-collector"]["Environment"]["Variables"]
    with open_store(env["AWSCOST_STORE"]) as store:  # the stack's DynamoDB tables
        assert list(store.query(kind="ec2os", account="sandbox-org"))


def test_ce_fetch_as_deployed(deployed: Deployed) -> None:
    result = invoke(deployed, "ce_fetch")
    assert result["day"] == "2026-11-09" and result["items_written"] > 0


def test_ri_plan_as_deployed(deployed: Deployed) -> None:
    invoke(deployed, "collect", "hourly")
    result = invoke(deployed, "ri_plan")
    assert result["term"] == "1y" and result["price_sources"]


def test_pricing_refresh_as_deployed_caches_the_sandboxs_price_list(deployed: Deployed) -> None:
    from awscost.planning.pricing.api import API_SOURCE, META_ID, read_cache
    from awscost.store import open_store

    invoke(deployed, "collect", "hourly")  # the types to price are those collected in the last 7 days
    result = invoke(deployed, "pricing_refresh")
    assert result["failed"] == [] and result["fallback"] is None and result["queries"] > 1
    env = deployed.functions["awscost-pricing-refresh"]["Environment"]["Variables"]
    with open_store(env["AWSCOST_STORE"]) as store:
        assert result["cached"] == len(read_cache(store)) > 2
        assert store.get_map(META_ID)["source"] == API_SOURCE


def test_the_analytics_jobs_as_deployed(deployed: Deployed) -> None:
    """The image's jobs, in the order their rules run: ingest, then what reads the dataset."""
    import boto3

    s3 = boto3.client("s3")
    loaded = invoke(deployed, "billing_load")
    assert loaded["files_read"] == 1 and [p["period"] for p in loaded["periods"]] == ["2026-11"]
    again = invoke(deployed, "billing_load")  # the next hour: nothing new delivered, no data file read
    assert again["files_read"] == 0 and again["unchanged"] == ["2026-11"]
    report = invoke(deployed, "report")  # Monday the 9th: the weekly audience is due
    assert [r["audience"] for r in report["reports"]] == ["payments"]
    assert report["reports"][0]["delivery"]["sent"] == ["payments@example.com"]
    workbook = invoke(deployed, "ri_report")
    assert workbook["path"] == f"s3://{deployed.data_bucket}/reports/ri/2026-11-09/AwsRIUsageReport.xlsx"
    s3.head_object(Bucket=deployed.data_bucket, Key="reports/ri/2026-11-09/AwsRIUsageReport.xlsx")
    metrics = invoke(deployed, "cost_metrics")  # daily, after the report: the alarms' and dashboard's series
    assert metrics["published"] > 0 and metrics["failures"] == []
    services = invoke(deployed, "service_costs")
    assert services["stored"] > 0 and services["priced"]["billing"] > 0  # every host priced from the bill
    assert services["unpriced"] == services["malformed"] == services["conflicts"] == []
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=deployed.data_bucket)["Contents"]}
    assert "billing/_awscost_billing.json" in keys
    assert any(k.startswith("reports/payments/") for k in keys)


def test_health_as_deployed_publishes_each_jobs_time_since_its_last_success(deployed: Deployed) -> None:
    import boto3

    invoke(deployed, "collect", "hourly")
    result = invoke(deployed, "health")
    jobs = {j["job"]: j for j in result["jobs"]}
    assert jobs["collect"]["status"] == "ok"
    names = {
        m["Dimensions"][0]["Value"]
        for m in boto3.client("cloudwatch").list_metrics(
            Namespace="awscost", MetricName="SecondsSinceLastSuccess"
        )["Metrics"]
    }
    assert "collect" in names
