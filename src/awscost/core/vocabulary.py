"""One vocabulary of operating systems and database engines, with every AWS source's spelling beside each name.

Usage keys, reservation keys, prices, Cost Explorer answers, bills and imported items all meet on these names,
so each source's spelling is written once, in one row, here:

    OS              our name          PlatformDetails / RI ProductDescription   RunInstances code  Price List
                    linux             Linux/UNIX                                 (none)             Linux / NA
                    windows-sql-std   Windows with SQL Server Standard           0006               Windows / SQL Std
    DB engine       postgres          (RDS Engine, our name)  Price List PostgreSQL   CE PostgreSQL  RI postgresql

`PlatformDetails` (instances, AMIs), the EC2 RI `ProductDescription`, Cost Explorer's recommendation `Platform`
and the Savings Plans rate `productDescription` all use AWS's billing-product names; the `RunInstances:<code>`
usage operation is the same product in bills; the Price List names it by `operatingSystem` + `preInstalledSw`
+ `licenseModel`. SQL Server Express is free and billed as its base OS, so its spellings are aliases of that
OS. CentOS, Amazon Linux, Ubuntu and Debian AMIs are `linux` (the original counted CentOS as RHEL and SUSE as
`sles` in usage but `suse` in reservations). `unknown` when nothing tells.

Engines use the RDS API's own `Engine` values (what DescribeDBInstances returns, so a collected usage key
needs no translation). Sources that name an engine family and an edition apart (Price List, Cost Explorer:
"Oracle" + "Enterprise") are looked up by both.

Only the standard library is imported here: collectors use it in a Lambda.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UNKNOWN = "unknown"


@dataclass(frozen=True)
class OperatingSystem:
    name: str  # our vocabulary, the OS part of `ec2os` / `ri-ec2` keys
    platform: str  # PlatformDetails, RI ProductDescription, CE Platform, SP productDescription
    operation: str  # the RunInstances usage-operation code ("" for plain Linux/UNIX)
    price_list: tuple[str, str, str]  # Price List operatingSystem, preInstalledSw, licenseModel
    size_flexible: bool = False  # regional RIs apply across sizes (AWS: Linux/UNIX, shared tenancy only)


# The Price List's EC2 licence models: Windows and SQL Server licences included in the price are "No License
# required" too (seen in AWS's offer file); only BYOL products say otherwise.
_NO_LICENSE = "No License required"
_BYOL = "Bring your own license"

OPERATING_SYSTEMS: tuple[OperatingSystem, ...] = (
    OperatingSystem("linux", "Linux/UNIX", "", ("Linux", "NA", _NO_LICENSE), size_flexible=True),
    OperatingSystem("linux-sql-web", "Linux with SQL Server Web", "0200", ("Linux", "SQL Web", _NO_LICENSE)),
    OperatingSystem(
        "linux-sql-std", "Linux with SQL Server Standard", "0004", ("Linux", "SQL Std", _NO_LICENSE)
    ),
    OperatingSystem(
        "linux-sql-ent", "Linux with SQL Server Enterprise", "0100", ("Linux", "SQL Ent", _NO_LICENSE)
    ),
    OperatingSystem("rhel", "Red Hat Enterprise Linux", "0010", ("RHEL", "NA", _NO_LICENSE)),
    OperatingSystem("rhel-byol", "Red Hat BYOL Linux", "00g0", ("RHEL", "NA", _BYOL)),
    OperatingSystem(
        "rhel-sql-web",
        "Red Hat Enterprise Linux with SQL Server Web",
        "0210",
        ("RHEL", "SQL Web", _NO_LICENSE),
    ),
    OperatingSystem(
        "rhel-sql-std",
        "Red Hat Enterprise Linux with SQL Server Standard",
        "0014",
        ("RHEL", "SQL Std", _NO_LICENSE),
    ),
    OperatingSystem(
        "rhel-sql-ent",
        "Red Hat Enterprise Linux with SQL Server Enterprise",
        "0110",
        ("RHEL", "SQL Ent", _NO_LICENSE),
    ),
    OperatingSystem(
        "rhel-ha",
        "Red Hat Enterprise Linux with HA",
        "1010",
        ("Red Hat Enterprise Linux with HA", "NA", _NO_LICENSE),
    ),
    OperatingSystem(
        "rhel-ha-sql-std",
        "Red Hat Enterprise Linux with SQL Server Standard and HA",
        "1014",
        ("Red Hat Enterprise Linux with HA", "SQL Std", _NO_LICENSE),
    ),
    OperatingSystem(
        "rhel-ha-sql-ent",
        "Red Hat Enterprise Linux with SQL Server Enterprise and HA",
        "1110",
        ("Red Hat Enterprise Linux with HA", "SQL Ent", _NO_LICENSE),
    ),
    OperatingSystem("suse", "SUSE Linux", "000g", ("SUSE", "NA", _NO_LICENSE)),
    OperatingSystem("ubuntu-pro", "Ubuntu Pro", "0g00", ("Ubuntu Pro", "NA", _NO_LICENSE)),
    OperatingSystem("windows", "Windows", "0002", ("Windows", "NA", _NO_LICENSE)),
    OperatingSystem("windows-byol", "Windows BYOL", "0800", ("Windows", "NA", _BYOL)),
    OperatingSystem(
        "windows-sql-web", "Windows with SQL Server Web", "0202", ("Windows", "SQL Web", _NO_LICENSE)
    ),
    OperatingSystem(
        "windows-sql-std", "Windows with SQL Server Standard", "0006", ("Windows", "SQL Std", _NO_LICENSE)
    ),
    OperatingSystem(
        "windows-sql-ent", "Windows with SQL Server Enterprise", "0102", ("Windows", "SQL Ent", _NO_LICENSE)
    ),
)
OS_NAMES: tuple[str, ...] = tuple(o.name for o in OPERATING_SYSTEMS)
_OS = {o.name: o for o in OPERATING_SYSTEMS}

# Other spellings of the same billing products: SQL Server Express (free, billed as the base OS), the EC2-Classic
# era's "(Amazon VPC)" RI descriptions (stripped before lookup), and the original system's `sles`.
_PLATFORM_ALIASES = {
    "windows with sql server express": "windows",
    "linux with sql server express": "linux",
    "red hat enterprise linux with sql server express": "rhel",
    "sles": "suse",
}
BY_PLATFORM: dict[str, str] = {o.platform.lower(): o.name for o in OPERATING_SYSTEMS} | _PLATFORM_ALIASES
BY_OPERATION: dict[str, str] = {o.operation: o.name for o in OPERATING_SYSTEMS}
BY_PRICE_LIST: dict[tuple[str, str, str], str] = {
    (os_.lower(), sw.lower(), lic.lower()): o.name
    for o in OPERATING_SYSTEMS
    for os_, sw, lic in [o.price_list]
}


def os_entry(name: str) -> OperatingSystem | None:
    return _OS.get(name)


def from_platform_details(text: str | None) -> str | None:
    """`PlatformDetails`, RI `ProductDescription`, CE `Platform`, SP `productDescription` -> OS name; None
    when the string is absent or names no product we know."""
    if not text:
        return None
    low = re.sub(r"\s*\(amazon vpc\)\s*$", "", text.strip().lower())
    return BY_PLATFORM.get(low)


def from_operation(operation: str) -> str | None:
    """A bill's `RunInstances[:code]` -> OS name; None for another operation or an unknown code."""
    op, _, code = operation.strip().partition(":")
    if op != "RunInstances":
        return None
    return BY_OPERATION.get(code.lower())


