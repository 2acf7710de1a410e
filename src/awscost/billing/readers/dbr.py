"""The retired Detailed Billing Report (DBR),
`<payer>-aws-billing-detailed-line-items-with-resources-and-tags-YYYY-MM.csv.zip`, which the original
system read. Loaded so that old bills stay comparable with new ones.

DBR files carry account, invoice and statement totals as rows of their own (RecordType `*Total`); they are
left out so nothing is counted twice. `Rounding` rows are kept: the invoice includes them.

The DBR has no amortization columns: an RI's upfront fee is one row in the month it was paid, ItemDescription
`Sign up charge for subscription: <SubscriptionId>, planId: <PricingPlanId>`, whose UsageStartDate and
UsageEndDate are the reservation's start and end (as on the CUR's `Fee` row and FOCUS's Purchase row, e.g.
2017-06-09 21:21:37 to 2018-06-09 21:21:36). Where that span is a 1- or 3-year term (`TERMS_DAYS`), the row is
the purchase (ChargeCategory Purchase, EffectiveCost 0, BilledCost the fee paid) and `billing/amortize.py` adds
the fee to EffectiveCost over the term's months, so the amortized bill counts it once, month by month. Any
other span (or no dates) says nothing about the term: such a fee stays in the month paid, as before, and the
load names those months. A sign-up charge of 0 (No Upfront RIs) is left as it is.
"""

from __future__ import annotations

from awscost.billing.readers._sql import Cols, lit, month_of, resource_type, service_category, tag_map
from awscost.billing.readers.base import Projection, Reader

DBR_COLUMNS = {
    "InvoiceID", "PayerAccountId", "LinkedAccountId", "RecordType", "RecordId", "ProductName", "RateId",
    "SubscriptionId", "PricingPlanId", "UsageType", "Operation", "AvailabilityZone", "ReservedInstance",
    "ItemDescription", "UsageStartDate", "UsageEndDate", "UsageQuantity", "BlendedRate", "BlendedCost",
    "UnBlendedRate", "UnBlendedCost", "ResourceId", "Rate", "Cost", "CostBeforeTax", "Credits", "TaxAmount",
    "TaxType", "SellerOfRecord", "BillingPeriodStartDate", "BillingPeriodEndDate", "CurrencyCode",
}  # fmt: skip

SIGN_UP = "Sign up charge for subscription:"
# Reservation terms a sign-up row's span may show, in days (1 and 3 years, a leap day and a second either way).
TERMS_DAYS = ((364, 367), (1094, 1097))

PRODUCT_CODES = {
    "Amazon Elastic Compute Cloud": "AmazonEC2",
    "Amazon Relational Database Service": "AmazonRDS",
    "Amazon Simple Storage Service": "AmazonS3",
    "Amazon ElastiCache": "AmazonElastiCache",
    "Amazon DynamoDB": "AmazonDynamoDB",
    "Amazon Redshift": "AmazonRedshift",
    "Amazon Elasticsearch Service": "AmazonES",
    "Amazon CloudFront": "AmazonCloudFront",
    "AWS Lambda": "AWSLambda",
    "Amazon Simple Queue Service": "AWSQueueService",
    "Amazon Simple Notification Service": "AmazonSNS",
    "AmazonCloudWatch": "AmazonCloudWatch",
    "Amazon Route 53": "AmazonRoute53",
    "AWS Data Transfer": "AWSDataTransfer",
}


