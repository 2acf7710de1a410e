"""The packaged price snapshot against the public price data it is built from (../shared/refdata/aws-prices,
see its SOURCES.md): every real price exact and attributed to its file and date, the newest file winning,
every row of the files present, and the structure of what is derived (OS licences, reserved ratios within
what the real rows show, Savings Plans as the reservations they mirror)."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import re
import statistics
import subprocess
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from awscost.core import vocabulary
from awscost.planning.pricing import book as book_module
from awscost.planning.pricing.book import DERIVED, Price, SnapshotBook, snapshot_book
from conftest import refdata

ROOT = Path(__file__).resolve().parents[1]
H = {"1y": Decimal(8760), "3y": Decimal(26280)}
LEASE = {"1yr": "1y", "3yr": "3y"}
OPTION = {"No Upfront": "no", "Partial Upfront": "partial", "All Upfront": "all"}
RI_FIELDS = tuple(f"{t}/{p}" for t in ("1y", "3y") for p in ("no", "partial", "all"))
MAIN = ("us-east-1", "us-west-2", "eu-west-1")
# What the snapshot's sources are called in `origin`, and the folder SOURCES.md describes each in.
FOLDERS = {
    "karpenter": "karpenter",
    "aws-price": "awsprice-khuong",
    "ec2shop": "ec2shop",
    "ec2instances.info": "ec2instances-info-2025",
    "vantage": "vantage",
    "terracost": "terracost",
    "ec2-offer-sample": "price-list-api-shapes",
}


def rows(relative: str, skip: int = 0) -> Iterator[dict[str, str]]:
    with refdata(f"aws-prices/{relative}").open(newline="", encoding="utf-8") as f:
        for _ in range(skip):
            f.readline()
        yield from csv.DictReader(f)


Key = tuple[str, str, str, str, str]  # label ("source date"), service, region, type, variant


class Real:
    """What each refdata file says, keyed by the label the snapshot must give it: field -> value, where a
    value is a Decimal ($/h), ("split", upfront, hourly) or ("effective", $/h)."""

    def __init__(self) -> None:
        self.v: dict[Key, dict[str, Any]] = defaultdict(dict)

    def put(
        self, label: str, service: str, region: str, itype: str, variant: str, field: str, value: Any
    ) -> None:
        self.v[(label, service, region, itype, variant)][field] = value


@pytest.fixture(scope="module")
def real() -> Real:
    r = Real()
    for x in rows("karpenter/ec2_ondemand_linux.csv"):
        if x["partition"] == "aws" or x["region"].startswith("us-gov-"):
            label = f"karpenter {x['generated_at'][:10]}"
            r.put(
                label,
                "ec2",
                x["region"],
                x["instance_type"],
                "linux",
                "on_demand",
                Decimal(x["price_usd_per_hour"]),
            )
    for x in rows("awsprice-khuong/ec2_linux_ondemand.csv"):
        r.put(
            "aws-price 2025-11-03",
            "ec2",
            x["region"],
            x["instance_type"],
            "linux",
            "on_demand",
            Decimal(x["ondemand_hourly"]),
        )
    for x in rows("awsprice-khuong/redshift_ondemand.csv"):
        r.put(
            "aws-price 2025-10-27",
            "redshift",
            x["region"],
            x["instance_type"],
            "",
            "on_demand",
            Decimal(x["ondemand_hourly"]),
        )
    for x in rows("ec2shop/ec2_linux_shared_ondemand_ri.csv"):
        label = f"ec2shop {x['od_published'][:10]}"
        args = (label, "ec2", x["region"], x["instance_type"], "linux")
        r.put(*args, "on_demand", Decimal(x["ondemand_hourly"]))
        for term, col in (("1y", "std_1yr_no_upfront_hourly"), ("3y", "std_3yr_no_upfront_hourly")):
            if x[col]:
                r.put(*args, f"{term}/no", ("split", Decimal(0), Decimal(x[col])))
    engines = {"MySQL": "mysql", "PostgreSQL": "postgres"}
    for x in rows("ec2shop/rds_ondemand_ri.csv"):
        if x["deployment"] == "Single-AZ":
            args = (
                f"ec2shop {x['published'][:10]}",
                "rds",
                x["region"],
                x["instance_type"],
                engines[x["engine"]],
            )
            r.put(*args, "on_demand", Decimal(x["ondemand_hourly"]))
            field = f"{LEASE[x['lease']]}/{OPTION[x['purchase_option']]}"
            r.put(*args, field, ("split", Decimal(x["upfront_usd"]), Decimal(x["ri_hourly"])))
    for x in rows("ec2shop/elasticache_ondemand.csv"):
        if x["engine"] == "Redis" and x["data_tiering"] == "no":
            r.put(
                "ec2shop 2025-03-14",
                "elasticache",
                x["region"],
                x["instance_type"],
                "",
                "on_demand",
                Decimal(x["ondemand_hourly"]),
            )
    for name, service in (
        ("elasticache_ri", "elasticache"),
        ("opensearch_ri", "es"),
        ("redshift_ri", "redshift"),
    ):
        for x in rows(f"ec2shop/{name}.csv"):
            args = (f"ec2shop {x['published'][:10]}", service, x["region"], x["instance_type"], "")
            r.put(*args, "on_demand", Decimal(x["ondemand_hourly"]))
            field = f"{LEASE[x['lease']]}/{OPTION[x['purchase_option']]}"
            r.put(*args, field, ("split", Decimal(x["upfront_usd"]), Decimal(x["ri_hourly"])))
    for x in rows("ec2shop/redshift_ondemand.csv"):
        r.put(
            "ec2shop 2025-03-19",
            "redshift",
            x["region"],
            x["instance_type"],
            "",
            "on_demand",
            Decimal(x["ondemand_hourly"]),
        )
    for name, service in (("elasticache", "elasticache"), ("opensearch", "es")):
        for x in rows(f"ec2instances-info-2025/{name}.csv"):
            if service == "elasticache" and x["engine"] != "Redis":
                continue
            args = ("ec2instances.info 2025-04-24", service, x["region"], x["instance_type"], "")
            r.put(*args, "on_demand", Decimal(x["ondemand_hourly"]))
            for f in RI_FIELDS:
                term, pay = f.split("/")
                col = {"no": "noUpfront", "partial": "partialUpfront", "all": "allUpfront"}[pay]
                v = x.get(f"yrTerm{term[0]}Standard.{col}_effective_hourly")
                if v:
                    r.put(*args, f, ("effective", Decimal(v)))
    for x in rows("ec2instances-info-2025/ec2_us-east-1_os_summary_2023-08.csv"):
        args = ("ec2instances.info 2023-08", "ec2", "us-east-1", x["instance_type"])
        for col, os_name in (
            ("linux_ondemand", "linux"),
            ("windows_ondemand", "windows"),
            ("sles_ondemand", "suse"),
        ):
            if Decimal(x[col] or 0) > 0:
                r.put(*args, os_name, "on_demand", Decimal(x[col]))
        if x["linux_std_ri_1yr_all_upfront_effective"]:
            r.put(
                *args, "linux", "1y/all", ("effective", Decimal(x["linux_std_ri_1yr_all_upfront_effective"]))
            )
    platforms = {
        "linux": "linux", "linuxSQL": "linux-sql-std", "linuxSQLWeb": "linux-sql-web",
        "linuxSQLEnterprise": "linux-sql-ent", "mswin": "windows", "mswinSQL": "windows-sql-std",
        "mswinSQLWeb": "windows-sql-web", "mswinSQLEnterprise": "windows-sql-ent", "rhel": "rhel",
        "rhelSQL": "rhel-sql-std", "rhelSQLWeb": "rhel-sql-web", "rhelSQLEnterprise": "rhel-sql-ent",
        "sles": "suse", "ubuntu": "ubuntu-pro",
    }  # fmt: skip
    for x in rows("vantage/ec2_x2iedn.32xlarge_all_platforms.csv"):
        os_name = platforms.get(x["platform"])
        if os_name is None:
            continue
        args = ("vantage 2025-06-11", "ec2", x["region"], x["instance_type"], os_name)
        m = re.fullmatch(r"reserved:yrTerm(\d)Standard\.(no|partial|all)Upfront", x["price_key"])
        if x["price_key"] == "ondemand":
            r.put(*args, "on_demand", Decimal(x["usd_per_hour"]))
        elif m:
            r.put(*args, f"{m.group(1)}y/{m.group(2)}", ("effective", Decimal(x["usd_per_hour"])))
    for x in rows("terracost/eu-west-1_ondemand_2023-02-23.csv"):
        price = Decimal(x["ondemand_price"])
        if x["unit"] != "Hrs" or price <= 0:
            continue
        args = ("terracost 2023-02-23", x["region"], x["instance_type"])
        if x["service"] == "AmazonEC2" and x["tenancy"] == "Shared":
            os_name = vocabulary.from_price_list(
                x["operating_system"], x["pre_installed_sw"], x["license_model"]
            )
            if os_name:
                r.put(args[0], "ec2", args[1], args[2], os_name, "on_demand", price)
        elif x["service"] == "AmazonRDS" and x["deployment_option"] == "Single-AZ":
            engine = vocabulary.engine_from_family(x["database_engine"], x["database_edition"] or None)
            if engine and "Outpost" not in x["database_engine"]:
                r.v[(args[0], "rds", args[1], args[2], engine)].setdefault("on_demand_candidates", set()).add(
                    price
                )
        elif x["service"] == "AmazonElastiCache" and x["cache_engine"] == "Redis":
            r.put(args[0], "elasticache", args[1], args[2], "", "on_demand", price)
    offer = "price-list-api-shapes/AmazonEC2_offer_sample_20250912225308.csv"
    parts: dict[tuple[str, str, str, str], dict[str, Decimal]] = defaultdict(dict)
    for x in rows(offer, skip=5):
        if x["Tenancy"] != "Shared" or x["CapacityStatus"] != "Used":
            continue
        os_name = vocabulary.from_price_list(
            x["Operating System"], x["Pre Installed S/W"], x["License Model"]
        )
        k = (x["Region Code"], x["Instance Type"], str(os_name))
        if x["TermType"] == "OnDemand":
            r.put("ec2-offer-sample 2025-09-12", "ec2", *k, "on_demand", Decimal(x["PricePerUnit"]))
        elif x["OfferingClass"] == "standard":
            f = f"{LEASE[x['LeaseContractLength']]}/{OPTION[x['PurchaseOption']]}"
            parts[(*k, f)]["upfront" if x["Unit"] == "Quantity" else "hourly"] = Decimal(x["PricePerUnit"])
    for (region, itype, os_name, f), p in parts.items():
        r.put("ec2-offer-sample 2025-09-12", "ec2", region, itype, os_name, f,
              ("split", p.get("upfront", Decimal(0)), p.get("hourly", Decimal(0))))  # fmt: skip
    sp = "price-list-api-shapes/AWSComputeSavingsPlan_ap-east-2_sample_20250911184447.csv"
    for x in rows(sp, skip=5):
        if (
            x["DiscountedUsageType"].endswith(f"BoxUsage:{x['DiscountedInstanceType']}")
            and x["DiscountedOperation"] == "RunInstances"
        ):
            f = f"ec2instance/{x['LeaseContractLength']}y/{OPTION[x['PurchaseOption']]}"
            r.put("ec2-offer-sample 2025-09-11", "ec2", "ap-east-2", x["DiscountedInstanceType"], "linux", f,
                  Decimal(x["DiscountedRate"]))  # fmt: skip
    ecs = json.loads(refdata("opencost/ecs-pricing-us-east-1.json").read_text())
    for sku, product in ecs["products"].items():
        usage = product["attributes"].get("usagetype", "")
        if not usage.startswith("USE1-Fargate-") or "Windows" in usage or "Ephemeral" in usage:
            continue
        (term,) = ecs["terms"]["OnDemand"][sku].values()
        (dim,) = term["priceDimensions"].values()
        arch = "arm64" if "ARM" in usage else "x86_64"
        field = "vcpu_hour" if "vCPU" in usage else "gb_hour"
        r.put(f"opencost {ecs['publicationDate'][:10]}", "fargate", "us-east-1", arch, "linux", field,
              Decimal(dim["pricePerUnit"]["USD"]))  # fmt: skip
    return r


@pytest.fixture(scope="module")
def prices() -> dict[tuple[str, ...], Price]:
    refdata("aws-prices/SOURCES.md")  # the checks below need the files the snapshot was built from
    return {p.key: p for p in snapshot_book()}


def value_of(p: Price, field: str) -> Any:
    if field == "on_demand":
        return p.on_demand
    if field in p.reserved:
        return p.reserved[field]
    if field in p.savings_plans:
        return p.savings_plans[field]
    return p.extra[field]


def test_every_real_price_is_its_files_number_with_its_source_and_date(
    prices: dict[tuple[str, ...], Price], real: Real
) -> None:
    checked: dict[str, int] = defaultdict(int)
    wrong = []
    for p in prices.values():
        for field, label in p.origin.items():
            if label.startswith(DERIVED):
                continue
            facts = real.v.get((label, p.service, p.region, p.type, p.variant), {})
            got = value_of(p, field)
            if field == "on_demand" and "on_demand_candidates" in facts:
                ok = got in facts["on_demand_candidates"]  # terracost: one product per licence model
            elif field not in facts:
                ok = False
            elif isinstance(facts[field], Decimal):
                ok = got == facts[field]
            elif facts[field][0] == "split":
                ok = (got.upfront, got.hourly) == facts[field][1:]
            else:  # the file gives the effective rate only (All Upfront: the whole term upfront)
                ok = abs(got.effective_hourly - facts[field][1]) <= Decimal("0.000002") and (
                    got.hourly == 0 if field.endswith("/all") else got.upfront == 0
                )
            checked[label.split(" ")[0]] += 1
            if not ok:
                wrong.append((label, p.key, field, got, facts.get(field)))
    assert wrong == []
    # every source is used, each for many prices
    assert set(checked) == {*FOLDERS, "opencost"} and min(checked.values()) >= 4, checked
    assert sum(checked.values()) == snapshot_book().header["real_prices"]


def test_the_newest_file_wins_and_every_row_is_priced(
    prices: dict[tuple[str, ...], Price], real: Real
) -> None:
    by_key: dict[tuple[str, str, str, str], list[tuple[str, Decimal]]] = defaultdict(list)
    for (label, service, region, itype, variant), facts in real.v.items():
        if service == "ec2" and variant == "linux" and "on_demand" in facts:
            if label.startswith("karpenter") and ".metal" in itype:
                continue  # SOURCES.md: not list prices
            by_key[(service, region, itype, variant)].append((label, facts["on_demand"]))
    disagree = 0
    for key, found in by_key.items():
        p = prices.get((*key, "shared"))
        assert p is not None, f"{key} is in {found[0][0]} but not in the snapshot"
        newest = max(found, key=lambda lv: lv[0].split(" ")[1])
        assert (p.origin["on_demand"], p.on_demand) == newest, key
        disagree += len({v for _, v in found}) > 1
    assert disagree >= 30  # e.g. the mid-2025 GPU price cuts: the 2025-04 number is not used
    for (label, service, region, itype, variant), facts in real.v.items():
        if service != "ec2" and "on_demand" in facts:
            assert (service, region, itype, variant, "shared") in prices, (label, service, region, itype)


def test_derived_prices_are_marked_by_a_documented_rule(prices: dict[tuple[str, ...], Price]) -> None:
    header = snapshot_book().header
    docs = (ROOT / "docs" / "prices.md").read_text()
    counts: dict[str, int] = defaultdict(int)
    for p in prices.values():
        for label in p.origin.values():
            if label.startswith(DERIVED):
                rule = label.removeprefix(f"{DERIVED} ")
                assert rule in header["rule_text"] and f"`{rule}`" in docs
                counts[rule] += 1
            else:
                assert label.split(" ")[0] in header["sources"]
        # every number has an origin
        fields = {"on_demand", *p.reserved, *p.savings_plans, *p.extra} - (
            {"on_demand"} if p.on_demand is None else set()
        )
        assert fields == set(p.origin), p.key
    assert dict(counts) == header["derived_counts"]
    # no source has a Savings Plans rate of a main region: each one is derived, and says so
    sp = [p for p in prices.values() if p.service == "ec2" and p.region in MAIN]
    assert sp and all(len(p.savings_plans) == 12 and p.is_derived(*p.savings_plans) for p in sp)


def test_os_licence_is_the_types_uplift_in_every_region(
    prices: dict[tuple[str, ...], Price], real: Real
) -> None:
    # the licence each real file shows per type and OS (OS price - Linux price of the same file and region)
    shown: dict[tuple[str, str], set[Decimal]] = defaultdict(set)
    for (label, service, region, itype, variant), facts in real.v.items():
        base = real.v.get((label, service, region, itype, "linux"), {}).get("on_demand")
        if service == "ec2" and variant != "linux" and "on_demand" in facts and base is not None:
            shown[(itype, variant)].add(facts["on_demand"] - base)
    checked = 0
    for p in prices.values():
        if p.service != "ec2" or p.variant == "linux" or p.region not in MAIN or p.on_demand is None:
            continue
        linux = prices[(p.service, p.region, p.type, "linux", "shared")]
        assert linux.on_demand is not None
        lic = p.on_demand - linux.on_demand
        if (p.type, p.variant) in shown and p.variant in ("windows", "windows-sql-std", "suse"):
            assert lic in shown[(p.type, p.variant)], (p.key, lic, shown[(p.type, p.variant)])
            checked += 1
        # reservations keep the licence whole (SUSE's: about half), in every payment option
        keep = Decimal(1) if not p.variant.startswith("suse") else None
        for f in RI_FIELDS:
            if f in p.reserved and f in linux.reserved and keep is not None:
                diff = p.reserved[f].effective_hourly - linux.reserved[f].effective_hourly
                # (upfront fees are whole dollars: an effective rate is exact to $1 / the term's hours)
                assert abs(diff - lic) <= 1 / H[f[:2]], (p.key, f)
    assert checked > 3000
    # burstable types: the licence is the type's own, not $0.046/vCPU (t3.micro Windows: +$0.0092, not +$0.092)
    t3 = prices[("ec2", "us-west-2", "t3.micro", "windows", "shared")]
    t3_linux = prices[("ec2", "us-west-2", "t3.micro", "linux", "shared")]
    assert t3.on_demand - t3_linux.on_demand in shown[("t3.micro", "windows")]  # type: ignore[operator]
    assert t3.is_derived("on_demand") and t3.origin["on_demand"] == "derived os-uplift"


def test_the_licence_rules_predict_a_2025_row_no_fit_saw(prices: dict[tuple[str, ...], Price]) -> None:
    """The offer file's m6id.2xlarge Windows + SQL Server Standard reservations (ca-central-1, 2025-09): the
    Linux rate + 8 vCPU x (Windows + SQL Standard per-vCPU rates), not discounted."""
    win = prices[("ec2", "ca-central-1", "m6id.2xlarge", "windows-sql-std", "shared")]
    linux = prices[("ec2", "ca-central-1", "m6id.2xlarge", "linux", "shared")]
    rules = snapshot_book().header["rules"]
    lic = 8 * (
        Decimal(rules["os.windows.per_vcpu_hour"]["value"])
        + Decimal(rules["os.linux-sql-std.per_vcpu_hour"]["value"])
    )
    assert not win.is_derived("1y/no", "3y/no") and not linux.is_derived("1y/no", "3y/no")
    for f in ("1y/no", "3y/no"):
        assert win.reserved[f].hourly == linux.reserved[f].hourly + lic
    # and its 3y Partial Upfront split: half the term's cost upfront (the fitted share)
    part = win.reserved["3y/partial"]
    share = part.upfront / H["3y"] / part.effective_hourly
    assert abs(share - Decimal(rules["partial.upfront_share"]["value"])) < Decimal("0.001")
    assert abs(win.on_demand - linux.on_demand - lic) < Decimal("0.000001")  # type: ignore[operator]


def effective_over_od(facts: dict[str, Any], field: str) -> float | None:
    od, v = facts.get("on_demand"), facts.get(field)
    if not isinstance(od, Decimal) or od <= 0 or v is None:
        return None
    eff = v[2] + v[1] / H[field[:2]] if v[0] == "split" else v[1]
    return float(eff / od)


def real_effective(label: str) -> bool:
    """Whether the effective rate is a source's (`ri-split`: the rule made the upfront/hourly split only;
    `ri-rescaled`: a source's ratio to on-demand, on today's on-demand)."""
    return not label.startswith(DERIVED) or label in (f"{DERIVED} ri-split", f"{DERIVED} ri-rescaled")


def within(pools: dict[tuple[str, ...], list[float]], key: tuple[str, ...], value: float) -> bool:
    """`value` within the range the real rows show for `key` (service first); a service with few rows (EC2
    Partial/All Upfront: one type; RDS All Upfront: none) is held to every service's range."""
    pool = pools.get(key, [])
    if len(pool) < 100:
        pool = [v for k, vs in pools.items() if k[1:] == key[1:] for v in vs]
    return min(pool) - 1e-4 <= value <= max(pool) + 1e-4


