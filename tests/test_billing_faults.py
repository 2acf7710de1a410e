"""Billing under bad input and faults (issue 11 items 2, 3 and 12): one reading of a CSV in `load` and in a
one-shot query (CRLF, padded header names, ragged rows); a dataset whose marker or partition is broken; the
load's lock and the recovery of what a killed load left."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from awscost.billing import dataset as billing_dataset
from awscost.billing import load, load_into
from awscost.billing.sources import DATASET_MARKER
from awscost.core.errors import InputError
from awscost.entrypoints.cli import main

DATA = Path(__file__).parent / "data" / "billing"
CUR = DATA / "cur_small.csv"
TOTAL = Decimal("47.0460000181")  # the BilledCost of cur_small.csv


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def write_csv(path: Path, rows: list[list[str]], newline: str = "\n") -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    data = out.getvalue().encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def one_shot_total(path: Path) -> Decimal:
    with load(path, materialize=False) as bill:
        return bill.total("BilledCost")


def loaded_total(path: Path, into: Path) -> Decimal:
    load_into([path], into)
    with load(into) as bill:
        return bill.total("BilledCost")


def summary(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`awscost billing summary ARGS` as the console script runs it: exit code and what it printed."""
    capsys.readouterr()
    try:
        main(["billing", "summary", *args, "--format", "json"])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out + out.err


# -- item 3: one reading of a CSV in both paths


@pytest.mark.parametrize("name", ["crlf.csv", "crlf.csv.gz", "padded.csv", "padded_crlf.csv.gz"])
def test_crlf_and_padded_header_names_read_alike_in_load_and_one_shot(tmp_path: Path, name: str) -> None:
    rows = rows_of(CUR)
    if name.startswith("padded"):
        rows[0] = [f" {c}  " if c.startswith("lineItem/") else c for c in rows[0]]
    path = write_csv(tmp_path / name, rows, "\r\n" if "crlf" in name else "\n")
    assert one_shot_total(path) == TOTAL
    assert loaded_total(path, tmp_path / "ds") == TOTAL


