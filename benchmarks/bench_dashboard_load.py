"""The dashboard under load: 50 concurrent keep-alive clients on 127.0.0.1 for 30 s, every page in turn, over the
dashboard tests' dataset and store (tests/dashboard_data.py). Prints requests, errors, median / p95 / p99 per
page and overall, and the same clients against /healthz (the app doing no work: Starlette + uvicorn's own
cost) as the baseline, with the ratio of the pages' p95 to it.

    python benchmarks/bench_dashboard_load.py [--clients 50] [--seconds 30]
    python benchmarks/bench_dashboard_load.py --config demo-out/awscost.toml --today 2026-11-02

With --config, the dashboard of that config is served instead (its [billing] dataset and store: after
`make demo`, the demo's), as `awscost dashboard` would serve it.
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
from awscost.core.config import Settings, load_settings
from awscost.entrypoints.web.app import Dashboard, create_app
from awscost.entrypoints.web.config import DashboardSettings
from awscost.views.reports import Reports, default_dataset
from dashboard_load import run_load, serve

PAGES = ("/", "/usage", "/reservations", "/tags", "/services")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--config", type=Path, default=None, help="serve this awscost.toml's dashboard")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 10, 24))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.config is not None:
            settings = load_settings(args.config, env={})
            dataset = Path(str(default_dataset(settings)))
        else:
            dataset, store_url = dashboard_data.make(Path(tmp))
            settings = Settings(store=store_url)
        dash = Dashboard(
            settings,
            str(dataset),
            DashboardSettings(),
            Reports(settings, str(dataset)),
            today=args.today,
        )
        with serve(create_app(dash)) as base:
            run_load(base, PAGES, clients=2, seconds=2)  # warm: the report built, the pages cached
            baseline = run_load(base, ("/healthz",), clients=args.clients, seconds=args.seconds)
            pages = run_load(base, PAGES, clients=args.clients, seconds=args.seconds)
    out = {
        "data": str(args.config or "tests/dashboard_data.py"),
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