class DbrReader(Reader):
    name = "dbr"
    required = ("RecordType", "UsageStartDate", "UnBlendedCost")

    def detect(self, columns: list[str]) -> bool:
        return "RecordType" in columns and ("LinkedAccountId" in columns or "UnBlendedCost" in columns)

    def known(self, column: str) -> bool:
        return column in DBR_COLUMNS or column.startswith(("user:", "aws:"))

    def project(self, cols: Cols, *, source_file: str, period_hint: str | None = None) -> Projection:
        s, n, t = cols.s, cols.n, cols.t
        record = s("RecordType")
        usage_type = s("UsageType")
        cost = cols.coalesce(n("UnBlendedCost"), n("Cost"))
        start = t("UsageStartDate")
        if period_hint:
            period_start = f"CAST({lit(period_hint + '-01')} AS TIMESTAMP)"
        else:
            period_start = cols.coalesce(t("BillingPeriodStartDate"), f"date_trunc('month', {start})")
        period_end = f"{period_start} + INTERVAL 1 MONTH"
        code = (
            "CASE "
            + s("ProductName")
            + " "
            + " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in PRODUCT_CODES.items())
            + " ELSE NULL END"
        )
        reserved = f"{s('ReservedInstance')} = 'Y'"
        description = s("ItemDescription")
        end = t("UsageEndDate")
        span = f"date_diff('second', {start}, {end})"
        term = " OR ".join(f"{span} BETWEEN {lo * 86400} AND {hi * 86400}" for lo, hi in TERMS_DAYS)
        purchase = f"COALESCE(starts_with({description}, {lit(SIGN_UP)}) AND {cost} > 0 AND ({term}), false)"
        subscription = cols.coalesce(
            f"NULLIF(regexp_extract({description}, 'subscription: *([0-9A-Za-z-]+)', 1), '')",
            s("SubscriptionId"),
        )
        category = (
            f"CASE WHEN {purchase} THEN 'Purchase' WHEN {record} = 'Rounding' THEN 'Adjustment' "
            f"WHEN {s('ItemDescription')} ILIKE 'tax %' OR {s('ItemDescription')} ILIKE '%sales "
            "tax%' THEN 'Tax' "
            f"WHEN {cost} < 0 THEN 'Credit' ELSE 'Usage' END"
        )
        priced = f"{category} IN ('Usage', 'Purchase')"  # FOCUS: tax, credit, rounding carry no unit price
        resource = s("ResourceId")
        tags = tag_map((c, s(c)) for c in cols.types if c.startswith(("user:", "aws:")))
        exprs = {
            "AvailabilityZone": s("AvailabilityZone"),
            "BilledCost": f"COALESCE({cost}, 0)",
            "BillingAccountId": s("PayerAccountId"),
            "BillingAccountName": "NULL::VARCHAR",
            "BillingCurrency": cols.coalesce(s("CurrencyCode"), "'USD'"),
            "BillingPeriodEnd": period_end,
            "BillingPeriodStart": period_start,
            "ChargeCategory": category,
            "ChargeClass": "NULL::VARCHAR",
            "ChargeDescription": description,
            "ChargeFrequency": f"CASE WHEN {category} = 'Usage' THEN 'Usage-Based' ELSE 'One-Time' END",
            "ChargePeriodEnd": cols.coalesce(end, period_end),
            "ChargePeriodStart": cols.coalesce(start, period_start),
            # The purchase names its reservation (the subscription); a purchase has no Used/Unused status.
            "CommitmentDiscountCategory": f"CASE WHEN {purchase} OR {reserved} THEN 'Usage' ELSE NULL END",
            "CommitmentDiscountId": f"CASE WHEN {purchase} THEN {subscription} ELSE NULL END",
            "CommitmentDiscountName": "NULL::VARCHAR",
            "CommitmentDiscountStatus": (
                f"CASE WHEN {purchase} THEN NULL WHEN {reserved} THEN 'Used' ELSE NULL END"
            ),
            "CommitmentDiscountType": (
                f"CASE WHEN {purchase} OR {reserved} THEN 'Reserved Instances (RI)' ELSE NULL END"
            ),
            "ConsumedQuantity": f"CASE WHEN {category} = 'Usage' THEN {n('UsageQuantity')} ELSE NULL END",
            "ConsumedUnit": "NULL::VARCHAR",
            "ContractedCost": f"COALESCE({cost}, 0)",
            "ContractedUnitPrice": f"CASE WHEN {priced} THEN {n('UnBlendedRate')} ELSE NULL END",
            # DBR predates amortization columns: the RI hourly fee is already in the usage rows, and a purchase
            # with a term is amortized by rows of its own (billing/amortize.py).
            "EffectiveCost": f"CASE WHEN {purchase} THEN 0 ELSE COALESCE({cost}, 0) END",
            "InvoiceIssuerName": cols.coalesce(s("SellerOfRecord"), "'Amazon Web Services, Inc.'"),
            "ListCost": f"COALESCE({cost}, 0)",
            "ListUnitPrice": "NULL::DECIMAL(38,18)",
            "PricingCategory": f"CASE WHEN {purchase} THEN 'Standard' WHEN {reserved} THEN 'Committed' "
            f"WHEN {usage_type} LIKE '%SpotUsage%' "
            f"THEN 'Dynamic' WHEN {category} = 'Usage' THEN 'Standard' ELSE NULL END",
            "PricingQuantity": f"CASE WHEN {priced} THEN {n('UsageQuantity')} ELSE NULL END",
            "PricingUnit": "NULL::VARCHAR",
            "ProviderName": "'AWS'",
            "PublisherName": cols.coalesce(s("SellerOfRecord"), "'Amazon Web Services, Inc.'"),
            "RegionId": "NULL::VARCHAR",
            "RegionName": "NULL::VARCHAR",
            "ResourceId": resource,
            "ResourceName": "NULL::VARCHAR",
            "ResourceType": resource_type(resource),
            "ServiceCategory": service_category(code),
            # A rounding row names no product: the provider's own line.
            "ServiceName": cols.coalesce(s("ProductName"), "'AWS'"),
            "SkuId": "NULL::VARCHAR",
            "SkuPriceId": s("RateId"),
            "SubAccountId": cols.coalesce(s("LinkedAccountId"), s("PayerAccountId")),
            "SubAccountName": "NULL::VARCHAR",
            "Tags": tags,
            "x_BillingPeriod": month_of(period_start),
            "x_PayerAccountId": s("PayerAccountId"),
            "x_LineItemType": record,
            "x_ProductCode": code,
            "x_UsageType": usage_type,
            "x_Operation": s("Operation"),
            "x_InstanceType": (
                f"CASE WHEN {usage_type} SIMILAR TO '.*(BoxUsage|InstanceUsage|NodeUsage|HeavyUsage):.*' "
                f"THEN split_part({usage_type}, ':', 2) ELSE NULL END"
            ),
            "x_OperatingSystem": "NULL::VARCHAR",
            "x_Engine": "NULL::VARCHAR",
            "x_SourceFormat": lit(self.name),
            "x_SourceFile": lit(source_file),
            "x_Extra": self.extras(cols),
        }
        return Projection(
            exprs,
            where=f"{record} NOT LIKE '%Total'",
            numeric=cols.numeric,
            timestamps=cols.timestamps,
            pre=cols.pre,
        )
