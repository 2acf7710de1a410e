"""A gzip bill corrupt at its header row: an InputError naming the file, not a zlib traceback."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from awscost.billing import load_into
from awscost.core.errors import InputError

DATA = Path(__file__).parent / "data" / "billing"


def test_gzip_corrupt_at_its_header_row_is_an_input_error(tmp_path: Path) -> None:
    data = gzip.compress((DATA / "cur_small.csv").read_bytes())
    path = tmp_path / "bad-head.csv.gz"
    path.write_bytes(data[:10] + bytes(b ^ 0x5A for b in data[10:40]) + data[40:])
    with pytest.raises(InputError) as err:
        load_into([path], tmp_path / "ds")
    assert str(path) in err.value.render() and "unreadable file" in err.value.render()
