"""FOCUS 1.0 / 1.1 / 1.2 exports (CSV or parquet), from AWS (with `x_` columns) or any other provider.

Real exports write NULL as an empty field or the literal `NULL`/`null`, timestamps with or without `T`/`Z`,
quoted decimals and scientific notation, and Tags as a JSON object text. Columns of later FOCUS versions and
provider `x_` columns are kept in `x_Extra`.
"""

from __future__ import annotations

from awscost.billing.readers._sql import Cols, json_map, lit, month_of, quote
from awscost.billing.readers.base import Projection, Reader
from awscost.billing.schema import FOCUS_COLUMNS, MONEY, TAGS, TEXT, TIMESTAMP

# Provider columns that map onto canonical x_ columns (AWS's FOCUS export names first).
X_MAP = {
    "x_UsageType": ("x_UsageType",),
    "x_Operation": ("x_Operation",),
    "x_ProductCode": ("x_ServiceCode",),
    "x_LineItemType": ("x_LineItemType",),
    "x_InstanceType": ("x_InstanceType",),
    "x_PayerAccountId": (),
    "x_OperatingSystem": ("x_OperatingSystem",),
    "x_Engine": ("x_Engine",),
}
MAPPED_X = {src for sources in X_MAP.values() for src in sources}


class FocusReader(Reader):
    name = "focus"
    required = ("BilledCost", "ChargePeriodStart")
    null_strings = ("", "NULL", "null")

    def detect(self, columns: list[str]) -> bool:
        markers = {"BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargeCategory", "BillingPeriodStart"}
        return len(markers.intersection(columns)) >= 2

    def known(self, column: str) -> bool:
        return column in FOCUS_COLUMNS or column in MAPPED_X

    def project(self, cols: Cols, *, source_file: str, period_hint: str | None = None) -> Projection:
        exprs: dict[str, str] = {}
        for column, typ in FOCUS_COLUMNS.items():
            if typ == MONEY:
                exprs[column] = cols.n(column)
            elif typ == TIMESTAMP:
                exprs[column] = cols.t(column)
            elif typ == TEXT:
                exprs[column] = cols.s(column)
        if not cols.has("EffectiveCost"):
            # Partial exports (the spec's worked examples) may carry BilledCost only; with no commitment data
            # the amortized cost is the billed cost.
            exprs["EffectiveCost"] = exprs["BilledCost"]
        if cols.has("Tags"):
            typ = cols.types["Tags"]
            exprs["Tags"] = (
                f"CAST({quote('Tags')} AS {TAGS})" if typ.startswith("MAP") else json_map(quote("Tags"))
            )
        else:
            exprs["Tags"] = f"NULL::{TAGS}"
        start = exprs["BillingPeriodStart"]
        if start.startswith("NULL::"):
            start = f"date_trunc('month', {exprs['ChargePeriodStart']})"
            exprs["BillingPeriodStart"] = start
        exprs["x_BillingPeriod"] = month_of(start)
        for target, sources in X_MAP.items():
            exprs[target] = cols.coalesce(*(cols.s(s) for s in sources)) if sources else "NULL::VARCHAR"
        exprs["x_PayerAccountId"] = (
            f"CASE WHEN {exprs['ProviderName']} = 'AWS' THEN {exprs['BillingAccountId']} ELSE NULL END"
            if cols.has("ProviderName")
            else "NULL::VARCHAR"
        )
        exprs["x_SourceFormat"] = lit(self.name)
        exprs["x_SourceFile"] = lit(source_file)
        exprs["x_Extra"] = self.extras(cols)
        return Projection(exprs, numeric=cols.numeric, timestamps=cols.timestamps, pre=cols.pre)
