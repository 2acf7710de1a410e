"""Property: whatever an awscost.toml holds (TOML or not, UTF-8 or not, known keys with any values, unknown ones,
keys outside a table) and whatever the AWSCOST_* variables say, loading the settings gives Settings or one
ConfigError naming the file or the variable, never another exception; and Settings that load hold only values a
collection can use."""

from __future__ import annotations

import json
import re
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awscost.core.config import ACCOUNT_ID, ENV_KEYS, REGION, Settings, load_settings
from awscost.core.errors import ConfigError
from awscost.reports.budgets import ENTRY_KEYS, TABLE_KEYS, budget_settings
from awscost.reports.config import AUDIENCE_KEYS, REPORT_KEYS, report_settings

KEYS = [
    *(f for f in Settings.__dataclass_fields__ if f not in ("config_path", "raw")),
    "names",
    "service_label",
    *REPORT_KEYS,  # [report] and its audiences, parsed by awscost.reports.config
    *AUDIENCE_KEYS,
    *TABLE_KEYS,  # [budgets] and its entries, parsed by awscost.reports.budgets
    *ENTRY_KEYS,
]
TABLES = [
    "awscost",
    "accounts",
    "accounts.names",
    "containers",
    "report",
    "awscots",
    "pricing",
    "budgets",
    'budgets.account."111122223333"',
    "budgets.audience.managers",
]
SAMPLES = ["self", "organizations", "111122223333", "us-east-1", "a:b", "", ",", "sqlite:///x.db", "mars-1"]

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12)
strings = st.one_of(st.sampled_from(SAMPLES), text)
scalar = st.one_of(
    strings.map(json.dumps),  # a TOML basic string (JSON's escapes are TOML's, mostly)
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True).map(lambda f: str(f).lower()),
    st.sampled_from(["true", "false", "1979-05-27T07:32:00Z", "'lit:eral'"]),
)
value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda v: "[" + ", ".join(v) + "]"),
        st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}"
        ),
    ),
    max_leaves=6,
)
deep = st.integers(10, 100_000).map(lambda n: "[" * n + "]" * n)
line = st.one_of(
    st.sampled_from(TABLES).map(lambda t: f"[{t}]"),
    st.sampled_from(TABLES).map(lambda t: f"[[{t}]]"),
    st.tuples(st.one_of(st.sampled_from(KEYS), st.sampled_from(['"111122223333"', "namez"])), value).map(
        lambda kv: f"{kv[0]} = {kv[1]}"
    ),
    st.sampled_from(KEYS).map(lambda k: f"{k} = ") | deep.map(lambda d: f"regions = {d}"),
    text,
)


def toml(v: object) -> str:
    """A Python value as TOML (json's escapes are TOML's for what `text` draws)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else {float("inf"): "inf", float("-inf"): "-inf"}.get(v, repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml(x) for x in v) + "]"
    assert isinstance(v, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml(x)}" for k, x in v.items()) + "}"


py_value = st.recursive(
    st.one_of(strings, st.integers(-(2**63), 2**63 - 1), st.floats(), st.booleans()),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=6,
)
table_keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(["111122223333", "namez", "service_lable"]))
documents = st.tuples(
    st.dictionaries(table_keys, py_value, max_size=2),  # keys above every table
    st.dictionaries(st.sampled_from(TABLES), st.dictionaries(table_keys, py_value, max_size=5), max_size=4),
).map(
    lambda d: "\n".join(
        [f"{json.dumps(k)} = {toml(v)}" for k, v in d[0].items()]
        + [
            f"[{t}]\n" + "\n".join(f"{json.dumps(k)} = {toml(v)}" for k, v in kv.items())
            for t, kv in d[1].items()
        ]
    ).encode("utf-8")
)
files = st.one_of(
    documents,
    st.lists(line, max_size=10).map(lambda ls: "\n".join(ls).encode("utf-8")),
    st.tuples(st.lists(line, max_size=6), st.binary(max_size=8)).map(
        lambda t: ("\n".join(t[0]) + "\n").encode("utf-8") + t[1]  # a tail that may not be UTF-8
    ),
)
environments = st.dictionaries(
    st.sampled_from(sorted(ENV_KEYS)), st.one_of(st.sampled_from(SAMPLES), text), max_size=3
)


def _usable(s: Settings) -> None:
    assert s.accounts in ("self", "organizations") or (
        isinstance(s.accounts, tuple) and s.accounts and all(ACCOUNT_ID.match(a) for a in s.accounts)
    )
    assert s.org_name and ":" not in s.org_name
    assert all(REGION.match(r) for r in s.regions)
    assert isinstance(s.store, str) and s.store and 1 <= s.max_workers <= 256
    assert all(ACCOUNT_ID.match(a) for a in s.account_names)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=files, env=environments)
def test_any_file_and_environment_load_or_fail_in_one_line(body: bytes, env: dict[str, str]) -> None:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "awscost.toml"
        path.write_bytes(body)
        try:
            loaded = load_settings(path, env=env)
        except ConfigError as exc:
            rendered = exc.render()
            assert "\n" not in rendered.strip() or "not valid TOML" in rendered
            assert re.match(rf"^({re.escape(str(path))}|environment)", rendered), rendered
            return
        _usable(loaded)
        for parse in (report_settings, budget_settings):
            try:
                parse(loaded)
            except ConfigError as exc:
                assert exc.render().startswith(str(path)), exc.render()