def from_price_list(
    operating_system: str, pre_installed_sw: str = "NA", license_model: str = ""
) -> str | None:
    """Price List (and CUR `product/*`) operatingSystem + preInstalledSw + licenseModel -> OS name.

    The license model is optional: without it, the product with its licence in the price is meant (what a
    bill's `product/operatingSystem` alone describes); BYOL products need it said."""
    os_low, sw_low = operating_system.strip().lower(), (pre_installed_sw or "NA").strip().lower()
    return BY_PRICE_LIST.get((os_low, sw_low, (license_model or _NO_LICENSE).strip().lower()))


def _sql_edition(text: str) -> str:
    """`-sql-ent|std|web` from an AMI name/description that mentions SQL Server; Express counts as none."""
    low = text.lower()
    if "sql" not in low:
        return ""
    after = low[low.index("sql") :]  # "Red Hat Enterprise Linux with SQL Server Standard": not "enterprise"
    for word, short in (("enterprise", "ent"), ("standard", "std"), ("web", "web")):
        if word in after:
            return f"-sql-{short}"
    return ""


_LINUX_WORDS = (
    "amzn",
    "amazon linux",
    "al2",
    "ubuntu",
    "debian",
    "centos",
    "rocky",
    "alma",
    "fedora",
    "bottlerocket",
    "coreos",
    "linux",
)


def from_image(image: dict[str, object]) -> str:
    """OS of a describe_images entry: its PlatformDetails, else its Platform and name/description (AMIs that
    predate PlatformDetails, emulators)."""
    found = from_platform_details(str(image.get("PlatformDetails") or "") or None)
    if found:
        return found
    text = f"{image.get('Name') or ''} {image.get('Description') or ''}".lower()
    if str(image.get("Platform") or "").lower() == "windows" or "windows" in text:
        return "windows" + _sql_edition(text.replace("sql_", "sql "))
    if "centos" in text:
        return "linux"  # CentOS is free Linux, not RHEL
    if re.search(r"\brhel\b|red hat|rhel-", text):
        return "rhel" + _sql_edition(text)
    if "suse" in text or "sles" in text:
        return "suse"
    if "ubuntu pro" in text:
        return "ubuntu-pro"
    if any(w in text for w in _LINUX_WORDS):
        return "linux" + _sql_edition(text)
    return UNKNOWN


