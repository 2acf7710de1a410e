"""One audience's dashboard set in the reports bucket: `reports/<audience>/<period>/dashboard/<file>` beside
the report's archive, private (no ACL: the bucket's own policy and default encryption), and the presigned GET
links that open it from the mail.

The pages of a private set cannot link to each other by relative names (a relative link of a presigned page
carries no signature, so S3 refuses it), so each page's links are presigned URLs of its siblings, signed before
the pages are rendered (a URL is signed offline, without the object existing) and living as long as the
mail's link. A presigned URL lives at most 7 days (SigV4), and no longer than the credentials that signed it:
signed by a Lambda's temporary role credentials, it stops working when they expire (docs/dashboard.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from awscost.core.errors import InputError
from awscost.reports.deliver.archive import MAX_PRESIGN_DAYS, prefix, s3_errors

OVERVIEW = "overview.html"  # the page the mail's link opens
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8"}


def dashboard_prefix(audience: str, period: str) -> str:
    return f"{prefix(audience, period)}dashboard/"


def check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_PRESIGN_DAYS:
        raise InputError(
            f"a presigned link lives 1 to {MAX_PRESIGN_DAYS} days (SigV4's limit), not {days!r}",
            param="dashboard_link_days",
        )
    return days


def presigned_links(
    s3: Any, bucket: str, audience: str, period: str, names: Iterable[str], days: int
) -> dict[str, str]:
    """file name -> a GET URL of its key, valid `days` days (an SigV4 client: archive.s3_client)."""
    check_days(days)
    base = dashboard_prefix(audience, period)
    return {
        name: str(
            s3.generate_presigned_url(
                "get_object", Params={"Bucket": bucket, "Key": f"{base}{name}"}, ExpiresIn=days * 86400
            )
        )
        for name in names
    }


@dataclass(frozen=True)
class DashboardSet:
    """A rendered set ready to put: its files (name -> body) and the presigned link the mail carries."""

    audience: str
    period: str
    files: dict[str, bytes]
    link: str
    days: int

    def keys(self) -> list[str]:
        base = dashboard_prefix(self.audience, self.period)
        return [f"{base}{name}" for name in self.files]

    def check(self) -> None:
        if OVERVIEW not in self.files:
            raise InputError("the dashboard set has no overview page", where=f"dashboard {self.audience}")


def content_type(name: str) -> str:
    """A set's file's Content-Type (a browser shows a page or applies a stylesheet only with the right one)."""
    return CONTENT_TYPES[name.rsplit(".", 1)[-1]]


def put_set(s3: Any, bucket: str, published: DashboardSet) -> list[str]:
    """Put the set's files (each replaced whole: a PUT is atomic per object); returns their s3:// URLs."""
    published.check()
    where = f"dashboard {published.audience} {published.period}"
    out = []
    with s3_errors(bucket, where, missing_hint="create it, or set [report] bucket to one that exists"):
        for (name, body), key in zip(published.files.items(), published.keys(), strict=True):
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type(name))
            out.append(f"s3://{bucket}/{key}")
    return out


__all__ = [
    "OVERVIEW",
    "DashboardSet",
    "check_days",
    "content_type",
    "dashboard_prefix",
    "presigned_links",
    "put_set",
]
