"""The anomaly alerts posted to Slack (entrypoints/slack/alerts.py) by slack_sdk's WebClient against a local
HTTP server standing in for slack.com's Web API (`base_url`): the log's due event posted once with the bot
token, its AWS strings escaped, not again until it grows, and a refused post kept due."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from slack_sdk import WebClient

import dashboard_data
import slack_harness as sh
from awscost.entrypoints.slack import alerts
from awscost.store import open_store


def test_due_events_are_posted_once_and_escaped(tmp_path: Path) -> None:
    _dataset, store_url = dashboard_data.make(tmp_path)
    now = datetime(2026, 10, 24, 8, tzinfo=UTC)
    with sh.receiver() as slack_api, open_store(store_url) as store:
        client = WebClient(token="xoxb-test-token", base_url=f"{slack_api.url}/api/")
        due = alerts.due(store)
        assert [t.event["date"] for t in due] == ["2026-10-10"]
        # slack.com refuses (the bot is not in the channel): reported, and still due
        slack_api.reply = {"ok": False, "error": "not_in_channel"}
        failed = alerts.post_alerts(client, "C0ALERTS", due, store=store, now=now)
        assert failed.posted == [] and "not_in_channel" in failed.failed[0]
        assert len(alerts.due(store)) == 1
        slack_api.reply = {"ok": True, "channel": "C0ALERTS", "ts": "1761292800.000100"}
        posted = alerts.post_alerts(client, "C0ALERTS", due, store=store, now=now)
        assert posted.posted == [due[0].id] and posted.failed == []
        path, message, headers = slack_api.wait(2)[1]
        assert path == "/api/chat.postMessage" and headers["Authorization"] == "Bearer xoxb-test-token"
        assert message["channel"] == "C0ALERTS"
        said = sh.text_of(message)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in said and "<script>" not in said
        assert f"{due[0].impact_total:,.2f} USD" in said and due[0].id[:12] in said
        # posted: not due again until its impact grows by half
        assert alerts.due(store) == []
        store.put_map(
            f"{alerts.PREFIX}{due[0].source}:{due[0].id}",
            {"impact_total": str(due[0].impact_total / 2), "at": now.isoformat(), "channel": "C0ALERTS"},
        )
        assert [t.id for t in alerts.due(store)] == [due[0].id]
