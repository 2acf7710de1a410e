"""`billing load` of a gzip CSV inflated by ISA-L through a pipe (billing/inflate.py) reads exactly what
DuckDB's own gzip reads: the same rows and totals, the same errors with the same line numbers, and a scan
that stops early (a ragged row near the top of a large file) neither hangs nor leaves its pipe behind."""

from __future__ import annotations

import csv
import gzip
import io
import threading
from pathlib import Path

import pytest

from awscost.billing import inflate, load, load_into
from awscost.core.errors import InputError

pytest.importorskip("isal", reason="the isal package (the billing extra) inflates gzip beside the parse")

DATA = Path(__file__).parent / "data" / "billing"


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def _gzip(path: Path, rows: list[list[str]], newline: str = "\n") -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    path.write_bytes(gzip.compress(out.getvalue().encode()))
    return path


def _load(path: Path, into: Path, engine: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, str]:
    monkeypatch.setenv("AWSCOST_INFLATE", engine)
    try:
        marker = load_into([path], into)
    except InputError as exc:
        return {}, exc.render()
    with load(into) as bill:
        total = str(bill.total("BilledCost"))
    periods = {p: (i["rows"], i["BilledCost"]) for p, i in marker["periods"].items()}
    return periods, total


def _large(tmp_path: Path, copies: int = 4000) -> list[list[str]]:
    """cur_small.csv's lines repeated with fresh ids: several MB inflated, more than a pipe's buffer."""
    header, *body = _rows(DATA / "cur_small.csv")
    ident = header.index("identity/LineItemId")
    rows = [header]
    for n in range(copies):
        for row in body:
            out = list(row)
            out[ident] = f"{row[ident]}-{n}"
            rows.append(out)
    return rows


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_pipe_and_duckdb_gzip_load_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newline: str
) -> None:
    path = _gzip(tmp_path / "cur.csv.gz", _large(tmp_path, 300), newline)
    assert inflate.is_gzip(path) and inflate.available()
    piped = _load(path, tmp_path / "piped", "isal", monkeypatch)
    own = _load(path, tmp_path / "own", "duckdb", monkeypatch)
    assert piped == own
    plain = tmp_path / "cur.csv"
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    assert piped == _load(plain, tmp_path / "plain", "isal", monkeypatch)
    assert sum(rows for rows, _ in piped[0].values()) > 300 * 9


@pytest.mark.parametrize("where", ["top", "bottom"])
def test_ragged_row_is_the_same_error_and_nothing_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    rows = _large(tmp_path)
    at = 3 if where == "top" else len(rows) - 2
    rows[at] = rows[at][:-2]  # two fields short: the scan must stop there
    path = _gzip(tmp_path / "ragged.csv.gz", rows)
    before = {t.name for t in threading.enumerate()}
    piped = _load(path, tmp_path / "piped", "isal", monkeypatch)
    own = _load(path, tmp_path / "own", "duckdb", monkeypatch)
    assert piped == own
    assert f"line {at + 1}: " in piped[1] and "ragged row" in piped[1], piped[1]
    assert str(path) in piped[1]
    assert {t.name for t in threading.enumerate()} - before == set()  # the feeder has finished
    assert not (tmp_path / "piped").exists()


def test_corrupt_gzip_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(_large(tmp_path, 200))
    data = gzip.compress(out.getvalue().encode())
    path = tmp_path / "bad.csv.gz"
    # The header inflates; the damage is further on, where only the scan's inflate meets it.
    cut = len(data) // 2
    path.write_bytes(data[:cut] + bytes(b ^ 0x5A for b in data[cut : cut + 64]) + data[cut + 64 :])
    monkeypatch.setenv("AWSCOST_INFLATE", "isal")
    with pytest.raises(InputError) as err:
        load_into([path], tmp_path / "ds")
    assert "truncated or corrupt gzip data" in err.value.render()
    assert not (tmp_path / "ds").exists()


def test_inflated_pipe_is_removed_when_the_reader_never_opens_it(tmp_path: Path) -> None:
    path = _gzip(tmp_path / "cur.csv.gz", _large(tmp_path, 200))
    with inflate.inflated(path) as fifo:
        pass  # nobody reads: the feeder is unblocked and drained on exit
    assert not fifo.exists() and not fifo.parent.exists()
    with inflate.inflated(path) as fifo, open(fifo, "rb") as fh:
        assert fh.read(16) == (DATA / "cur_small.csv").read_bytes()[:16]  # then stops reading early
    assert not fifo.parent.exists()


def test_gzip_corrupt_at_its_header_row_is_an_input_error(tmp_path: Path) -> None:
    data = gzip.compress((DATA / "cur_small.csv").read_bytes())
    path = tmp_path / "bad-head.csv.gz"
    path.write_bytes(data[:10] + bytes(b ^ 0x5A for b in data[10:40]) + data[40:])
    with pytest.raises(InputError) as err:
        load_into([path], tmp_path / "ds")
    assert str(path) in err.value.render() and "unreadable file" in err.value.render()
