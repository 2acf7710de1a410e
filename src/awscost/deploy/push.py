"""`awscost deploy push` and `status`: hand a package (`deploy package`'s folder) to the pipeline, and say
what the pipeline did with it.

push uploads, into the pipeline's source bucket (infra/pipeline.yaml; versioned, since CodePipeline's S3 source
watches an object's versions):

    P/artifacts/<version>/awscost-collector.zip   the collector's code (the stack's CodeBucket / CodeKey)
    P/source.zip                                  what the pipeline deploys:
        awscost.yaml, member-role.yaml, ...       the templates (dist/templates/)
        template-configuration.json               {"Parameters": {CodeBucket, CodeKey, ...}, "Tags": {...}}
        build-stamp.json                          the package's stamp
        analytics/                                the analytics image's build context (CodeBuild's input)

The collector zip goes first, so a source.zip never names code that is not there yet. The analytics image's
URI is not in the template configuration: the pipeline's build stage pushes the image and passes its URI as a
parameter override (a value only the build knows).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awscost.core.errors import AwsAccessError, ConfigError, InputError
from awscost.deploy.package import ANALYTICS, COLLECTOR_ZIP, TEMPLATES, BuildStamp, package_files, write_zip
from awscost.jobs.version import STAMP_NAME

if TYPE_CHECKING:
    import boto3

SOURCE_ZIP = "source.zip"
TEMPLATE_CONFIGURATION = "template-configuration.json"
# Parameters push sets itself (CodeBucket/CodeKey) or the pipeline does (the image the build pushed).
OWN_PARAMETERS = ("CodeBucket", "CodeKey", "AnalyticsImageUri")
DEFAULT_PIPELINE = "awscost"


@dataclass(frozen=True)
class PushResult:
    bucket: str
    collector_key: str
    source_key: str
    version_id: str  # the S3 version of source.zip: the revision the pipeline's execution shows
    stamp: BuildStamp

    def to_json(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "collector_key": self.collector_key,
            "source_key": self.source_key,
            "version_id": self.version_id,
            "stamp": self.stamp.to_json(),
        }


def keys(prefix: str, version: str) -> tuple[str, str]:
    """(the collector zip's key, source.zip's key) under `prefix` ('' or 'a/b', slashes trimmed)."""
    base = "/".join(p for p in prefix.strip("/").split("/") if p)
    lead = f"{base}/" if base else ""
    return f"{lead}artifacts/{version}/{COLLECTOR_ZIP}", f"{lead}{SOURCE_ZIP}"


def template_configuration(
    bucket: str, collector_key: str, stamp: BuildStamp, parameters: Mapping[str, str] = {}
) -> dict[str, Any]:
    """CodePipeline's template configuration for the stack: the code's location, the given parameters, and
    the build as tags on the stack (and so on every resource that takes tags)."""
    own = sorted(set(parameters) & set(OWN_PARAMETERS))
    if own:
        raise InputError(
            f"{', '.join(own)} cannot be given: push sets CodeBucket and CodeKey, the pipeline the image",
            param="parameters",
        )
    return {
        "Parameters": {"CodeBucket": bucket, "CodeKey": collector_key, **dict(sorted(parameters.items()))},
        "Tags": {"awscost-version": stamp.version, "awscost-commit": stamp.commit},
    }


def source_zip(dist: Path, configuration: Mapping[str, Any]) -> bytes:
    """source.zip of the package in `dist` with `configuration`, deterministic like the collector's zip."""
    entries = [(p.name, p.read_bytes()) for p in sorted((dist / TEMPLATES).glob("*.yaml"))]
    entries.append((TEMPLATE_CONFIGURATION, (json.dumps(configuration, indent=2) + "\n").encode()))
    entries.append((STAMP_NAME, (dist / STAMP_NAME).read_bytes()))
    entries += [(f"{ANALYTICS}/{rel}", p.read_bytes()) for rel, p in package_files(dist / ANALYTICS)]
    buffer = io.BytesIO()
    write_zip(buffer, entries)
    return buffer.getvalue()


def read_package(dist: Path) -> BuildStamp:
    """The stamp of the package in `dist`; a folder that is no complete package is a ConfigError naming it."""
    missing = [n for n in (STAMP_NAME, COLLECTOR_ZIP, TEMPLATES, ANALYTICS) if not (dist / n).exists()]
    if missing:
        raise ConfigError(
            f"no package here ({', '.join(missing)} missing)",
            where=str(dist),
            hint="run `awscost deploy package --out DIR` first",
        )
    return BuildStamp.read(dist / STAMP_NAME)


