"""The deployment's sizes and the collector's cold-start imports, against Lambda's limits.

    python benchmarks/bench_package.py [--workdir DIR] [--python312 PATH] [--repeat 5]

Measures, from a fresh `awscost deploy package`:

  - the collector zip: its size and its unzipped size (Lambda: 250 MB unzipped for a function's zip and its
    layers), and the cold start of its code path as fresh processes (median of --repeat): the interpreter
    alone, `import boto3` alone (the runtime provides it), `import awscost.entrypoints.lambda_handler,
    awscost.jobs.collect` from the unpacked zip as Lambda runs it (no bytecode: the zip holds none and
    /var/task is read-only) and with its bytecode compiled, and `python -X importtime`'s top entries. With
    the Lambda runtime's Python (3.12; --python312, default the pyenv one when present) and with this
    interpreter. The unpacked zip also runs the handler's `version` job under 3.12.
  - the analytics image's dependencies: `pip install --target DIR --platform ... --python-version 3.12
    --implementation cp --only-binary=:all: -r infra/analytics/requirements.lock`, their installed size in
    all and per package (Lambda: 10 GB for an image, 250 MB for a zip and its layers), and, when the 3.12
    interpreter can load those wheels (x86_64 Linux, glibc >= 2.28), their import time and awscost's
    analytics jobs imported over them.

Why an image and not a layer: the analytics jobs import DuckDB, pyarrow, numpy, matplotlib, XlsxWriter and
Jinja2; installed for the Lambda platform they are ~400 MB, over the 250 MB a zip and its layers may hold
unzipped, while an image may hold 10 GB. A layer would mean dropping pyarrow (170 MB) or matplotlib's
charts, and every job of the image needs one or the other.

The manylinux platforms: Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34), so wheels tagged up to
manylinux_2_34 run there; `--platform manylinux2014_x86_64` alone (glibc 2.17) is tried too and reports the
pins that have no such wheel.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "infra" / "analytics" / "requirements.lock"
MB = 1024 * 1024
ZIP_LIMIT = 250 * MB  # unzipped: the function's zip and all its layers
IMAGE_LIMIT = 10 * 1024 * MB
LAMBDA_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
COLLECTOR_PATH = "import awscost.entrypoints.lambda_handler, awscost.jobs.collect"
ANALYTICS_MODULES = "import duckdb, pyarrow, numpy, matplotlib, xlsxwriter, jinja2"
ANALYTICS_JOBS = (
    "import awscost.jobs.billing_load, awscost.jobs.service_costs, awscost.jobs.ri_plan, awscost.jobs.ri_report,"
    " awscost.jobs.report, awscost.billing.bill, awscost.reports.render.charts"
)


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def wall(argv: list[str], env: dict[str, str], repeat: int) -> float:
    """Median wall seconds of a fresh process (after one unmeasured run: a warm file cache)."""
    subprocess.run(argv, check=True, capture_output=True, env=env)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def importtime(python: str, code: str, env: dict[str, str], top: int = 6) -> list[tuple[str, float]]:
    """The `top` top-level packages by cumulative import seconds (python -X importtime)."""
    run = subprocess.run([python, "-X", "importtime", "-c", code], capture_output=True, text=True, env=env)
    totals: dict[str, float] = {}
    for line in run.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
        if m and len(m.group(2)) <= 1:  # a module imported at the top level of the statement
            name = m.group(3).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(m.group(1)) / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def runtime_boto3(python: str, target: Path) -> Path:
    """boto3 at this venv's version, installed for `python` (the Lambda runtime provides its own)."""
    version = metadata.version("boto3")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--target", str(target), f"boto3=={version}"],
        check=True, capture_output=True,
    )  # fmt: skip
    # pip compiled it for this interpreter; the runtime's own boto3 comes with its bytecode.
    subprocess.run([python, "-m", "compileall", "-q", str(target)], check=True, capture_output=True)
    return target


