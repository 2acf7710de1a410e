"""A bounded load test of the dashboard: 50 concurrent clients with keep-alive connections on 127.0.0.1 for a
few seconds, every page in turn: every answer is a 200 with a body (no error, no timeout). Latency is not
asserted here (a timed test is a flaky test): benchmarks/bench_dashboard_load.py measures it for 30 s."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import dashboard_data
from awscost.core.config import Settings
from awscost.entrypoints.web.app import Dashboard, create_app
from awscost.entrypoints.web.config import DashboardSettings
from awscost.views.reports import Reports
from dashboard_load import run_load, serve

PAGES = ("/", "/usage", "/reservations", "/tags", "/services")


@pytest.mark.slow
def test_fifty_clients_get_every_page_without_an_error(tmp_path: Path) -> None:
    dataset, store_url = dashboard_data.make(tmp_path)
    settings = Settings(store=store_url)
    dash = Dashboard(
        settings, str(dataset), DashboardSettings(), Reports(settings, str(dataset)), today=date(2026, 10, 24)
    )
    with serve(create_app(dash)) as base:
        load = run_load(base, PAGES, clients=50, seconds=5)
    assert load.errors == []
    assert all(load.latencies[p] for p in PAGES), {p: len(v) for p, v in load.latencies.items()}
    assert dash.reports.builds == 1  # one report for every client and page: the cache, not a scan per view
