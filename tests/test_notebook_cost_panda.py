"""The Cost Panda notebook runs top to bottom on the sandbox bill, in a kernel of this interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "cost_panda.ipynb"


def _kernel_spec_dir(tmp_path: Path) -> Path:
    """A kernel spec `awscost-test` that starts ipykernel with this very interpreter, so the test needs no
    kernel installed on the machine (a fresh checkout, CI) and always runs the code under test."""
    import json

    spec = tmp_path / "kernels" / "awscost-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "awscost test",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    return tmp_path


def test_cost_panda_notebook_executes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_PATH", str(_kernel_spec_dir(tmp_path)))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="awscost-test", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "rows; periods ['2026-11']" in text
    assert "CoveragePct" in text and "SavingsPlanCovered" in text
    assert "chart written to" in text
    chart = Path(text.split("chart written to", 1)[1].split()[0])
    assert chart.is_file() and chart.stat().st_size > 5000
