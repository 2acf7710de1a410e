"""Command-line start-up benchmark: whole processes, median of 5, against the targets of issue 12.

    python benchmarks/bench_cli_start.py [--file CUR.csv.gz | --dataset DIR] [--rows 1000000] [--workdir DIR]

Times, each as a fresh process:

  - `awscost --help`                                   target < 0.15 s
  - `awscost billing --help`                           target < 0.15 s
  - `awscost billing summary --dataset DS --by SubAccountId --metric BilledCost` over 1 M loaded rows,
                                                       target < 0.3 s

and, in the same run, the floors no command can beat on this machine: `python -c pass` (the interpreter)
and `python -c "import duckdb"` (the engine every billing command needs). Each line prints its wall time,
its ratio to the target (< 1.0 meets it) and to both floors, so a loaded machine shows as slow floors, not
as a slower awscost.

The dataset is `--dataset DIR` as is, or loaded from `--file PATH` (a CUR; e.g. /work/benchdata/cur-1m.csv.gz),
or from a CUR of `--rows` rows that bench_billing.py's `generate` writes when neither is given.
`measure(dataset)` returns the rows, for bench_billing.py to print beside its own.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPEAT = 5
TARGET_HELP_S = 0.15
TARGET_SUMMARY_S = 0.3
PY = sys.executable


def awscost(*args: str) -> list[str]:
    return [PY, "-c", "import sys; from awscost.entrypoints.cli import main; main(sys.argv[1:])", *args]


def wall(argv: list[str], repeat: int = REPEAT) -> float:
    """Median wall seconds of `argv` run `repeat` times (after one unmeasured run: a warm file cache)."""
    subprocess.run(argv, check=True, capture_output=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(dataset: Path) -> list[dict[str, Any]]:
    """One row per timed command: seconds, target, and the ratios to the target and to both floors."""
    floor_python = wall([PY, "-c", "pass"])
    floor_duckdb = wall([PY, "-c", "import duckdb"])
    cases = [
        ("awscost --help", awscost("--help"), TARGET_HELP_S),
        ("awscost billing --help", awscost("billing", "--help"), TARGET_HELP_S),
        (
            "awscost billing summary --dataset (1 M rows)",
            awscost(
                "billing",
                "summary",
                "--dataset",
                str(dataset),
                "--by",
                "SubAccountId",
                "--metric",
                "BilledCost",
            ),
            TARGET_SUMMARY_S,
        ),
    ]
    rows: list[dict[str, Any]] = [
        {"what": "python -c pass (floor)", "seconds": floor_python, "target": None},
        {"what": "python -c 'import duckdb' (floor)", "seconds": floor_duckdb, "target": None},
    ]
    for what, argv, target in cases:
        rows.append({"what": what, "seconds": wall(argv), "target": target})
    for row in rows:
        row["vs_target"] = row["seconds"] / row["target"] if row["target"] else None
        row["vs_python"] = row["seconds"] / floor_python
        row["vs_duckdb"] = row["seconds"] / floor_duckdb
    return rows


def dataset_from(file: Path | None, rows: int, workdir: Path) -> Path:
    """A dataset loaded (by the real `billing load`) from `file`, or from a generated CUR of `rows` rows."""
    if file is None:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_billing import generate

        file = workdir / f"cur-{rows}.csv.gz"
        print(f"generating {rows:,} rows -> {file}", flush=True)
        generate(file, rows)
    into = workdir / "dataset"
    subprocess.run(
        awscost("billing", "load", str(file), "--into", str(into)), check=True, capture_output=True
    )
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=None, help="a loaded dataset to time summary over")
    parser.add_argument("--file", type=Path, default=None, help="a CUR to load into a fresh dataset")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate without --file")
    parser.add_argument("--workdir", type=Path, default=None, help="where to keep the generated files")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="awscost-bench-start-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        dataset = args.dataset or dataset_from(args.file, args.rows, workdir)
        started = time.perf_counter()
        rows = measure(dataset)
        print(f"whole process, median of {REPEAT} (python {sys.version.split()[0]}); dataset {dataset}")
        print(f"{'':48} {'wall s':>7} {'target':>7} {'/target':>8} {'/python':>8} {'/duckdb':>8}")
        for r in rows:
            target = f"{r['target']:.2f}" if r["target"] else "-"
            vs_target = f"{r['vs_target']:.2f}" if r["vs_target"] else "-"
            verdict = "" if r["vs_target"] is None else ("  meets" if r["vs_target"] < 1 else "  MISSES")
            print(
                f"{r['what']:48} {r['seconds']:7.3f} {target:>7} {vs_target:>8} {r['vs_python']:8.2f} "
                f"{r['vs_duckdb']:8.2f}{verdict}"
            )
        print(f"(timing took {time.perf_counter() - started:.0f} s)")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
