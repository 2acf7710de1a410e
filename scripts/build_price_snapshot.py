#!/usr/bin/env python3
"""Build the packaged price snapshot from public AWS list prices that other projects committed to git.

    PYTHONPATH=src python scripts/build_price_snapshot.py [--refdata DIR] [--out FILE] [--docs FILE]

Reads `aws-prices/` (and the AmazonECS offer file in `opencost/`) under the refdata folder (default
`../shared/refdata` from the repo root; its SOURCES.md says where each file comes from) and writes
`src/awscost/planning/pricing/prices-snapshot.json.gz` (gzip with a zero mtime: the same inputs give the same
bytes) and the fitted parameters' table in `docs/prices.md` (between the `<!-- rules -->` markers).

Every number of the snapshot carries its origin in the row's `origin` map (field -> "source date"):
  * a real row of a source file, copied exactly (the newest source wins where several have the key);
  * `derived <rule>`: computed by one of the rules below from real rows, with parameters fitted on the real
    rows here (medians, each with its observed range and row count in the snapshot's `rules`).
Fields: `on_demand`, `1y/no` .. `3y/all` (Standard reserved: upfront + hourly), `compute/1y/no` ..
`ec2instance/3y/all` (Savings Plans $/h), `vcpu_hour` / `gb_hour` (Fargate).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from awscost.core import vocabulary  # noqa: E402
from awscost.planning.pricing.api import merge_prices, parse_price_item  # noqa: E402

DEFAULT_REFDATA = ROOT.parent / "shared" / "refdata"
DEFAULT_OUT = ROOT / "src" / "awscost" / "planning" / "pricing" / "prices-snapshot.json.gz"
DEFAULT_DOCS = ROOT / "docs" / "prices.md"

H = {"1y": Decimal(8760), "3y": Decimal(26280)}
TERMS = ("1y", "3y")
PAYMENTS = ("no", "partial", "all")
RI_FIELDS = tuple(f"{t}/{p}" for t in TERMS for p in PAYMENTS)
SP_FIELDS = tuple(f"{plan}/{t}/{p}" for plan in ("compute", "ec2instance") for t in TERMS for p in PAYMENTS)
LEASE = {"1yr": "1y", "3yr": "3y"}
OPTION = {"No Upfront": "no", "Partial Upfront": "partial", "All Upfront": "all"}
# Where the snapshot fills in, by rule, what no source has: EC2 OS variants, Savings Plans rates, Aurora and
# MariaDB, Fargate. These are the sandbox's regions (and those of the hand-written snapshot this replaces);
# elsewhere the snapshot holds real rows (plus reserved options derived from them) and `pricing refresh`
# asks the Price List for the rest.
MAIN_REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
# OS variants the snapshot derives in the main regions (the usage vocabulary's names, the sandbox's and the
# most run); real rows of the others (Linux with SQL Server, RHEL with HA or SQL, BYOL, Ubuntu Pro) are kept.
DERIVED_OS = (
    "windows",
    "windows-sql-web",
    "windows-sql-std",
    "windows-sql-ent",
    "rhel",
    "suse",
)
# SQL Server on top of a base OS: (variant, base, edition).
SQL_VARIANTS = tuple(
    (f"{base}-sql-{ed}", base, ed) for base in ("windows", "linux", "rhel") for ed in ("web", "std", "ent")
)
SIX = Decimal("0.000001")
# ec2instances.info's platform names -> the OS vocabulary (its `dedicated` and `emr` are not OSes)
VANTAGE_OS = {
    "linux": "linux",
    "linuxSQL": "linux-sql-std",
    "linuxSQLWeb": "linux-sql-web",
    "linuxSQLEnterprise": "linux-sql-ent",
    "mswin": "windows",
    "mswinSQL": "windows-sql-std",
    "mswinSQLWeb": "windows-sql-web",
    "mswinSQLEnterprise": "windows-sql-ent",
    "rhel": "rhel",
    "rhelSQL": "rhel-sql-std",
    "rhelSQLWeb": "rhel-sql-web",
    "rhelSQLEnterprise": "rhel-sql-ent",
    "sles": "suse",
    "ubuntu": "ubuntu-pro",
}


# ------------------------------------------------------------------------------------------------ sources

SOURCES: dict[str, dict[str, str]] = {
    "karpenter": {
        "title": "Karpenter's built-in EC2 on-demand price table",
        "repo": "aws/karpenter-provider-aws",
        "commit": "6fc13b5236fd04fd16ff3f9dc7490d0813994099",
        "path": "pkg/providers/pricing/zz_generated.pricing_aws.go, zz_generated.pricing_aws_us_gov.go",
        "licence": "Apache-2.0",
        "used_for": "EC2 Linux on-demand, us-east-1 and GovCloud (not its *.metal rows, which SOURCES.md "
        "shows are 6-10% above the AWS pricing page)",
    },
    "aws-price": {
        "title": "AWS pricing-page data committed in lamngockhuong/aws-price",
        "repo": "lamngockhuong/aws-price",
        "commit": "ce57d15e54b2958ec3deae2248d47ed931143b58 (ec2), 6e8bf8cec091840a2781d036646486419c057616 "
        "(redshift)",
        "path": "lib/data/pricing/ec2-transformed.json, lib/data/pricing/redshift.json",
        "licence": "MIT, declared only in package.json (the repo has no LICENSE file)",
        "used_for": "EC2 Linux on-demand in 36 Regions, Redshift on-demand",
    },
    "ec2shop": {
        "title": "AWS pricing-page data (meteredUnitMaps) committed in yeo/ec2.shop",
        "repo": "yeo/ec2.shop",
        "commit": "73696e380ae600b175f859850a726edebd1de72f, 951cd0d425fd69949e3cec7db7e8238102e2a6f6",
        "path": "data/{ec2,rds,elasticache,es,redshift}/*.json",
        "licence": "MIT (Copyright (c) 2024 Vinh Nguyen)",
        "used_for": "EC2 Linux on-demand and No Upfront Standard/Convertible RIs in 34 Regions; RDS MySQL/"
        "PostgreSQL on-demand and RIs; ElastiCache, OpenSearch, Redshift on-demand and RIs",
    },
    "ec2instances.info": {
        "title": "ec2instances.info data vendored in LeanerCloud/ec2-instances-info",
        "repo": "LeanerCloud/ec2-instances-info",
        "commit": "f9eafba8b0c94eb59a852a52c2f3c2da8370dcc5 (ElastiCache, OpenSearch), "
        "ef5638afcaa55044a865f7e8b1379341c4a3f247 (EC2 OS summary)",
        "path": "data/elasticache-instances.json, data/opensearch-instances.json, generated_instances_data.txt",
        "licence": "MIT (ec2instances.info data, 'distributed according to their MIT license', Copyright (c) "
        "2013 Garret Heaton); the repo's own code is Unlicense",
        "used_for": "ElastiCache and OpenSearch on-demand and effective RI rates; EC2 us-east-1 Windows/SUSE "
        "on-demand and 1-year All Upfront Linux RIs (Aug 2023)",
    },
    "vantage": {
        "title": "ec2instances.info test mock (one instance type, every platform)",
        "repo": "vantage-sh/ec2instances.info",
        "commit": "7c24b98f1490c6e0e5aeeb867cd5e3c4b7eed18b",
        "path": "next/utils/mocks/ec2_single_instance.json",
        "licence": "MIT (Copyright (c) 2013 Garret Heaton)",
        "used_for": "x2iedn.32xlarge: every OS x every Standard RI option in 25 Regions",
    },
    "terracost": {
        "title": "cycloidio/terracost ingest of the AWS Price List offer files",
        "repo": "cycloidio/terracost",
        "commit": "c8064e8623e6d25b83282e2c95815cb17e1ab45a",
        "path": "mysql/testdata/2023-02-23-pricing.sql.gz",
        "licence": "MIT (Copyright (c) 2020 Cycloid)",
        "used_for": "eu-west-1 on-demand of every EC2 OS / SQL Server edition and every RDS engine (Feb 2023)",
    },
    "ec2-offer-sample": {
        "title": "AmazonEC2 offer file CSV and Savings Plans offer CSV samples in jtdelia/ec2-priceit",
        "repo": "jtdelia/ec2-priceit",
        "commit": "ae128cc09a45b1a757adc76719865449464133ab",
        "path": "examples/3-global-pricing-file-sample.csv, examples/5-ap-east-2-savingsplan-pricing.csv",
        "licence": "MIT",
        "used_for": "a few EC2 OS rows (2025-09-12); the only real Savings Plans rates (ap-east-2 r7g EC2 "
        "Instance SP, 3-year Partial Upfront, 2025-09-11)",
    },
    "opencost": {
        "title": "AmazonECS offer file (us-east-1) in OpenCost's test data",
        "repo": "opencost/opencost",
        "commit": "c65611842eb964d85a1593d260ca0e1fb384b65a",
        "path": "pkg/cloud/aws/testdata/ecs-pricing-us-east-1.json",
        "licence": "Apache-2.0",
        "used_for": "Fargate Linux vCPU-hour and GB-hour, us-east-1",
    },
}


def dstr(d: Decimal) -> str:
    """A Decimal as plain text without trailing zeros ("0.204000" -> "0.204", "27411" stays)."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def q6(d: Decimal) -> Decimal:
    return d.quantize(SIX, rounding=ROUND_HALF_EVEN)