@pytest.mark.parametrize("ragged", ["short", "long"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_ragged_row_is_an_error_naming_file_and_line_in_both_paths(
    tmp_path: Path, ragged: str, newline: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = rows_of(CUR)
    rows[3] = rows[3][:-10] if ragged == "short" else [*rows[3], "1.5"]
    path = write_csv(tmp_path / "ragged.csv", rows, newline)
    found = 32 if ragged == "short" else 43
    line = f"{path}: cannot read {{}}: line 4: {found} fields where the header has 42 (a ragged row)"
    with pytest.raises(InputError) as one_shot:
        one_shot_total(path)
    assert one_shot.value.render() == line.format("the bill")
    ds = tmp_path / "ds"
    load_into([CUR], ds)
    before = snapshot(ds)
    with pytest.raises(InputError) as loaded:
        load_into([DATA / "cur2_small.csv", path], ds)
    assert loaded.value.render() == line.format("as cur bill")
    assert snapshot(ds) == before
    code, out = summary(
        capsys, str(DATA / "cur2_small.csv"), str(path)
    )  # several files: still names this one
    assert code == 2
    assert f"{path}: cannot read the bill: line 4" in out


def test_mixed_line_endings_are_a_clear_error_in_both_paths(tmp_path: Path) -> None:
    text = CUR.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "mixed.csv"
    path.write_bytes((text[0] + "\n" + "".join(t + "\r\n" for t in text[1:])).encode())
    for run in (lambda: one_shot_total(path), lambda: loaded_total(path, tmp_path / "ds")):
        with pytest.raises(InputError) as err:
            run()
        assert err.value.render().startswith(f"{path}: cannot read ")
        assert "mixed line endings (LF and CRLF)" in err.value.render()


# -- D11, item 12: a broken marker or partition is named before anything is written


def test_a_marker_lacking_a_total_is_refused_before_the_load_writes(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    load_into([CUR], ds)
    marker = json.loads((ds / DATASET_MARKER).read_text(encoding="utf-8"))
    del marker["periods"]["2024-03"]["BilledCost"]
    (ds / DATASET_MARKER).write_text(json.dumps(marker), encoding="utf-8")
    before = snapshot(ds)
    with pytest.raises(InputError) as err:
        load_into([DATA / "cur2_small.csv"], ds)
    assert err.value.render() == (
        f"{ds / DATASET_MARKER}: dataset marker is malformed: period '2024-03' lacks BilledCost"
    )
    assert snapshot(ds) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")] == [".ds.lock"]


def test_a_deleted_partition_is_an_error_naming_period_and_folder_in_load_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = tmp_path / "ds"
    load_into([CUR, DATA / "cur2_small.csv"], ds)
    with load(ds) as bill:
        periods = bill.periods()
    assert len(periods) == 2
    gone = ds / f"x_BillingPeriod={periods[0]}"
    shutil.rmtree(gone)
    before = snapshot(ds)
    with pytest.raises(InputError) as err:
        load_into([DATA / "cur2_small.csv"], ds)
    text = err.value.render()
    assert text.startswith(
        f"{ds}: billing period {periods[0]} is in the marker but its files are missing ({gone})"
    )
    assert snapshot(ds) == before
    with pytest.raises(InputError) as err:
        load(ds)
    assert err.value.render() == text
    code, out = summary(capsys, "--dataset", str(ds))
    assert code == 2
    assert f"billing period {periods[0]} is in the marker but its files are missing" in out


# -- item 2: the lock, and what a killed load leaves


def test_a_second_load_waits_for_the_first_and_neither_is_lost(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    load_into([CUR], ds)
    done: list[object] = []
    with billing_dataset.locked(ds):  # a load in progress
        worker = threading.Thread(target=lambda: done.append(load_into([DATA / "cur2_small.csv"], ds)))
        worker.start()
        time.sleep(1.0)
        assert not done  # waiting for the lock, not writing beside the load that holds it
    worker.join(60)
    assert done
    with load(ds) as bill:
        assert len(bill.periods()) == 2


def test_a_load_that_cannot_get_the_lock_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = tmp_path / "ds"
    load_into([CUR], ds)
    before = snapshot(ds)
    monkeypatch.setattr(billing_dataset, "LOCK_TIMEOUT_S", 0.3)
    with billing_dataset.locked(ds), pytest.raises(InputError) as err:
        load_into([DATA / "cur2_small.csv"], ds)
    assert err.value.render().startswith(f"{ds}: another load into this dataset is still running after 0 s")
    assert snapshot(ds) == before


def test_the_dataset_retired_by_a_swap_killed_midway_is_put_back_on_open_and_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = tmp_path / "ds"
    load_into([CUR, DATA / "cur2_small.csv"], ds)
    before = snapshot(ds)
    # What SIGKILL between the swap's two renames leaves: no dataset, the old one retired, the new one and
    # the load's scratch directory beside it (tests/test_billing_crash.py makes this state for real).
    ds.rename(tmp_path / ".ds.old-1a2b3c4d")
    (tmp_path / ".ds.loading-xyz").mkdir()
    (tmp_path / ".ds.work-xyz" / "staged").mkdir(parents=True)
    with load(ds) as bill:
        assert len(bill.periods()) == 2
    assert snapshot(ds) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")] == [".ds.lock"]
    ds.rename(tmp_path / ".ds.old-1a2b3c4d")
    code, out = summary(capsys, "--dataset", str(ds), "--by", "ChargeCategory")
    assert code == 0, out
    ds.rename(tmp_path / ".ds.old-1a2b3c4d")
    load_into([CUR], ds)  # the next load puts it back first, then replaces the month it loads
    with load(ds) as bill:
        assert len(bill.periods()) == 2
        assert bill.total("BilledCost") == loaded_total(DATA / "cur2_small.csv", tmp_path / "c2") + TOTAL
    # A kill after the swap, while the retired dataset was being removed: the next load removes the rest.
    shutil.copytree(ds, tmp_path / ".ds.old-5e6f7a8b")
    load_into([CUR], ds)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")] == [".ds.lock"]
