"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, against uvicorn serving the
app on 127.0.0.1 over a real CUR layout and store. Every page loads without a console error, its charts are
drawn, a filter changes the figures, the live page shows a newly collected hour without a reload, and each
page stays within its weight budget. Screenshots are kept in build/screenshots/dashboard/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import anomaly_bills as ab
import dashboard_data
from awscost.core.config import Settings
from awscost.entrypoints.web.app import Dashboard, create_app
from awscost.entrypoints.web.config import DashboardSettings
from awscost.jobs import Context, run_job
from awscost.jobs.report import Params as ReportParams
from awscost.store import open_store
from awscost.store.base import UsageItem
from awscost.views.reports import Reports

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots" / "dashboard"
TODAY = date(2026, 10, 24)
# The weight of a page with everything it loads (HTML, stylesheet, script, the charts inside the HTML), in
# bytes: the overview carries two SVG charts as data: URIs; the others one or none.
BUDGET = {"overview": 120_000, "usage": 60_000, "reservations": 60_000, "tags": 40_000, "services": 40_000}
PATHS = {
    "overview": "/",
    "usage": "/usage",
    "reservations": "/reservations",
    "tags": "/tags",
    "services": "/services",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """(base URL, store URL, dataset) of a dashboard served by uvicorn in a thread."""
    import uvicorn

    dataset, store_url = dashboard_data.make(tmp_path_factory.mktemp("browser"))
    settings = Settings(store=store_url)
    config = DashboardSettings(poll_seconds=0.3)
    dash = Dashboard(settings, str(dataset), config, Reports(settings, str(dataset)), today=TODAY)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(dash), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", store_url, dataset
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def _open(browser: Any, url: str) -> tuple[Any, list[str], list[int]]:
    """A new page at `url`: its console errors and page errors, and the byte size of every response."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    sizes: list[int] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"failed: {r.url}"))
    page.on(
        "response",
        lambda r: sizes.append(len(r.body())) if r.request.resource_type != "eventsource" else None,
    )
    page.goto(url, wait_until="load")
    return page, errors, sizes


def test_every_page_loads_clean_draws_its_charts_and_keeps_its_weight(
    served: tuple[str, str, Path], browser: Any
) -> None:
    base, _store, _dataset = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    weights = {}
    for name, path in PATHS.items():
        page, errors, sizes = _open(browser, base + path)
        try:
            assert errors == [], (name, errors)
            drawn = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
            )
            assert all(drawn), (name, drawn)
            if name in ("overview", "usage"):
                assert drawn, f"{name} has no chart"
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            weights[name] = sum(sizes)
        finally:
            page.close()
    for name, weight in weights.items():
        assert weight <= BUDGET[name], (name, weight, BUDGET[name])
    (SHOTS / "weights.txt").write_text("".join(f"{n} {w} of {BUDGET[n]}\n" for n, w in weights.items()))


def test_a_filter_changes_the_figures(served: tuple[str, str, Path], browser: Any) -> None:
    base, store_url, dataset = served
    (report,) = run_job(
        "report",
        Context(Settings(store=store_url)),
        ReportParams(dataset=str(dataset), today=TODAY, accounts=(ab.TEAM_B,)),
    ).reports
    page, errors, _ = _open(browser, base + "/")
    try:
        before = page.inner_text(".headline")
        page.fill("input[name=account]", ab.TEAM_B)
        page.click("button[type=submit]")
        page.wait_for_url(f"**account={ab.TEAM_B}**")
        after = page.inner_text(".headline")
        assert after != before and after == report.headline
        assert f"{Decimal(report.document['total']['cost']):,.2f}" in after
        page.screenshot(path=str(SHOTS / "overview-one-account.png"), full_page=True)
        assert errors == []
    finally:
        page.close()


def test_the_live_page_shows_a_new_hour_without_a_reload(served: tuple[str, str, Path], browser: Any) -> None:
    from playwright.sync_api import expect

    base, store_url, _dataset = served
    page, errors, _ = _open(browser, base + "/usage")
    try:
        assert page.inner_text("#last-hour") == "2026-10-23 23:00Z"
        page.evaluate("window.__notReloaded = true")
        with open_store(store_url) as store:
            hour = datetime(2026, 10, 24, 0, tzinfo=UTC)
            store.put_items([UsageItem("ec2", ab.TEAM_A, "us-east-1", hour, {"m5.large:us-east-1a": 321})])
            store.put_map("collected:ec2", {"hour": hour.isoformat()})
        # the CSP allows no eval: wait on the element, not on a JavaScript predicate
        expect(page.locator("#last-hour")).to_have_text("2026-10-24 00:00Z", timeout=15_000)
        assert page.evaluate("window.__notReloaded") is True  # the same document: no reload
        assert "321" in page.inner_text("#live-rows")
        page.screenshot(path=str(SHOTS / "usage-new-hour.png"), full_page=True)
        assert errors == []
    finally:
        page.close()
        with open_store(store_url) as store:
            store.put_map("collected:ec2", {"hour": "2026-10-23T23:00:00+00:00"})


def test_the_region_filter_narrows_the_report_pages(served: tuple[str, str, Path], browser: Any) -> None:
    base, store_url, dataset = served
    (report,) = run_job(
        "report",
        Context(Settings(store=store_url)),
        ReportParams(dataset=str(dataset), today=TODAY, regions=("eu-west-1",)),
    ).reports
    page, errors, _ = _open(browser, base + "/")
    try:
        before = page.inner_text(".headline")
        page.fill("input[name=region]", "eu-west-1")
        page.click("button[type=submit]")
        page.wait_for_url("**region=eu-west-1**")
        after = page.inner_text(".headline")
        assert after != before and after == report.headline
        assert "Narrowed to eu-west-1" in page.inner_text("main")
        page.screenshot(path=str(SHOTS / "overview-eu-west-1.png"), full_page=True)
        # the filter is kept in the links: the next page is of the region too
        page.click("nav >> text=Reservations")
        page.wait_for_url("**/reservations?**region=eu-west-1**")
        assert "not a region's" in page.inner_text("main")  # the plan's savings are the organization's
        assert page.input_value("input[name=region]") == "eu-west-1"
        assert errors == []
    finally:
        page.close()
