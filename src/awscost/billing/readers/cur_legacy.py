"""Legacy Cost and Usage Report (CUR): CSV / gzip / zip with slash-named columns (`lineItem/UnblendedCost`).

The mapping to FOCUS follows the FinOps Foundation's published conversion rules (focus_converters,
conversion_rules/aws-cur): BilledCost = net unblended else unblended cost; EffectiveCost amortized:
DiscountedUsage -> reservation effective cost, SavingsPlanCoveredUsage -> Savings Plan effective cost,
RIFee -> only its unused part, SavingsPlanRecurringFee -> only the unused commitment,
SavingsPlanNegation and upfront fees -> 0. So the sum of EffectiveCost is the amortized bill with nothing
counted twice, and the sum of BilledCost is the invoice.
"""

from __future__ import annotations

from collections.abc import Callable

from awscost.billing.readers._sql import Cols, lit, month_of, resource_type, service_category, tag_map
from awscost.billing.readers.base import Projection, Reader

CUR_SECTIONS = (
    "identity/",
    "bill/",
    "lineItem/",
    "pricing/",
    "reservation/",
    "savingsPlan/",
    "product/",
    "resourceTags/",
    "costCategory/",
    "discount/",
    "splitLineItem/",
)

CHARGE_CATEGORY = {
    "Usage": "Usage",
    "DiscountedUsage": "Usage",
    "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Usage",
    "BundledDiscount": "Usage",
    "Discount": "Usage",
    "PrivateRateDiscount": "Usage",
    "EdpDiscount": "Usage",
    "Tax": "Tax",
    "Fee": "Purchase",
    "RIFee": "Purchase",
    "SavingsPlanUpfrontFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase",
    "Credit": "Credit",
    "Refund": "Adjustment",
}
# FOCUS 1.0 has the `Credit` category; the converter rules (written for 1.0-preview) put credits under
# Adjustment. Credits are their own category here so `credits_refunds_tax` can tell them apart.


def charge_category(lit_expr: str) -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in CHARGE_CATEGORY.items())
    return f"CASE {lit_expr} {whens} ELSE NULL END"


