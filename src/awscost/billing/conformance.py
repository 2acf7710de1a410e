"""FOCUS conformance of the canonical table: is what the readers produce valid FOCUS?

Two sources of rules, one result type:
- the FinOps Foundation validator's machine-readable model (`model-1.2.json` of finopsfoundation/focus_validator,
  MIT; given by path, not shipped): every rule whose requirement is written as check functions is turned
  into SQL over table `billing` and counted row by row;
- awscost's own checks (OWN_RULES) of the rules the model leaves as prose ("Dynamic": no check function)
  that a CUR-derived table can be held to, such as ContractedCost = ContractedUnitPrice x PricingQuantity.

A rule is checked only on the rows its condition, and the conditions of the composite rules that refer to
it, select. Rules of FOCUS 1.1/1.2 columns the 1.0 canonical table does not have are skipped and say so;
so are rules a bill converted from a CUR cannot meet because the CUR does not carry the data (SOURCE_GAPS).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from awscost.billing.readers._sql import lit, quote
from awscost.billing.schema import CANONICAL, FOCUS_COLUMNS, MONEY, TEXT, TIMESTAMP
from awscost.core.errors import InputError

if TYPE_CHECKING:
    from awscost.billing.bill import Bill

TABLE = "billing"
# Provider features AWS has (the model's ApplicabilityCriteria). Rules that apply only to providers with
# other features (virtual currencies, pricing in another currency than billing) are skipped.
AWS_FEATURES = frozenset(
    {
        "ACCOUNT_NAMING_SUPPORTED",
        "AVAILABILITY_ZONE_SUPPORTED",
        "BILLING_BASED_ON_PROVISIONED_RESOURCES_SUPPORTED",
        "CAPACITY_RESERVATION_SUPPORTED",
        "COMMITMENT_DISCOUNT_SUPPORTED",
        "MULTIPLE_PRICING_CATEGORIES_SUPPORTED",
        "NEGOTIATED_PRICING_SUPPORTED",
        "PUBLIC_PRICE_LIST_SUPPORTED",
        "REGION_SUPPORTED",
        "RESOURCE_TYPE_ASSIGNMENT_SUPPORTED",
        "SUB_ACCOUNT_SUPPORTED",
        "TAGGING_SUPPORTED",
        "UNIT_PRICING_SUPPORTED",
        "USAGE_MEASUREMENT_SUPPORTED",
    }
)
CUR_FORMATS = ("cur", "cur2", "dbr")
# Rules a table converted from a CUR or DBR cannot meet because the source lacks the data: rule -> (the
# formats it cannot apply to, why). Checked on the other rows (a FOCUS export's) as usual.
SOURCE_GAPS: dict[str, tuple[tuple[str, ...], str]] = {
    "BillingAccountName-C-003-C": (CUR_FORMATS, "a CUR carries no payer account name (Organizations has it)"),
    "CommitmentDiscountName-C-005-C": (CUR_FORMATS, "a CUR carries no reservation or Savings Plan name"),
    "InvoiceIssuerName-C-003-M": (
        CUR_FORMATS,
        "older CURs and the DBR name no invoicing entity on some lines",
    ),
    "ResourceName-C-004-C": (CUR_FORMATS, "a CUR carries no resource display name"),
    "SubAccountName-C-005-C": (CUR_FORMATS, "a CUR written without account names (the default) has none"),
    "PublisherName-C-003-M": (CUR_FORMATS, "older CURs and the DBR name no legal entity on some lines"),
    # The DBR (retired in 2019) has neither SKUs, public prices nor units, and marks RI-applied usage
    # (ReservedInstance = Y) without naming the reservation.
    "ListUnitPrice-C-005-C": (("dbr",), "a DBR has no public on-demand price"),
    "SkuId-C-005-C": (("dbr",), "a DBR has no SKU"),
    "SkuPriceId-C-005-C": (("dbr",), "a DBR rate id is on usage lines only"),
    "SkuPriceId-C-008-M": (("dbr",), "a DBR has rate ids but no SKUs to be their parent"),
    "PricingUnit-C-006-C": (("dbr",), "a DBR has no pricing unit"),
    "ConsumedUnit-C-006-C": (("dbr",), "a DBR has no usage unit"),
    "CommitmentDiscountCategory-C-003-C": (("dbr",), "a DBR marks RI-applied usage but names no reservation"),
    "CommitmentDiscountStatus-C-003-C": (("dbr",), "a DBR marks RI-applied usage but names no reservation"),
    "CommitmentDiscountType-C-004-C": (("dbr",), "a DBR marks RI-applied usage but names no reservation"),
}
# Money compared as a product of a unit price and a quantity: AWS rounds each line's cost, so the product
# may differ in the last places. A millionth of the cost (at least 1e-6) is a rounding, not a wrong row.
PRODUCT_TOLERANCE = "GREATEST(1e-6, abs(CAST({r} AS DOUBLE)) * 1e-6)"
NON_NATIONAL = ("XAU", "XAG", "XPT", "XPD", "XDR", "XTS", "XXX", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA")


@dataclass(frozen=True)
class RuleResult:
    rule: str
    status: str  # pass | fail | warn (a SHOULD not met) | skip
    keyword: str  # MUST, MUST NOT, SHOULD, MAY, ...
    checked_rows: int
    failed_rows: int
    text: str
    reason: str = ""

    @property
    def mandatory(self) -> bool:
        return self.keyword.startswith("MUST")


@dataclass(frozen=True)
class _Rule:
    id: str
    keyword: str
    text: str
    ok: str | None  # SQL: the row meets the requirement (None: not row-level)
    cond: str  # SQL: the row is one the rule applies to


def _product(a: str, b: str, r: str) -> str:
    tol = PRODUCT_TOLERANCE.format(r=quote(r))
    return (
        f"({quote(a)} IS NULL OR {quote(b)} IS NULL OR {quote(r)} IS NULL OR "
        f"abs(CAST({quote(a)} AS DOUBLE) * CAST({quote(b)} AS DOUBLE) - CAST({quote(r)} AS DOUBLE)) <= {tol})"
    )


# Where the model's check functions say something other than its own text, the text is the rule: corrected
# SQL (true where the row passes) and why.
# (the row passes, the rows it applies to or None for the model's, why)
ERRATA: dict[str, tuple[str, str | None, str]] = {
    "CommitmentDiscountStatus-C-003-C": (
        "CommitmentDiscountStatus IS NULL",
        None,
        "the model checks CommitmentDiscountStatus IS NOT NULL; the text says it MUST be null",
    ),
    "CommitmentDiscountStatus-C-004-C": (
        "CommitmentDiscountStatus IS NOT NULL",
        "CommitmentDiscountId IS NOT NULL AND ChargeCategory = 'Usage'",
        "the model checks the rows whose CommitmentDiscountId is null (C-003's condition); the text says not null",
    ),
    "CommitmentDiscountStatus-C-005-M": (
        "CommitmentDiscountStatus IN ('Used', 'Unused')",
        None,
        "the model lists Active / Expired / Pending (another column's values); FOCUS allows Used and Unused",
    ),
}
# Rules whose machine encoding cannot hold for AWS, and why (listed in the result, never counted).
NOT_FOR_AWS: dict[str, str] = {
    "BilledCost-C-005-C": (
        "the model reads 'paid to a third party' as ProviderName <> InvoiceIssuerName; AWS writes ProviderName "
        "'AWS' and the invoicing entity's legal name ('Amazon Web Services, Inc.'), so it would flag every line"
    ),
}
PERMISSIONS = ("MAY", "OPTIONAL")
ADVISORY = ("SHOULD", "SHOULD NOT", "RECOMMENDED", "NOT RECOMMENDED")

# Own checks of Dynamic rules: rule id -> (SQL the row meets it, SQL of the rows it applies to).
OWN_RULES: dict[str, tuple[str, str]] = {
    "ContractedCost-C-009-C": (
        _product("ContractedUnitPrice", "PricingQuantity", "ContractedCost"),
        "ContractedUnitPrice IS NOT NULL AND PricingQuantity IS NOT NULL "
        "AND ChargeClass IS DISTINCT FROM 'Correction'",
    ),
    "ContractedCost-C-008-C": ("ContractedCost = BilledCost", "ChargeCategory = 'Credit'"),
    "EffectiveCost-C-006-M": ("BillingCurrency IS NOT NULL", "EffectiveCost <> 0"),
    "BilledCost-C-006-M": ("BillingCurrency IS NOT NULL", "BilledCost <> 0"),
    # Commitment discount usage scenarios 2-3: an unused commitment is a Usage row billing nothing. (awscost's
    # own id: the spec states it by example, not as a rule of the model.)
    "x-UnusedCommitment-Row": (
        "ChargeCategory = 'Usage' AND BilledCost = 0",
        "CommitmentDiscountStatus = 'Unused'",
    ),
}


def load_model(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        model = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read the FOCUS validator model: {exc}", where=str(p), param="model"
        ) from None
    if not isinstance(model, dict) or not isinstance(model.get("ModelRules"), dict):
        raise InputError("not a FOCUS validator model (no ModelRules)", where=str(p), param="model")
    return model


class _Unsupported(Exception):
    """A check function or argument this interpreter does not turn into SQL."""


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return repr(v)
    return lit(str(v))


def _column(name: Any) -> str:
    if not isinstance(name, str) or name not in CANONICAL:
        raise _Unsupported(f"column {name!r} is not in the FOCUS 1.0 canonical table")
    return quote(name)


def _sql(check: dict[str, Any]) -> str:
    """SQL for a check function tree: true where the row passes. Schema-level checks become TRUE or FALSE."""
    fn = check.get("CheckFunction")
    if fn in ("AND", "OR"):
        items = check.get("Items") or []
        if not items:
            raise _Unsupported(f"{fn} without items")
        return "(" + f" {fn} ".join(f"COALESCE({_sql(i)}, FALSE)" for i in items) + ")"
    if fn == "CheckValue":
        col, v = _column(check.get("ColumnName")), check.get("Value")
        return f"{col} IS NULL" if v is None else f"{col} = {_value(v)}"
    if fn == "CheckNotValue":
        col, v = _column(check.get("ColumnName")), check.get("Value")
        return f"{col} IS NOT NULL" if v is None else f"{col} IS DISTINCT FROM {_value(v)}"
    if fn == "CheckGreaterOrEqualThanValue":
        col = _column(check.get("ColumnName"))
        return f"({col} IS NULL OR {col} >= {_value(check.get('Value'))})"
    if fn == "CheckSameValue":
        return f"{_column(check.get('ColumnAName'))} IS NOT DISTINCT FROM {_column(check.get('ColumnBName'))}"
    if fn == "CheckNotSameValue":
        return f"{_column(check.get('ColumnAName'))} IS DISTINCT FROM {_column(check.get('ColumnBName'))}"
    if fn == "ColumnByColumnEqualsColumnValue":
        for key in ("ColumnAName", "ColumnBName", "ResultColumnName"):
            _column(check.get(key))
        return _product(check["ColumnAName"], check["ColumnBName"], check["ResultColumnName"])
    if fn == "CheckDecimalValue":
        col = _column(check.get("ColumnName"))
        return f"({col} IS NULL OR isfinite(CAST({col} AS DOUBLE)))"
    if fn == "FormatString":
        # StringHandling: text as given, without padding.
        col = _column(check.get("ColumnName"))
        return f"({col} IS NULL OR CAST({col} AS VARCHAR) = TRIM(CAST({col} AS VARCHAR)))"
    if fn in ("FormatCurrency", "CheckNationalCurrency"):
        col = _column(check.get("ColumnName"))
        national = (
            f" AND {col} NOT IN ({', '.join(lit(c) for c in NON_NATIONAL)})" if fn != "FormatCurrency" else ""
        )
        return f"({col} IS NULL OR (regexp_full_match({col}, '[A-Z]{{3}}'){national}))"
    if fn == "FormatKeyValue":
        col = _column(check.get("ColumnName"))
        return (
            "TRUE"
            if CANONICAL[check["ColumnName"]].startswith("MAP")
            else f"({col} IS NULL OR json_valid({col}))"
        )
    if fn == "ColumnPresent":
        return "TRUE" if check.get("ColumnName") in CANONICAL else "FALSE"
    types = {"TypeString": TEXT, "TypeDecimal": MONEY, "TypeDateTime": TIMESTAMP}
    if fn in types:
        name = str(check.get("ColumnName"))
        _column(name)
        return "TRUE" if CANONICAL[name] == types[fn] else "FALSE"
    if fn in ("FormatNumeric", "FormatDateTime"):
        name = str(check.get("ColumnName"))
        _column(name)
        want = MONEY if fn == "FormatNumeric" else TIMESTAMP
        return "TRUE" if CANONICAL[name] == want else "FALSE"
    raise _Unsupported(f"check function {fn!r} is not interpreted")


def _distinct_count(check: dict[str, Any], cond: str) -> str:
    a, b = _column(check.get("ColumnAName")), _column(check.get("ColumnBName"))
    n = int(check.get("ExpectedCount", 1))
    return (
        f"SELECT count(*) FROM (SELECT {a} FROM {TABLE} WHERE {cond} AND {a} IS NOT NULL GROUP BY {a} "
        f"HAVING count(DISTINCT {b}) <> {n})"
    )


def check(bill: Bill, model: dict[str, Any] | None = None) -> list[RuleResult]:
    """Every rule of `model` (the validator's) plus OWN_RULES, checked on `bill`'s rows."""
    rules: dict[str, dict[str, Any]] = dict((model or {}).get("ModelRules") or {})
    for rule_id in OWN_RULES:
        rules.setdefault(rule_id, {"ValidationCriteria": {"Keyword": "MUST", "MustSatisfy": rule_id}})
    parents: dict[str, list[str]] = {}
    for rule_id, rule in rules.items():
        for child in _children(rule):
            parents.setdefault(child, []).append(rule_id)
    conds: dict[str, str] = {}

    def condition(rule_id: str, seen: tuple[str, ...] = ()) -> str:
        if rule_id in conds:
            return conds[rule_id]
        rule = rules.get(rule_id) or {}
        own = _own_condition(rule_id, rule)
        ups = [p for p in parents.get(rule_id, []) if p not in seen]
        if ups:
            up = " OR ".join(f"({condition(p, (*seen, rule_id))})" for p in ups)
            own = f"({own}) AND ({up})"
        conds[rule_id] = own
        return own

    results: dict[str, RuleResult] = {}
    for rule_id in sorted(rules):
        rule = rules[rule_id]
        crit = rule.get("ValidationCriteria") or {}
        keyword, text = str(crit.get("Keyword", "")), str(crit.get("MustSatisfy", ""))

        def skip(reason: str, *, rid: str = rule_id, kw: str = keyword, t: str = text) -> RuleResult:
            return RuleResult(rid, "skip", kw, 0, 0, t, reason)

        if rule.get("Status", "Active") != "Active":
            results[rule_id] = skip("rule not active")
            continue
        if keyword in PERMISSIONS:
            results[rule_id] = skip(f"a permission ({keyword}): nothing to fail")
            continue
        if rule_id in NOT_FOR_AWS:
            results[rule_id] = skip(NOT_FOR_AWS[rule_id])
            continue
        missing = [a for a in rule.get("ApplicabilityCriteria") or [] if a not in AWS_FEATURES]
        if missing:
            results[rule_id] = skip(f"applies to providers with {', '.join(missing)}; AWS has none")
            continue
        ref = rule.get("Reference")
        if rule.get("EntityType") == "Column" and isinstance(ref, str) and ref not in FOCUS_COLUMNS:
            results[rule_id] = skip(f"{ref} is a FOCUS 1.1+ column; the canonical table is FOCUS 1.0")
            continue
        if _children(rule) and rule_id not in OWN_RULES:
            continue  # composite: decided from its parts below
        try:
            cond = condition(rule_id)
            if rule_id in SOURCE_GAPS:
                formats = ", ".join(lit(f) for f in SOURCE_GAPS[rule_id][0])
                cond = f"({cond}) AND x_SourceFormat NOT IN ({formats})"
            req = crit.get("Requirement") or {}
            present = req.get("ColumnName") if req.get("CheckFunction") == "ColumnPresent" else None
            if isinstance(present, str) and present not in FOCUS_COLUMNS:
                results[rule_id] = skip(f"{present} is a FOCUS 1.1+ column; the canonical table is FOCUS 1.0")
                continue
            allowed = _allowed_values_column(req)
            if allowed:
                cond = f"({cond}) AND {quote(allowed)} IS NOT NULL"  # nulls are the nullability rules' matter
            if rule_id in ERRATA:
                ok = ERRATA[rule_id][0]
            elif rule_id in OWN_RULES:
                ok = OWN_RULES[rule_id][0]
            elif not req:
                results[rule_id] = skip("prose only (Dynamic): no check function, and no own check")
                continue
            elif req.get("CheckFunction") == "CheckDistinctCount":
                checked, failed = (
                    _count(bill, f"SELECT count(*) FROM {TABLE} WHERE {cond}"),
                    _count(bill, _distinct_count(req, cond)),
                )
                results[rule_id] = _result(rule_id, keyword, text, checked, failed)
                continue
            else:
                ok = _sql(req)
        except _Unsupported as exc:
            results[rule_id] = skip(str(exc))
            continue
        checked = _count(bill, f"SELECT count(*) FROM {TABLE} WHERE COALESCE({cond}, FALSE)")
        failed = _count(
            bill, f"SELECT count(*) FROM {TABLE} WHERE COALESCE({cond}, FALSE) AND NOT COALESCE({ok}, FALSE)"
        )
        results[rule_id] = _result(rule_id, keyword, text, checked, failed)
    # Composites: fail if a part fails, skip if every part is skipped.
    for rule_id in sorted(rules):
        if rule_id in results:
            continue
        parts = [results.get(c) for c in _descendants(rules, rule_id)]
        known = [p for p in parts if p is not None and p.status != "skip"]
        crit = rules[rule_id].get("ValidationCriteria") or {}
        keyword, text = str(crit.get("Keyword", "")), str(crit.get("MustSatisfy", ""))
        if not known:
            results[rule_id] = RuleResult(rule_id, "skip", keyword, 0, 0, text, "every part skipped")
        else:
            failed = sum(p.failed_rows for p in known)
            status = "fail" if any(p.status == "fail" for p in known) else "pass"
            results[rule_id] = RuleResult(rule_id, status, keyword, 0, failed, text, "composite")
    return [results[r] for r in sorted(results)]


def _result(rule_id: str, keyword: str, text: str, checked: int, failed: int) -> RuleResult:
    reason = ""
    if rule_id in SOURCE_GAPS:
        formats, why = SOURCE_GAPS[rule_id]
        reason = f"{why}: not checked on {', '.join(formats)} rows"
    if rule_id in ERRATA:
        reason = "; ".join(r for r in (f"corrected: {ERRATA[rule_id][2]}", reason) if r)
    status = "pass" if not failed else "warn" if keyword in ADVISORY else "fail"
    return RuleResult(rule_id, status, keyword, checked, failed, text, reason)


def _allowed_values_column(req: dict[str, Any]) -> str | None:
    """The column of an "is one of the allowed values" requirement (an OR of CheckValue on one column)."""
    items = req.get("Items") or []
    if req.get("CheckFunction") != "OR" or not items:
        return None
    cols = {
        i.get("ColumnName")
        for i in items
        if i.get("CheckFunction") == "CheckValue" and i.get("Value") is not None
    }
    return (
        cols.pop()
        if len(cols) == 1 and len(items) == sum(1 for i in items if i.get("CheckFunction") == "CheckValue")
        else None
    )


def _count(bill: Bill, sql: str) -> int:
    row = bill.con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _own_condition(rule_id: str, rule: dict[str, Any]) -> str:
    if rule_id in OWN_RULES:
        return OWN_RULES[rule_id][1]
    if rule_id in ERRATA and ERRATA[rule_id][1]:
        return str(ERRATA[rule_id][1])
    cond = (rule.get("ValidationCriteria") or {}).get("Condition") or {}
    return _sql(cond) if cond else "TRUE"


def _children(rule: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("CheckFunction") == "CheckModelRule" and isinstance(node.get("ModelRuleId"), str):
                out.append(node["ModelRuleId"])
            for item in node.get("Items") or []:
                walk(item)

    walk((rule.get("ValidationCriteria") or {}).get("Requirement"))
    return out


def _descendants(rules: dict[str, dict[str, Any]], rule_id: str) -> Iterable[str]:
    stack, seen = list(_children(rules.get(rule_id) or {})), set()
    while stack:
        child = stack.pop()
        if child in seen:
            continue
        seen.add(child)
        kids = _children(rules.get(child) or {})
        if kids:
            stack.extend(kids)
        else:
            yield child
    for own in OWN_RULES:
        if own in seen:
            yield own


def summary(results: Iterable[RuleResult]) -> dict[str, int]:
    counts = {"checked": 0, "passed": 0, "failed": 0, "warned": 0, "skipped": 0}
    names = {"pass": "passed", "fail": "failed", "warn": "warned", "skip": "skipped"}
    for r in results:
        counts[names[r.status]] += 1
        counts["checked"] += r.status != "skip"
    return counts
