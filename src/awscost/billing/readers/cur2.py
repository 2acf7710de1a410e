"""CUR 2.0 (Data Exports): parquet or gzip CSV, snake_case columns, map columns `resource_tags`, `product`,
`cost_category`, `discount` (JSON text in CSV). Projected with the same rules as the legacy CUR.

The legacy CUR's own parquet export (Athena layout: the same snake_case names, tags flattened into
`resource_tags_user_<key>` columns) is read by this reader too."""

from __future__ import annotations

import re

from awscost.billing.readers._sql import Cols, json_map, lit, quote, tag_map
from awscost.billing.readers.base import Projection, Reader
from awscost.billing.readers.cur_legacy import cur_projection
from awscost.billing.schema import TAGS

SECTIONS = {
    "identity": "identity",
    "bill": "bill",
    "lineItem": "line_item",
    "pricing": "pricing",
    "reservation": "reservation",
    "savingsPlan": "savings_plan",
    "product": "product",
}
PREFIXES = (
    "identity_",
    "bill_",
    "line_item_",
    "pricing_",
    "reservation_",
    "savings_plan_",
    "product_",
    "split_line_item_",
)
MAP_COLUMNS = ("resource_tags", "product", "cost_category", "discount")


def snake(legacy: str) -> str:
    """`savingsPlan/SavingsPlanARN` -> `savings_plan_savings_plan_a_r_n` (the CUR 2.0 / Athena naming)."""
    section, _, attr = legacy.partition("/")
    attr_snake = re.sub(r"(?<!^)([A-Z])", r"_\1", attr).lower()
    return f"{SECTIONS.get(section, section)}_{attr_snake}"


class Cur2Reader(Reader):
    name = "cur2"
    required = ("line_item_usage_start_date", "line_item_unblended_cost", "line_item_line_item_type")

    def detect(self, columns: list[str]) -> bool:
        return any(c.startswith("line_item_") for c in columns)

    def known(self, column: str) -> bool:
        return column.startswith((*PREFIXES, "resource_tags_", "cost_category_")) or column in MAP_COLUMNS

    def _tags(self, cols: Cols) -> str:
        if cols.has("resource_tags"):
            return self._map(cols, "resource_tags")
        # The legacy CUR's parquet/Athena export flattens tags into `resource_tags_user_<key>` columns.
        return tag_map(
            (c.removeprefix("resource_tags_"), cols.s(c))
            for c in cols.types
            if c.startswith("resource_tags_")
        )

    def _map(self, cols: Cols, column: str) -> str:
        if not cols.has(column):
            return f"NULL::{TAGS}"
        if cols.types[column].startswith("MAP"):
            return f"CAST({quote(column)} AS {TAGS})"
        return json_map(quote(column))

    def project(self, cols: Cols, *, source_file: str, period_hint: str | None = None) -> Projection:
        product_map = self._map(cols, "product")

        def product(attr: str) -> str:
            key = snake(f"product/{attr}").removeprefix("product_")
            fixed = cols.s(f"product_{key}")
            from_map = f"NULLIF({product_map}[{lit(key)}], '')" if cols.has("product") else "NULL::VARCHAR"
            return cols.coalesce(fixed, from_map)

        extras = self.extras(cols)
        if cols.has("cost_category"):
            extras = (
                f"map_concat(COALESCE({extras}, MAP()::{TAGS}), "
                f"COALESCE(map_from_entries(list_transform(map_entries({self._map(cols, 'cost_category')}), "
                f"lambda e: struct_pack(k := 'cost_category:' || e.key, v := e.value))), MAP()::{TAGS}))"
            )
        return cur_projection(
            cols,
            snake,
            product,
            self._tags(cols),
            extras,
            fmt=self.name,
            source_file=source_file,
        )
