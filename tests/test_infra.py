"""The CloudFormation stack: rendered from the job registry (the committed infra/awscost.yaml is exactly
awscost.deploy.stack's output), linted by cfn-lint with its informational rules, IAM in step with what each job
declares, deployable (moto), and the Lambda handler it schedules collecting into DynamoDB and publishing its
metrics. checkov scans infra/ in `make test` (its own virtualenv: Makefile `infra-scan`)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs

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
    from cfnlint.api import lint

    # Errors, warnings and the informational rules (`cfn-lint --include-checks I`): none.
    matches = lint(path.read_text(), config=ManualArgs(include_checks=["I"]))
    assert [str(m) for m in matches] == []


def test_the_committed_stack_is_what_the_jobs_declare() -> None:
    from awscost.deploy import stack

    # A job's rule, grant, memory or timeout changed without the template: `awscost deploy template`.
    assert (INFRA / "awscost.yaml").read_text() == stack.render()


def test_collector_policy_is_exactly_the_registry() -> None:
    template = load_template(INFRA / "awscost.yaml")
    describe = statement(template, "CollectorRole", "NoResourceLevelPermissions")["Action"]
    # sts:AssumeRole is granted separately, scoped to the member role name.
    assert sorted(describe) == [a for a in iam_actions() if a != "sts:AssumeRole"]
    assume = statement(template, "CollectorRole", "EnterMemberAccounts")
    assert assume["Action"] == "sts:AssumeRole"
    assert template["Resources"]["CollectorRole"]["Properties"]["RoleName"] == "awscost-collector"


def _statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """A role's statements, each Fn::If's statement taken (conditions are the deploy's choice)."""
    out = []
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in st:
                out.extend(s for s in st["Fn::If"][1:] if isinstance(s, dict) and "Effect" in s)
            else:
                out.append(st)
    return out


def test_each_job_has_its_own_least_privilege_role() -> None:
    from awscost.deploy import stack

    template = load_template(INFRA / "awscost.yaml")
    jobs = stack.deployed_jobs()
    assert {j.name for j in jobs} >= {"collect", "ce_fetch", "pricing_refresh", "ri_report", "report"}
    roles = {stack.logical(j, "Role") for j in jobs}
    assert len(roles) == len(jobs)
    # Resource "*" only where the API has no resource-level permission: these statements, listed in the note.
    star_sids = {"NoResourceLevelPermissions", "Metrics", "VpcNetworkInterfaces"}
    for job in jobs:
        sts = _statements(template, stack.logical(job, "Role"))
        actions = [a for s in sts for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
        assert not [a for a in actions if "*" in a], f"{job.name}: a wildcard action"
        assert {s["Sid"] for s in sts if s["Resource"] == "*"} <= star_sids, job.name
        unscoped = next((s for s in sts if s["Sid"] == "NoResourceLevelPermissions"), None)
        declared = sorted(a for a in job.iam_actions if not (a == "sts:AssumeRole" and "members" in job.uses))
        got = (
            []
            if unscoped is None
            else sorted([unscoped["Action"]] if isinstance(unscoped["Action"], str) else unscoped["Action"])
        )
        assert got == declared, job.name
        has = {s["Sid"] for s in sts}
        assert ("Store" in has) == ("store" in job.uses), job.name
        assert ("Data" in has) == ("data" in job.uses), job.name
        assert ("Mail" in has) == ("mail" in job.uses), job.name
        assert ("EnterMemberAccounts" in has) == ("members" in job.uses), job.name
        assert {"Config", "Metrics", "Logs", "DeadLetters"} <= has, job.name


def test_each_job_is_scheduled_as_it_declares_with_its_artifact() -> None:
    from awscost.deploy import stack

    template = load_template(INFRA / "awscost.yaml")
    res = template["Resources"]
    for job in stack.deployed_jobs():
        fn = res[stack.logical(job, "Function")]["Properties"]
        assert (fn["MemorySize"], fn["Timeout"]) == (job.memory_mb, job.timeout_s), job.name
        if job.artifact == "collector":
            assert fn["Handler"] == stack.HANDLER and "PackageType" not in fn, job.name
        else:
            assert fn["PackageType"] == "Image" and fn["ImageConfig"]["Command"] == [stack.HANDLER], job.name
        targets = [
            r["Properties"]
            for r in res.values()
            if r["Type"] == "AWS::Events::Rule"
            and r["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0] == stack.logical(job, "Function")
        ]
        assert sorted(t["ScheduleExpression"] for t in targets) == sorted(r.cron for r in job.rules), job.name
        for rule, target in zip(
            job.rules,
            sorted(targets, key=lambda t: [r.cron for r in job.rules].index(t["ScheduleExpression"])),
            strict=True,
        ):
            text = target["Targets"][0]["Input"]
            assert json.loads(text if isinstance(text, str) else text["Fn::Sub"]) == dict(rule.event)
        # An alarm on its errors, throttles and duration; on being overdue when it has a schedule.
        for what in ("ThrottlesAlarm", "DurationAlarm", "OverdueAlarm"):
            assert stack.logical(job, what) in res, (job.name, what)


def test_the_usage_tables_survive_an_upgrade() -> None:
    template = load_template(INFRA / "awscost.yaml")
    for logical_id, name in (("UsageTable", "AWSCost"), ("MapTable", "AWSCostMap")):
        table = template["Resources"][logical_id]
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
        assert table["Properties"]["TableName"] == name
    for logical_id, res in template["Resources"].items():
        if res["Type"] == "AWS::Logs::LogGroup":
            assert res["DeletionPolicy"] and res["Properties"]["RetentionInDays"], logical_id


def test_member_role_trusts_only_the_collector_role() -> None:
    from awscost.deploy import stack

    template = load_template(INFRA / "member-role.yaml")
    assert template["Parameters"]["CollectorRoleName"]["Default"] == stack.COLLECTOR_ROLE
    trust = template["Resources"]["CollectorRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    (only,) = trust
    with_id, without_id = only["Condition"]["Fn::If"][1:]
    role = "arn:${AWS::Partition}:iam::${ManagementAccountId}:role/${CollectorRoleName}"
    for condition in (with_id, without_id):
        assert condition["ArnEquals"]["aws:PrincipalArn"] == {"Fn::Sub": role}
    assert with_id["StringEquals"] == {"sts:ExternalId": {"Ref": "ExternalId"}}


def test_member_role_policy_is_exactly_the_collectors() -> None:
    template = load_template(INFRA / "member-role.yaml")
    describe = statement(template, "CollectorRole", "Describe")["Action"]
    # Members need the collectors' actions and region discovery; not Organizations, not STS.
    assert sorted(describe) == sorted({*iam_actions(runner=False), "ec2:DescribeRegions"})


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/awscost-analytics:test"
# What moto's CloudFormation creates of the stack; it ignores (creates nothing, says CREATE_COMPLETE) the alarms,
# the bucket policy, and PackageType/ImageUri of an image function (it records a zip function).
CREATED_BY_MOTO = {
    "AWS::CloudWatch::Dashboard",
    "AWS::DynamoDB::Table",
    "AWS::Events::Rule",
    "AWS::IAM::Role",
    "AWS::KMS::Alias",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
}


def deploy_stack(template: Path = INFRA / "awscost.yaml", **overrides: str) -> dict[str, str]:
    """The stack in moto with the collector zip, the config object and (unless overridden) every option set."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="code")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("awscost/__init__.py", "")
    s3.put_object(Bucket="code", Key="awscost/awscost-lambda.zip", Body=buf.getvalue())
    s3.put_object(Bucket="code", Key="config/awscost.toml", Body=b"[awscost]\n")
    params = {
        "CodeBucket": "code",
        "ConfigLocation": "s3://code/config/awscost.toml",
        "Accounts": "self",
        "Regions": "us-east-1",
        "AnalyticsImageUri": IMAGE,
        "BillExportUrl": "s3://bills/cur/",
        "MailIdentity": "example.com",
        "SlackSigningSecretName": "awscost/slack-signing-secret",
        "SlackBotTokenName": "awscost/slack-bot-token",
        **overrides,
    }
    declared = load_template(template)["Parameters"]
    boto3.client("cloudformation").create_stack(
        StackName="awscost",
        TemplateBody=template.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items() if k in declared],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    return params


def test_stack_deploys(aws: str) -> None:
    from awscost.deploy import stack

    deploy_stack()
    cfn = boto3.client("cloudformation")
    assert cfn.describe_stacks(StackName="awscost")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    created = cfn.list_stack_resources(StackName="awscost")["StackResourceSummaries"]
    template = load_template(INFRA / "awscost.yaml")
    supported = [k for k, r in template["Resources"].items() if r["Type"] in CREATED_BY_MOTO]
    assert sorted(r["LogicalResourceId"] for r in created if r["ResourceType"]) == sorted(supported)
    ddb = boto3.client("dynamodb")
    usage = ddb.describe_table(TableName="AWSCost")["Table"]
    assert usage["KeySchema"] == [
        {"AttributeName": "awsResource", "KeyType": "HASH"},
        {"AttributeName": "time", "KeyType": "RANGE"},
    ]
    assert usage["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    functions = {f["FunctionName"]: f for f in boto3.client("lambda").list_functions()["Functions"]}
    assert set(functions) == {stack.function_name(j) for j in stack.deployed_jobs()} | {
        stack.SLACK_FUNCTION,
        stack.function_name(stack.slack_answers_job()),  # awscost-slack-answers
    }
    collector = functions["awscost-collector"]
    assert collector["Handler"] == "awscost.entrypoints.lambda_handler.handler"
    env = collector["Environment"]["Variables"]
    assert env["AWSCOST_STORE"] == "dynamodb://AWSCost?region=us-east-1&map_table=AWSCostMap"
    assert env["AWSCOST_CONFIG"] == "s3://code/config/awscost.toml"
    rules = {r["ScheduleExpression"] for r in boto3.client("events").list_rules()["Rules"]}
    assert rules == {rule.cron for j in stack.deployed_jobs() for rule in j.rules}


def test_without_the_analytics_image_or_a_bill_export_only_the_collector_jobs_deploy(aws: str) -> None:
    from awscost.deploy import stack

    deploy_stack(AnalyticsImageUri="", BillExportUrl="", MailIdentity="")
    cfn = boto3.client("cloudformation")
    assert cfn.describe_stacks(StackName="awscost")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    functions = {f["FunctionName"] for f in boto3.client("lambda").list_functions()["Functions"]}
    assert functions == {stack.function_name(j) for j in stack.deployed_jobs() if j.artifact == "collector"}


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
    assert {m["MetricName"] for m in metrics} == {"ItemsWritten", "FailedUnits", "ApiCalls", "Failures"}


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

    template = load_template(INFRA / "awscost.yaml")
    targets = [
        r["Properties"]["Targets"][0]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
    ]
    assert len(targets) >= 9
    for target in targets:
        text = target["Input"] if isinstance(target["Input"], str) else target["Input"]["Fn::Sub"]
        job, values = job_of_event(
            json.loads(
                text.replace("${DataBucket}", "data")
                .replace("${BillExportUrl}", "s3://b/p/")
                .replace("${AnomalyTopic}", "arn:aws:sns:us-east-1:111122223333:awscost-anomalies")
            )
        )
        job.parse(values, where="Input")


def test_the_docs_jobs_table_is_what_the_jobs_declare() -> None:
    from awscost.deploy import stack

    text = (INFRA.parent / "docs" / "stack.md").read_text()
    block = re.search(r"<!-- jobs-table:[^>]*-->\n(.*?)<!-- /jobs-table -->", text, re.S)
    assert block, "docs/stack.md has no jobs-table block"
    assert block.group(1) == stack.jobs_table(), "docs/stack.md: paste awscost.deploy.stack.jobs_table()"


def test_an_upgrade_from_the_collector_only_stack_keeps_the_usage_tables() -> None:
    """The first deployed stack (tests/fixtures/awscost-collector-only.yaml) updated to today's: each table keeps
    its logical id, its name and the properties whose change replaces a table (key schema, attributes), so
    CloudFormation updates it in place (the SSE key changes in place), and Retain holds if it is ever removed.
    (moto's update_stack fails on this template, "Fn::GetAtt references undefined resource UsageTable": its
    table update drops the table from the stack's map. So this is checked on the templates.)"""
    old = load_template(INFRA.parent / "tests" / "fixtures" / "awscost-collector-only.yaml")["Resources"]
    new = load_template(INFRA / "awscost.yaml")["Resources"]
    for logical_id in ("UsageTable", "MapTable"):
        before, after = old[logical_id], new[logical_id]
        assert after["Type"] == before["Type"] == "AWS::DynamoDB::Table"
        for replacing in ("TableName", "KeySchema", "AttributeDefinitions"):
            assert after["Properties"][replacing] == before["Properties"][replacing], (logical_id, replacing)
        assert after["DeletionPolicy"] == after["UpdateReplacePolicy"] == "Retain"
    # The collector keeps its function and the alarms people subscribed to.
    for logical_id in (
        "CollectorFunction",
        "CollectorLogGroup",
        "HourlySchedule",
        "DailySchedule",
        "MissedHourAlarm",
        "FailedUnitsAlarm",
        "FunctionErrorsAlarm",
        "AlarmTopic",
    ):
        assert new[logical_id]["Type"] == old[logical_id]["Type"], logical_id
    assert (
        new["CollectorFunction"]["Properties"]["FunctionName"]
        == old["CollectorFunction"]["Properties"]["FunctionName"]
    )


def test_deploy_template_writes_the_stack_and_check_fails_on_drift(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from awscost.entrypoints.cli import cli

    out = tmp_path / "awscost.yaml"
    runner = CliRunner()
    wrote = runner.invoke(cli, ["deploy", "template", "--out", str(out)])
    assert wrote.exit_code == 0 and out.read_text() == (INFRA / "awscost.yaml").read_text()
    assert runner.invoke(cli, ["deploy", "template", "--out", str(out), "--check"]).exit_code == 0
    out.write_text(out.read_text().replace("cron(5 * * * ? *)", "cron(6 * * * ? *)"))
    drift = runner.invoke(cli, ["deploy", "template", "--out", str(out), "--check"])
    assert drift.exit_code == 1 and "differs from what the jobs declare" in drift.output


def test_the_alarms_topic_is_under_a_key_cloudwatch_may_use() -> None:
    """CloudWatch alarms cannot publish to a topic under alias/aws/sns (AWS's key policy does not allow
    cloudwatch.amazonaws.com and cannot be edited): the alarms' topic uses the stack's key, which lets this
    account's alarms, and no one else's, encrypt for it."""
    resources = load_template(INFRA / "awscost.yaml")["Resources"]
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "DataKey"}
    statements = resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    (alarms,) = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(alarms["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert alarms["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    # Every alarm of the stack publishes to that topic.
    alarm_actions = [
        r["Properties"]["AlarmActions"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert alarm_actions and all(a == [{"Ref": "AlarmTopic"}] for a in alarm_actions)