def push(
    session: boto3.Session,
    dist: Path,
    bucket: str,
    *,
    prefix: str = "",
    parameters: Mapping[str, str] = {},
) -> PushResult:
    from botocore.exceptions import BotoCoreError, ClientError

    from awscost.aws.session import client

    stamp = read_package(dist)
    collector_key, source_key = keys(prefix, stamp.version)
    configuration = template_configuration(bucket, collector_key, stamp, parameters)
    body = source_zip(dist, configuration)
    s3 = client(session, "s3")
    where = f"s3://{bucket}"
    try:
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        if versioning != "Enabled":
            raise ConfigError(
                "the bucket is not versioned: CodePipeline's S3 source reads object versions",
                where=where,
                hint="the SourceBucket of infra/pipeline.yaml is versioned",
            )
        s3.put_object(Bucket=bucket, Key=collector_key, Body=(dist / COLLECTOR_ZIP).read_bytes())
        put = s3.put_object(Bucket=bucket, Key=source_key, Body=body)
    except (BotoCoreError, ClientError) as exc:
        raise AwsAccessError(f"upload failed: {exc}", where=where) from None
    return PushResult(bucket, collector_key, source_key, str(put.get("VersionId")), stamp)


# ---------------------------------------------------------------- the pipeline's status


@dataclass(frozen=True)
class StageStatus:
    name: str
    status: str | None  # InProgress, Succeeded, Failed, ... (None: never ran)
    failed_action: str | None = None  # "action: message" of the first failed action


@dataclass(frozen=True)
class PipelineStatus:
    pipeline: str
    execution_id: str | None  # None: the pipeline never ran
    status: str | None
    started: datetime | None
    updated: datetime | None
    revision: str | None  # the source's revision (source.zip's S3 version) the execution deploys
    stages: tuple[StageStatus, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "execution_id": self.execution_id,
            "status": self.status,
            "started": self.started.isoformat() if self.started else None,
            "updated": self.updated.isoformat() if self.updated else None,
            "revision": self.revision,
            "stages": [
                {"name": s.name, "status": s.status, "failed_action": s.failed_action} for s in self.stages
            ],
        }


def pipeline_status(codepipeline: Any, pipeline: str = DEFAULT_PIPELINE) -> PipelineStatus:
    """The pipeline's last execution and where each stage stands (`codepipeline`: a boto3 client)."""
    last = _call(codepipeline.list_pipeline_executions, pipeline, pipelineName=pipeline, maxResults=1)
    state = _call(codepipeline.get_pipeline_state, pipeline, name=pipeline)
    stages = tuple(_stage(s) for s in state.get("stageStates", []))
    summaries = last.get("pipelineExecutionSummaries", [])
    if not summaries:
        return PipelineStatus(pipeline, None, None, None, None, None, stages)
    run = summaries[0]
    revisions = run.get("sourceRevisions") or []
    return PipelineStatus(
        pipeline,
        run.get("pipelineExecutionId"),
        run.get("status"),
        run.get("startTime"),
        run.get("lastUpdateTime"),
        revisions[0].get("revisionId") if revisions else None,
        stages,
    )


def _call(method: Any, pipeline: str, **kwargs: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return dict(method(**kwargs))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "PipelineNotFoundException":
            raise ConfigError(
                f"no pipeline {pipeline!r}", where="codepipeline", hint="deploy infra/pipeline.yaml first"
            ) from None
        raise AwsAccessError(f"CodePipeline call failed: {exc}", where="codepipeline") from None
    except BotoCoreError as exc:
        raise AwsAccessError(f"CodePipeline call failed: {exc}", where="codepipeline") from None


def _stage(state: Mapping[str, Any]) -> StageStatus:
    failed = None
    for action in state.get("actionStates", []):
        latest = action.get("latestExecution") or {}
        if latest.get("status") == "Failed":
            message = (latest.get("errorDetails") or {}).get("message", "failed")
            failed = f"{action.get('actionName')}: {message}"
            break
    return StageStatus(
        state.get("stageName", "?"), (state.get("latestExecution") or {}).get("status"), failed
    )
