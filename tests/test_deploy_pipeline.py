"""infra/pipeline.yaml, created through the APIs (moto over HTTP) from the template's own properties: its
buckets, key, image repository, roles, CodeBuild project, pipeline and start rule; then `awscost deploy
package` and `deploy push` into that source bucket, and source.zip read back holds what the pipeline's
stages name. moto's CloudFormation skips CodePipeline and CodeBuild, hence the APIs.

`deploy status` (GetPipelineState, which moto lacks) answers through botocore's Stubber."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
REGION = "us-east-1"
BUCKETS = {
    "AccessLogBucket": "awscost-pipeline-logs",
    "SourceBucket": "awscost-pipeline-source",
    "ArtifactBucket": "awscost-pipeline-artifacts",
}


def load(path: Path) -> dict[str, Any]:
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    assert not matches and template is not None, matches
    return dict(template)


class Resolver:
    """Refs, GetAtts and Subs of a template resolved to the values of what the test created (a name not
    created yet is a KeyError: the test creates in dependency order)."""

    def __init__(self, template: dict[str, Any], account: str) -> None:
        self.values: dict[str, Any] = {
            "AWS::AccountId": account,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            **{k: p.get("Default") for k, p in template.get("Parameters", {}).items()},
        }

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self(v) for v in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"}:
            return self.values[node["Ref"]]
        if set(node) == {"Fn::GetAtt"}:
            target = node["Fn::GetAtt"]
            name, attribute = target if isinstance(target, list) else target.split(".", 1)
            return self.values[f"{name}.{attribute}"]
        if set(node) == {"Fn::Sub"}:
            text = node["Fn::Sub"]
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.values[m.group(1)]), text)
        return {k: self(v) for k, v in node.items()}


def camel(node: Any, keep: frozenset[str] = frozenset({"Configuration"})) -> Any:
    """CloudFormation's property names as the service API spells them (PascalCase -> camelCase); the maps
    under `keep` (an action's Configuration) keep their keys and hold strings."""
    rename = {"BuildSpec": "buildspec"}
    if isinstance(node, list):
        return [camel(v, keep) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        name = rename.get(key, key[:1].lower() + key[1:])
        if key in keep:
            out[name] = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
        else:
            out[name] = camel(value, keep)
    return out


def _s3_encryption(properties: dict[str, Any]) -> dict[str, Any]:
    rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    return {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"],
                **({"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {}),
            }
            for r in rules
        ]
    }


@pytest.fixture()
def pipeline(aws: str) -> dict[str, Any]:
    """infra/pipeline.yaml's resources created from its properties; yields the resolved template and ids."""
    template = load(INFRA / "pipeline.yaml")
    resources = template["Resources"]
    account = boto3.client("sts").get_caller_identity()["Account"]
    resolve = Resolver(template, account)
    props: Callable[[str], dict[str, Any]] = lambda name: resolve(resources[name].get("Properties", {}))  # noqa: E731

    kms = boto3.client("kms")
    key = kms.create_key(Description=props("PipelineKey")["Description"])["KeyMetadata"]
    assert props("PipelineKey")["EnableKeyRotation"] is True
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.put_key_policy(
        KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(props("PipelineKey")["KeyPolicy"])
    )
    resolve.values.update({"PipelineKey": key["KeyId"], "PipelineKey.Arn": key["Arn"]})

    s3 = boto3.client("s3")
    for logical, name in BUCKETS.items():
        resolve.values.update({logical: name, f"{logical}.Arn": f"arn:aws:s3:::{name}"})
        p = props(logical)
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=p["VersioningConfiguration"])
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=_s3_encryption(p))
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"]
        )
        policy = props(f"{logical}Policy")
        assert policy["Bucket"] == name
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy["PolicyDocument"]))

    ecr = boto3.client("ecr")
    repo_props = props("ImageRepository")
    repository = ecr.create_repository(
        **camel(
            {
                k: repo_props[k]
                for k in (
                    "RepositoryName",
                    "ImageTagMutability",
                    "ImageScanningConfiguration",
                    "EncryptionConfiguration",
                )
            }
        )
    )["repository"]
    ecr.set_repository_policy(
        repositoryName=repository["repositoryName"], policyText=json.dumps(repo_props["RepositoryPolicyText"])
    )
    ecr.put_lifecycle_policy(
        repositoryName=repository["repositoryName"],
        lifecyclePolicyText=repo_props["LifecyclePolicy"]["LifecyclePolicyText"],
    )
    resolve.values.update(
        {
            "ImageRepository": repository["repositoryName"],
            "ImageRepository.Arn": repository["repositoryArn"],
            "ImageRepository.RepositoryUri": repository["repositoryUri"],
        }
    )

    logs = boto3.client("logs")
    group = props("BuildLogGroup")
    logs.create_log_group(logGroupName=group["LogGroupName"], kmsKeyId=group["KmsKeyId"])
    logs.put_retention_policy(logGroupName=group["LogGroupName"], retentionInDays=group["RetentionInDays"])
    resolve.values.update(
        {
            "BuildLogGroup": group["LogGroupName"],
            "BuildLogGroup.Arn": f"arn:aws:logs:{REGION}:{account}:log-group:{group['LogGroupName']}:*",
        }
    )

    iam = boto3.client("iam")

    def role(logical: str) -> None:
        p = props(logical)
        arn = iam.create_role(RoleName=logical, AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]))[
            "Role"
        ]["Arn"]  # fmt: skip
        for policy in p["Policies"]:
            iam.put_role_policy(
                RoleName=logical,
                PolicyName=policy["PolicyName"],
                PolicyDocument=json.dumps(policy["PolicyDocument"]),
            )
        resolve.values.update({logical: logical, f"{logical}.Arn": arn})

    role("BuildRole")
    codebuild = boto3.client("codebuild")
    spec = camel(props("AnalyticsImageBuild"))
    assert spec["source"]["type"] == spec["artifacts"]["type"] == "CODEPIPELINE"
    for part in ("source", "artifacts"):
        # moto 5.2 requires a location of every source and artifact; AWS ignores it for CODEPIPELINE ones.
        spec[part]["location"] = "codepipeline"
    project = codebuild.create_project(**spec)["project"]
    resolve.values.update({"AnalyticsImageBuild": project["name"], "AnalyticsImageBuild.Arn": project["arn"]})
    role("DeployRole")
    role("PipelineRole")

    codepipeline = boto3.client("codepipeline")
    created = codepipeline.create_pipeline(pipeline=camel(props("Pipeline")))["pipeline"]
    resolve.values["Pipeline"] = created["name"]
    role("StartPipelineRole")
    rule = props("SourcePushedRule")
    events = boto3.client("events")
    events.put_rule(Name="SourcePushedRule", EventPattern=json.dumps(rule["EventPattern"]))
    events.put_targets(Rule="SourcePushedRule", Targets=rule["Targets"])
    return {"template": template, "resolve": resolve, "pipeline": created["name"]}


