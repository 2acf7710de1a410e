"""Property: `awscost usage import` of any JSON lines file, good records mixed with malformed ones (truncated,
not an object, a negative or non-number count, an unknown kind, a bad time, nesting 100,000 deep, garbage),
exits 0 having written exactly the good records, or 2 with one line naming the file and the first bad line,
having written nothing (the store is not even created); never a traceback."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awscost.entrypoints.cli import main
from awscost.store import open_store
from awscost.usage.kinds import CATALOG

KINDS = [s.name for s in CATALOG]
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=16)
accounts = st.one_of(st.from_regex(r"\A[0-9]{12}\Z"), st.sampled_from(["acme", "org"]))
regions = st.sampled_from(["us-east-1", "eu-west-1", "global"])
times = st.datetimes(
    datetime(1000, 1, 2), datetime(2026, 11, 30)
)  # up to a past hour: a later one is refused
hours = st.one_of(
    times.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:00Z")),  # floored to the hour
    times.map(lambda d: d.strftime("%Y%m%d-%H")),  # the original's, US/Pacific
)
counts = st.one_of(st.integers(0, 10**12), st.floats(0, 1e12, allow_nan=False))
records = st.builds(
    lambda kind, account, region, time, usage, attrs: {
        "awsResource": f"{kind}:{account}:{region}",
        "time": time,
        "usage": usage,
        **attrs,
    },
    st.sampled_from(KINDS),
    accounts,
    regions,
    hours,
    st.dictionaries(text.filter(bool), counts, max_size=4),
    st.dictionaries(
        st.sampled_from(["note", "accounts"]), st.one_of(text, st.lists(text, max_size=2)), max_size=1
    ),
)


def _bad(record: dict[str, Any], how: str, number: int, extra: Any) -> str:
    """One line that cannot be imported, made from a good record."""
    if how == "truncated":
        line = json.dumps(record)
        return line[: max(1, min(len(line) - 1, number % len(line)))]
    if how == "negative":
        return json.dumps({**record, "usage": {"k": -abs(number) - 1}})
    if how == "string count":
        return json.dumps({**record, "usage": {"k": str(extra)}})
    if how == "NaN":
        return json.dumps({**record, "usage": {"k": float("nan")}})
    if how == "unknown kind":
        return json.dumps(
            {**record, "awsResource": "bogus" + record["awsResource"][record["awsResource"].index(":") :]}
        )
    if how == "bad time":
        return json.dumps({**record, "time": "yesterday"})
    if how == "before year 1":
        return json.dumps({**record, "time": "0001-01-01T00:30:00+01:00"})
    if how == "not an object":
        return json.dumps(extra)
    if how == "deep":
        n = (1000, 5000, 100_000)[number % 3]
        return '{"a":' * n + "1" + "}" * n
    if how == "deep attribute":
        return json.dumps(record)[:-1] + ', "x": ' + "[" * 990 + "]" * 990 + "}"
    assert how == "garbage"
    return "x" + str(extra)


bad_lines = st.builds(
    _bad,
    records,
    st.sampled_from(
        [
            "truncated",
            "negative",
            "string count",
            "NaN",
            "unknown kind",
            "bad time",
            "before year 1",
            "not an object",
            "deep",
            "deep attribute",
            "garbage",
        ]
    ),
    st.integers(0, 10**6),
    st.one_of(st.integers(-(10**6), 10**6), text, st.none(), st.booleans()),
)
# Each line: a good record, a bad one (marked), or blank.
lines = st.lists(
    st.one_of(
        records.map(lambda r: (json.dumps(r), r)),
        bad_lines.map(lambda line: (line, None)),
        st.sampled_from(["", "   "]).map(lambda b: (b, "blank")),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(lines=lines)
def test_usage_import_writes_every_good_record_or_nothing_and_names_the_line(
    lines: list[tuple[str, Any]],
) -> None:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("".join(line + "\n" for line, _ in lines), encoding="utf-8")
        db = Path(tmp) / "a.db"
        out, err, code = io.StringIO(), io.StringIO(), 0
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(
                    ["usage", "import", str(path), "--store", f"sqlite:///{db}"]
                )  # anything else: a traceback
            except SystemExit as exc:
                code = int(exc.code or 0)
        first_bad = next((n for n, (_, r) in enumerate(lines, 1) if r is None), None)
        if first_bad is None:
            assert code == 0, err.getvalue()
            keys = {(r["awsResource"], r["time"]) for _, r in lines if isinstance(r, dict)}
            if not keys:
                return
            with open_store(f"sqlite:///{db}") as store:
                assert len(list(store.query())) <= len(keys)  # two original-format times may meet in one hour
                assert {i.aws_resource for i in store.query()} == {k[0] for k in keys}
            return
        assert code == 2, (out.getvalue(), err.getvalue())
        [line] = err.getvalue().strip().splitlines()
        assert re.match(rf"awscost: error: {re.escape(str(path))}:{first_bad}(?!\d)", line), (first_bad, line)
        assert not db.exists()