def med(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


# ------------------------------------------------------------------------------------------------ model


@dataclass
class Rate:
    """One reserved rate: upfront $ + hourly $/h; `effective_only` when the source gave only upfront/term +
    hourly (then `upfront` is 0 and `hourly` the effective rate until split)."""

    upfront: Decimal
    hourly: Decimal
    effective_only: bool = False

    def effective(self, term: str) -> Decimal:
        return self.upfront / H[term] + self.hourly


@dataclass
class Cand:
    """One real number a source gives for one field of one price."""

    value: Decimal | Rate
    source: str
    date: str  # YYYY-MM-DD or YYYY-MM
    od: Decimal | None = None  # the on-demand rate the same source gives for the key (tells stale RIs)

    @property
    def label(self) -> str:
        return f"{self.source} {self.date}"


Key = tuple[str, str, str, str]  # service, region, type, variant


class Table:
    """Candidates per key and field, then the resolved values with their origins."""

    def __init__(self) -> None:
        self.cands: dict[Key, dict[str, list[Cand]]] = defaultdict(lambda: defaultdict(list))
        self.values: dict[Key, dict[str, Decimal | Rate]] = defaultdict(dict)
        self.origin: dict[Key, dict[str, str]] = defaultdict(dict)

    def add(self, key: Key, field: str, cand: Cand) -> None:
        self.cands[key][field].append(cand)

    def set(self, key: Key, field: str, value: Decimal | Rate, origin: str) -> None:
        self.values[key][field] = value
        self.origin[key][field] = origin

    def is_real(self, key: Key, field: str) -> bool:
        o = self.origin.get(key, {}).get(field)
        return o is not None and not o.startswith("derived")

    def is_real_effective(self, key: Key, field: str) -> bool:
        """The effective rate is a source's, even where its upfront/hourly split is the fitted one."""
        o = self.origin.get(key, {}).get(field)
        return o is not None and (not o.startswith("derived") or o == "derived ri-split")


def read_csv(path: Path, skip: int = 0) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        for _ in range(skip):
            f.readline()
        yield from csv.DictReader(f)


def day(ts: str) -> str:
    return ts[:10]


def publication_date(path: Path) -> str:
    """The `Publication Date` of an offer-file CSV's preamble."""
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if row and row[0] == "Publication Date":
                return day(row[1])
    raise SystemExit(f"{path}: no Publication Date line")


# ------------------------------------------------------------------------------------------------ loaders


class Loader:
    def __init__(self, refdata: Path) -> None:
        self.ref = refdata
        self.p = refdata / "aws-prices"
        self.t = Table()
        self.vcpu: dict[str, int] = {}
        # Real OS rows keep the Linux price of their own source, so a rate whose Linux base changed since is
        # re-based instead of copied (OS price = Linux + licence uplift).
        self.os_base: dict[tuple[Key, str], Decimal] = {}
        # (region, type, term) -> (Convertible No Upfront $/h, the on-demand rate of the same file)
        self.conv: dict[tuple[str, str, str], tuple[Decimal, Decimal]] = {}
        self.vantage_conv: list[dict[str, Decimal]] = []  # x2iedn.32xlarge's Linux rates per region
        self.sp_real: dict[tuple[str, str, str], tuple[Decimal, str]] = {}  # (region, type, field)

    # -- EC2 Linux on-demand
    def karpenter(self) -> None:
        for r in read_csv(self.p / "karpenter" / "ec2_ondemand_linux.csv"):
            if r["partition"] not in ("aws",) and not r["region"].startswith("us-gov-"):
                continue  # cn-north-1 is in CNY
            if ".metal" in r["instance_type"]:
                continue  # SOURCES.md: Karpenter's metal rows are 6-10% above the AWS pricing page
            key = ("ec2", r["region"], r["instance_type"], "linux")
            self.t.add(
                key, "on_demand", Cand(Decimal(r["price_usd_per_hour"]), "karpenter", day(r["generated_at"]))
            )

    def aws_price(self) -> None:
        for r in read_csv(self.p / "awsprice-khuong" / "ec2_linux_ondemand.csv"):
            key = ("ec2", r["region"], r["instance_type"], "linux")
            self.t.add(key, "on_demand", Cand(Decimal(r["ondemand_hourly"]), "aws-price", "2025-11-03"))
        for r in read_csv(self.p / "awsprice-khuong" / "redshift_ondemand.csv"):
            key = ("redshift", r["region"], r["instance_type"], "")
            self.t.add(key, "on_demand", Cand(Decimal(r["ondemand_hourly"]), "aws-price", "2025-10-27"))

    def ec2shop_ec2(self) -> None:
        for r in read_csv(self.p / "ec2shop" / "ec2_linux_shared_ondemand_ri.csv"):
            key = ("ec2", r["region"], r["instance_type"], "linux")
            d = day(r["od_published"])
            od = Decimal(r["ondemand_hourly"])
            if r["vcpu"]:
                self.vcpu.setdefault(r["instance_type"], int(r["vcpu"]))
            self.t.add(key, "on_demand", Cand(od, "ec2shop", d))
            for term, col in (("1y", "std_1yr_no_upfront_hourly"), ("3y", "std_3yr_no_upfront_hourly")):
                if r[col]:
                    self.t.add(key, f"{term}/no", Cand(Rate(Decimal(0), Decimal(r[col])), "ec2shop", d, od))
            for term, col in (("1y", "conv_1yr_no_upfront_hourly"), ("3y", "conv_3yr_no_upfront_hourly")):
                if r[col]:
                    self.conv[(r["region"], r["instance_type"], term)] = (Decimal(r[col]), od)

    def ec2info_os(self) -> None:
        """us-east-1, Aug 2023: Linux, Windows, SUSE on-demand and the 1-year All Upfront Linux RI. Its `rhel`
        column is not used: it is RHEL on some types and RHEL with HA on others (m5.large 0.191 is Linux
        + 0.095, terracost's RHEL-with-HA uplift; m5.xlarge is Linux + 0.06, its RHEL uplift)."""
        path = self.p / "ec2instances-info-2025" / "ec2_us-east-1_os_summary_2023-08.csv"
        for r in read_csv(path):
            t, linux = r["instance_type"], Decimal(r["linux_ondemand"] or "0")
            if linux <= 0:
                continue  # retired types the file lists at 0
            if r["vcpu"]:
                self.vcpu.setdefault(t, int(float(r["vcpu"])))
            base = ("ec2", "us-east-1", t, "linux")
            self.t.add(base, "on_demand", Cand(linux, "ec2instances.info", "2023-08"))
            eff = r["linux_std_ri_1yr_all_upfront_effective"]
            if eff and Decimal(eff) > 0:
                self.t.add(
                    base,
                    "1y/all",
                    Cand(Rate(Decimal(0), Decimal(eff), True), "ec2instances.info", "2023-08", linux),
                )
            for col, os_name in (("windows_ondemand", "windows"), ("sles_ondemand", "suse")):
                v = Decimal(r[col] or "0")
                if v > 0:  # 0: not offered (Graviton)
                    key = ("ec2", "us-east-1", t, os_name)
                    self.t.add(key, "on_demand", Cand(v, "ec2instances.info", "2023-08"))
                    self.os_base[(key, "ec2instances.info")] = linux

    def terracost(self) -> None:
        """eu-west-1, 2023-02-23: every EC2 OS (shared tenancy), every RDS engine, ElastiCache."""
        linux: dict[str, Decimal] = {}
        os_rows: list[tuple[str, str, Decimal]] = []
        for r in read_csv(self.p / "terracost" / "eu-west-1_ondemand_2023-02-23.csv"):
            price = Decimal(r["ondemand_price"])
            if r["unit"] != "Hrs" or price <= 0:
                continue
            if r["service"] == "AmazonEC2":
                if r["tenancy"] != "Shared":
                    continue
                os_name = vocabulary.from_price_list(
                    r["operating_system"], r["pre_installed_sw"], r["license_model"]
                )
                if os_name is None:
                    continue
                if os_name == "linux":
                    linux[r["instance_type"]] = price
                os_rows.append((r["instance_type"], os_name, price))
            elif r["service"] == "AmazonRDS":
                if r["deployment_option"] != "Single-AZ" or "Outpost" in r["database_engine"]:
                    continue
                lic = r["license_model"]
                if r["database_engine"] == "Oracle" and lic != "Bring your own license":
                    continue  # the vocabulary's oracle-* are the BYOL (size-flexible) products
                if r["database_engine"] == "SQL Server" and lic != "License included":
                    continue
                engine = vocabulary.engine_from_family(r["database_engine"], r["database_edition"] or None)
                if engine is None:
                    continue
                key = ("rds", "eu-west-1", r["instance_type"], engine)
                self.t.add(key, "on_demand", Cand(price, "terracost", "2023-02-23"))
            elif r["service"] == "AmazonElastiCache":
                if r["cache_engine"] != "Redis":
                    continue  # Redis and Memcached cost the same; one price per node type
                key = ("elasticache", "eu-west-1", r["instance_type"], "")
                self.t.add(key, "on_demand", Cand(price, "terracost", "2023-02-23"))
        for t, os_name, price in os_rows:
            key = ("ec2", "eu-west-1", t, os_name)
            self.t.add(key, "on_demand", Cand(price, "terracost", "2023-02-23"))
            if os_name != "linux" and t in linux:
                self.os_base[(key, "terracost")] = linux[t]

    def vantage(self) -> None:
        rows: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
        for r in read_csv(self.p / "vantage" / "ec2_x2iedn.32xlarge_all_platforms.csv"):
            os_name = VANTAGE_OS.get(r["platform"])
            if os_name:
                rows[(r["region"], os_name)][r["price_key"]] = Decimal(r["usd_per_hour"])
        for (region, os_name), prices in rows.items():
            t = "x2iedn.32xlarge"
            key = ("ec2", region, t, os_name)
            od = prices.get("ondemand")
            if od is None:
                continue
            self.t.add(key, "on_demand", Cand(od, "vantage", "2025-06-11"))
            base = rows.get((region, "linux"), {}).get("ondemand")
            if os_name != "linux" and base is not None:
                self.os_base[(key, "vantage")] = base
            for term, yr in (("1y", "yrTerm1"), ("3y", "yrTerm3")):
                for pay, name in (("no", "noUpfront"), ("partial", "partialUpfront"), ("all", "allUpfront")):
                    eff = prices.get(f"reserved:{yr}Standard.{name}")
                    if eff is not None:
                        rate = Rate(Decimal(0), eff, pay != "no")
                        self.t.add(key, f"{term}/{pay}", Cand(rate, "vantage", "2025-06-11", od))
                if os_name == "linux":
                    conv = prices.get(f"reserved:{yr}Convertible.noUpfront")
                    if conv is not None:
                        self.conv[(region, t, term)] = (conv, od)  # newer than ec2shop's
            if os_name == "linux":
                self.vantage_conv.append(prices)

    def offer_sample(self) -> None:
        """The AmazonEC2 offer file CSV sample (2025-09-12): its shared-tenancy, `Used` rows; and the Savings
        Plans offer sample (ap-east-2, 2025-09-11): its Linux shared-tenancy rates."""
        path = self.p / "price-list-api-shapes" / "AmazonEC2_offer_sample_20250912225308.csv"
        pub = publication_date(path)
        terms: dict[tuple[Key, str], dict[str, Decimal]] = defaultdict(dict)
        for r in read_csv(path, skip=5):
            if r["Tenancy"] != "Shared" or r["CapacityStatus"] != "Used" or r["Currency"] != "USD":
                continue
            os_name = vocabulary.from_price_list(
                r["Operating System"], r["Pre Installed S/W"], r["License Model"]
            )
            if os_name is None:
                continue
            key = ("ec2", r["Region Code"], r["Instance Type"], os_name)
            if r["TermType"] == "OnDemand":
                self.t.add(key, "on_demand", Cand(Decimal(r["PricePerUnit"]), "ec2-offer-sample", pub))
            elif r["OfferingClass"] == "standard":
                field = f"{LEASE[r['LeaseContractLength']]}/{OPTION[r['PurchaseOption']]}"
                part = "upfront" if r["Unit"] == "Quantity" else "hourly"
                terms[(key, field)][part] = Decimal(r["PricePerUnit"])
        for (key, field), parts in terms.items():
            pay = field.split("/")[1]
            if (pay != "no" and "upfront" not in parts) or (pay != "all" and "hourly" not in parts):
                continue  # the sample holds only one of the two rows of this offering
            rate = Rate(parts.get("upfront", Decimal(0)), parts.get("hourly", Decimal(0)))
            self.t.add(key, field, Cand(rate, "ec2-offer-sample", pub))
        sp = self.p / "price-list-api-shapes" / "AWSComputeSavingsPlan_ap-east-2_sample_20250911184447.csv"
        sp_pub = publication_date(sp)
        for r in read_csv(sp, skip=5):
            usage, op = r["DiscountedUsageType"], r["DiscountedOperation"]
            if (
                ":" not in usage
                or usage.split("-", 1)[-1].split(":")[0] != "BoxUsage"
                or op != "RunInstances"
            ):
                continue  # Linux/UNIX, shared tenancy only
            # the file's ServiceCode is ComputeSavingsPlans for both kinds; the description names the plan
            plan = "ec2instance" if "EC2 Instance Savings Plan" in r["Description"] else "compute"
            field = f"{plan}/{r['LeaseContractLength']}y/{OPTION[r['PurchaseOption']]}"
            self.sp_real[(r["DiscountedRegionCode"], r["DiscountedInstanceType"], field)] = (
                Decimal(r["DiscountedRate"]),
                f"ec2-offer-sample {sp_pub}",
            )

    # -- RDS, ElastiCache, OpenSearch, Redshift
    def ec2shop_ri_file(self, name: str, service: str) -> None:
        for r in read_csv(self.p / "ec2shop" / name):
            if service == "redshift" and r["family"] not in ("Yes", "No"):
                continue
            key = (service, r["region"], r["instance_type"], "")
            od = Decimal(r["ondemand_hourly"])
            d = day(r["published"])
            self.t.add(key, "on_demand", Cand(od, "ec2shop", d))
            field = f"{LEASE[r['lease']]}/{OPTION[r['purchase_option']]}"
            rate = Rate(Decimal(r["upfront_usd"]), Decimal(r["ri_hourly"]))
            self.t.add(key, field, Cand(rate, "ec2shop", d, od))

    def rds(self) -> None:
        for r in read_csv(self.p / "ec2shop" / "rds_ondemand_ri.csv"):
            if r["deployment"] != "Single-AZ":
                continue  # the planner prices Multi-AZ as twice Single-AZ (a test checks that on these rows)
            engine = vocabulary.engine_from_family(r["engine"])
            if engine is None:
                continue
            key = ("rds", r["region"], r["instance_type"], engine)
            od, d = Decimal(r["ondemand_hourly"]), day(r["published"])
            self.t.add(key, "on_demand", Cand(od, "ec2shop", d))
            field = f"{LEASE[r['lease']]}/{OPTION[r['purchase_option']]}"
            self.t.add(
                key, field, Cand(Rate(Decimal(r["upfront_usd"]), Decimal(r["ri_hourly"])), "ec2shop", d, od)
            )

    def elasticache(self) -> None:
        for r in read_csv(self.p / "ec2shop" / "elasticache_ondemand.csv"):
            if r["engine"] == "Redis" and r["data_tiering"] == "no":
                key = ("elasticache", r["region"], r["instance_type"], "")
                self.t.add(key, "on_demand", Cand(Decimal(r["ondemand_hourly"]), "ec2shop", "2025-03-14"))
        self.ec2shop_ri_file("elasticache_ri.csv", "elasticache")
        self.ec2info_effective("elasticache.csv", "elasticache")

    def opensearch(self) -> None:
        self.ec2shop_ri_file("opensearch_ri.csv", "es")
        self.ec2info_effective("opensearch.csv", "es")

    def redshift(self) -> None:
        for r in read_csv(self.p / "ec2shop" / "redshift_ondemand.csv"):
            key = ("redshift", r["region"], r["instance_type"], "")
            self.t.add(key, "on_demand", Cand(Decimal(r["ondemand_hourly"]), "ec2shop", "2025-03-19"))
        self.ec2shop_ri_file("redshift_ri.csv", "redshift")

    def ec2info_effective(self, name: str, service: str) -> None:
        for r in read_csv(self.p / "ec2instances-info-2025" / name):
            if service == "elasticache" and r["engine"] != "Redis":
                continue
            key = (service, r["region"], r["instance_type"], "")
            if not r["ondemand_hourly"]:
                continue
            od = Decimal(r["ondemand_hourly"])
            if od <= 0:
                continue
            self.t.add(key, "on_demand", Cand(od, "ec2instances.info", "2025-04-24"))
            for term, yr in (("1y", "yrTerm1"), ("3y", "yrTerm3")):
                for pay, col in (("no", "noUpfront"), ("partial", "partialUpfront"), ("all", "allUpfront")):
                    v = r.get(f"{yr}Standard.{col}_effective_hourly")
                    if v and Decimal(v) > 0:
                        rate = Rate(Decimal(0), Decimal(v), pay != "no")
                        self.t.add(key, f"{term}/{pay}", Cand(rate, "ec2instances.info", "2025-04-24", od))

    def fargate(self) -> list[Any]:
        path = self.ref / "opencost" / "ecs-pricing-us-east-1.json"
        offer = json.loads(path.read_text(encoding="utf-8"))
        items = []
        for sku, product in offer["products"].items():
            terms = {k: v.get(sku, {}) for k, v in offer["terms"].items()}
            items.append(
                {
                    "product": product,
                    "serviceCode": offer["offerCode"],
                    "terms": {k: v for k, v in terms.items() if v},
                }
            )
        date = offer["publicationDate"][:10]
        return merge_prices(p for p in (parse_price_item(i, date=date) for i in items) if p is not None)

    def load(self) -> None:
        self.karpenter()
        self.aws_price()
        self.ec2shop_ec2()
        self.ec2info_os()
        self.terracost()
        self.vantage()
        self.offer_sample()
        self.rds()
        self.elasticache()
        self.opensearch()
        self.redshift()


# ------------------------------------------------------------------------------------------------ resolve


def newest(cands: list[Cand]) -> list[Cand]:
    return sorted(cands, key=lambda c: c.date, reverse=True)


def split_upfront(eff: Decimal, term: str, payment: str, share: Decimal) -> Rate:
    """An effective rate as (upfront, hourly): all upfront pays the term in advance; partial pays `share` of
    it upfront (whole dollars) and the rest hourly; no upfront pays hourly."""
    if payment == "no":
        return Rate(Decimal(0), q6(eff))
    if payment == "all":
        up = eff * H[term]
        whole = up.quantize(Decimal(1))
        return Rate(whole if abs(whole - up) < Decimal("0.01") else up.quantize(Decimal("0.01")), Decimal(0))
    up = (eff * H[term] * share).quantize(Decimal(1))
    return Rate(up, q6(eff - up / H[term]))


class Builder:
    def __init__(self, loader: Loader) -> None:
        self.L = loader
        self.t = loader.t
        self.rules: dict[str, dict[str, Any]] = {}

    # -- 1. real values, newest first
    def resolve_real(self) -> None:
        """The newest source's number per key and field. Effective rates still to be split into upfront and
        hourly stay `effective_only` until the Partial Upfront share is fitted (`finish_splits`)."""
        for key, fields in self.t.cands.items():
            od_c = newest(fields.get("on_demand", []))
            od = od_c[0].value if od_c else None
            if od_c:
                assert isinstance(od, Decimal)
                if key[3] not in ("linux", "") and key[0] == "ec2":
                    od = self._os_on_demand(key, od_c)
                else:
                    self.t.set(key, "on_demand", od, od_c[0].label)
            for field, cands in fields.items():
                if field == "on_demand":
                    continue
                self._resolve_rate(key, field, newest(cands), od if isinstance(od, Decimal) else None)

    def _os_on_demand(self, key: Key, cands: list[Cand]) -> Decimal | None:
        """A real OS row is copied when its own Linux price is today's Linux price; otherwise the licence it
        shows is added to today's Linux price (the OS part of the price is the licence; AWS changes the
        compute part, e.g. the 2025 GPU cuts)."""
        linux_key = (key[0], key[1], key[2], "linux")
        linux_c = newest(self.t.cands.get(linux_key, {}).get("on_demand", []))
        linux = linux_c[0].value if linux_c else None
        c = cands[0]
        assert isinstance(c.value, Decimal)
        base = self.L.os_base.get((key, c.source))
        if linux is None or base is None or base == linux:
            self.t.set(key, "on_demand", c.value, c.label)
            return c.value
        assert isinstance(linux, Decimal)
        v = linux + (c.value - base)
        self.t.set(key, "on_demand", v, "derived os-rebased")
        return v

    def _resolve_rate(self, key: Key, field: str, cands: list[Cand], od: Decimal | None) -> None:
        term, pay = field.split("/")
        top = cands[0]
        assert isinstance(top.value, Rate)
        rate = top.value
        if top.od is not None and od is not None and top.od != od:
            # the rate belongs to an older on-demand price: keep its ratio to on-demand
            eff = rate.effective(term) * od / top.od
            self.t.set(key, field, Rate(Decimal(0), eff, True), "derived ri-rescaled")
            return
        if not rate.effective_only:
            self.t.set(key, field, rate, top.label)
            return
        if pay == "no":
            self.t.set(key, field, Rate(Decimal(0), rate.hourly), top.label)
            return
        # an older source that gives the split of the same effective rate (the same offering)
        for older in cands[1:]:
            assert isinstance(older.value, Rate)
            if not older.value.effective_only and abs(older.value.effective(term) - rate.hourly) <= Decimal(
                "0.000002"
            ):
                self.t.set(key, field, older.value, older.label)
                return
        if pay == "all":  # the whole term upfront: the effective rate says it all
            self.t.set(key, field, split_upfront(rate.hourly, term, "all", Decimal(1)), top.label)
            return
        self.t.set(key, field, rate, "derived ri-split")

    def finish_splits(self) -> None:
        """Effective rates kept whole until the fit: upfront + hourly by the fitted Partial Upfront share."""
        for vals in self.t.values.values():
            for field, v in vals.items():
                if isinstance(v, Rate) and v.effective_only:
                    term, pay = field.split("/")
                    vals[field] = split_upfront(v.hourly, term, pay, self.share)

    # -- 2. fits
    def real_effective(self, service: str, field: str) -> Iterator[tuple[Key, Decimal, Decimal]]:
        """(key, effective, on-demand) of the real rates of `field` for `service`."""
        term = field.split("/")[0]
        for key, vals in self.t.values.items():
            if key[0] != service or field not in vals or not self.t.is_real_effective(key, field):
                continue
            if service == "ec2" and key[3] != "linux":
                continue  # OS licences are not discounted: the Linux rates are the compute's
            od = vals.get("on_demand")
            r = vals[field]
            if isinstance(od, Decimal) and od > 0 and isinstance(r, Rate):
                yield key, r.effective(term), od

    def rule(self, rule_id: str, description: str, values: list[float], **extra: Any) -> Decimal:
        m = Decimal(str(round(med(values), 4)))
        self.rules[rule_id] = {
            "description": description,
            "value": dstr(m),
            "n": len(values),
            "observed": [
                dstr(Decimal(str(round(min(values), 4)))),
                dstr(Decimal(str(round(max(values), 4)))),
            ],
            **extra,
        }
        return m

    def fit(self) -> None:
        t = self.t
        # Partial upfront share (upfront / (effective x term hours)), all services' real partial rows.
        shares = []
        for svc in ("ec2", "rds", "elasticache", "es", "redshift"):
            for term in TERMS:
                for key, eff, _od in self.real_effective(svc, f"{term}/partial"):
                    r = t.values[key][f"{term}/partial"]
                    assert isinstance(r, Rate)
                    if eff > 0 and not r.effective_only:
                        shares.append(float(r.upfront / H[term] / eff))
        self.share = self.rule(
            "partial.upfront_share", "Partial Upfront: share of the term's cost paid upfront", shares
        )
        # Payment ratios effective(p)/effective(no) per service and term, where both are real.
        self.pay_ratio: dict[tuple[str, str, str], Decimal] = {}
        self.pay_ratio_fam: dict[tuple[str, str, str, str], Decimal] = {}
        for svc in ("ec2", "rds", "elasticache", "es", "redshift"):
            for term in TERMS:
                for pay in ("partial", "all"):
                    vals = []
                    fam_vals: dict[str, list[float]] = defaultdict(list)
                    for key, eff, _od in self.real_effective(svc, f"{term}/{pay}"):
                        no = t.values[key].get(f"{term}/no")
                        if isinstance(no, Rate) and t.is_real(key, f"{term}/no") and no.effective(term) > 0:
                            vals.append(float(eff / no.effective(term)))
                            fam_vals[family(key[2])].append(vals[-1])
                    if vals:
                        self.pay_ratio[(svc, term, pay)] = self.rule(
                            f"{svc}.ri.{term}/{pay}_over_no",
                            f"{svc}: effective {term} {pay}-upfront / {term} no-upfront (Standard; the "
                            "family's median where it has real rows)",
                            vals,
                            families=len(fam_vals),
                        )
                        for fam, fv in fam_vals.items():
                            self.pay_ratio_fam[(svc, term, pay, fam)] = Decimal(str(round(med(fv), 4)))
        # RDS has no All Upfront rows and no No Upfront 3-year rows: all/partial pooled over the services
        # that have both (ElastiCache, OpenSearch, Redshift, EC2).
        self.all_over_partial: dict[str, Decimal] = {}
        for term in TERMS:
            vals = []
            for svc in ("ec2", "elasticache", "es", "redshift"):
                for key, eff, _od in self.real_effective(svc, f"{term}/all"):
                    p = t.values[key].get(f"{term}/partial")
                    if isinstance(p, Rate) and t.is_real_effective(key, f"{term}/partial"):
                        vals.append(float(eff / p.effective(term)))
            self.all_over_partial[term] = self.rule(
                f"ri.{term}/all_over_partial",
                f"effective {term} all-upfront / {term} partial-upfront, pooled over EC2, ElastiCache, "
                "OpenSearch and Redshift (for RDS, which publishes no All Upfront rows here)",
                vals,
            )
        # On-demand ratio of each reserved option per service and family (fallback: the service).
        self.od_ratio: dict[tuple[str, str, str], Decimal] = {}
        self.od_ratio_svc: dict[tuple[str, str], Decimal] = {}
        self.od_range: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        for svc in ("ec2", "rds", "elasticache", "es", "redshift"):
            for field in RI_FIELDS:
                by_fam: dict[str, list[float]] = defaultdict(list)
                allv = []
                for key, eff, od in self.real_effective(svc, field):
                    v = float(eff / od)
                    by_fam[family(key[2])].append(v)
                    allv.append(v)
                if not allv:
                    continue
                if len(allv) >= 100:
                    self.od_range[(svc, field)] = (
                        Decimal(str(round(min(allv), 4))),
                        Decimal(str(round(max(allv), 4))),
                    )
                self.od_ratio_svc[(svc, field)] = self.rule(
                    f"{svc}.ri.{field}_over_on_demand",
                    f"{svc}: effective {field} / on-demand (the family's median where it has real rows)",
                    allv,
                    families=len(by_fam),
                )
                for fam, vals in by_fam.items():
                    self.od_ratio[(svc, field, fam)] = Decimal(str(round(med(vals), 4)))
        # Convertible / Standard (no upfront) for Compute Savings Plans, and Convertible payment ratios.
        for term in TERMS:
            vals = []
            for (region, itype, tm), (conv, _od) in self.L.conv.items():
                if tm != term:
                    continue
                std = t.values.get(("ec2", region, itype, "linux"), {}).get(f"{term}/no")
                if isinstance(std, Rate) and std.hourly > 0:
                    vals.append(float(conv / std.hourly))
            self.rule(
                f"ec2.convertible.{term}/no_over_standard",
                f"EC2 Convertible / Standard {term} no upfront",
                vals,
            )
        self.conv_pay: dict[tuple[str, str], Decimal] = {}
        for term, yr in (("1y", "yrTerm1"), ("3y", "yrTerm3")):
            for pay, name in (("partial", "partialUpfront"), ("all", "allUpfront")):
                vals = [
                    float(p[f"reserved:{yr}Convertible.{name}"] / p[f"reserved:{yr}Convertible.noUpfront"])
                    for p in self.L.vantage_conv
                    if f"reserved:{yr}Convertible.{name}" in p and f"reserved:{yr}Convertible.noUpfront" in p
                ]
                self.conv_pay[(term, pay)] = self.rule(
                    f"ec2.convertible.{term}/{pay}_over_no",
                    f"EC2 Convertible effective {term} {pay}-upfront / no-upfront (x2iedn.32xlarge Linux, 25 Regions)",
                    vals,
                )
        self.fit_os()
        self.fit_regions()

    def fit_os(self) -> None:
        """Licence uplift = OS on-demand - Linux on-demand of the same source, type and region."""
        t = self.t
        self.uplift: dict[tuple[str, str], tuple[Decimal, str]] = {}  # (type, os) -> uplift, newest source
        region_spread: dict[tuple[str, str], set[Decimal]] = defaultdict(set)
        for (key, src), base in self.L.os_base.items():
            cands = [c for c in t.cands[key]["on_demand"] if c.source == src]
            if not cands:
                continue
            up = cands[0].value - base  # type: ignore[operator]
            region_spread[(key[2], key[3])].add(up)
            old = self.uplift.get((key[2], key[3]))
            if old is None or cands[0].date > old[1]:
                self.uplift[(key[2], key[3])] = (up, cands[0].date)
        same = sum(1 for v in region_spread.values() if len(v) == 1)
        self.rules["os.uplift_region_independent"] = {
            "description": "types x OS whose licence uplift is one value in every region and source that has "
            "it (a different value comes from a later re-pricing: the newest source's is used)",
            "value": f"{same}/{len(region_spread)}",
            "n": len(region_spread),
        }
        # Per-vCPU licence rates where the uplift is proportional (not on burstable t* types).
        self.per_vcpu: dict[str, Decimal] = {}
        # (SQL Server is licensed per vCPU with a minimum of 4; Windows per vCPU)
        for os_name, minimum in (
            ("windows", 1),
            ("linux-sql-web", 4),
            ("linux-sql-std", 4),
            ("linux-sql-ent", 4),
        ):
            vals = []
            for (itype, o), (up, _d) in self.uplift.items():
                n = self.L.vcpu.get(itype)
                if o == os_name and n and not itype.startswith("t") and up > 0:
                    vals.append(float(up / max(n, minimum)))
            self.per_vcpu[os_name] = self.rule(
                f"os.{os_name}.per_vcpu_hour",
                f"{os_name} licence $/vCPU-hour (per max(vCPU, {minimum})), non-burstable types",
                vals,
            )
        # What reservations discount of the uplift (1 = not at all), per OS and term, on the real OS RI rows.
        self.os_ri_factor: dict[tuple[str, str], Decimal] = {}
        for os_name in ("windows", "suse", "rhel", "windows-sql-std", "linux-sql-std"):
            for term in TERMS:
                vals = []
                for key, vals_ in t.values.items():
                    if key[0] != "ec2" or key[3] != os_name or not t.is_real(key, f"{term}/no"):
                        continue
                    lin = t.values.get((key[0], key[1], key[2], "linux"), {})
                    r, lr = vals_.get(f"{term}/no"), lin.get(f"{term}/no")
                    od, lod = vals_.get("on_demand"), lin.get("on_demand")
                    if (
                        isinstance(r, Rate)
                        and isinstance(lr, Rate)
                        and isinstance(od, Decimal)
                        and isinstance(lod, Decimal)
                        and od - lod > 0
                    ):
                        vals.append(float((r.hourly - lr.hourly) / (od - lod)))
                if vals:
                    self.os_ri_factor[(os_name, term)] = self.rule(
                        f"os.{os_name}.{term}_reserved_share_of_uplift",
                        f"{os_name}: the licence uplift in a {term} reservation / on demand (1 = not discounted)",
                        vals,
                    )

    def fit_regions(self) -> None:
        """Region / reference-region on-demand ratios: Linux EC2 against us-east-1 (for Fargate), RDS MySQL and
        PostgreSQL against eu-west-1 per family (for Aurora and MariaDB, whose only rows are eu-west-1's)."""
        t = self.t
        self.region_factor: dict[tuple[str, str], Decimal] = {}
        self.region_factor[("ec2", "us-east-1")] = Decimal(1)
        for region in MAIN_REGIONS[1:]:
            vals = []
            for key, v in t.values.items():
                if key[0] == "ec2" and key[1] == region and key[3] == "linux":
                    ref = t.values.get(("ec2", "us-east-1", key[2], "linux"), {}).get("on_demand")
                    od = v.get("on_demand")
                    if isinstance(ref, Decimal) and isinstance(od, Decimal) and ref > 0:
                        vals.append(float(od / ref))
            self.region_factor[("ec2", region)] = self.rule(
                f"region.ec2.{region}_over_us-east-1", f"EC2 Linux on-demand {region} / us-east-1", vals
            )
        self.rds_region: dict[tuple[str, str], Decimal] = {}
        for region in (r for r in MAIN_REGIONS if r != "eu-west-1"):
            by_fam: dict[str, list[float]] = defaultdict(list)
            allv = []
            for key, v in t.values.items():
                if key[0] == "rds" and key[1] == region and key[3] in ("mysql", "postgres"):
                    ref = t.values.get(("rds", "eu-west-1", key[2], key[3]), {}).get("on_demand")
                    od = v.get("on_demand")
                    if isinstance(ref, Decimal) and isinstance(od, Decimal) and ref > 0:
                        by_fam[family(key[2])].append(float(od / ref))
                        allv.append(float(od / ref))
            self.rds_region[(region, "*")] = self.rule(
                f"region.rds.{region}_over_eu-west-1",
                f"RDS MySQL/PostgreSQL on-demand {region} / eu-west-1 (the family's median where it has rows)",
                allv,
            )
            for fam, vals in by_fam.items():
                self.rds_region[(region, fam)] = Decimal(str(round(med(vals), 4)))

    # -- 3. derived values
    def ri_from_od(self, key: Key, field: str) -> Decimal | None:
        """A key with no real reserved rate of the term: on-demand x the fitted ratio of the term's base option
        (No Upfront where the service has real rows of it; the family's median where the family has, else the
        service's), held within the range the real rows show; the other options from the base by the payment
        ratios, so that the term's options stay in order."""
        od = self.t.values[key].get("on_demand")
        if not isinstance(od, Decimal):
            return None
        svc = key[0] if key[0] != "rds" or key[3] in ("mysql", "postgres") else "rds"
        fam = family(key[2])
        term, pay = field.split("/")
        options = [p for p in PAYMENTS if (svc, f"{term}/{p}") in self.od_ratio_svc]
        if not options:
            return None
        base = options[0]
        ratio = self.od_ratio.get((svc, f"{term}/{base}", fam)) or self.od_ratio_svc[(svc, f"{term}/{base}")]
        lo, hi = self.od_range.get((svc, f"{term}/{base}"), (ratio, ratio))
        ratio = min(max(ratio, lo), hi)
        if base == pay:
            return od * ratio
        want, have = self._over_no(svc, term, pay, fam), self._over_no(svc, term, base, fam)
        if want is not None and have is not None:
            return od * ratio * want / have
        if {pay, base} == {"partial", "all"}:  # RDS 3-year: no No Upfront offering to relate to
            f = self.all_over_partial[term]
            return od * ratio * (f if pay == "all" else 1 / f)
        return None

    def derive_reserved(self) -> None:
        """Fill the Standard reserved options no source has for a priced key."""
        t = self.t
        for key in list(t.values):
            vals = t.values[key]
            if key[0] in ("fargate",) or not isinstance(vals.get("on_demand"), Decimal):
                continue
            if key[0] == "ec2" and key[3] != "linux":
                continue  # OS rows: Linux rates + licence, below
            if key[0] == "rds" and key[3] not in (
                "mysql",
                "postgres",
                "mariadb",
                "aurora-mysql",
                "aurora-postgresql",
            ):
                continue  # licence-included engines: their reserved discounts are not MySQL's; no rule
            for term in TERMS:
                fields = [f"{term}/{p}" for p in PAYMENTS]
                if key[0] in ("rds",) and term == "3y":
                    fields = [f for f in fields if f != "3y/no"]  # RDS sells no 3-year No Upfront
                if key[0] == "redshift" and term == "3y" and f"{term}/no" not in vals:
                    fields = [f for f in fields if f != "3y/no"]  # not every Redshift node type has it
                for field in fields:
                    if field in vals:
                        continue
                    eff = self._derive_eff(key, field)
                    if eff is not None:
                        pay = field.split("/")[1]
                        t.set(key, field, split_upfront(eff, term, pay, self.share), "derived ri-payment")

    def _over_no(self, svc: str, term: str, pay: str, fam: str = "") -> Decimal | None:
        """The fitted effective(pay) / effective(no upfront) of the family (where it has real rows of both),
        else of the service, for the term (None when unknown)."""
        if pay == "no":
            return Decimal(1)
        found = self.pay_ratio_fam.get((svc, term, pay, fam)) or self.pay_ratio.get((svc, term, pay))
        if found is None and pay == "all":
            partial = self._over_no(svc, term, "partial", fam)
            return None if partial is None else partial * self.all_over_partial[term]
        return found

    def _derive_eff(self, key: Key, field: str) -> Decimal | None:
        """From a source's rate of another payment option of the same key and term (the nearest option
        first), by the fitted payment ratios (the family's where it has real rows: Redshift dc2 Partial
        Upfront is 0.83 of No Upfront, ra3 0.96); with none, from on-demand (`ri_from_od`)."""
        term, pay = field.split("/")
        vals = self.t.values[key]
        svc = key[0]
        at = PAYMENTS.index(pay)
        anchors = [p for p in PAYMENTS if p != pay and isinstance(vals.get(f"{term}/{p}"), Rate)]
        anchors.sort(key=lambda p: (abs(PAYMENTS.index(p) - at), PAYMENTS.index(p)))
        # a rescaled rate keeps a real rate's ratio to on-demand: as good an anchor as the real one
        real = [
            p
            for p in anchors
            if self.t.is_real_effective(key, f"{term}/{p}")
            or self.t.origin[key][f"{term}/{p}"] == "derived ri-rescaled"
        ]
        if not real:
            from_od = self.ri_from_od(key, field)
            if from_od is not None:
                return from_od
        for anchor in real + [p for p in anchors if p not in real]:
            rate = vals[f"{term}/{anchor}"]
            assert isinstance(rate, Rate)
            fam = family(key[2])
            want, have = self._over_no(svc, term, pay, fam), self._over_no(svc, term, anchor, fam)
            if want is not None and have is not None:
                return rate.effective(term) * want / have
            if {pay, anchor} == {"partial", "all"}:  # RDS 3-year: no No Upfront offering to relate to
                f = self.all_over_partial[term]
                return rate.effective(term) * (f if pay == "all" else 1 / f)
        return self.ri_from_od(key, field)

    def derive_rds_engines(self) -> None:
        """Aurora and MariaDB in the main regions: eu-west-1's on-demand x the region's MySQL/PostgreSQL ratio."""
        t = self.t
        for key in [k for k in t.values if k[0] == "rds" and k[1] == "eu-west-1"]:
            if key[3] not in ("aurora-mysql", "aurora-postgresql", "mariadb"):
                continue
            od = t.values[key].get("on_demand")
            assert isinstance(od, Decimal)
            for region in MAIN_REGIONS:
                nk = ("rds", region, key[2], key[3])
                if region == "eu-west-1" or "on_demand" in t.values.get(nk, {}):
                    continue
                f = self.rds_region.get((region, family(key[2]))) or self.rds_region[(region, "*")]
                t.set(nk, "on_demand", q6(od * f), "derived region-rds")

    def derive_os(self) -> None:
        """OS variants in the main regions: Linux + the type's licence uplift (newest real row of that type and
        OS, any region), else the per-vCPU rule (Windows and SQL Server, non-burstable types)."""
        t = self.t
        for key in [k for k in t.values if k[0] == "ec2" and k[3] == "linux" and k[1] in MAIN_REGIONS]:
            od = t.values[key].get("on_demand")
            if not isinstance(od, Decimal):
                continue
            for os_name in DERIVED_OS:
                nk = (key[0], key[1], key[2], os_name)
                if "on_demand" in t.values.get(nk, {}):
                    continue
                up = self.os_uplift(key[2], os_name)
                if up is not None:
                    t.set(nk, "on_demand", od + up, "derived os-uplift")

    def os_uplift(self, itype: str, os_name: str) -> Decimal | None:
        known = self.uplift.get((itype, os_name))
        if known is not None:
            return known[0]
        n = self.L.vcpu.get(itype)
        if not n or itype.startswith("t") or is_graviton(itype):
            return None
        if os_name in self.per_vcpu:
            minimum = 4 if "sql" in os_name else 1
            return q6(self.per_vcpu[os_name] * max(n, minimum))
        for variant, base, ed in SQL_VARIANTS:
            if variant == os_name and base == "windows":
                win = self.os_uplift(itype, "windows")
                sql = self.os_uplift(itype, f"linux-sql-{ed}")
                return None if win is None or sql is None else win + sql
        return None

    def os_reserved(self) -> None:
        """Reserved rates of OS rows: the Linux rate + the licence uplift x the share a reservation keeps of it
        (1 for Windows, SQL Server and RHEL: not discounted; about half for SUSE)."""
        t = self.t
        # an OS row with reserved rates only (the offer sample's): on-demand = Linux + uplift
        for key in [
            k for k in t.values if k[0] == "ec2" and k[3] != "linux" and "on_demand" not in t.values[k]
        ]:
            lin_od = t.values.get((key[0], key[1], key[2], "linux"), {}).get("on_demand")
            up = self.os_uplift(key[2], key[3])
            if isinstance(lin_od, Decimal) and up is not None:
                t.set(key, "on_demand", lin_od + up, "derived os-uplift")
        for key in [k for k in t.values if k[0] == "ec2" and k[3] != "linux"]:
            vals = t.values[key]
            lin = t.values.get((key[0], key[1], key[2], "linux"), {})
            od, lod = vals.get("on_demand"), lin.get("on_demand")
            if not isinstance(od, Decimal) or not isinstance(lod, Decimal):
                continue
            up = od - lod
            for field in RI_FIELDS:
                if field in vals:
                    continue
                term, pay = field.split("/")
                lr = lin.get(field)
                if not isinstance(lr, Rate):
                    continue
                factor = self.os_factor(key[3], term)
                eff = lr.effective(term) + up * factor
                t.set(key, field, split_upfront(eff, term, pay, self.share), "derived os-uplift")

    def os_factor(self, os_name: str, term: str) -> Decimal:
        if os_name.startswith("suse"):
            return self.os_ri_factor.get(("suse", term), Decimal(1))
        return Decimal(1)

    def savings_plans(self) -> None:
        """Savings Plans rates ($/h) in the main regions: an EC2 Instance SP costs what the Standard RI of the
        same term and payment costs (effective rate); a Compute SP what the Convertible RI costs (its No
        Upfront rate, x the fitted Convertible payment ratios). OS rows add the licence as reservations do."""
        t = self.t
        conv_std = {
            term: Decimal(self.rules[f"ec2.convertible.{term}/no_over_standard"]["value"]) for term in TERMS
        }
        for key in [k for k in t.values if k[0] == "ec2" and k[1] in MAIN_REGIONS]:
            vals = t.values[key]
            lin_key = (key[0], key[1], key[2], "linux")
            lin = t.values.get(lin_key, {})
            od, lod = vals.get("on_demand"), lin.get("on_demand")
            if not isinstance(od, Decimal) or not isinstance(lod, Decimal):
                continue
            up = od - lod
            for term in TERMS:
                factor = self.os_factor(key[3], term) if key[3] != "linux" else Decimal(0)
                std_no = lin.get(f"{term}/no")
                conv = None
                found = self.L.conv.get((key[1], key[2], term))
                if found is not None:
                    conv = found[0] * lod / found[1]  # x 1 unless on-demand has changed since
                elif isinstance(std_no, Rate):
                    conv = std_no.hourly * conv_std[term]
                for pay in PAYMENTS:
                    std = lin.get(f"{term}/{pay}")
                    if isinstance(std, Rate):
                        t.set(
                            key,
                            f"ec2instance/{term}/{pay}",
                            q6(std.effective(term) + up * factor),
                            "derived sp",
                        )
                    if conv is not None:
                        c = conv if pay == "no" else conv * self.conv_pay[(term, pay)]
                        t.set(key, f"compute/{term}/{pay}", q6(c + up * factor), "derived sp")
        for (region, itype, field), (rate, label) in self.L.sp_real.items():
            key = ("ec2", region, itype, "linux")
            if key in t.values:
                t.set(key, field, rate, label)

    def fargate(self, prices: list[Any]) -> None:
        for p in prices:
            for region in MAIN_REGIONS:
                key = ("fargate", region, p.type, "linux")
                for name in ("vcpu_hour", "gb_hour"):
                    v = p.extra[name]
                    if region == p.region:
                        self.t.set(key, name, v, f"opencost {p.date}")
                    else:
                        f = self.region_factor[("ec2", region)]
                        self.t.set(key, name, q6(v * f), "derived region-ec2")

    def build(self, fargate: list[Any]) -> None:
        self.resolve_real()
        self.fit()
        self.finish_splits()
        self.derive_rds_engines()
        self.derive_reserved()
        self.derive_os()
        self.os_reserved()
        self.savings_plans()
        self.fargate(fargate)


def family(itype: str) -> str:
    """The family of a type: `m5`, `db.r6g`, `cache.t3`, `r6g` (of `r6g.large.search`)."""
    parts = itype.split(".")
    if parts[0] in ("db", "cache") and len(parts) > 1:
        return f"{parts[0]}.{parts[1]}"
    return parts[0]


def is_graviton(itype: str) -> bool:
    return bool(re.match(r"^[a-z]+\d+[a-z]*g[a-z]*\.", itype)) and not itype.startswith(("g", "p"))


# ------------------------------------------------------------------------------------------------ output

RULE_TEXT = {
    "ri-payment": "a reserved option no source has: effective rate = a real rate of another payment option of "
    "the same key and term (the nearest) x the service's fitted payment ratios (RDS All Upfront: x the pooled "
    "all/partial ratio); with no real rate of the term, on-demand x the family's fitted ratio of the option (or "
    "of another option x the payment ratios, or the service's), held within the range the real rows of the "
    "option show. Partial Upfront pays the fitted share upfront in whole dollars, All Upfront the whole term.",
    "ri-split": "the source gives only the effective rate of a Partial Upfront offering: upfront = the fitted "
    "share of it, in whole dollars; the rest hourly.",
    "ri-rescaled": "a reserved rate from an older file whose on-demand rate has changed since: scaled by the "
    "new on-demand rate / the old one.",
    "os-rebased": "a real OS row whose Linux price has changed since: today's Linux price + the licence that "
    "row shows.",
    "os-uplift": "an OS variant no source has in the region: Linux + the licence uplift of the same type and "
    "OS in the newest real row (uplifts are region-independent, see the rules), else the fitted per-vCPU "
    "rate (Windows, SQL Server; not burstable or Graviton types). Reserved and Savings Plans rates add the "
    "uplift x the share reservations keep of it (1: not discounted; SUSE about half).",
    "region-rds": "Aurora and MariaDB outside eu-west-1: eu-west-1's price x the fitted MySQL/PostgreSQL "
    "ratio of the region (per family).",
    "region-ec2": "Fargate outside us-east-1: us-east-1's rate x the fitted EC2 Linux ratio of the region.",
    "sp": "Savings Plans: EC2 Instance SP = the Standard RI of the same term and payment (effective); Compute "
    "SP = the Convertible RI (its No Upfront rate from ec2shop, else Standard x the fitted ratio, x the "
    "fitted Convertible payment ratios). Checked against the only real rates (ap-east-2 r7g).",
}


def rows_out(t: Table) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for key in sorted(t.values):
        vals, origin = t.values[key], t.origin[key]
        if "on_demand" not in vals and not any(f in vals for f in ("vcpu_hour", "gb_hour")):
            continue
        service, region, itype, variant = key
        row: dict[str, Any] = {"service": service, "region": region, "type": itype, "variant": variant}
        if "on_demand" in vals:
            row["on_demand"] = dstr(vals["on_demand"])  # type: ignore[arg-type]
        reserved = {}
        for f in RI_FIELDS:
            r = vals.get(f)
            if isinstance(r, Rate):
                reserved[f] = [dstr(r.upfront), dstr(r.hourly)]
        if reserved:
            row["reserved"] = reserved
        sp = {f: dstr(vals[f]) for f in SP_FIELDS if isinstance(vals.get(f), Decimal)}  # type: ignore[arg-type]
        if sp:
            row["savings_plans"] = sp
        for f in ("vcpu_hour", "gb_hour"):
            if f in vals:
                row[f] = dstr(vals[f])  # type: ignore[arg-type]
        # origin: "source date" (or "derived <rule>") -> the fields it gave, space-separated
        by_label: dict[str, list[str]] = defaultdict(list)
        for f in ("on_demand", *RI_FIELDS, *SP_FIELDS, "vcpu_hour", "gb_hour"):
            if f in origin and (
                f in row or f in row.get("reserved", {}) or f in row.get("savings_plans", {})
            ):
                by_label[origin[f]].append(f)
        row["origin"] = {label: " ".join(fs) for label, fs in by_label.items()}
        out.append(row)
    return out


def render_rules(doc: dict[str, Any]) -> str:
    lines = [
        "| parameter | fitted value | observed range | rows |",
        "|---|---|---|---|",
    ]
    for rid, r in sorted(doc["rules"].items()):
        rng = " – ".join(r["observed"]) if "observed" in r else ""
        lines.append(f"| `{rid}` | {r['value']} | {rng} | {r['n']} |")
    lines.append("")
    lines.append("| rule (`derived <rule>`) | prices | what it does |")
    lines.append("|---|---|---|")
    for rid, text in RULE_TEXT.items():
        lines.append(f"| `{rid}` | {doc['derived_counts'].get(rid, 0)} | {text} |")
    return "\n".join(lines)


def write_docs(path: Path, doc: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = "<!-- rules -->", "<!-- /rules -->"
    if start not in text or end not in text:
        raise SystemExit(f"{path}: no {start} ... {end} block to rewrite")
    head, rest = text.split(start, 1)
    _old, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{render_rules(doc)}\n{end}{tail}", encoding="utf-8")


def build(refdata: Path) -> dict[str, Any]:
    loader = Loader(refdata)
    loader.load()
    b = Builder(loader)
    b.build(loader.fargate())
    rows = rows_out(b.t)
    counts: dict[str, int] = defaultdict(int)
    real = 0
    for r in rows:
        for label, fields in r["origin"].items():
            n = len(fields.split())
            if label.startswith("derived "):
                counts[label.split(" ", 1)[1]] += n
            else:
                real += n
    dates = sorted({o.split(" ", 1)[1] for r in rows for o in r["origin"] if not o.startswith("derived")})
    return {
        "kind": "awscost price snapshot",
        "format": 2,
        "source": "snapshot",
        # The date of the newest price in the snapshot; each price says its own in `origin`.
        "date": dates[-1],
        "currency": "USD",
        "built_by": "scripts/build_price_snapshot.py from ../shared/refdata/aws-prices (SOURCES.md) and "
        "../shared/refdata/opencost/ecs-pricing-us-east-1.json",
        "notes": [
            "Public AWS list prices that other projects committed to git, copied exactly; where several "
            "files price the same thing the newest wins. `origin` names each price's source and date.",
            "Prices marked `derived <rule>` are computed by the rules below from real rows, with parameters "
            "fitted on the real rows (see `rules` and docs/prices.md). No Savings Plans rate of the main "
            "regions is real.",
            "`awscost pricing refresh` replaces these with the AWS Price List API for the types you run.",
        ],
        "main_regions": list(MAIN_REGIONS),
        "sources": SOURCES,
        "rule_text": RULE_TEXT,
        "rules": b.rules,
        "real_prices": real,
        "derived_counts": dict(sorted(counts.items())),
        "rows": len(rows),
        "prices": rows,
    }


def write_gz(path: Path, doc: dict[str, Any]) -> int:
    """The snapshot as lines: the header (everything but the prices) as JSON, then one line per service and
    region, `<service> <region>` TAB the JSON list of its prices, so that a reader parses only the shards it
    looks prices up in."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in doc["prices"]:
        by[f"{r['service']} {r['region']}"].append(r)
    header = {k: v for k, v in doc.items() if k != "prices"}
    header["shards"] = sorted(by)
    lines = [json.dumps(header, separators=(",", ":"))]
    lines += [f"{k}\t{json.dumps(v, separators=(',', ':'))}" for k, v in sorted(by.items())]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(body)
    path.write_bytes(buf.getvalue())
    return len(body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--refdata", type=Path, default=DEFAULT_REFDATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--docs", type=Path, default=DEFAULT_DOCS)
    args = ap.parse_args(argv)
    if not (args.refdata / "aws-prices" / "SOURCES.md").exists():
        print(f"error: no aws-prices/SOURCES.md under {args.refdata}", file=sys.stderr)
        return 2
    doc = build(args.refdata)
    raw = write_gz(args.out, doc)
    write_docs(args.docs, doc)
    print(
        f"wrote {args.out} ({doc['rows']} rows, {doc['real_prices']} real prices, "
        f"{sum(doc['derived_counts'].values())} derived, {raw} bytes of JSON, "
        f"{args.out.stat().st_size} gzipped); rules in {args.docs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
