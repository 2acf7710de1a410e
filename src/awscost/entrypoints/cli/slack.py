"""`awscost slack`: the `/awscost` command served for development, and the anomaly alerts posted to Slack."""

from __future__ import annotations

import os

import click

from awscost.core.config import Settings
from awscost.entrypoints.cli._common import with_settings

SIGNING_SECRET_ENV = "SLACK_SIGNING_SECRET"
BOT_TOKEN_ENV = "SLACK_BOT_TOKEN"


def _env(name: str, required: bool = True) -> str | None:
    from awscost.core.errors import ConfigError

    value = os.environ.get(name)
    if required and not value:
        raise ConfigError(
            f"{name} is not set", where="environment", hint="the Slack app's Basic Information page"
        )
    return value


@click.group()
def slack() -> None:
    """The Slack command /awscost (served for development) and the anomaly alerts posted to Slack."""


@slack.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=3000, show_default=True)
@click.option("--dataset", default=None, help="The billing dataset (default: [billing] dataset).")
@with_settings
def serve_cmd(settings: Settings, host: str, port: int, dataset: str | None) -> None:
    """Serve /awscost at http://HOST:PORT/slack/events (signing secret from SLACK_SIGNING_SECRET)."""
    from awscost.entrypoints.slack.answer import responder
    from awscost.entrypoints.slack.app import create_app, serve

    r = responder(settings, dataset)
    secret = _env(SIGNING_SECRET_ENV)
    assert secret is not None
    app = create_app(r.config, secret, _env(BOT_TOKEN_ENV, required=False), answer=r.answer)
    server = serve(app, host, port)
    click.echo(f"awscost slack on http://{host}:{port}/slack/events (dataset {r.reports.dataset}; Ctrl-C stops it)",
               err=True)  # fmt: skip
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@slack.command("alerts")
@click.option("--channel", default=None, help="The channel id (default: [slack] alerts_channel).")
@click.option("--dry-run", is_flag=True, help="List the due alerts; post nothing.")
@with_settings
def alerts_cmd(settings: Settings, channel: str | None, dry_run: bool) -> None:
    """Post the anomaly log's due events to the alerts channel (bot token from SLACK_BOT_TOKEN)."""
    from datetime import UTC, datetime

    from awscost.core.errors import ConfigError
    from awscost.entrypoints.slack import alerts
    from awscost.entrypoints.slack.config import slack_settings
    from awscost.store import open_store

    target = channel or slack_settings(settings).alerts_channel
    if not target:
        raise ConfigError("no alerts channel", where="[slack] alerts_channel", hint="or --channel C...")
    with open_store(settings.store) as store:
        due = alerts.due(store)
        if dry_run:
            for tracked in due:
                click.echo(f"{tracked.source}:{tracked.id} {tracked.event['explanation']}")
            return
        from slack_sdk import WebClient

        client = WebClient(
            token=_env(BOT_TOKEN_ENV), base_url=os.environ.get("SLACK_API_URL", WebClient.BASE_URL)
        )
        posted = alerts.post_alerts(
            client, target, due, store=store, now=datetime.now(UTC), names=alerts.names_of(due, settings)
        )
    click.echo(f"{len(posted.posted)} posted to {target}, {len(posted.failed)} failed")
    for failure in posted.failed:
        click.echo(f"awscost: warning: {failure}", err=True)
    if posted.failed:
        raise SystemExit(1)
