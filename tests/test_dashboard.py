"""The dashboard (entrypoints/web) over a real CUR layout and a SQLite store, through Starlette's TestClient:
every page, the figures the report job gives, the security rules (tokens, narrowing never widening, CSP,
read-only, escaping), the live page's event stream, and the static export per audience."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

import anomaly_bills as ab
import dashboard_data
from awscost.core.config import Settings, load_settings
from awscost.core.errors import ConfigError
from awscost.entrypoints.cli import cli
from awscost.entrypoints.web.app import CSP, Dashboard, create_app
from awscost.entrypoints.web.config import dashboard_settings
from awscost.jobs import Context, run_job
from awscost.jobs.report import Params as ReportParams
from awscost.store import open_store
from awscost.store.base import UsageItem
from awscost.views.reports import Reports

TODAY = date(2026, 10, 24)
EVIL = dashboard_data.EVIL
TOKEN_ML = "ml-token-0123456789abcdefghij"
TOKEN_ALL = "org-token-0123456789abcdefghij"
LAST = dashboard_data.LAST_HOUR


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return dashboard_data.make(tmp_path_factory.mktemp("dashboard"))


def settings_of(
    tmp_path: Path, store_url: str, tokens: dict[str, str] | None = None, extra: str = ""
) -> Settings:
    lines = [f'[awscost]\nstore = "{store_url}"\n']
    lines.append('[[report.audience]]\nname = "ml"\naccounts = ["' + ab.TEAM_B + '"]\n')
    lines.append('[[report.audience]]\nname = "web"\naccounts = ["' + ab.TEAM_A + '"]\n')
    if tokens:
        lines.append("[dashboard]\npoll_seconds = 1\n[dashboard.tokens]\n")
        lines += [f'"{t}" = "{a}"\n' for t, a in tokens.items()]
    path = tmp_path / "awscost.toml"
    path.write_text("".join(lines) + extra)
    return load_settings(path)


def client(settings: Settings, dataset: Path, poll: float = 30.0, peer: str = "testclient") -> TestClient:
    config = replace(dashboard_settings(settings), poll_seconds=poll)
    dash = Dashboard(settings, str(dataset), config, Reports(settings, str(dataset)), today=TODAY)
    return TestClient(create_app(dash), client=(peer, 50000))


def test_every_page_shows_the_report_jobs_figures(data: tuple[Path, str], tmp_path: Path) -> None:
    dataset, store_url = data
    settings = settings_of(tmp_path, store_url)
    (report,) = run_job(
        "report", Context(settings), ReportParams(dataset=str(dataset), today=TODAY, period="month-to-date")
    ).reports
    with client(settings, dataset) as c:
        pages = {path: c.get(path) for path in ("/", "/usage", "/reservations", "/tags", "/services")}
        for path, page in pages.items():
            assert page.status_code == 200, (path, page.text[:300])
            assert page.headers["content-security-policy"] == CSP
            assert page.headers["x-content-type-options"] == "nosniff"
        overview = pages["/"].text
        assert report.headline in overview
        total = f"{Decimal(report.document['total']['cost']):,.2f}"
        assert total in overview and "Cost anomalies in the period" in overview
        assert 'src="data:image/svg+xml;base64,' in overview  # the daily trend, drawn
        assert "user:Spend_Category tag coverage" in pages["/tags"].text
        live = pages["/usage"].text
        assert "2026-10-23 23:00Z" in live and "200" in live and "90" in live
        # the account filter narrows the figures to that account's
        narrow = c.get(f"/?account={ab.TEAM_B}")
        team_b = next(a for a in report.document["accounts"] if a["account_id"] == ab.TEAM_B)
        assert narrow.status_code == 200 and f"{Decimal(team_b['cost']):,.2f}" in narrow.text
        assert total not in narrow.text
        # read-only
        assert c.post("/").status_code == 405 and c.delete("/tags").status_code == 405


def test_a_tag_value_is_text_never_markup(data: tuple[Path, str], tmp_path: Path) -> None:
    dataset, store_url = data
    with client(settings_of(tmp_path, store_url), dataset) as c:
        page = c.get("/").text
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_tokens_decide_the_audience_and_filters_never_widen_it(
    data: tuple[Path, str], tmp_path: Path
) -> None:
    dataset, store_url = data
    settings = settings_of(tmp_path, store_url, {TOKEN_ML: "ml", TOKEN_ALL: "organization"})
    with client(settings, dataset) as c:
        assert c.get("/").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong-token-0123456789abcdef"}).status_code == 401
        first = c.get(f"/tags?token={TOKEN_ML}&period=month-to-date", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/tags?period=month-to-date"
        assert (
            "httponly" in first.headers["set-cookie"].lower()
            and "samesite=strict" in first.headers["set-cookie"].lower()
        )
        page = c.get("/")  # the cookie the redirect set
        assert page.status_code == 200 and ab.TEAM_B in page.text and ab.TEAM_A not in page.text
        assert 'name="audience"' not in page.text  # a token's viewer picks no other audience
        assert c.get("/?audience=web").status_code == 403
        assert c.get("/?audience=organization").status_code == 403
        outside = c.get(f"/?account={ab.TEAM_A}")
        assert outside.status_code == 400 and f"account {ab.TEAM_A} is not in the audience ml" in outside.text
        live = c.get("/usage").text
        assert ab.TEAM_B in live and ab.TEAM_A not in live
        c.cookies.clear()
        everything = c.get("/", headers={"Authorization": f"Bearer {TOKEN_ALL}"})
        assert everything.status_code == 200 and ab.TEAM_A in everything.text


PROXY = '[dashboard]\ntrusted_header = "X-Forwarded-User"\n[dashboard.users]\n"alice@example.com" = "ml"\n'


def test_a_trusted_proxys_user_sees_their_audience_only(data: tuple[Path, str], tmp_path: Path) -> None:
    dataset, store_url = data
    settings = settings_of(tmp_path, store_url, extra=PROXY + '"bob@example.com" = "organization"\n')
    assert dashboard_settings(settings).authenticated
    alice, bob = ({"X-Forwarded-User": f"{u}@example.com"} for u in ("alice", "bob"))
    with client(settings, dataset, peer="127.0.0.1") as c:
        assert c.get("/").status_code == 401  # no user named: the proxy let nobody through
        page = c.get("/", headers=alice)
        assert page.status_code == 200 and ab.TEAM_B in page.text and ab.TEAM_A not in page.text
        assert 'name="audience"' not in page.text
        assert c.get("/?audience=organization", headers=alice).status_code == 403
        live = c.get("/usage", headers=alice).text
        assert ab.TEAM_B in live and ab.TEAM_A not in live
        carol = c.get("/", headers={"X-Forwarded-User": "<b>carol</b>"})
        assert carol.status_code == 403 and "has no audience" in carol.text and "<b>carol" not in carol.text
        assert ab.TEAM_A in c.get("/", headers=bob).text
    # The header from anyone but the proxy's address is not believed: they could have typed it.
    for peer in ("10.1.2.3", "testclient"):
        with client(settings, dataset, peer=peer) as c:
            assert c.get("/", headers=alice).status_code == 401
    # Without trusted_header the header means nothing: the loopback viewer, who may pick any audience.
    with client(settings_of(tmp_path, store_url), dataset, peer="127.0.0.1") as c:
        page = c.get("/", headers={"X-Forwarded-User": "alice@example.com"})
        assert page.status_code == 200 and ab.TEAM_A in page.text and 'name="audience"' in page.text


def test_a_proxy_header_falls_back_to_tokens_for_everyone_else(
    data: tuple[Path, str], tmp_path: Path
) -> None:
    dataset, store_url = data
    settings = settings_of(tmp_path, store_url)
    path = tmp_path / "awscost.toml"
    path.write_text(
        path.read_text()
        + PROXY.replace(
            "[dashboard.users]", f'[dashboard.tokens]\n"{TOKEN_ALL}" = "organization"\n[dashboard.users]'
        )
    )
    settings = load_settings(path)
    with client(settings, dataset, peer="10.1.2.3") as c:
        assert c.get("/", headers={"X-Forwarded-User": "alice@example.com"}).status_code == 401
        page = c.get(
            "/", headers={"Authorization": f"Bearer {TOKEN_ALL}", "X-Forwarded-User": "alice@example.com"}
        )
        assert page.status_code == 200 and ab.TEAM_A in page.text


def test_the_live_page_shows_the_cost_rate_of_the_hour(data: tuple[Path, str], tmp_path: Path) -> None:
    from awscost.planning.pricing import snapshot_book

    dataset, store_url = data
    rate = snapshot_book().on_demand_hourly("ec2", "m5.large", "us-east-1", "linux")
    assert rate is not None
    source = snapshot_book().lookup("ec2", "m5.large", "us-east-1", "linux").label_for("on_demand")  # type: ignore[union-attr]
    with client(settings_of(tmp_path, store_url), dataset) as c:
        page = c.get("/usage").text
        narrow = c.get(f"/usage?account={ab.TEAM_B}").text
    team_a, team_b = (f"${(n * rate).quantize(Decimal('0.01')):,}/h" for n in (200, 90))
    total = f"${(290 * rate).quantize(Decimal('0.01')):,}/h"
    row = re.compile(r"<tr><td>ec2</td><td>(\d{12})</td><td>us-east-1</td><td class=\"num\">([\d,]+)</td>"
                     r"<td class=\"num\">([^<]+)</td>")  # fmt: skip
    assert row.findall(page) == [(ab.TEAM_A, "200", team_a), (ab.TEAM_B, "90", team_b)]
    assert f"Estimated cost rate in 2026-10-23 23:00Z: <b>{total}</b>" in page
    assert f"on-demand list price, price book {source}" in page and "$/hour" in page
    assert row.findall(narrow) == [(ab.TEAM_B, "90", team_b)] and f"<b>{team_b}</b>" in narrow


def test_the_cost_rate_prices_what_the_book_knows_and_counts_ec2_once() -> None:
    from awscost.planning.pricing import snapshot_book
    from awscost.reports.dashboard.live import price_live
    from awscost.usage.live import LiveUsage

    book = snapshot_book()
    m5 = book.on_demand_hourly("ec2", "m5.large", "us-east-1", "linux")
    win = book.on_demand_hourly("ec2", "m5.large", "us-east-1", "windows")
    assert m5 is not None and win is not None and win != m5
    keys = {
        ("ec2", ab.TEAM_A, "us-east-1"): {"m5.large:us-east-1a": Decimal(3)},
        ("ec2os", ab.TEAM_A, "us-east-1"): {
            "linux-m5.large": Decimal(2),
            "windows-m5.large": Decimal(1),
            "spot-linux-m5.large": Decimal(4),
        },
        ("ec2", ab.TEAM_B, "us-east-1"): {"m5.large:us-east-1a": Decimal(5)},  # no ec2os here
    }
    live = LiveUsage(LAST, {k: sum(v.values(), Decimal(0)) for k, v in keys.items()}, keys_now=keys)
    view = price_live(live, book)
    assert view.rates[("ec2os", ab.TEAM_A, "us-east-1")] == 2 * m5 + win  # exact, Decimal; spot unpriced
    assert view.unpriced[("ec2os", ab.TEAM_A, "us-east-1")] == "1 type(s): spot"
    assert view.rates[("ec2", ab.TEAM_A, "us-east-1")] == 3 * m5  # as Linux: ec2 names no OS
    assert view.left_out_of_total == (("ec2", ab.TEAM_A, "us-east-1"),)  # ec2os counts the same instances
    assert view.total == 2 * m5 + win + 5 * m5 and isinstance(view.total, Decimal)
    assert view.sources and all(s.startswith("snapshot") for s in view.sources)


def test_an_hour_with_nothing_running_costs_nothing_rather_than_no_price(tmp_path: Path) -> None:
    from awscost.planning.pricing import snapshot_book
    from awscost.reports.dashboard.live import live_view

    with open_store(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.put_items([UsageItem("rds", ab.TEAM_A, "us-east-1", LAST, {})])  # collected: none running
        store.put_map("collected:rds", {"hour": LAST.isoformat()})
        view = live_view(store, book=snapshot_book())
    assert view.rates == {("rds", ab.TEAM_A, "us-east-1"): Decimal(0)} and view.total == 0


def test_the_live_page_is_told_of_a_new_hour(data: tuple[Path, str], tmp_path: Path) -> None:
    dataset, store_url = data
    settings = settings_of(tmp_path, store_url)
    with client(settings, dataset, poll=0.2) as c, c.stream("GET", "/events") as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        lines = events.iter_lines()
        assert next(lines) == "event: hour"
        deadline = time.monotonic() + 10
        while next(lines) != "data: 2026-10-23T23:00:00+00:00":
            assert time.monotonic() < deadline
        with open_store(store_url) as store:
            store.put_items(
                [
                    UsageItem(
                        "ec2",
                        ab.TEAM_A,
                        "us-east-1",
                        datetime(2026, 10, 24, tzinfo=UTC),
                        {"m5.large:us-east-1a": 7},
                    )
                ]
            )
            store.put_map("collected:ec2", {"hour": "2026-10-24T00:00:00+00:00"})
        try:
            got = [next(lines) for _ in range(3)]
            while "data: 2026-10-24T00:00:00+00:00" not in got:
                assert time.monotonic() < deadline
                got.append(next(lines))
        finally:
            with open_store(store_url) as store:
                store.put_map("collected:ec2", {"hour": "2026-10-23T23:00:00+00:00"})
        assert "event: hour" in got


def test_serving_beyond_loopback_needs_tokens(data: tuple[Path, str], tmp_path: Path) -> None:
    dataset, store_url = data
    settings_of(tmp_path, store_url)
    result = CliRunner().invoke(
        cli,
        [
            "dashboard",
            "--host",
            "0.0.0.0",
            "--dataset",
            str(dataset),
            "--config",
            str(tmp_path / "awscost.toml"),
        ],
    )
    assert result.exit_code != 0 and "without [dashboard.tokens]" in str(result.output) + str(
        result.exception
    )


def test_the_export_writes_one_set_per_audience_with_only_its_accounts(
    data: tuple[Path, str], tmp_path: Path
) -> None:
    dataset, store_url = data
    settings_of(tmp_path, store_url)
    out = tmp_path / "out"
    args = ["dashboard", "export", "--out", str(out), "--dataset", str(dataset), "--period", "2026-10"]
    result = CliRunner().invoke(cli, [*args, "--config", str(tmp_path / "awscost.toml")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["ml", "organization", "web"]
    for audience, mine, other in (("ml", ab.TEAM_B, ab.TEAM_A), ("web", ab.TEAM_A, ab.TEAM_B)):
        files = sorted(p.name for p in (out / audience).iterdir())
        assert files == [
            "dashboard.css",
            "overview.html",
            "reservations.html",
            "services.html",
            "tags.html",
            "usage.html",
        ]
        text = " ".join(p.read_text() for p in (out / audience).glob("*.html"))
        assert mine in text and other not in text
        assert 'href="tags.html"' in text and "/static/" not in text and "<script" not in text


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[dashboard.tokens]\n"short" = "ml"\n', "too easy to guess"),
        (f'[dashboard.tokens]\n"{TOKEN_ML}" = "nobody"\n', "unknown audience 'nobody'"),
        ("[dashboard]\npoll_seconds = 0\n", "from 1 to 3600"),
        ("[dashboard]\nport = 80\n", "unknown key 'port'"),
        ('[dashboard]\ntrusted_header = "X-Forwarded-User"\n', r"needs \[dashboard\.users\]"),
        ('[dashboard.users]\n"a@example.com" = "ml"\n', "read only with trusted_header"),
        (
            '[dashboard]\ntrusted_header = "X User"\n[dashboard.users]\n"a" = "ml"\n',
            "not an HTTP header name",
        ),
        ('[dashboard]\ntrusted_header = "Cookie"\n[dashboard.users]\n"a" = "ml"\n', "client's own header"),
        ('[dashboard]\ntrusted_header = "X-User"\n[dashboard.users]\n"a" = "nobody"\n', "unknown audience"),
        (
            '[dashboard]\ntrusted_header = "X-User"\ntrusted_proxies = ["proxy.local"]\n'
            '[dashboard.users]\n"a" = "ml"\n',
            "not an IP address",
        ),
    ],
)
def test_a_bad_dashboard_config_names_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "awscost.toml"
    path.write_text('[[report.audience]]\nname = "ml"\naccounts = ["111122223333"]\n' + toml)
    with pytest.raises(ConfigError, match=message):
        dashboard_settings(load_settings(path))


def test_the_region_filter_narrows_every_figure_to_that_regions_rows(
    data: tuple[Path, str], tmp_path: Path
) -> None:
    dataset, store_url = data
    # the shared store's EC2 counts plus a planned kind's hours in both regions, in a copy of its own
    shutil.copy(store_url.removeprefix("sqlite:///"), tmp_path / "store.db")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(store_url) as store:
        store.put_items(
            [
                UsageItem("ec2os", ab.TEAM_A, "us-east-1", LAST, {"linux-m5.large": 200}),
                UsageItem("ec2os", ab.TEAM_A, "eu-west-1", LAST, {"linux-r6g.2xlarge": 38}),
            ]
        )
    settings = settings_of(tmp_path, store_url)

    def report(*regions: str) -> dict:
        (one,) = run_job(
            "report",
            Context(settings),
            ReportParams(dataset=str(dataset), today=TODAY, period="month-to-date", regions=regions),
        ).reports
        assert one.error is None, one.error
        return one.document

    whole, eu, us = report(), report("eu-west-1"), report("us-east-1")
    period = eu["period"]
    start, last = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])  # end: last day in

    def billed(region: str | None) -> Decimal:
        # From the lines the CUR was written from, not from the dataset: the forgotten cluster is the one
        # eu-west-1 spend; the support fee has no region.
        return sum(
            (x.unblended for x in ab.lines() if x.region == region and start <= x.start.date() <= last),
            Decimal(0),
        )

    cluster = billed("eu-west-1")
    assert cluster > 0 and Decimal(eu["total"]["cost"]) == cluster
    assert Decimal(us["total"]["cost"]) == billed("us-east-1")
    # the fee without a region is in neither: the regions plus it make the whole
    no_region = billed(None)
    assert no_region > 0
    assert Decimal(eu["total"]["cost"]) + Decimal(us["total"]["cost"]) + no_region == Decimal(
        whole["total"]["cost"]
    )
    assert eu["regions"] == ["eu-west-1"] and whole["regions"] is None
    # the bill's commitment lines follow the filter: the cluster is all of eu-west-1's coverable usage
    commitments = eu["sections"]["usage"]["commitments"]
    assert Decimal(commitments["on_demand_eligible"]) == cluster
    # the store's hours are per region and follow the filter
    hours = {
        r: {(h["region"], h["hours"]) for h in doc["sections"]["usage"]["hours"]}
        for r, doc in (("eu", eu), ("us", us), ("whole", whole))
    }
    assert hours["eu"] == {("eu-west-1", "38")} and hours["us"] == {("us-east-1", "200")}
    assert hours["whole"] == hours["eu"] | hours["us"]
    # what is organization-wide says it cannot be narrowed, rather than showing the whole
    assert "region" in eu["sections"]["savings"]["unavailable"]
    assert "region" in eu["sections"]["services"]["unavailable"]

    with client(settings, dataset) as c:
        page = c.get("/?region=eu-west-1")
        assert page.status_code == 200
        assert f"{cluster:,.2f}" in page.text and f"{Decimal(whole['total']['cost']):,.2f}" not in page.text
        assert "Narrowed to eu-west-1" in page.text
        for path in ("/reservations", "/tags", "/services"):
            assert c.get(f"{path}?region=eu-west-1").status_code == 200
        assert c.get("/tags?region=eu-west-1<script>").status_code == 400
