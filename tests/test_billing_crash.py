"""Crash consistency of `awscost billing load` (issue 11 item 2): a real load subprocess SIGKILLs itself at
each step boundary (AWSCOST_TEST_CRASH_AT, `billing/crashpoint.py`); the next open and the next load find
every period with its rows and totals as before the killed load, and nothing of it left beside the dataset."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from awscost.billing import load, load_into
from awscost.billing.crashpoint import CRASH_ENV
from awscost.billing.sources import DATASET_MARKER

DATA = Path(__file__).parent / "data" / "billing"
SRC = Path(__file__).resolve().parents[1] / "src"
# Loaded into a dataset already holding cur_small.csv (2024-03): two files read, 2024-03 rewritten and a
# new period written, amortization, marker, swap.
FILES = [DATA / "cur2_small.csv", DATA / "cur_small.csv"]
STEPS = ["read-1", "read-2", "write-2024-03", "write-2025-02", "amortized", "marker", "swap", "swapped"]


def periods(root: Path) -> dict[str, tuple[int, str, str]]:
    """Per period: rows and BilledCost from the marker, and the BilledCost summed from the parquet files."""
    with load(root) as bill:  # opening recovers what a killed load left, so the marker is read after
        summed = bill.sql(
            "SELECT x_BillingPeriod AS p, sum(BilledCost) AS c FROM billing GROUP BY 1"
        ).to_pandas()
    marker = json.loads((root / DATASET_MARKER).read_text(encoding="utf-8"))["periods"]
    from_rows = {p: str(c) for p, c in zip(summed["p"], summed["c"], strict=True)}
    return {p: (info["rows"], info["BilledCost"], from_rows[p]) for p, info in marker.items()}


def killed_load(into: Path, step: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, CRASH_ENV: step, "PYTHONPATH": str(SRC), "AWSCOST_DUCKDB_THREADS": "1"}
    args = ["billing", "load", *map(str, FILES), "--into", str(into), "--format", "json"]
    return subprocess.run(
        [sys.executable, "-m", "awscost", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("step", STEPS)
def test_a_load_killed_at_any_step_loses_nothing(tmp_path: Path, step: str) -> None:
    ds = tmp_path / "ds"
    load_into([DATA / "cur_small.csv"], ds)
    before = periods(ds)
    proc = killed_load(ds, step)
    assert proc.returncode == -signal.SIGKILL, (step, proc.returncode, proc.stderr)
    leftovers = sorted(
        p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.") and p.name != ".ds.lock"
    )
    assert leftovers  # the kill left work behind (a scratch dir at least): there is something to recover
    if step == "swap":
        assert not ds.exists()  # between the renames: no dataset at its path
    # The next open recovers; a kill before the swap finished leaves the dataset as it was, after it the
    # new one (swapped: the second rename was done).
    expected_after = before
    if step == "swapped":
        load_into(FILES, tmp_path / "reference")
        expected_after = periods(tmp_path / "reference")
    assert periods(ds) == expected_after
    # The next load cleans up every leftover and holds both the old periods and the new.
    load_into(FILES, ds)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")] == [".ds.lock"]
    after = periods(ds)
    assert set(before) <= set(after)
    load_into(FILES, tmp_path / "fresh")
    assert after == periods(tmp_path / "fresh")
