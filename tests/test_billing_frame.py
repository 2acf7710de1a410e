"""`Frame`, what the Bill analyses return: exact rows without pandas, and pandas / Arrow on request."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import awscost.billing as billing
from awscost.billing.frame import Frame

DATA = Path(__file__).parent / "data" / "billing"
CUR = DATA / "cur_small.csv"


def test_an_analysis_is_rows_of_exact_values_and_converts_to_pandas_and_arrow() -> None:
    with billing.load([CUR]) as bill:
        frame = bill.summary(by=["SubAccountId"], metric="BilledCost")
        total = bill.total("BilledCost")
        mom = bill.month_over_month(by=[], metric="BilledCost")
    assert isinstance(frame, Frame) and frame.columns == ["SubAccountId", "BilledCost"]
    costs = frame.column("BilledCost")
    assert all(isinstance(c, Decimal) for c in costs) and sum(costs) == total
    assert costs == sorted(costs, reverse=True)  # largest first
    assert frame.to_dicts() == [dict(zip(frame.columns, r, strict=True)) for r in frame.rows] == list(frame)
    assert len(frame) == len(set(frame.column("SubAccountId"))) > 1

    pandas = frame.to_pandas()
    assert pandas.columns.tolist() == frame.columns
    assert pandas.to_dict("records") == frame.to_dicts()  # Decimal objects, nothing rounded
    arrow = frame.to_arrow()
    assert arrow.column_names == frame.columns
    assert [Decimal(str(v)) for v in arrow.column("BilledCost").to_pylist()] == costs
    # What a result says beside its rows reaches the DataFrame too.
    assert (
        mom.attrs["comparison"]["current"]["period"]
        == mom.to_pandas().attrs["comparison"]["current"]["period"]
    )


def test_frame_edits_leave_the_original() -> None:
    frame = Frame(["a", "b"], [(1, Decimal("1.5")), (2, None)])
    assert frame.drop("a").columns == ["b"] and frame.columns == ["a", "b"]
    assert frame.with_column("b", ["x", "y"]).column("b") == ["x", "y"] and frame.column("b")[1] is None
    assert frame.with_column("c", [3, 4]).rows == [(1, Decimal("1.5"), 3), (2, None, 4)]
    assert frame.rename({"a": "A"}).columns == ["A", "b"]
    assert frame == Frame(["a", "b"], [(1, Decimal("1.5")), (2, None)]) != frame.drop("b")


def test_billing_summary_over_a_dataset_imports_neither_pandas_nor_pyarrow(tmp_path: Path) -> None:
    billing.load_into([CUR], tmp_path / "ds")
    code = (
        "import sys\nfrom awscost.entrypoints.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "import json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    args = [
        "billing",
        "summary",
        "--dataset",
        str(tmp_path / "ds"),
        "--by",
        "SubAccountId",
        "--format",
        "json",
    ]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    out = proc.stdout.strip()
    modules = json.loads(out.splitlines()[-1])
    rows = json.loads(out[: out.rindex("\n")])
    assert "duckdb" in modules and rows and "EffectiveCost" in rows[0]
    assert [m for m in ("pandas", "numpy", "pyarrow", "rich", "boto3", "moto") if m in modules] == []
