"""Legacy Cost and Usage Report (CUR): CSV / gzip / zip with slash-named columns (`lineItem/UnblendedCost`).

The mapping to FOCUS follows the FinOps Foundation's published conversion rules (focus_converters,
conversion_rules/aws-cur) where they agree with the FOCUS spec, and the spec where they do not
(docs/cost-truth.md): BilledCost = net unblended else unblended cost; EffectiveCost amortized, net
throughout in a file with net columns and gross throughout in one without: DiscountedUsage -> reservation
effective cost, SavingsPlanCoveredUsage -> Savings Plan effective cost, commitment fees and negations -> 0,
and the unused part of an RIFee / SavingsPlanRecurringFee on a Usage row of its own (status Unused), as the
spec's commitment scenarios have it. So the sum of EffectiveCost is the amortized bill with nothing counted
twice, and the sum of BilledCost is the invoice.
"""

from __future__ import annotations

from collections.abc import Callable

from awscost.billing.readers._sql import (
    Cols,
    lit,
    month_of,
    region_name,
    resource_type,
    service_category,
    tag_map,
)
from awscost.billing.readers.base import TWIN, Projection, Reader
from awscost.billing.schema import MONEY

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
    "RiVolumeDiscount": "Usage",
    "SppDiscount": "Usage",
    "DistributorDiscount": "Usage",
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
# A line item type AWS adds later must not vanish from every `ChargeCategory = 'Usage'` analysis (FOCUS
# ChargeCategory-C-002: never null): it is Usage when it meters a product (a usage amount and a product
# code), else Adjustment. x_LineItemType keeps the type as the file wrote it.
UNKNOWN_USAGE = "{amount} IS NOT NULL AND {code} IS NOT NULL"

# The two commitment fee lines whose unused part FOCUS books on a Usage row of its own (spec commitment
# discount usage scenarios 2 and 3): the fee row itself is a Purchase with EffectiveCost 0.
FEE_TYPES = ("RIFee", "SavingsPlanRecurringFee")

# Columns that say the file is a CUR with net (after negotiated discounts: EDP, private rates) costs. Such a
# file is read net throughout; one without them gross throughout (cost_truth in the README).
NET_MARKERS = (
    "lineItem/NetUnblendedCost",
    "reservation/NetEffectiveCost",
    "reservation/NetUnusedRecurringFee",
    "reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod",
    "savingsPlan/NetSavingsPlanEffectiveCost",
    "savingsPlan/NetRecurringCommitmentForBillingPeriod",
    "savingsPlan/NetAmortizedUpfrontCommitmentForBillingPeriod",
)


