"""`awscost slack serve` as a user runs it (a subprocess on 127.0.0.1, signed requests over HTTP, the answer
through a local response_url) and `awscost slack alerts` against a local stand-in for slack.com."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import anomaly_bills as ab
import dashboard_data
import slack_harness as sh
from awscost.core.config import load_settings
from awscost.entrypoints.cli import cli
from awscost.jobs import Context, run_job
from awscost.jobs.report import Params as ReportParams


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slack-cli")
    dataset, store_url = dashboard_data.make(root)
    path = root / "awscost.toml"
    path.write_text(
        f'[awscost]\nstore = "{store_url}"\n[billing]\ndataset = "{dataset}"\n'
        f'[[report.audience]]\nname = "ml"\naccounts = ["{ab.TEAM_B}"]\n'
        '[slack]\nalerts_channel = "C0ALERTS"\n[slack.users]\nU0ORGADMIN = "organization"\n'
    )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_a_signed_command_through_its_response_url(config: Path) -> None:
    port = free_port()
    env = {**os.environ, "SLACK_SIGNING_SECRET": sh.SECRET}
    awscost = [sys.executable, "-m", "awscost"]
    server = subprocess.Popen(
        [*awscost, "slack", "serve", "--config", str(config), "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        assert f"awscost slack on http://127.0.0.1:{port}/slack/events" in server.stderr.readline()
        url = f"http://127.0.0.1:{port}/slack/events"
        deadline = time.monotonic() + 20
        while True:  # the line is written just before the server accepts
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        with sh.receiver() as response_url:
            body = sh.command_body("help", "U0ORGADMIN", "C0GENERAL", f"{response_url.url}/0")
            status, text = sh.post(url, body, sh.sign(body))
            assert status == 200 and "/awscost top" in text
            status, _ = sh.post(url, body, sh.sign(body, secret="forged"))
            assert status == 401
            body = sh.command_body("cost 2026-09", "U0ORGADMIN", "C0GENERAL", f"{response_url.url}/1")
            status, text = sh.post(url, body, sh.sign(body))
            assert status == 200 and "Working on it" in text
            (_path, message, _headers) = response_url.wait(1)[0]
        (one,) = run_job(
            "report",
            Context(load_settings(config)),
            ReportParams(period="2026-09", dataset=str(config.parent / "dataset"), render=False),
        ).reports
        assert f"{Decimal(one.document['total']['cost']):,.2f} USD" in sh.text_of(message)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_without_the_signing_secret_is_one_clear_error(config: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SLACK_SIGNING_SECRET"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscost",
            "slack",
            "serve",
            "--config",
            str(config),
            "--port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "SLACK_SIGNING_SECRET is not set" in done.stderr
    assert "Traceback" not in done.stderr


def test_alerts_posts_the_due_events_once(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    with sh.receiver() as slack_api:
        slack_api.reply = {"ok": True, "channel": "C0ALERTS", "ts": "1.2"}
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-cli")
        monkeypatch.setenv("SLACK_API_URL", f"{slack_api.url}/api/")
        dry = runner.invoke(cli, ["slack", "alerts", "--config", str(config), "--dry-run"])
        assert dry.exit_code == 0 and "billing:" in dry.output and slack_api.posts == []
        first = runner.invoke(cli, ["slack", "alerts", "--config", str(config)])
        assert first.exit_code == 0, first.output
        assert "1 posted to C0ALERTS, 0 failed" in first.output
        (path, message, headers) = slack_api.wait(1)[0]
        assert path == "/api/chat.postMessage" and headers["Authorization"] == "Bearer xoxb-cli"
        assert json.dumps(message).count("Cost anomaly") >= 1
        again = runner.invoke(cli, ["slack", "alerts", "--config", str(config)])
        assert "0 posted to C0ALERTS" in again.output and len(slack_api.posts) == 1
