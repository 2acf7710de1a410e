"""The layout of ARCHITECTURE.md, held against the code: import layers, the sandbox kept out of the product,
click kept in the front ends, the collector's Lambda path on boto3 and the standard library only."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "awscost"


def layers() -> list[set[str]]:
    """The ```layers block of ARCHITECTURE.md, bottom first."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "ARCHITECTURE.md has no ```layers block"
    rows = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    return [{p.strip() for p in row.split("|")} for row in reversed(rows)]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every import in the file (module level and inside functions), as absolute module names."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_name(path).split(".")
                base = base[: len(base) - node.level + (1 if path.name == "__init__.py" else 0)]
                out.append((node.lineno, ".".join([*base, *([node.module] if node.module else [])])))
            elif node.module:
                out.append((node.lineno, node.module))
    return out


def top_package(module: str) -> str | None:
    """The package of src/awscost/ that `module` belongs to; None for modules outside or at its root."""
    parts = module.split(".")
    if parts[0] != "awscost" or len(parts) < 2 or not (PACKAGE / parts[1]).is_dir():
        return None
    return parts[1]


def production_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_layers_name_every_package_once() -> None:
    named = [p for layer in layers() for p in layer]
    packages = sorted(d.name for d in PACKAGE.iterdir() if d.is_dir() and (d / "__init__.py").exists())
    assert sorted(named) == packages, "ARCHITECTURE.md's layers and src/awscost/ disagree"


def test_every_import_goes_down_the_layers() -> None:
    level = {p: i for i, layer in enumerate(layers()) for p in layer}
    wrong = []
    for path in production_files():
        here = top_package(module_name(path))
        if here is None:  # awscost/__init__.py (stdlib only) and __main__.py (the command line's door)
            continue
        for line, target in imports(path):
            there = top_package(target)
            if there is None or there == here:
                continue
            if level[there] >= level[here]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {here} imports {target} ({there})")
    assert wrong == []


def test_nothing_in_awscost_imports_the_sandbox_and_click_stays_in_the_front_ends() -> None:
    sandbox, click_users = [], []
    for path in production_files():
        for line, target in imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if target.split(".")[0] == "awscost_sandbox":
                sandbox.append(where)
            if target.split(".")[0] == "click" and top_package(module_name(path)) != "entrypoints":
                click_users.append(where)
    assert sandbox == [] and click_users == []
    assert [t for _, t in imports(PACKAGE / "__init__.py")] == []  # the package face stays import-free


def _run(code: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, check=False, cwd=cwd
    )


BLOCKER = """
import sys
from importlib.abc import MetaPathFinder

class Block(MetaPathFinder):
    def __init__(self, names):
        self.names = names
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)
        return None

sys.meta_path.insert(0, Block(set(sys.argv[1].split(","))))
"""


def test_every_production_module_imports_without_the_sandbox() -> None:
    code = (
        BLOCKER
        + """
import pkgutil, importlib
import awscost
for info in pkgutil.walk_packages(awscost.__path__, "awscost."):
    if info.name != "awscost.__main__":
        importlib.import_module(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("awscost_sandbox", "moto"))
print("imported", len([m for m in sys.modules if m.startswith("awscost.")]), "leaked", bad)
"""
    )
    proc = _run(code, "awscost_sandbox,moto")
    assert proc.returncode == 0, proc.stderr
    count = int(proc.stdout.split()[1])
    assert count > 80 and proc.stdout.strip().endswith("leaked []"), proc.stdout


def test_without_the_sandbox_extra_the_commands_work_and_demo_says_what_to_install(tmp_path: Path) -> None:
    code = BLOCKER + "from awscost.entrypoints.cli import main\nmain(sys.argv[2:])\n"

    def awscost(*args: str) -> subprocess.CompletedProcess[str]:
        return _run(code, "moto", *args, cwd=tmp_path)

    help_ = awscost("--help")
    assert help_.returncode == 0, help_.stderr
    assert re.search(r"demo\s+\(not installed: pip install 'awscost\[sandbox\]'\)", help_.stdout), (
        help_.stdout
    )
    for args in (
        ["init"],
        ["iam-policy", "--member"],
        ["store", "init"],
        ["usage", "show"],
        ["pricing", "show"],
    ):
        proc = awscost(*args)
        assert proc.returncode == 0, (args, proc.stderr)
    demo = awscost("demo")
    assert demo.returncode == 2 and "Traceback" not in demo.stderr
    assert demo.stderr.strip() == (
        "awscost: error: command 'demo' needs the optional package 'moto', which is not installed "
        "(pip install 'awscost[sandbox]')"
    )


def test_a_command_whose_job_lacks_its_extra_says_which_in_one_line(tmp_path: Path) -> None:
    code = BLOCKER + "from awscost.entrypoints.cli import main\nmain(sys.argv[2:])\n"
    store = f"sqlite:///{tmp_path / 'a.db'}"
    _run("from awscost.store import open_store\nopen_store(__import__('sys').argv[1]).close()", store)
    for args in (["ri", "plan"], ["run", "ri_plan"]):
        proc = _run(code, "numpy", *args, "--store", store)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.strip() == (
            "awscost: error: job ri_plan needs the analyze extra (numpy is not installed) "
            "(pip install 'awscost[analyze]')"
        ), args


def test_the_collector_lambda_path_needs_only_boto3_and_the_standard_library() -> None:
    """Every job the collector zip runs (no extra: `Job.artifact`) imports boto3 and the standard library."""
    heavy = "pandas,numpy,duckdb,pyarrow,polars,xlsxwriter,click,rich,moto,awscost_sandbox,openpyxl"
    code = (
        BLOCKER
        + """
import awscost.entrypoints.lambda_handler, awscost.jobs.collect, awscost.store.sqlite, awscost.store.dynamodb
from awscost.jobs import JOBS
from awscost.usage.kinds import COLLECTORS
collector_jobs = [JOBS.get(name) for name in JOBS if JOBS.get(name).artifact == "collector"]
assert {"collect", "ce_fetch", "pricing_refresh", "health", "version"} <= {j.name for j in collector_jobs}
collectors = dict(COLLECTORS.items())
third = sorted(
    {m.split(".")[0] for m in sys.modules if not m.startswith("_")} - set(sys.stdlib_module_names) - {"awscost"}
)
print(len(collectors), " ".join(third))
"""
    )
    proc = _run(code, heavy)
    assert proc.returncode == 0, proc.stderr
    count, _, third = proc.stdout.strip().partition(" ")
    from awscost.usage.kinds import COLLECTED

    assert int(count) == len(COLLECTED)  # every collector imported
    # boto3 and what it brings along (botocore's own dependencies)
    assert set(third.split()) <= {
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "dateutil",
        "urllib3",
        "six",
        "certifi",
    }


def test_a_command_that_needs_a_missing_package_names_its_extra(tmp_path: Path) -> None:
    code = BLOCKER + "from awscost.entrypoints.cli import main\nmain(sys.argv[2:])\n"
    bill = tmp_path / "cur.csv"
    bill.write_text("lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/LineItemType\n")
    proc = _run(code, "duckdb", "billing", "summary", str(bill))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == (
        "awscost: error: awscost billing needs the optional package 'duckdb', which is not installed "
        "(pip install 'awscost[billing]')"
    )