def pip_target(target: Path, platforms: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pip", "install", "-q", "--target", str(target)]
    for platform in platforms:
        argv += ["--platform", platform]
    argv += ["--python-version", "3.12", "--implementation", "cp", "--only-binary=:all:", "-r", str(LOCK)]
    return subprocess.run(argv, capture_output=True, text=True)


def measure(workdir: Path, python312: str | None, repeat: int) -> dict[str, Any]:
    from awscost.deploy.package import build

    out: dict[str, Any] = {}
    package = build(workdir / "dist")
    out["version"] = package.stamp.version
    out["collector_zip_bytes"] = package.collector_bytes
    out["collector_unzipped_bytes"] = package.collector_unzipped
    task = workdir / "task"
    zipfile.ZipFile(package.collector).extractall(task)

    pythons = {f"{sys.version_info.major}.{sys.version_info.minor} (this venv)": sys.executable}
    if python312:
        pythons["3.12 (Lambda's)"] = python312
    cold: dict[str, Any] = {}
    boto3_312 = None
    for label, python in pythons.items():
        if python == sys.executable:
            # The venv's site-packages for boto3; -S skips its .pth files, so the editable install's src/
            # stays off the path and awscost comes from the unpacked zip.
            import boto3

            deps = Path(boto3.__file__).parents[1]
        else:
            deps = boto3_312 = runtime_boto3(python, workdir / "boto3-312")
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{task}{os.pathsep}{deps}", "PYTHONNOUSERSITE": "1"}
        # As shipped: no bytecode in the zip, and /var/task is read-only, so none is written either.
        shipped = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        compiled = workdir / f"task-compiled-{label.split()[0]}"
        shutil.copytree(task, compiled, dirs_exist_ok=True)
        subprocess.run([python, "-m", "compileall", "-q", str(compiled)], check=True, capture_output=True)
        with_bytecode = {**shipped, "PYTHONPATH": f"{compiled}{os.pathsep}{deps}"}
        row = {
            "python_alone_s": wall([python, "-S", "-c", "pass"], shipped, repeat),
            "boto3_alone_s": wall([python, "-S", "-c", "import boto3"], shipped, repeat),
            "handler_and_collect_s": wall([python, "-S", "-c", COLLECTOR_PATH], shipped, repeat),
            "handler_and_collect_bytecode_s": wall(
                [python, "-S", "-c", COLLECTOR_PATH], with_bytecode, repeat
            ),
            "importtime_top": importtime(python, COLLECTOR_PATH, shipped),
        }
        imported = subprocess.run(
            [python, "-S", "-c", f"{COLLECTOR_PATH}; import sys, awscost; print(awscost.__file__);"
             " print(sorted(m for m in sys.modules if m.split('.')[0] in ('duckdb','pyarrow','numpy','pandas')))"],
            capture_output=True, text=True, env=env, check=True,
        ).stdout.split("\n")  # fmt: skip
        assert imported[0].startswith(str(task)), imported  # the zip's code, not the clone's
        row["analytics_modules_imported"] = imported[1]
        handler = subprocess.run(
            [python, "-S", "-c", "import json; from awscost.entrypoints.lambda_handler import handler;"
             " print(json.dumps(handler({'job': 'version'})))"],
            capture_output=True, text=True, check=False,
            env={**env, "AWSCOST_STORE": f"sqlite:///{workdir / 'awscost.db'}", "AWSCOST_METRICS": "0"},
        )  # fmt: skip
        row["version_job"] = (
            handler.stdout.strip().splitlines()[-1] if handler.returncode == 0 else handler.stderr
        )
        cold[label] = row
    out["cold_start"] = cold

    strict = pip_target(workdir / "strict", ("manylinux2014_x86_64",))
    out["manylinux2014_only"] = "ok" if strict.returncode == 0 else strict.stderr.strip().splitlines()[-1]
    target = workdir / "analytics"
    run = pip_target(target, LAMBDA_PLATFORMS)
    if run.returncode != 0:
        raise SystemExit(run.stderr)
    out["analytics_installed_bytes"] = tree_bytes(target)
    sizes: dict[str, int] = {}
    for entry in target.iterdir():
        if entry.name.endswith((".dist-info", ".pth")) or entry.name == "bin":
            continue
        name = re.sub(r"(\.libs|\.abi3\.so|\..*\.so)$", "", entry.name).lstrip("_").lower()
        name = {"pil": "pillow", "fonttools": "fonttools", "dateutil": "python-dateutil"}.get(name, name)
        sizes[name] = sizes.get(name, 0) + (tree_bytes(entry) if entry.is_dir() else entry.stat().st_size)
    out["analytics_by_package"] = dict(sorted(sizes.items(), key=lambda kv: -kv[1]))
    if python312 and boto3_312:
        analytics = workdir / "dist" / "analytics"
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join([str(analytics), str(target), str(boto3_312)]),
            "MPLCONFIGDIR": str(workdir / "mpl"),
        }
        out["analytics_import_s_312"] = {
            "libraries": wall([python312, "-S", "-c", ANALYTICS_MODULES], env, repeat),
            "libraries + awscost's analytics jobs": wall(
                [python312, "-S", "-c", f"{ANALYTICS_MODULES}; {ANALYTICS_JOBS}"], env, repeat
            ),
        }
    return out