def test_reserved_ratios_stay_within_what_the_real_rows_show(
    prices: dict[tuple[str, ...], Price], real: Real
) -> None:
    def eff(v: Any, term: str) -> Decimal:
        return v[2] + v[1] / H[term] if v[0] == "split" else v[1]

    over_od: dict[tuple[str, ...], list[float]] = defaultdict(list)  # (service, field)
    between: dict[tuple[str, ...], list[float]] = defaultdict(list)  # (service, term, pay, other pay)
    for (_label, service, _r, _t, variant), facts in real.v.items():
        if service == "ec2" and variant != "linux":
            continue  # the licence is not discounted: Linux rows show the reservations' discount
        for f in RI_FIELDS:
            ratio = effective_over_od(facts, f)
            if ratio is not None:
                over_od[(service, f)].append(ratio)
            for g in RI_FIELDS:
                if g != f and g[:2] == f[:2] and f in facts and g in facts and eff(facts[g], g[:2]) > 0:
                    between[(service, f[:2], f[3:], g[3:])].append(
                        float(eff(facts[f], f[:2]) / eff(facts[g], g[:2]))
                    )
    checked = 0
    for p in prices.values():
        if p.on_demand is None or p.on_demand <= 0 or (p.service == "ec2" and p.variant != "linux"):
            continue
        if p.service == "rds" and p.variant not in (
            "mysql",
            "postgres",
            "aurora-mysql",
            "aurora-postgresql",
            "mariadb",
        ):
            continue
        effs = {f: p.reserved[f].effective_hourly for f in p.reserved}
        for f, e in effs.items():
            if not p.is_derived(f):
                continue
            term, pay = f.split("/")
            real_effs = [g for g in effs if g[:2] == term and g != f and real_effective(p.origin[g])]
            if real_effs:  # derived from the key's own real rate of another payment option
                assert any(
                    within(between, (p.service, term, pay, g[3:]), float(e / effs[g])) for g in real_effs
                ), (p.key, f, real_effs)
            else:  # derived from on-demand
                assert within(over_od, (p.service, f), float(e / p.on_demand)), (p.key, f)
            checked += 1
        # a derived rate never makes paying more upfront cost more per hour (the real rows sometimes do: some
        # OpenSearch 3y All Upfront offers cost more than Partial Upfront, as SOURCES.md notes)
        for term in ("1y", "3y"):
            chain = [f"{term}/{pay}" for pay in ("no", "partial", "all") if f"{term}/{pay}" in effs]
            for a, b in itertools.pairwise(chain):
                if p.is_derived(a) or p.is_derived(b):
                    assert effs[a] >= effs[b] - Decimal("0.000002"), (p.key, a, b)
    assert checked > 50000
    # the default plan (1y no upfront, EC2 Linux) uses real rates: median ratio as the files show it
    ec2 = [
        float(p.reserved["1y/no"].hourly / p.on_demand)  # type: ignore[operator]
        for p in prices.values()
        if p.service == "ec2" and p.variant == "linux" and "1y/no" in p.reserved and not p.is_derived("1y/no")
    ]
    assert len(ec2) > 14000
    assert statistics.median(ec2) == pytest.approx(statistics.median(over_od[("ec2", "1y/no")]), abs=0.002)