# ---------------------------------------------------------------- database engines


@dataclass(frozen=True)
class Engine:
    name: str  # the RDS API's Engine value: our vocabulary, the engine part of `rds` / `ri-rds` keys
    family: str  # Price List / CUR `databaseEngine`, Cost Explorer `DatabaseEngine`
    edition: (
        str | None
    )  # Price List / CUR `databaseEdition`, Cost Explorer `DatabaseEdition` (None: not split)
    reserved: str  # RDS reserved DB instance ProductDescription (license suffix "(li)" / "(byol)" dropped)
    size_flexible: bool  # RDS applies reservations across the family's sizes (AWS: not license-included
    # SQL Server, Oracle license-included or Db2; Oracle here is taken as BYOL, the flexible case)


ENGINES: tuple[Engine, ...] = (
    Engine("mysql", "MySQL", None, "mysql", True),
    Engine("postgres", "PostgreSQL", None, "postgresql", True),
    Engine("mariadb", "MariaDB", None, "mariadb", True),
    Engine("aurora-mysql", "Aurora MySQL", None, "aurora-mysql", True),
    Engine("aurora-postgresql", "Aurora PostgreSQL", None, "aurora-postgresql", True),
    Engine("oracle-ee", "Oracle", "Enterprise", "oracle-ee", True),
    Engine("oracle-se2", "Oracle", "Standard Two", "oracle-se2", True),
    Engine("sqlserver-ee", "SQL Server", "Enterprise", "sqlserver-ee", False),
    Engine("sqlserver-se", "SQL Server", "Standard", "sqlserver-se", False),
    Engine("sqlserver-web", "SQL Server", "Web", "sqlserver-web", False),
    Engine("sqlserver-ex", "SQL Server", "Express", "sqlserver-ex", False),
    Engine("db2-se", "Db2", "Standard", "db2-se", False),
    Engine("db2-ae", "Db2", "Advanced", "db2-ae", False),
)
ENGINE_NAMES: tuple[str, ...] = tuple(e.name for e in ENGINES)
_ENGINE = {e.name: e for e in ENGINES}
# Spellings AWS also uses: the first Aurora (MySQL 5.6) reserved instances say `aurora`, and some older
# Price List rows say `Aurora MySQL` as `Amazon Aurora MySQL`.
_RESERVED_ALIASES = {"aurora": "aurora-mysql"}
BY_RESERVED: dict[str, str] = {e.reserved: e.name for e in ENGINES} | _RESERVED_ALIASES
BY_FAMILY: dict[tuple[str, str | None], str] = {
    (e.family.lower(), (e.edition or "").lower() or None): e.name for e in ENGINES
}


def engine_entry(name: str) -> Engine | None:
    return _ENGINE.get(name)


def engine_from_reserved(product_description: str) -> str:
    """Reserved DB instance ProductDescription (`postgresql`, `oracle-se2(li)`) -> engine name. A description
    we do not know is kept, lower-cased without its license suffix, so it still matches its own usage key."""
    low = product_description.strip().lower().split("(")[0].strip()
    return BY_RESERVED.get(low, low)


def engine_from_family(family: str, edition: str | None = None) -> str | None:
    """Price List / CUR / Cost Explorer `databaseEngine` (+ `databaseEdition` where one family has several) ->
    engine name; None when it cannot tell (an edition-less "Oracle", an unknown family)."""
    low = family.strip().lower().removeprefix("amazon ")
    ed = (edition or "").strip().lower() or None
    found = BY_FAMILY.get((low, ed)) or BY_FAMILY.get((low, None))
    if found is None and low in _OUR_ENGINE_SPELLINGS:
        return low  # already our vocabulary (the sandbox's bill, an export that writes Engine values)
    return found


_OUR_ENGINE_SPELLINGS = frozenset(ENGINE_NAMES)


# Region code -> the location name AWS's Price List and CUR (`product/location`) use. A bill line without
# `product/location` (some global and data-transfer lines) still gets its FOCUS RegionName from this.
REGION_NAMES: dict[str, str] = {
    "af-south-1": "Africa (Cape Town)",
    "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-south-2": "Asia Pacific (Hyderabad)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-southeast-4": "Asia Pacific (Melbourne)",
    "ca-central-1": "Canada (Central)",
    "ca-west-1": "Canada West (Calgary)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-central-2": "EU (Zurich)",
    "eu-north-1": "EU (Stockholm)",
    "eu-south-1": "EU (Milan)",
    "eu-south-2": "EU (Spain)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "il-central-1": "Israel (Tel Aviv)",
    "me-central-1": "Middle East (UAE)",
    "me-south-1": "Middle East (Bahrain)",
    "sa-east-1": "South America (Sao Paulo)",
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-gov-east-1": "AWS GovCloud (US-East)",
    "us-gov-west-1": "AWS GovCloud (US-West)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
}
