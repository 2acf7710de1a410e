"""`awscost deploy template|package|push|status`: render the stack from the jobs, build the artifacts, hand them
to the pipeline, and say what it did (the library: awscost.deploy.stack, .package and .push;
docs/stack.md, docs/deployment.md)."""

from __future__ import annotations

from pathlib import Path

import click

from awscost.core.errors import InputError


@click.group()
def deploy() -> None:
    """Build and ship awscost to AWS: the stack, the artifacts, their upload to the pipeline, its last run."""


@deploy.command()
@click.option(
    "--out",
    default="infra/awscost.yaml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The template file to write.",
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 when OUT differs from what the jobs declare."
)
def template(out: Path, check: bool) -> None:
    """Render the CloudFormation stack from the jobs' declarations (rules, grants, memory) into OUT."""
    from awscost.core.errors import MissingExtraError

    try:
        from awscost.deploy import stack

        text = stack.render()
    except ModuleNotFoundError as exc:
        if exc.name != "yaml":
            raise
        raise MissingExtraError(
            "awscost deploy template needs PyYAML", hint="pip install 'awscost[deploy]'"
        ) from None
    current = out.read_text(encoding="utf-8") if out.exists() else None
    if check:
        if current != text:
            click.echo(
                f"{out}: differs from what the jobs declare (run `awscost deploy template --out {out}`)"
            )
            raise SystemExit(1)
        click.echo(f"{out}: what the jobs declare")
        return
    if current == text:
        click.echo(f"{out}: unchanged")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)  # never a half-written template
    click.echo(f"wrote {out} ({len(stack.deployed_jobs())} jobs)")


@deploy.command()
@click.option("--out", default="dist", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--source",
    default=None,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The clone to build (default: the one awscost is installed from).",
)
def package(out: Path, source: Path | None) -> None:
    """Build the collector zip and the analytics image's build context into OUT, stamped with the version."""
    from awscost.deploy.package import build

    built = build(out, root=source)
    click.echo(f"version:    {built.stamp.version} ({built.stamp.commit[:12]}, built {built.stamp.built_at})")
    click.echo(
        f"collector:  {built.collector} ({built.collector_bytes:,} bytes, "
        f"{built.collector_unzipped:,} unzipped, {built.collector_files} files)"
    )
    click.echo(f"analytics:  {built.analytics}/ (the image's build context; CodeBuild builds it)")
    click.echo(f"templates:  {', '.join(built.templates)}")


def _parameters(values: tuple[str, ...]) -> dict[str, str]:
    parameters = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise InputError(f"{value!r} is not KEY=VALUE", param="parameters")
        parameters[key] = rest
    return parameters


@deploy.command()
@click.option("--bucket", required=True, help="The pipeline's source bucket (versioned).")
@click.option("--prefix", default="", help="Key prefix of source.zip and the artifacts.")
@click.option("--dist", default="dist", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--parameter",
    "parameters",
    multiple=True,
    metavar="KEY=VALUE",
    help="A stack parameter for the template configuration (repeatable), e.g. Accounts=organizations.",
)
def push(bucket: str, prefix: str, dist: Path, parameters: tuple[str, ...]) -> None:
    """Upload the package in DIST: the collector zip, then source.zip for the pipeline to deploy."""
    from awscost.aws.session import make_session
    from awscost.deploy.push import push as push_package

    pushed = push_package(make_session(), dist, bucket, prefix=prefix, parameters=_parameters(parameters))
    click.echo(f"collector:  s3://{bucket}/{pushed.collector_key}")
    click.echo(f"source:     s3://{bucket}/{pushed.source_key}")
    click.echo(f"version id: {pushed.version_id}")


@deploy.command()
@click.option("--pipeline", default="awscost", show_default=True, help="The pipeline's name.")
def status(pipeline: str) -> None:
    """Show the pipeline's last execution and each stage's state."""
    from awscost.aws.session import client, make_session
    from awscost.deploy.push import pipeline_status

    found = pipeline_status(client(make_session(), "codepipeline"), pipeline)
    if found.execution_id is None:
        click.echo(f"{pipeline}: never ran")
    else:
        started = found.started.isoformat() if found.started else "-"
        click.echo(f"{pipeline}: {found.status} (execution {found.execution_id}, started {started})")
        click.echo(f"revision:   {found.revision or '-'}")
    for stage in found.stages:
        line = f"  {stage.name:<12}{stage.status or 'not run'}"
        click.echo(line + (f"  {stage.failed_action}" if stage.failed_action else ""))