def test_savings_plans_are_priced_as_the_reservations_they_mirror(
    prices: dict[tuple[str, ...], Price],
) -> None:
    for p in prices.values():
        if p.service == "ec2" and p.region in MAIN and p.variant == "linux":
            for f, rate in p.reserved.items():
                assert abs(p.savings_plans[f"ec2instance/{f}"] - rate.effective_hourly) <= Decimal("0.000001")
                assert p.savings_plans[f"compute/{f}"] >= p.savings_plans[f"ec2instance/{f}"] - Decimal(
                    "0.000001"
                )
    # the only real rates (ap-east-2 r7g, EC2 Instance SP 3y partial) against the rule on the r7g family's
    # 3y partial reservations elsewhere: the same share of on-demand within 1%
    real_sp = [
        p for p in prices.values() if p.region == "ap-east-2" and "ec2instance/3y/partial" in p.savings_plans
    ]
    assert len(real_sp) >= 2 and not any(p.is_derived("ec2instance/3y/partial") for p in real_sp)
    observed = statistics.median(
        float(p.savings_plans["ec2instance/3y/partial"] / p.on_demand) for p in real_sp
    )  # type: ignore[operator]
    rule = statistics.median(
        float(p.reserved["3y/partial"].effective_hourly / p.on_demand)  # type: ignore[operator]
        for p in prices.values()
        if p.service == "ec2"
        and p.type.startswith("r7g.")
        and p.region in MAIN
        and "3y/partial" in p.reserved
    )
    assert rule == pytest.approx(observed, rel=0.01)


