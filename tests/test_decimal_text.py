"""Money in JSON is fixed-point text: never an exponent ("9E+2", "0E-4"), which a reader of the report's JSON
or a spreadsheet would take for a formula or misparse."""

from __future__ import annotations

import json
from decimal import Decimal

from awscost.billing.cube import _plain
from awscost.core.output import dumps


def test_a_sum_without_its_scale_keeps_fixed_point() -> None:
    # DuckDB sums DECIMAL(38,18): 900.000000000000000000 must read "900", not Decimal.normalize()'s 9E+2
    assert str(_plain(Decimal("900.000000000000000000"))) == "900"
    assert str(_plain(Decimal("1.682309000000000000"))) == "1.682309"
    assert str(_plain(Decimal("0E-18"))) == "0"
    assert str(_plain(None)) == "0"


def test_json_writes_any_decimal_without_an_exponent() -> None:
    text = dumps({"a": Decimal("9E+2"), "b": Decimal("0E-4"), "c": Decimal("-1.50"), "d": Decimal("1E-7")})
    assert json.loads(text) == {"a": "900", "b": "0.0000", "c": "-1.50", "d": "0.0000001"}