def _tag_and_image(spec: dict[str, Any], version: str, tmp_path: Path) -> tuple[str, Any]:
    import subprocess

    stamp = {"version": version, "built_at": "2026-12-01T09:30:00Z", "commit": "abc1234"}
    (tmp_path / "build-stamp.json").write_text(json.dumps(stamp))
    tag_line = spec["phases"]["pre_build"]["commands"][0]
    image_line = spec["phases"]["post_build"]["commands"][-1]
    script = f'{tag_line}\n{image_line}\necho "$TAG"\n'
    env = {"PATH": "/usr/bin:/bin", "REPOSITORY_URI": "repo.example/awscost"}
    run = subprocess.run(
        ["bash", "-ec", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    return run.stdout.strip(), json.loads((tmp_path / "image.json").read_text())


def test_the_pipeline_runs_source_then_the_image_build_then_the_stack(
    pipeline: dict[str, Any], tmp_path: Path
) -> None:
    codepipeline = boto3.client("codepipeline")
    stored = codepipeline.get_pipeline(name=pipeline["pipeline"])["pipeline"]
    assert [s["name"] for s in stored["stages"]] == ["Source", "Build", "Deploy"]
    source, build, deploy = (s["actions"][0] for s in stored["stages"])
    assert source["configuration"] == {
        "S3Bucket": BUCKETS["SourceBucket"],
        "S3ObjectKey": "source.zip",
        "PollForSourceChanges": "false",
    }
    assert stored["artifactStore"]["location"] == BUCKETS["ArtifactBucket"]
    assert stored["artifactStore"]["encryptionKey"]["type"] == "KMS"
    # The build reads the source and hands its image.json to the deploy, which reads both.
    assert build["inputArtifacts"] == source["outputArtifacts"] == [{"name": "Source"}]
    assert deploy["inputArtifacts"] == [{"name": "Source"}, *build["outputArtifacts"]]
    assert deploy["configuration"]["ActionMode"] == "CREATE_UPDATE"
    assert deploy["configuration"]["StackName"] == "awscost"
    overrides = json.loads(deploy["configuration"]["ParameterOverrides"])
    image_artifact = build["outputArtifacts"][0]["name"]
    assert overrides == {
        "AnalyticsImageUri": {"Fn::GetParam": [image_artifact, "image.json", "AnalyticsImageUri"]}
    }

    project = boto3.client("codebuild").batch_get_projects(names=[build["configuration"]["ProjectName"]])
    (built,) = project["projects"]
    assert built["environment"]["privilegedMode"] is True  # docker build
    spec = yaml.safe_load(built["source"]["buildspec"])
    assert spec["artifacts"]["files"] == ["image.json"]
    commands = " ".join(c for phase in spec["phases"].values() for c in phase["commands"])
    assert 'docker build --tag "$REPOSITORY_URI:$TAG" analytics' in commands
    assert '{"AnalyticsImageUri": "%s"}' in commands
    # The tag and image.json, as the build's shell computes them from the pushed stamp (docker aside).
    for version, tag in (
        ("v1.2.0", "v1.2.0"),
        ("v1.2.0-3-gabc1234-dirty", "v1.2.0-3-gabc1234-dirty-20261201093000"),
    ):
        assert _tag_and_image(spec, version, tmp_path) == (
            tag,
            {"AnalyticsImageUri": f"repo.example/awscost:{tag}"},
        )
    (variable,) = built["environment"]["environmentVariables"]
    assert variable["value"] == pipeline["resolve"].values["ImageRepository.RepositoryUri"]

    repository = boto3.client("ecr").describe_repositories()["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}


def test_a_push_of_source_zip_matches_the_start_rule(pipeline: dict[str, Any]) -> None:
    # moto's TestEventPattern answers nothing: the rule's pattern as stored is matched by moto's own matcher
    # (what its event buses route with).
    from moto.events.models import EventPattern

    stored = boto3.client("events").describe_rule(Name="SourcePushedRule")["EventPattern"]
    pattern = EventPattern.load(stored)
    event: dict[str, Any] = {
        "id": "1", "account": "123456789012", "source": "aws.s3", "time": "2026-12-01T00:00:00Z",
        "region": REGION, "resources": [], "detail-type": "Object Created",
        "detail": {"bucket": {"name": BUCKETS["SourceBucket"]}, "object": {"key": "source.zip"}},
    }  # fmt: skip
    assert pattern.matches_event(event)
    event["detail"]["object"] = {"key": "artifacts/v1/awscost-collector.zip"}
    assert not pattern.matches_event(event)
    (target,) = boto3.client("events").list_targets_by_rule(Rule="SourcePushedRule")["Targets"]
    account = pipeline["resolve"].values["AWS::AccountId"]
    assert target["Arn"] == f"arn:aws:codepipeline:{REGION}:{account}:{pipeline['pipeline']}"


def test_package_then_push_gives_the_pipeline_what_its_stages_read(
    pipeline: dict[str, Any], tmp_path: Path
) -> None:
    from awscost.entrypoints.cli import cli

    runner = CliRunner()
    dist = tmp_path / "dist"
    packaged = runner.invoke(cli, ["deploy", "package", "--out", str(dist)])
    assert packaged.exit_code == 0, packaged.output
    bucket = BUCKETS["SourceBucket"]
    push_args = ["deploy", "push", "--bucket", bucket, "--dist", str(dist)]
    # The moto server speaks plain HTTP, and it applies the bucket policy's TLS-only Deny to object writes:
    # the push is refused in one line, and nothing is uploaded. Without the policy, the push goes through.
    refused = runner.invoke(cli, push_args)
    assert (
        refused.exit_code == 1
        and "upload failed" in str(refused.exception)
        and "Forbidden" in str(refused.exception)
    )
    s3 = boto3.client("s3")
    assert "Versions" not in s3.list_object_versions(Bucket=bucket)
    s3.delete_bucket_policy(Bucket=bucket)
    config = "ConfigLocation=ssm:/awscost/config"
    pushed = runner.invoke(cli, [*push_args, "--parameter", "Accounts=self", "--parameter", config])
    assert pushed.exit_code == 0, pushed.output
    stamp = json.loads((dist / "build-stamp.json").read_text())
    collector_key = f"artifacts/{stamp['version']}/awscost-collector.zip"
    assert pushed.output.splitlines()[:2] == [
        f"collector:  s3://{bucket}/{collector_key}",
        f"source:     s3://{bucket}/source.zip",
    ]
    version_id = pushed.output.splitlines()[2].removeprefix("version id: ")

    assert (
        s3.get_object(Bucket=bucket, Key=collector_key)["Body"].read()
        == (dist / "awscost-collector.zip").read_bytes()
    )
    body = s3.get_object(Bucket=bucket, Key="source.zip", VersionId=version_id)["Body"].read()
    source = zipfile.ZipFile(io.BytesIO(body))
    names = set(source.namelist())

    stored = boto3.client("codepipeline").get_pipeline(name=pipeline["pipeline"])["pipeline"]
    deploy = stored["stages"][2]["actions"][0]["configuration"]
    for path in (deploy["TemplatePath"], deploy["TemplateConfiguration"]):
        artifact, _, name = path.partition("::")
        assert artifact == "Source" and name in names, path
    assert source.read("awscost.yaml") == (INFRA / "awscost.yaml").read_bytes()
    assert {"member-role.yaml", "pipeline.yaml", "build-stamp.json", "analytics/Dockerfile"} <= names
    assert "analytics/requirements.lock" in names and "analytics/awscost/build-stamp.json" in names
    assert json.loads(source.read("build-stamp.json")) == stamp
    configuration = json.loads(source.read(deploy["TemplateConfiguration"].partition("::")[2]))
    assert configuration == {
        "Parameters": {
            "CodeBucket": bucket,
            "CodeKey": collector_key,
            "Accounts": "self",
            "ConfigLocation": "ssm:/awscost/config",
        },
        "Tags": {"awscost-version": stamp["version"], "awscost-commit": stamp["commit"]},
    }
    # The stack's role may read the code it deploys: the collector's key is under its FunctionCode grant.
    code = _statement(pipeline["template"], "DeployRole", "FunctionCode")
    assert pipeline["resolve"](code["Resource"]) == f"arn:aws:s3:::{bucket}/*"

    # The deploy stage: the stack created from the pushed template with the pushed configuration, the image's
    # URI as the override (empty: no image is built here, so the collector's jobs alone deploy).
    cfn = boto3.client("cloudformation")
    cfn.create_stack(
        StackName=deploy["StackName"],
        TemplateBody=source.read(deploy["TemplatePath"].partition("::")[2]).decode(),
        Parameters=[
            {"ParameterKey": k, "ParameterValue": v}
            for k, v in {**configuration["Parameters"], "AnalyticsImageUri": ""}.items()
        ],
        Tags=[{"Key": k, "Value": v} for k, v in configuration["Tags"].items()],
        Capabilities=deploy["Capabilities"].split(","),
    )
    stack = cfn.describe_stacks(StackName="awscost")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {"Key": "awscost-version", "Value": stamp["version"]} in stack["Tags"]
    # The collector runs the pushed zip: Lambda's hash of its code is the zip's.
    collector = boto3.client("lambda").get_function(FunctionName="awscost-collector")["Configuration"]
    digest = base64.b64encode(hashlib.sha256((dist / "awscost-collector.zip").read_bytes()).digest()).decode()
    assert collector["CodeSha256"] == digest

    again = runner.invoke(cli, push_args)
    assert again.exit_code == 0 and again.output.splitlines()[2] != pushed.output.splitlines()[2]
    versions = s3.list_object_versions(Bucket=bucket, Prefix="source.zip")["Versions"]
    assert len(versions) == 2  # each push a new version: what starts the pipeline


def test_push_refuses_an_unversioned_bucket_and_a_folder_without_a_package(aws: str, tmp_path: Path) -> None:
    from awscost.core.errors import ConfigError, InputError
    from awscost.deploy.package import build
    from awscost.deploy.push import push

    session = boto3.Session()
    with pytest.raises(ConfigError, match=r"no package here .*run `awscost deploy package"):
        push(session, tmp_path, "bucket")
    dist = tmp_path / "dist"
    build(dist)
    boto3.client("s3").create_bucket(Bucket="plain")
    with pytest.raises(ConfigError, match="s3://plain: the bucket is not versioned"):
        push(session, dist, "plain")
    with pytest.raises(InputError, match="CodeKey cannot be given"):
        push(session, dist, "plain", parameters={"CodeKey": "x"})
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket="plain")


def test_the_prefix_puts_both_keys_under_it() -> None:
    from awscost.deploy.push import keys

    assert keys("/team/awscost/", "v1.2.0") == (
        "team/awscost/artifacts/v1.2.0/awscost-collector.zip",
        "team/awscost/source.zip",
    )
    assert keys("", "abc-dirty") == ("artifacts/abc-dirty/awscost-collector.zip", "source.zip")


# What CloudFormation's handlers may call (the resource schemas cfn-lint ships list each handler's
# permissions) that the stack's resources never make them call: features no resource of infra/awscost.yaml
# sets. A type or property the stack starts to use and DeployRole lacks fails the test below by name.
UNUSED_HANDLER_PERMISSIONS = {
    # Tables: no replicas, imports, Kinesis streaming, resource policies or contributor insights; the
    # tables are Retain, so CloudFormation never deletes them. The item operations serve ImportTable.
    "dynamodb:AssociateTableReplica", "dynamodb:CreateTableReplica", "dynamodb:DescribeImport",
    "dynamodb:ImportTable", "dynamodb:EnableKinesisStreamingDestination",
    "dynamodb:DisableKinesisStreamingDestination", "dynamodb:UpdateKinesisStreamingDestination",
    "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy", "dynamodb:UpdateContributorInsights",
    "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
    "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteTable",
    # Functions: no code signing, layers, versions, runtime pinning, recursion or scaling settings,
    # capacity providers.
    "lambda:AssociateRuntimeAlias", "lambda:GetCodeSigningConfig", "lambda:PutFunctionCodeSigningConfig",
    "lambda:DeleteFunctionCodeSigningConfig", "lambda:GetLayerVersion", "lambda:PassCapacityProvider",
    "lambda:PublishVersion", "lambda:PutFunctionRecursionConfig", "lambda:PutFunctionScalingConfig",
    "lambda:PutRuntimeManagementConfig",
    # Roles: inline policies only; no managed policy attached (a role that may attach any managed policy
    # could attach AdministratorAccess), no permissions boundary.
    "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    # Log groups: no data protection, index or resource policies, log delivery, bearer tokens, deletion
    # protection.
    "logs:CreateLogDelivery", "logs:PutBearerTokenAuthentication", "logs:PutDataProtectionPolicy",
    "logs:DeleteDataProtectionPolicy", "logs:PutIndexPolicy", "logs:DeleteIndexPolicy",
    "logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:PutLogGroupDeletionProtection",
    # Topics: no data protection policy.
    "sns:PutDataProtectionPolicy",
    # The data bucket (Retain: never deleted by CloudFormation): no CORS, website, replication, inventory,
    # analytics, metrics, intelligent tiering, object lock, acceleration, ABAC, metadata tables, access
    # logging, notifications or ACLs; its encryption is never removed.
    "s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteBucketEncryption", "s3:PutBucketCORS", "s3:DeleteBucketCors",
    "s3:PutBucketWebsite", "s3:DeleteBucketWebsite", "s3:PutReplicationConfiguration",
    "s3:PutBucketReplication", "s3:DeleteBucketReplication", "s3:PutInventoryConfiguration",
    "s3:PutAnalyticsConfiguration", "s3:DeleteBucketAnalyticsConfiguration", "s3:PutMetricsConfiguration",
    "s3:DeleteBucketMetricsConfiguration", "s3:PutIntelligentTieringConfiguration",
    "s3:PutBucketObjectLockConfiguration", "s3:PutObjectLockConfiguration", "s3:PutAccelerateConfiguration",
    "s3:PutBucketAbac", "s3:CreateBucketMetadataTableConfiguration", "s3:DeleteBucketMetadataTableConfiguration",
    "s3:UpdateBucketMetadataAnnotationTableConfiguration", "s3:UpdateBucketMetadataInventoryTableConfiguration",
    "s3:UpdateBucketMetadataJournalTableConfiguration", "s3:PutBucketLogging", "s3:PutBucketNotification",
    "s3:PutBucketAcl", "s3:PutObjectAcl",
    # Listed by the bucket's schema, but no IAM action: s3:PutLifecycleConfiguration grants deleting one too.
    "s3:DeleteBucketLifecycle",
}  # fmt: skip


def _statement(template: dict[str, Any], role: str, sid: str) -> dict[str, Any]:
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            if st.get("Sid") == sid:
                return dict(st)
    raise AssertionError(f"{role} has no statement {sid}")


def _handler_permissions() -> dict[str, set[str]]:
    """Resource type -> every permission its create, read, update and delete handlers list."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    out: dict[str, set[str]] = {}
    stack = load(INFRA / "awscost.yaml")
    for resource in stack["Resources"].values():
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource["Type"]).schema
        handlers = schema.get("handlers", {})
        out[resource["Type"]] = {
            p
            for kind in ("create", "read", "update", "delete")
            for p in handlers.get(kind, {}).get("permissions", [])
        }
    return out


def test_the_deploy_role_may_do_what_cloudformation_does_with_each_resource_of_the_stack() -> None:
    template = load(INFRA / "pipeline.yaml")
    granted = {
        action
        for policy in template["Resources"]["DeployRole"]["Properties"]["Policies"]
        for st in policy["PolicyDocument"]["Statement"]
        for action in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }
    missing = {}
    for kind, permissions in _handler_permissions().items():
        # The type's own service. What a handler may need of another (kms for an encrypted resource, ec2 for
        # a VPC, iam:PassRole) depends on the properties set, and has statements of its own.
        own = {p for p in permissions if p.split(":")[0] == kind.split("::")[1].lower()}
        lacking = sorted(own - granted - UNUSED_HANDLER_PERMISSIONS)
        if lacking:
            missing[kind] = lacking
    assert missing == {}
    # Every granted action is one some handler of the stack's types lists, or the code and image reads
    # (Lambda fetches both with its caller's permissions).
    listed = set().union(*_handler_permissions().values())
    code_and_image = {
        "s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey",
        "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:GetRepositoryPolicy", "ecr:SetRepositoryPolicy",
    }  # fmt: skip
    assert sorted(granted - listed - code_and_image) == []


def test_no_role_of_the_pipeline_has_a_wildcard_action() -> None:
    template = load(INFRA / "pipeline.yaml")
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"]["Policies"]:
            for st in policy["PolicyDocument"]["Statement"]:
                actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
                assert not [a for a in actions if "*" in a], (logical, st.get("Sid"))


def test_status_shows_the_last_execution_and_each_stage() -> None:
    from awscost.core.errors import ConfigError
    from awscost.deploy.push import pipeline_status

    client = boto3.client(
        "codepipeline", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    started = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    with Stubber(client) as stub:
        stub.add_response(
            "list_pipeline_executions",
            {
                "pipelineExecutionSummaries": [
                    {
                        "pipelineExecutionId": "42b6e0a5-0000-4000-8000-000000000001",
                        "status": "Failed",
                        "startTime": started,
                        "lastUpdateTime": started,
                        "sourceRevisions": [
                            {"actionName": "SourceZip", "revisionId": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}
                        ],
                    }
                ]
            },
            {"pipelineName": "awscost", "maxResults": 1},
        )  # fmt: skip
        stub.add_response(
            "get_pipeline_state",
            {
                "pipelineName": "awscost",
                "stageStates": [
                    {"stageName": "Source", "latestExecution": {"pipelineExecutionId": "x", "status": "Succeeded"}},
                    {"stageName": "Build", "latestExecution": {"pipelineExecutionId": "x", "status": "Failed"},
                     "actionStates": [{"actionName": "AnalyticsImage", "latestExecution": {
                         "status": "Failed", "errorDetails": {"code": "JobFailed", "message": "Build failed"}}}]},
                    {"stageName": "Deploy"},
                ],
            },
            {"name": "awscost"},
        )  # fmt: skip
        status = pipeline_status(client)
    assert status.to_json() == {
        "pipeline": "awscost",
        "execution_id": "42b6e0a5-0000-4000-8000-000000000001",
        "status": "Failed",
        "started": "2026-12-01T10:00:00+00:00",
        "updated": "2026-12-01T10:00:00+00:00",
        "revision": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
        "stages": [
            {"name": "Source", "status": "Succeeded", "failed_action": None},
            {"name": "Build", "status": "Failed", "failed_action": "AnalyticsImage: Build failed"},
            {"name": "Deploy", "status": None, "failed_action": None},
        ],
    }
    with Stubber(client) as stub:
        stub.add_client_error("list_pipeline_executions", "PipelineNotFoundException", "not found")
        with pytest.raises(ConfigError, match=r"no pipeline 'nope' .*deploy infra/pipeline\.yaml first"):
            pipeline_status(client, "nope")


def test_deploy_status_prints_a_pipeline_that_never_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    import awscost.aws.session as sessions
    from awscost.entrypoints.cli import cli

    client = boto3.client(
        "codepipeline", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    monkeypatch.setattr(sessions, "client", lambda session, service, *a, **kw: client)
    with Stubber(client) as stub:
        stub.add_response("list_pipeline_executions", {"pipelineExecutionSummaries": []})
        stub.add_response("get_pipeline_state", {"stageStates": [{"stageName": "Source"}]})
        run = CliRunner().invoke(cli, ["deploy", "status"])
    assert run.exit_code == 0, run.output
    assert run.output.splitlines() == ["awscost: never ran", "  Source      not run"]
