"""The dashboard under load: 50 concurrent keep-alive clients on 127.0.0.1 for 30 s, every page in turn, over the
dashboard tests' dataset and store (tests/dashboard_data.py). Prints requests, errors, median / p95 / p99 per
page and overall, and the same clients against /healthz (the app doing no work: Starlette + uvicorn's own
cost) as the baseline, with the ratio of the pages' p95 to it.

    python benchmarks/bench_dashboard_load.py [--clients 50] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import dashboard_data
from awscost.core.config import Settings
from awscost.entrypoints.web.app import Dashboard, create_app
from awscost.entrypoints.web.config import DashboardSettings
from awscost.views.reports import Reports
from dashboard_load import run_load, serve

PAGES = ("/", "/usage", "/reservations", "/tags", "/services")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dataset, store_url = dashboard_data.make(Path(tmp))
        settings = Settings(store=store_url)
        dash = Dashboard(
            settings,
            str(dataset),
            DashboardSettings(),
            Reports(settings, str(dataset)),
            today=date(2026, 10, 24),
        )
        with serve(create_app(dash)) as base:
            run_load(base, PAGES, clients=2, seconds=2)  # warm: the report built, the pages cached
            baseline = run_load(base, ("/healthz",), clients=args.clients, seconds=args.seconds)
            pages = run_load(base, PAGES, clients=args.clients, seconds=args.seconds)
    out = {
        "clients": args.clients,
        "seconds": args.seconds,
        "pages": pages.summary(),
        "per_page_p95_ms": {p: round(1000 * pages.p(0.95, p), 1) for p in PAGES},
        "baseline_healthz": baseline.summary(),
        "p95_ratio_to_healthz": round(pages.p(0.95) / baseline.p(0.95), 2),
        "report_builds": dash.reports.builds,
        "errors": pages.errors[:5] + baseline.errors[:5],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
