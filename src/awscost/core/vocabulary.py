"""One OS vocabulary for EC2 usage and reservations alike.

    linux, windows, rhel, suse, ubuntu-pro, windows-byol, rhel-ha,
    windows-sql-web, windows-sql-std, windows-sql-ent, linux-sql-web, linux-sql-std, linux-sql-ent,
    rhel-sql-std ... (base OS + "-sql-" + edition), "unknown" when nothing tells.

The source is AWS's own "platform details" string (instance `PlatformDetails`, image `PlatformDetails`,
reservation `ProductDescription`), which names the billing product: "Linux/UNIX", "Red Hat Enterprise
Linux", "SUSE Linux", "Windows with SQL Server Standard" ... SQL Server Express is free and billed as
its base OS, so it maps to that OS. Without such a string (old AMIs, emulators) the AMI name and
description decide; CentOS, Amazon Linux, Ubuntu, Debian are linux (the original counted CentOS as RHEL
and SUSE as `sles` in usage but `suse` in reservations; one vocabulary avoids both).
"""

from __future__ import annotations

import re

UNKNOWN = "unknown"

_SQL_EDITIONS = (("enterprise", "ent"), ("standard", "std"), ("web", "web"))


def _sql_suffix(text: str) -> str:
    low = text.lower()
    if "sql" not in low:
        return ""
    after = low[low.index("sql") :]  # "Red Hat Enterprise Linux with SQL Server Standard": not "enterprise"
    for word, short in _SQL_EDITIONS:
        if word in after:
            return f"-sql-{short}"
    return ""  # Express (or no edition named) is billed as the base OS


def from_platform_details(text: str | None) -> str | None:
    """`PlatformDetails` / RI `ProductDescription` -> OS name; None when the string is absent or unknown."""
    if not text:
        return None
    low = re.sub(r"\s*\(amazon vpc\)\s*$", "", text.strip().lower())
    if low.startswith("windows"):
        base = "windows-byol" if "byol" in low else "windows"
    elif low.startswith("red hat"):
        base = "rhel-ha" if re.search(r"\bha\b", low) and "sql" not in low else "rhel"
    elif low.startswith("suse"):
        base = "suse"
    elif low.startswith("ubuntu pro"):
        base = "ubuntu-pro"
    elif low.startswith(("linux/unix", "linux with sql", "linux")):
        base = "linux"
    else:
        return None
    return base + _sql_suffix(low) if base in ("windows", "linux", "rhel") else base


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
    """OS of a describe_images entry: its PlatformDetails, else its Platform and name/description."""
    found = from_platform_details(str(image.get("PlatformDetails") or "") or None)
    if found:
        return found
    text = f"{image.get('Name') or ''} {image.get('Description') or ''}".lower()
    if str(image.get("Platform") or "").lower() == "windows" or "windows" in text:
        return "windows" + _sql_suffix(text.replace("sql_", "sql "))
    if "centos" in text:
        return "linux"  # CentOS is free Linux, not RHEL
    if re.search(r"\brhel\b|red hat|rhel-", text):
        return "rhel" + _sql_suffix(text)
    if "suse" in text or "sles" in text:
        return "suse"
    if any(w in text for w in _LINUX_WORDS):
        return "linux" + _sql_suffix(text)
    return UNKNOWN
