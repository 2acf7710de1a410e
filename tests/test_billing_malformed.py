"""Property tests (issue 11): every billing reader over malformed files. A load into a dataset and a one-shot
query either succeed or raise an InputError of one line naming the file (and the line, for a row with
fewer fields than the header); never another exception; a failed load writes nothing into the dataset and
leaves nothing beside it."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awscost.billing import load, load_into
from awscost.billing.readers import READERS
from awscost.core.errors import InputError

DATA = Path(__file__).parent / "data" / "billing"
FOCUS = (
    "BillingAccountId,SubAccountId,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,"
    "BilledCost,EffectiveCost,BillingCurrency,ProviderName,ServiceName\n"
    "999999999999,222222222222,2031-01-01T00:00:00Z,2031-01-05T00:00:00Z,2031-01-05T00:59:59Z,Usage,1.25,"
    "1.25,USD,AWS,Amazon Elastic Compute Cloud\n"
    "999999999999,222222222222,2031-01-01T00:00:00Z,2031-01-05T01:00:00Z,2031-01-05T01:59:59Z,Usage,2.5,"
    "2.5,USD,AWS,Amazon Elastic Compute Cloud\n"
)
# One small good file per reader, named as its format is delivered (a DBR's period is in its name).
SAMPLES = {
    "cur": ("cur.csv", (DATA / "cur_small.csv").read_bytes()),
    "cur2": ("cur2.csv", (DATA / "cur2_small.csv").read_bytes()),
    "focus": ("focus.csv", FOCUS.encode()),
    "dbr": (
        "111111111111-aws-billing-detailed-line-items-with-resources-and-tags-2017-01.csv",
        (DATA / "dbr_small.csv").read_bytes(),
    ),
}
BASE = (
    "BillingAccountId,BillingPeriodStart,ChargePeriodStart,ChargeCategory,BilledCost\n"
    "555555555555,2030-06-01T00:00:00Z,2030-06-02T00:00:00Z,Usage,3.5\n"
)  # the dataset's month before each load: no format or month in common with the samples


def test_every_reader_has_a_sample() -> None:
    assert set(SAMPLES) == set(READERS)


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def to_bytes(rows: list[list[str]], newline: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue().encode("utf-8")


# A row edit (row index >= 1, so the header stays): a field replaced by any text, a field dropped (a short
# row), a field added.
row_edit = st.tuples(
    st.sampled_from(["set", "drop", "add"]),
    st.integers(min_value=1, max_value=20),
    st.integers(min_value=0, max_value=80),
    st.one_of(st.text(max_size=12), st.from_regex(r"-?\d{1,30}(\.\d{0,20})?", fullmatch=True)),
)
# A byte edit after the CSV is written: cut at a position, or bytes inserted there.
byte_edit = st.tuples(st.sampled_from(["cut", "insert"]), st.floats(0, 1), st.binary(min_size=1, max_size=6))


def mutate(
    data: bytes, edits: list[tuple[str, int, int, str]], newline: str, bytes_edit: tuple | None, gz: bool
) -> tuple[bytes, int | None]:
    """The sample after the edits, and the 1-based line of a short row when that is the only flaw."""
    rows = rows_of(data)
    short_line = None
    for op, i, j, value in edits:
        i = 1 + (i - 1) % (len(rows) - 1)
        row = rows[i]
        j %= len(row)
        if op == "set":
            row[j] = value
        elif op == "drop":
            del row[j]
            short_line = i + 1
        else:
            row.insert(j, value)
    out = to_bytes(rows, newline)
    if bytes_edit is not None:
        kind, where, payload = bytes_edit
        at = int(where * len(out))
        out = out[:at] if kind == "cut" else out[:at] + payload + out[at:]
    only_a_short_row = len(edits) == 1 and edits[0][0] == "drop" and bytes_edit is None
    if gz:
        out = gzip.compress(out)
    return out, short_line if only_a_short_row else None


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def check(reader: str, edits: list, newline: str, bytes_edit: tuple | None, gz: bool) -> None:
    name, data = SAMPLES[reader]
    payload, short_line = mutate(data, edits, newline, bytes_edit, gz)
    with TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "base.csv").write_text(BASE, encoding="utf-8")
        ds = root / "ds"
        load_into([root / "base.csv"], ds)
        before = snapshot(ds)
        path = root / (name + (".gz" if gz else ""))
        path.write_bytes(payload)
        errors: list[InputError] = []
        try:
            with load(path, materialize=False) as bill:
                bill.total("BilledCost")
                bill.summary(by=["ChargeCategory"], metric="BilledCost").to_pandas()
        except InputError as exc:
            errors.append(exc)
        try:
            load_into([path], ds)
        except InputError as exc:
            errors.append(exc)
            assert snapshot(ds) == before  # nothing written
        leftovers = [p.name for p in root.iterdir() if p.name.startswith(".ds.")]
        assert leftovers == [".ds.lock"]
        for exc in errors:
            text = exc.render()
            assert "\n" not in text and text.startswith(f"{path}: "), text
            if short_line is not None:
                assert f"line {short_line}: " in text, text
        if short_line is not None:
            assert len(errors) == 2  # a short row is refused by both paths
        shutil.rmtree(ds)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reader=st.sampled_from(sorted(SAMPLES)),
    edits=st.lists(row_edit, min_size=0, max_size=3),
    newline=st.sampled_from(["\n", "\r\n"]),
    bytes_edit=st.none() | byte_edit,
    gz=st.booleans(),
)
def test_a_malformed_bill_is_read_or_refused_naming_the_file(  # type: ignore[no-untyped-def]
    reader, edits, newline, bytes_edit, gz
) -> None:
    check(reader, edits, newline, bytes_edit, gz)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reader=st.sampled_from(sorted(SAMPLES)),
    row=st.integers(min_value=1, max_value=20),
    field=st.integers(min_value=0, max_value=80),
    newline=st.sampled_from(["\n", "\r\n"]),
    gz=st.booleans(),
)
def test_a_short_row_is_refused_naming_file_and_line_in_both_paths(  # type: ignore[no-untyped-def]
    reader, row, field, newline, gz
) -> None:
    check(reader, [("drop", row, field, "")], newline, None, gz)