def charge_category(lit_expr: str, unknown: str = "FALSE") -> str:
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in CHARGE_CATEGORY.items())
    return f"CASE {lit_expr} {whens} ELSE CASE WHEN {unknown} THEN 'Usage' ELSE 'Adjustment' END END"


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

    def z(expr: str) -> str:
        return f"COALESCE({expr}, 0)"

    net = any(cols.has(name(c)) for c in NET_MARKERS)

    def cost(gross: str, net_col: str) -> str:
        """The net column where the file has net costs (the gross value only where a row's net cell is
        empty), the gross column where it has none."""
        return cols.coalesce(n(net_col), n(gross)) if net else n(gross)

    lit_type = s("lineItem/LineItemType")
    twin = TWIN  # true on the unused-commitment row beside a fee line (Projection.twin)
    unblended = cost("lineItem/UnblendedCost", "lineItem/NetUnblendedCost")
    sp_arn = s("savingsPlan/SavingsPlanARN")
    ri_arn = s("reservation/ReservationARN")
    usage_start = cols.t(name("lineItem/UsageStartDate"))
    period_start = cols.coalesce(
        cols.t(name("bill/BillingPeriodStartDate")), f"date_trunc('month', {usage_start})"
    )
    period_end = cols.coalesce(
        cols.t(name("bill/BillingPeriodEndDate")), f"date_trunc('month', {usage_start}) + INTERVAL 1 MONTH"
    )
    ri_effective = cost("reservation/EffectiveCost", "reservation/NetEffectiveCost")
    sp_effective = cost("savingsPlan/SavingsPlanEffectiveCost", "savingsPlan/NetSavingsPlanEffectiveCost")
    ri_unused = (
        f"{z(cost('reservation/UnusedAmortizedUpfrontFeeForBillingPeriod', 'reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod'))} "  # noqa: E501
        f"+ {z(cost('reservation/UnusedRecurringFee', 'reservation/NetUnusedRecurringFee'))}"
    )
    sp_unused = f"{z(n('savingsPlan/TotalCommitmentToDate'))} - {z(n('savingsPlan/UsedCommitment'))}"
    if net:
        # The file has no net unused commitment: scale the gross one by the plan's net / gross commitment,
        # as the FinOps Foundation's CUR queries do. A ratio is not exact in decimals: rounded to 10 places.
        gross_commit = (
            f"{z(n('savingsPlan/RecurringCommitmentForBillingPeriod'))} + "
            f"{z(n('savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod'))}"
        )
        net_commit = (
            f"{z(cost('savingsPlan/RecurringCommitmentForBillingPeriod', 'savingsPlan/NetRecurringCommitmentForBillingPeriod'))} + "  # noqa: E501
            f"{z(cost('savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod', 'savingsPlan/NetAmortizedUpfrontCommitmentForBillingPeriod'))}"  # noqa: E501
        )
        sp_unused = (
            f"CASE WHEN ({gross_commit}) = 0 OR ({net_commit}) = ({gross_commit}) THEN {sp_unused} "
            f"ELSE CAST(round(CAST({sp_unused} AS DOUBLE) * CAST({net_commit} AS DOUBLE) "
            f"/ CAST({gross_commit} AS DOUBLE), 10) AS {MONEY}) END"
        )
    unused = (
        f"CASE {lit_type} WHEN 'RIFee' THEN {ri_unused} WHEN 'SavingsPlanRecurringFee' THEN {sp_unused} END"
    )
    effective = (
        f"CASE WHEN {twin} THEN {unused} ELSE CASE {lit_type} "
        f"WHEN 'SavingsPlanCoveredUsage' THEN {z(sp_effective)} "
        "WHEN 'SavingsPlanRecurringFee' THEN 0 "
        "WHEN 'SavingsPlanNegation' THEN 0 "
        "WHEN 'SavingsPlanUpfrontFee' THEN 0 "
        f"WHEN 'DiscountedUsage' THEN {z(ri_effective)} "
        "WHEN 'RIFee' THEN 0 "
        f"ELSE CASE WHEN {lit_type} = 'Fee' AND {ri_arn} IS NOT NULL THEN 0 ELSE "
        f"{z(unblended)} END END END"
    )
    rate = n("pricing/publicOnDemandRate")
    amount = n("lineItem/UsageAmount")
    code = s("lineItem/ProductCode")
    category = (
        f"CASE WHEN {twin} THEN 'Usage' ELSE "
        f"{charge_category(lit_type, UNKNOWN_USAGE.format(amount=amount, code=code))} END"
    )
    list_cost = cols.coalesce(
        n("pricing/publicOnDemandCost"),
        f"CAST(CAST({rate} AS DECIMAL(19,10)) * CAST({amount} AS DECIMAL(19,8)) AS DECIMAL(38,18))"
        if not rate.startswith("NULL::") and not amount.startswith("NULL::")
        else "NULL::DECIMAL(38,18)",
    )
    unblended_rate = cost("lineItem/UnblendedRate", "lineItem/NetUnblendedRate")
    covered = f"{lit_type} = 'DiscountedUsage'"
    # ContractedCost, FOCUS 1.0 as AWS's own export defines it: the cost at the rate agreed with AWS, before
    # commitment discounts (ContractedUnitPrice x PricingQuantity). RI-covered usage carries no such cost in
    # the CUR (its unblended cost is 0): it is the public on-demand cost. A Savings Plan negation is the
    # commitment discount itself: 0. The unused-commitment row bills nothing: 0.
    contracted = (
        f"CASE WHEN {twin} THEN 0 WHEN {lit_type} = 'SavingsPlanNegation' THEN 0 "
        f"WHEN {covered} THEN {z(list_cost)} ELSE {z(unblended)} END"
    )
    # FOCUS: a tax, credit or refund line has no unit price or quantity (ListUnitPrice-C-004, PricingQuantity-
    # C-004 ...: tax MUST have none; for credits and refunds a price x quantity means nothing); a usage or
    # purchase line always has them (the -C-005/-C-006 rules): the unused-commitment row and a negation carry
    # prices of 0, so price x quantity still equals their ContractedCost and ListCost of 0.
    tax = f"{lit_type} = 'Tax'"
    unpriced = f"{lit_type} IN ('Tax', 'Credit', 'Refund')"
    fee = f"{lit_type} IN ('RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee', 'Fee')"
    zero_priced = f"{twin} OR {lit_type} = 'SavingsPlanNegation'"
    contracted_price = (
        f"CASE WHEN {zero_priced} THEN 0 WHEN {unpriced} THEN NULL "
        f"WHEN {covered} THEN {rate} ELSE {unblended_rate} END"
    )
    # A fee is sold at its list price: where the CUR leaves its public on-demand columns empty, the fee's own
    # rate and cost are its list price and cost.
    list_price = (
        f"CASE WHEN {zero_priced} THEN 0 WHEN {unpriced} THEN NULL "
        f"WHEN {fee} THEN {cols.coalesce(rate, unblended_rate)} ELSE {rate} END"
    )
    fee_list_cost = z(cols.coalesce(n("pricing/publicOnDemandCost"), unblended))
    list_total = f"CASE WHEN {zero_priced} THEN 0 WHEN {fee} THEN {fee_list_cost} ELSE {z(list_cost)} END"
    resource = s("lineItem/ResourceId")
    region = cols.coalesce(product("regionCode"), product("region"))
    usage_type = s("lineItem/UsageType")
    commitment_id = f"COALESCE({sp_arn}, {ri_arn})"
    exprs = {
        "AvailabilityZone": s("lineItem/AvailabilityZone"),
        "BilledCost": f"CASE WHEN {twin} THEN 0 ELSE {z(unblended)} END",
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
            f"CASE WHEN {twin} THEN 'Usage-Based' "
            f"WHEN {lit_type} IN ('RIFee', 'SavingsPlanRecurringFee') THEN 'Recurring' "
            f"WHEN {lit_type} IN ('Fee', 'SavingsPlanUpfrontFee', 'Credit', 'Refund', 'Tax') THEN 'One-Time' "
            "ELSE 'Usage-Based' END"
        ),
        "ChargePeriodEnd": cols.t(name("lineItem/UsageEndDate")),
        "ChargePeriodStart": usage_start,
        "CommitmentDiscountCategory": (
            f"CASE WHEN {sp_arn} IS NOT NULL THEN 'Spend' WHEN {ri_arn} IS NOT NULL THEN 'Usage' "
            "ELSE NULL END"
        ),
        "CommitmentDiscountId": commitment_id,
        "CommitmentDiscountName": "NULL::VARCHAR",
        "CommitmentDiscountStatus": (
            f"CASE WHEN {twin} THEN 'Unused' "
            # A negation is the Savings Plan applied to the usage it covers: part of the used commitment
            # (FOCUS CommitmentDiscountStatus-C-004: a Usage row with a commitment id has a status).
            f"WHEN {lit_type} IN ('DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation') "
            "THEN 'Used' ELSE NULL END"
        ),
        "CommitmentDiscountType": (
            f"CASE WHEN {sp_arn} IS NOT NULL THEN 'Savings Plan' "
            f"WHEN {ri_arn} IS NOT NULL THEN 'Reserved Instances (RI)' ELSE NULL END"
        ),
        "ConsumedQuantity": f"CASE WHEN NOT {twin} AND {category} = 'Usage' THEN {amount} ELSE NULL END",
        "ConsumedUnit": (
            f"CASE WHEN NOT {twin} AND {category} = 'Usage' THEN {s('pricing/unit')} ELSE NULL END"
        ),
        "ContractedCost": contracted,
        "ContractedUnitPrice": contracted_price,
        "EffectiveCost": effective,
        "InvoiceIssuerName": s("bill/InvoicingEntity"),
        "ListCost": list_total,
        "ListUnitPrice": list_price,
        "PricingCategory": (
            f"CASE WHEN {twin} OR {lit_type} IN ('DiscountedUsage', 'SavingsPlanCoveredUsage', "
            "'SavingsPlanNegation') THEN 'Committed' "
            f"WHEN {usage_type} LIKE '%SpotUsage%' THEN 'Dynamic' "
            f"WHEN {category} IN ('Usage', 'Purchase') THEN 'Standard' ELSE NULL END"
        ),
        # The quantity the contracted price is for: the line's usage amount (RIFee: reserved hours).
        "PricingQuantity": f"CASE WHEN {twin} THEN 0 WHEN {unpriced} THEN NULL ELSE {amount} END",
        "PricingUnit": f"CASE WHEN {unpriced} THEN NULL ELSE {s('pricing/unit')} END",
        "ProviderName": "'AWS'",
        "PublisherName": s("lineItem/LegalEntity"),
        "RegionId": region,
        "RegionName": cols.coalesce(product("location"), region_name(region)),
        # The spec's unused-commitment rows name the commitment as their resource (usage scenario 2).
        "ResourceId": f"CASE WHEN {twin} THEN {commitment_id} ELSE {resource} END",
        "ResourceName": "NULL::VARCHAR",
        "ResourceType": resource_type(resource),
        "ServiceCategory": service_category(code),
        "ServiceName": cols.coalesce(product("ProductName"), code),
        "SkuId": f"CASE WHEN {tax} THEN NULL ELSE {product('sku')} END",
        "SkuPriceId": f"CASE WHEN {tax} THEN NULL ELSE {cols.coalesce(s('pricing/RateCode'), s('pricing/RateId'))} END",
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
    # Every fee line gets its unused row, 0 when the commitment was fully used: deciding by the unused amount
    # would make every one-shot query parse the eight commitment columns it needs (+20% on a 1 M-row summary).
    twin_when = f"{lit_type} IN ({', '.join(lit(t) for t in FEE_TYPES)})"
    return Projection(exprs, numeric=cols.numeric, timestamps=cols.timestamps, pre=cols.pre, twin=twin_when)


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
