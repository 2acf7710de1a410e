"""The retired Detailed Billing Report (DBR),
`<payer>-aws-billing-detailed-line-items-with-resources-and-tags-YYYY-MM.csv.zip`, which the original
system read. Loaded so that old bills stay comparable with new ones.

DBR files carry account, invoice and statement totals as rows of their own (RecordType `*Total`); they are
left out so nothing is counted twice. `Rounding` rows are kept: the invoice includes them.
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
        category = (
            f"CASE WHEN {record} = 'Rounding' THEN 'Adjustment' "
            f"WHEN {s('ItemDescription')} ILIKE 'tax %' OR {s('ItemDescription')} ILIKE '%sales "
            "tax%' THEN 'Tax' "
            f"WHEN {cost} < 0 THEN 'Credit' ELSE 'Usage' END"
        )
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
            "ChargeDescription": s("ItemDescription"),
            "ChargeFrequency": f"CASE WHEN {category} = 'Usage' THEN 'Usage-Based' ELSE 'One-Time' END",
            "ChargePeriodEnd": cols.coalesce(t("UsageEndDate"), period_end),
            "ChargePeriodStart": cols.coalesce(start, period_start),
            "CommitmentDiscountCategory": f"CASE WHEN {reserved} THEN 'Usage' ELSE NULL END",
            "CommitmentDiscountId": "NULL::VARCHAR",
            "CommitmentDiscountName": "NULL::VARCHAR",
            "CommitmentDiscountStatus": f"CASE WHEN {reserved} THEN 'Used' ELSE NULL END",
            "CommitmentDiscountType": f"CASE WHEN {reserved} THEN 'Reserved Instances (RI)' ELSE NULL END",
            "ConsumedQuantity": n("UsageQuantity"),
            "ConsumedUnit": "NULL::VARCHAR",
            "ContractedCost": f"COALESCE({cost}, 0)",
            "ContractedUnitPrice": n("UnBlendedRate"),
            # DBR predates amortization columns: the RI hourly fee is already in the usage rows.
            "EffectiveCost": f"COALESCE({cost}, 0)",
            "InvoiceIssuerName": cols.coalesce(s("SellerOfRecord"), "'Amazon Web Services, Inc.'"),
            "ListCost": f"COALESCE({cost}, 0)",
            "ListUnitPrice": "NULL::DECIMAL(38,18)",
            "PricingCategory": f"CASE WHEN {reserved} THEN 'Committed' WHEN {usage_type} LIKE '%SpotUsage%' "
            f"THEN 'Dynamic' WHEN {category} = 'Usage' THEN 'Standard' ELSE NULL END",
            "PricingQuantity": n("UsageQuantity"),
            "PricingUnit": "NULL::VARCHAR",
            "ProviderName": "'AWS'",
            "PublisherName": cols.coalesce(s("SellerOfRecord"), "'Amazon Web Services, Inc.'"),
            "RegionId": "NULL::VARCHAR",
            "RegionName": "NULL::VARCHAR",
            "ResourceId": resource,
            "ResourceName": "NULL::VARCHAR",
            "ResourceType": resource_type(resource),
            "ServiceCategory": service_category(code),
            "ServiceName": s("ProductName"),
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
