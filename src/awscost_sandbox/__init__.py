"""Emulated multi-account AWS for the demo, the tests and the benchmarks. Never on a production path.

scenario.py  the deterministic fleet over simulated time and its reservations (`default_scenario()`)
server.py    `SandboxServer`: moto on 127.0.0.1 behind the layer; `.env()`, `.client()`, `.clock`
layer.py     answers what moto lacks (reservation inventories; Cost Explorer via sandbox/ce.py), from
             the scenario: `register(service, operation, handler)`
seed.py      the Organization under the scenario's account ids; `apply_fleet(server, scenario, hour)`
demo.py      `awscost demo`: `run_demo` and its registry of `STEPS`
serve.py     `awscost sandbox`: the seeded server in the foreground
"""
