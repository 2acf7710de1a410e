"""Emulated multi-account AWS for the demo, the tests and the benchmarks. Never on a production path: awscost
never imports this package (its `demo` and `sandbox` commands are registered by name), and the collector's
Lambda zip does not contain it. It runs with the `sandbox` extra (moto).

scenario.py  the deterministic fleet over simulated time and its reservations (`default_scenario()`)
server.py    `SandboxServer`: moto on 127.0.0.1 behind the layer; `.env()`, `.client()`, `.clock`
layer.py     answers what moto lacks (reservation inventories; Cost Explorer via ce.py), from the
             scenario: `register(service, operation, handler)`
seed.py      the Organization under the scenario's account ids; `apply_fleet(server, scenario, hour)`
bill.py      the bill (legacy CUR, FOCUS) consistent with the fleet
containers.py the container hosts' usage logs
ri.py        the demo's RI step (history from the bill, Cost Explorer answers, the workbook)
demo.py      `awscost demo`: `run_demo` and its registry of `STEPS`
serve.py     `awscost sandbox`: the seeded server in the foreground
cli.py       the two commands
"""

from importlib.util import find_spec

# Without moto nothing here can run: say so at import, so `awscost demo` names the extra to install (the
# command registry turns this into "needs the optional package 'moto' ... pip install 'awscost[sandbox]'").
if find_spec("moto") is None:
    raise ModuleNotFoundError("No module named 'moto' (the awscost sandbox needs it)", name="moto")