def cur_projection(
    cols: Cols,
    name: Callable[[str], str],
    product: Callable[[str], str],
    tags: str,
    extras: str,
    *,
    fmt: str,
    source_file: str,
) -> Projection:
    """The canonical projection of a CUR; `name` maps a legacy column name to this file's, `product(attr)`
    gives the SQL of a product attribute (legacy camelCase attribute name)."""

    def s(col: str) -> str:
        return cols.s(name(col))

    def n(col: str) -> str:
        return cols.n(name(col))

    def z(col: str) -> str:
        return f"COALESCE({n(col)}, 0)"

    lit_type = s("lineItem/LineItemType")
    unblended = cols.coalesce(n("lineItem/NetUnblendedCost"), n("lineItem/UnblendedCost"))
    sp_arn = s("savingsPlan/SavingsPlanARN")
    ri_arn = s("reservation/ReservationARN")
    usage_start = cols.t(name("lineItem/UsageStartDate"))
    period_start = cols.coalesce(
        cols.t(name("bill/BillingPeriodStartDate")), f"date_trunc('month', {usage_start})"
    )
    period_end = cols.coalesce(
        cols.t(name("bill/BillingPeriodEndDate")), f"date_trunc('month', {usage_start}) + INTERVAL 1 MONTH"
    )
    ri_effective = cols.coalesce(n("reservation/NetEffectiveCost"), n("reservation/EffectiveCost"))
    sp_effective = cols.coalesce(
        n("savingsPlan/NetSavingsPlanEffectiveCost"), n("savingsPlan/SavingsPlanEffectiveCost")
    )
    effective = (
        f"CASE {lit_type} "
        f"WHEN 'SavingsPlanCoveredUsage' THEN COALESCE({sp_effective}, 0) "
        f"WHEN 'SavingsPlanRecurringFee' THEN "
        f"{z('savingsPlan/TotalCommitmentToDate')} - {z('savingsPlan/UsedCommitment')} "
        "WHEN 'SavingsPlanNegation' THEN 0 "
        "WHEN 'SavingsPlanUpfrontFee' THEN 0 "
        f"WHEN 'DiscountedUsage' THEN COALESCE({ri_effective}, 0) "
        f"WHEN 'RIFee' THEN {z('reservation/UnusedAmortizedUpfrontFeeForBillingPeriod')} "
        f"+ {z('reservation/UnusedRecurringFee')} "
        f"ELSE CASE WHEN {lit_type} = 'Fee' AND {ri_arn} IS NOT NULL THEN 0 ELSE "
        f"COALESCE({unblended}, 0) END END"
    )
    category = charge_category(lit_type)
    rate = n("pricing/publicOnDemandRate")
    amount = n("lineItem/UsageAmount")
    list_cost = cols.coalesce(
        n("pricing/publicOnDemandCost"),
        f"CAST(CAST({rate} AS DECIMAL(19,10)) * CAST({amount} AS DECIMAL(19,8)) AS DECIMAL(38,18))"
        if not rate.startswith("NULL::") and not amount.startswith("NULL::")
        else "NULL::DECIMAL(38,18)",
    )
    resource = s("lineItem/ResourceId")
    code = s("lineItem/ProductCode")
    usage_type = s("lineItem/UsageType")
    exprs = {
        "AvailabilityZone": s("lineItem/AvailabilityZone"),
        "BilledCost": f"COALESCE({unblended}, 0)",
        "BillingAccountId": s("bill/PayerAccountId"),
        "BillingAccountName": "NULL::VARCHAR",
        "BillingCurrency": s("lineItem/CurrencyCode"),
        "BillingPeriodEnd": period_end,
        "BillingPeriodStart": period_start,
        "ChargeCategory": category,
        # A CUR line from a refund or a re-billed earlier period is a correction in FOCUS terms.
        "ChargeClass": f"CASE WHEN {s('bill/BillType')} = 'Refund' THEN 'Correction' ELSE NULL END",
        "ChargeDescription": s("lineItem/LineItemDescription"),
        # By line item type, not by bill/BillType as the converter rules do: an Anniversary bill holds usage,
        # recurring and one-time charges alike.
        "ChargeFrequency": (
            f"CASE WHEN {lit_type} IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Recurring' "
            f"WHEN {lit_type} IN ('Fee', 'SavingsPlanUpfrontFee', 'Credit', 'Refund', 'Tax') THEN 'One-Time' "
            "ELSE 'Usage-Based' END"
        ),
        "ChargePeriodEnd": cols.t(name("lineItem/UsageEndDate")),
        "ChargePeriodStart": usage_start,
        "CommitmentDiscountCategory": (
            f"CASE WHEN {sp_arn} IS NOT NULL THEN 'Spend' WHEN {ri_arn} IS NOT NULL THEN 'Usage' "
            "ELSE NULL END"
        ),
        "CommitmentDiscountId": f"COALESCE({sp_arn}, {ri_arn})",
        "CommitmentDiscountName": "NULL::VARCHAR",
        "CommitmentDiscountStatus": (
            f"CASE WHEN {lit_type} IN ('DiscountedUsage', 'SavingsPlanCoveredUsage') THEN 'Used' "
            f"WHEN {lit_type} IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Unused' ELSE NULL END"
        ),
        "CommitmentDiscountType": (
            f"CASE WHEN {sp_arn} IS NOT NULL THEN 'Savings Plan' "
            f"WHEN {ri_arn} IS NOT NULL THEN 'Reserved Instances (RI)' ELSE NULL END"
        ),
        "ConsumedQuantity": f"CASE WHEN {category} = 'Usage' THEN {amount} ELSE NULL END",
        "ConsumedUnit": f"CASE WHEN {category} = 'Usage' THEN {s('pricing/unit')} ELSE NULL END",
        "ContractedCost": f"COALESCE({unblended}, 0)",
        "ContractedUnitPrice": cols.coalesce(n("lineItem/NetUnblendedRate"), n("lineItem/UnblendedRate")),
        "EffectiveCost": effective,
        "InvoiceIssuerName": s("bill/InvoicingEntity"),
        "ListCost": f"COALESCE({list_cost}, 0)",
        "ListUnitPrice": rate,
        "PricingCategory": (
            f"CASE WHEN {lit_type} IN ('DiscountedUsage', 'SavingsPlanCoveredUsage') THEN 'Committed' "
            f"WHEN {usage_type} LIKE '%SpotUsage%' THEN 'Dynamic' "
            f"WHEN {category} = 'Usage' THEN 'Standard' ELSE NULL END"
        ),
        "PricingQuantity": cols.coalesce(n("reservation/TotalReservedUnits"), amount),
        "PricingUnit": s("pricing/unit"),
        "ProviderName": "'AWS'",
        "PublisherName": s("lineItem/LegalEntity"),
        "RegionId": cols.coalesce(product("regionCode"), product("region")),
        "RegionName": product("location"),
        "ResourceId": resource,
        "ResourceName": "NULL::VARCHAR",
        "ResourceType": resource_type(resource),
        "ServiceCategory": service_category(code),
        "ServiceName": cols.coalesce(product("ProductName"), code),
        "SkuId": product("sku"),
        "SkuPriceId": cols.coalesce(s("pricing/RateCode"), s("pricing/RateId")),
        "SubAccountId": s("lineItem/UsageAccountId"),
        "SubAccountName": s("lineItem/UsageAccountName"),
        "Tags": tags,
        "x_BillingPeriod": month_of(period_start),
        "x_PayerAccountId": s("bill/PayerAccountId"),
        "x_LineItemType": lit_type,
        "x_ProductCode": code,
        "x_UsageType": usage_type,
        "x_Operation": s("lineItem/Operation"),
        "x_InstanceType": product("instanceType"),
        "x_OperatingSystem": product("operatingSystem"),
        "x_Engine": cols.coalesce(product("databaseEngine"), product("cacheEngine")),
        "x_SourceFormat": lit(fmt),
        "x_SourceFile": lit(source_file),
        "x_Extra": extras,
    }
    return Projection(exprs, numeric=cols.numeric, timestamps=cols.timestamps, pre=cols.pre)


class CurLegacyReader(Reader):
    name = "cur"
    required = ("lineItem/UsageStartDate", "lineItem/UnblendedCost", "lineItem/LineItemType")

    def detect(self, columns: list[str]) -> bool:
        return any(c.startswith("lineItem/") for c in columns)

    def known(self, column: str) -> bool:
        return column.startswith(CUR_SECTIONS) and not column.startswith("costCategory/")

    def project(self, cols: Cols, *, source_file: str, period_hint: str | None = None) -> Projection:
        tags = tag_map(
            (c.removeprefix("resourceTags/"), cols.s(c)) for c in cols.types if c.startswith("resourceTags/")
        )
        return cur_projection(
            cols,
            lambda c: c,
            lambda attr: cols.s(f"product/{attr}"),
            tags,
            self.extras(cols),
            fmt=self.name,
            source_file=source_file,
        )