def print_report(r: dict[str, Any]) -> None:
    def mb(n: int) -> str:
        return f"{n / MB:7.1f} MB"

    print(f"awscost {r['version']}")
    print(f"collector zip            {mb(r['collector_zip_bytes'])}")
    print(
        f"collector unzipped       {mb(r['collector_unzipped_bytes'])}   "
        f"{r['collector_unzipped_bytes'] / ZIP_LIMIT:6.2%} of Lambda's 250 MB (zip + layers, unzipped)"
    )
    for label, row in r["cold_start"].items():
        print(f"cold start, Python {label}:")
        print(f"  python -S -c pass                       {row['python_alone_s']:.3f} s")
        print(f"  python -S -c 'import boto3'             {row['boto3_alone_s']:.3f} s")
        print(
            f"  import lambda_handler + jobs.collect    {row['handler_and_collect_s']:.3f} s   as shipped (no bytecode)"
        )
        print(f"  ... with the zip's bytecode compiled    {row['handler_and_collect_bytecode_s']:.3f} s")
        own = row["handler_and_collect_s"] - row["boto3_alone_s"]
        print(f"  awscost's own share (as shipped)        {own:.3f} s")
        top = ", ".join(f"{name} {s * 1000:.0f} ms" for name, s in row["importtime_top"])
        print(f"  -X importtime, cumulative: {top}")
        print(f"  analytics modules imported: {row['analytics_modules_imported']}")
        print(f"  handler({{'job': 'version'}}) -> {row['version_job']}")
    print(f"analytics deps, manylinux2014 only: {r['manylinux2014_only']}")
    total = r["analytics_installed_bytes"]
    print(
        f"analytics deps installed {mb(total)}   {total / ZIP_LIMIT:6.0%} of 250 MB (a layer: does not fit), "
        f"{total / IMAGE_LIMIT:5.1%} of a 10 GB image"
    )
    for name, size in list(r["analytics_by_package"].items())[:10]:
        print(f"  {name:<20}{mb(size)}")
    for what, seconds in r.get("analytics_import_s_312", {}).items():
        print(f"import time, 3.12, {what}: {seconds:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=None)
    default_312 = Path("/root/.pyenv/versions/3.12.1/bin/python")
    parser.add_argument("--python312", default=str(default_312) if default_312.exists() else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print the measurements as JSON too.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.workdir or Path(tmp), args.python312, args.repeat)
    print_report(result)
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