def test_licences_are_recorded_as_sources_md_states_them() -> None:
    text = refdata("aws-prices/SOURCES.md").read_text() + refdata("SOURCES.md").read_text()
    sources = snapshot_book().header["sources"]
    assert set(sources) == {*FOLDERS, "opencost"}
    for name, s in sources.items():
        assert s["repo"] in text, name
        at = text.index(s["repo"])
        section = text[max(0, at - 2000) : at + 2000]
        assert s["licence"].split(" ")[0].rstrip(",") in section, (name, s["licence"])
    assert "declared only in package.json" in sources["aws-price"]["licence"]


def test_multi_az_rds_is_twice_single_az_as_the_planner_prices_it() -> None:
    single: dict[tuple[str, ...], Decimal] = {}
    multi: dict[tuple[str, ...], Decimal] = {}
    for x in rows("ec2shop/rds_ondemand_ri.csv"):
        k = (x["region"], x["engine"], x["instance_type"])
        (single if x["deployment"] == "Single-AZ" else multi)[k] = Decimal(x["ondemand_hourly"])
    ratios = [multi[k] / single[k] for k in single.keys() & multi.keys()]
    # 97% within 1% of 2 (prices are rounded to the cent's tenth); a few new types cost 4x (ca-west-1 *d)
    assert sum(1 for r in ratios if abs(r - 2) <= Decimal("0.02")) / len(ratios) > 0.95


