"""The canonical billing table: FOCUS 1.0's 43 columns plus the `x_` AWS columns a FinOps engineer needs.

Every reader projects its format onto exactly these columns, in this order, with these DuckDB types, so one
dataset can hold bills of any format and every analysis is written once.
"""

from __future__ import annotations

# Money and quantities: the file's decimal strings are cast, never passed through float, so totals tie out
# to the last decimal the file carries. 18 places hold scientific-notation costs such as 1.81E-8 exactly;
# 20 integer digits are far beyond any bill. A materialized bill stores the cost columns narrower when every
# value fits exactly (table.py).
MONEY = "DECIMAL(38,18)"
TIMESTAMP = "TIMESTAMP"  # UTC, naive: every source is UTC (FOCUS requires it; CUR and DBR are UTC)
TEXT = "VARCHAR"
TAGS = "MAP(VARCHAR, VARCHAR)"

FOCUS_COLUMNS: dict[str, str] = {
    "AvailabilityZone": TEXT,
    "BilledCost": MONEY,
    "BillingAccountId": TEXT,
    "BillingAccountName": TEXT,
    "BillingCurrency": TEXT,
    "BillingPeriodEnd": TIMESTAMP,
    "BillingPeriodStart": TIMESTAMP,
    "ChargeCategory": TEXT,
    "ChargeClass": TEXT,
    "ChargeDescription": TEXT,
    "ChargeFrequency": TEXT,
    "ChargePeriodEnd": TIMESTAMP,
    "ChargePeriodStart": TIMESTAMP,
    "CommitmentDiscountCategory": TEXT,
    "CommitmentDiscountId": TEXT,
    "CommitmentDiscountName": TEXT,
    "CommitmentDiscountStatus": TEXT,
    "CommitmentDiscountType": TEXT,
    "ConsumedQuantity": MONEY,
    "ConsumedUnit": TEXT,
    "ContractedCost": MONEY,
    "ContractedUnitPrice": MONEY,
    "EffectiveCost": MONEY,
    "InvoiceIssuerName": TEXT,
    "ListCost": MONEY,
    "ListUnitPrice": MONEY,
    "PricingCategory": TEXT,
    "PricingQuantity": MONEY,
    "PricingUnit": TEXT,
    "ProviderName": TEXT,
    "PublisherName": TEXT,
    "RegionId": TEXT,
    "RegionName": TEXT,
    "ResourceId": TEXT,
    "ResourceName": TEXT,
    "ResourceType": TEXT,
    "ServiceCategory": TEXT,
    "ServiceName": TEXT,
    "SkuId": TEXT,
    "SkuPriceId": TEXT,
    "SubAccountId": TEXT,
    "SubAccountName": TEXT,
    "Tags": TAGS,
}

X_COLUMNS: dict[str, str] = {
    "x_BillingPeriod": TEXT,  # 'YYYY-MM' of BillingPeriodStart; the dataset's partition key
    "x_PayerAccountId": TEXT,
    "x_LineItemType": TEXT,  # CUR's line item type (DBR: RecordType); FOCUS exports keep theirs if present
    "x_ProductCode": TEXT,
    "x_UsageType": TEXT,
    "x_Operation": TEXT,
    "x_InstanceType": TEXT,
    "x_OperatingSystem": TEXT,
    "x_Engine": TEXT,
    "x_SourceFormat": TEXT,  # cur, cur2, focus, dbr
    "x_SourceFile": TEXT,
    # Source columns no reader knows, kept as text rather than dropped (the issue: "extra columns are kept").
    "x_Extra": TAGS,
}

CANONICAL: dict[str, str] = {**FOCUS_COLUMNS, **X_COLUMNS}
COLUMN_NAMES: tuple[str, ...] = tuple(CANONICAL)
MONEY_COLUMNS: tuple[str, ...] = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
METRICS = MONEY_COLUMNS

assert len(FOCUS_COLUMNS) == 43


def canonical_create_sql(table: str) -> str:
    cols = ",\n  ".join(f'"{name}" {typ}' for name, typ in CANONICAL.items())
    return f'CREATE TABLE "{table}" (\n  {cols}\n)'
