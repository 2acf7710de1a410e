"""The CloudFormation stack: linted by cfn-lint, IAM in step with the collector registry, deployable
(moto), and the Lambda handler it schedules collecting into DynamoDB and publishing its metrics."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from awscost.usage.kinds import iam_actions

INFRA = Path(__file__).resolve().parents[1] / "infra"
TEMPLATES = sorted(INFRA.glob("*.yaml"))


def load_template(path: Path) -> dict[str, Any]:
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    assert not matches, matches
    assert template is not None
    return dict(template)


def statement(template: dict[str, Any], role: str, sid: str) -> dict[str, Any]:
    policies = template["Resources"][role]["Properties"]["Policies"]
    for policy in policies:
        for st in policy["PolicyDocument"]["Statement"]:
            if st.get("Sid") == sid:
                return dict(st)
    raise AssertionError(f"{role} has no statement {sid}")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_pass_cfn_lint(path: Path) -> None:
    from cfnlint.api import lint_all

    matches = lint_all(path.read_text())
    # Errors and warnings, as the cfn-lint command line reports them; informational rules are advice.
    assert [str(m) for m in matches if m.rule.severity in ("error", "warning")] == []


def test_collector_policy_is_exactly_the_registry() -> None:
    template = load_template(INFRA / "awscost.yaml")
    describe = statement(template, "CollectorRole", "Describe")["Action"]
    # sts:AssumeRole is granted separately, scoped to the member role name.
    assert sorted(describe) == [a for a in iam_actions() if a != "sts:AssumeRole"]
    assume = statement(template, "CollectorRole", "EnterMemberAccounts")
    assert assume["Action"] == "sts:AssumeRole"


def test_member_role_policy_is_exactly_the_collectors() -> None:
    template = load_template(INFRA / "member-role.yaml")
    describe = statement(template, "CollectorRole", "Describe")["Action"]
    # Members need the collectors' actions and region discovery; not Organizations, not STS.
    assert sorted(describe) == sorted({*iam_actions(runner=False), "ec2:DescribeRegions"})


def deploy_stack() -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="code")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("awscost/__init__.py", "")
    s3.put_object(Bucket="code", Key="awscost/awscost-lambda.zip", Body=buf.getvalue())
    boto3.client("cloudformation").create_stack(
        StackName="awscost",
        TemplateBody=(INFRA / "awscost.yaml").read_text(),
        Parameters=[
            {"ParameterKey": "CodeBucket", "ParameterValue": "code"},
            {"ParameterKey": "Accounts", "ParameterValue": "self"},
            {"ParameterKey": "Regions", "ParameterValue": "us-east-1"},
        ],
        Capabilities=["CAPABILITY_IAM"],
    )


def test_stack_deploys(aws: str) -> None:
    deploy_stack()
    cfn = boto3.client("cloudformation")
    stack = cfn.describe_stacks(StackName="awscost")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    ddb = boto3.client("dynamodb")
    usage = ddb.describe_table(TableName="AWSCost")["Table"]
    assert usage["KeySchema"] == [
        {"AttributeName": "awsResource", "KeyType": "HASH"},
        {"AttributeName": "time", "KeyType": "RANGE"},
    ]
    assert usage["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    fn = boto3.client("lambda").get_function(FunctionName="awscost-collector")["Configuration"]
    assert fn["Handler"] == "awscost.entrypoints.lambda_handler.handler"
    env = fn["Environment"]["Variables"]
    assert env["AWSCOST_STORE"] == "dynamodb://AWSCost?region=us-east-1&map_table=AWSCostMap"
    rules = {r["ScheduleExpression"] for r in boto3.client("events").list_rules()["Rules"]}
    assert rules == {"cron(5 * * * ? *)", "cron(15 0 * * ? *)"}


def test_handler_collects_into_dynamodb_and_publishes_metrics(
    aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from awscost.entrypoints.lambda_handler import handler
    from awscost.store import open_store

    deploy_stack()  # the tables, and the function's environment exactly as the template sets it
    env = boto3.client("lambda").get_function(FunctionName="awscost-collector")["Configuration"][
        "Environment"
    ]
    for name, value in env["Variables"].items():
        monkeypatch.setenv(name, value)
    url = env["Variables"]["AWSCOST_STORE"]
    monkeypatch.chdir(tmp_path)  # like /var/task: no awscost.toml in the working directory
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, InstanceType="m5.large", MinCount=3, MaxCount=3)

    result = handler({"action": "collect", "kinds": "ec2", "at": "2026-11-26T10:20:00Z"})

    assert result["failures"] == []
    assert result["time"] == "2026-11-26T10:00:00Z"
    store = open_store(url)
    items = {i.aws_resource: dict(i.usage) for i in store.query(kind="ec2")}
    account = boto3.client("sts").get_caller_identity()["Account"]
    assert items[f"ec2:{account}:us-east-1"] == {f"m5.large:{_az(ec2)}": 3}
    assert items["ec2:org:us-east-1"] == {f"m5.large:{_az(ec2)}": 3}
    metrics = boto3.client("cloudwatch").list_metrics(Namespace="awscost")["Metrics"]
    assert {m["MetricName"] for m in metrics} == {"ItemsWritten", "FailedUnits", "ApiCalls"}


def _az(ec2: Any) -> str:
    reservations = ec2.describe_instances()["Reservations"]
    return str(reservations[0]["Instances"][0]["Placement"]["AvailabilityZone"])


def test_handler_rejects_unknown_job() -> None:
    from awscost.core.errors import InputError
    from awscost.entrypoints.lambda_handler import handler

    with pytest.raises(InputError, match="unknown job 'nope' \\(known: collect, ce_fetch"):
        handler({"action": "nope"})
    with pytest.raises(InputError, match="names no job"):
        handler({"kinds": "hourly"})


def test_every_scheduled_event_of_the_stack_is_a_job_the_handler_accepts() -> None:
    from awscost.jobs import job_of_event

    inputs = re.findall(r"^\s+Input: '(.+)'$", (INFRA / "awscost.yaml").read_text(), re.M)
    assert len(inputs) == 2
    for text in inputs:
        job, values = job_of_event(json.loads(text))
        params = job.parse(values, where="Input")
        assert job.name == "collect" and params.kinds in ("hourly", "daily")
        assert job.lambda_unavailable is None and job.missing_extra() is None
