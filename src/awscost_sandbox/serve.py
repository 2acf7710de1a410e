"""Run a seeded sandbox in the foreground (`awscost sandbox`)."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from datetime import datetime

from awscost.core.timeutil import HOUR, floor_hour, format_hour
from awscost_sandbox.scenario import default_scenario
from awscost_sandbox.seed import ROLE_NAME, apply_fleet, counts, seed_organization
from awscost_sandbox.server import SandboxServer


def describe(server: SandboxServer, hour: datetime) -> list[str]:
    """What a person needs to use the running sandbox: endpoint, env to export, accounts, a sample command."""
    scenario = server.scenario
    fleet = counts(scenario.fleet_at(hour))
    lines = [
        f"sandbox running at {server.endpoint} (simulated hour {format_hour(hour)}); Ctrl-C stops it",
        f"organization {scenario.org_name!r}: "
        + ", ".join(f"{a.id} {a.name}{' (management)' if a.management else ''}" for a in scenario.accounts),
        f"regions: {', '.join(scenario.regions)}; member role: {ROLE_NAME}",
        "fleet: " + ", ".join(f"{kind} {n}" for kind, n in sorted(fleet.items())),
        "",
        "# export these to point boto3 / the aws cli / awscost at it:",
    ]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in server.env().items()]
    lines += [
        "",
        "# move the simulated clock (the fleet follows; reservations are judged at that hour):",
        f'curl -X POST {server.endpoint}/awscost-sandbox/hour -d \'{{"hour": "{format_hour(hour + HOUR)}"}}\'',
        "",
        "# then, e.g.:",
        f"awscost collect --kinds all --accounts {','.join(scenario.account_ids)} --role-name {ROLE_NAME} "
        f"--regions {','.join(scenario.regions)} --at {format_hour(hour)} --store sqlite:///sandbox.db",
    ]
    return lines


def run_sandbox(
    *,
    port: int = 0,
    seed: int = 7,
    at: datetime | None = None,
    ready: Callable[[list[str]], None] = lambda lines: None,
    stop: threading.Event | None = None,
) -> None:
    """Start, seed the Organization and the fleet of hour `at` (default the scenario's first), call `ready`
    with the lines to show, then block until `stop` is set (or KeyboardInterrupt)."""
    scenario = default_scenario(seed)
    hour = floor_hour(at) if at else scenario.start
    stop = stop or threading.Event()
    with SandboxServer(scenario, port=port) as server:
        seed_organization(server)
        apply_fleet(server, scenario, hour)
        ready(describe(server, hour))
        while not stop.wait(0.5):
            pass