@pytest.mark.slow
def test_the_script_rebuilds_the_packaged_snapshot_byte_for_byte(tmp_path: Path) -> None:
    ref = refdata("aws-prices/SOURCES.md").parents[1]
    docs = tmp_path / "prices.md"
    docs.write_text((ROOT / "docs" / "prices.md").read_text())
    out = tmp_path / "snap.json.gz"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_price_snapshot.py"), "--refdata", str(ref),
         "--out", str(out), "--docs", str(docs)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    packaged = ROOT / "src" / "awscost" / "planning" / "pricing" / "prices-snapshot.json.gz"
    assert out.read_bytes() == packaged.read_bytes()
    assert docs.read_text() == (ROOT / "docs" / "prices.md").read_text()  # the fitted parameters, as built


def test_ships_compressed_in_the_wheel_and_not_in_the_lambda_zip(tmp_path: Path) -> None:
    import fnmatch
    import tomllib

    packaged = ROOT / "src" / "awscost" / "planning" / "pricing" / "prices-snapshot.json.gz"
    assert packaged.read_bytes()[:2] == b"\x1f\x8b" and gzip.decompress(packaged.read_bytes()).startswith(
        b"{"
    )
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "awscost"
    ]
    assert any(fnmatch.fnmatch("planning/pricing/prices-snapshot.json.gz", pat) for pat in data)
    run = subprocess.run(
        ["make", "-s", "lambda-zip", f"BUILD={tmp_path}", f"PY={sys.executable}"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    names = zipfile.ZipFile(tmp_path / "awscost-collector.zip").namelist()
    assert "awscost/planning/pricing/book.py" in names and "awscost/jobs/pricing_refresh.py" in names
    assert not [n for n in names if "prices-snapshot" in n]


def test_an_install_without_the_snapshot_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from awscost.planning.pricing.api import load_price_book

    monkeypatch.setattr(book_module, "SNAPSHOT_RESOURCE", "absent-snapshot.json.gz")
    book_module.snapshot_book.cache_clear()
    try:
        empty = snapshot_book()
        assert isinstance(empty, SnapshotBook) and len(empty) == 0 and empty.date is None
        assert book_module.snapshot_label() == "no packaged snapshot (not in this install)"
        assert empty.lookup("ec2", "m5.large", "us-east-1") is None
        notes = load_price_book(None).notes
        assert notes[0].startswith("no packaged price snapshot") and "no packaged snapshot" in notes[-1]
    finally:
        book_module.snapshot_book.cache_clear()
