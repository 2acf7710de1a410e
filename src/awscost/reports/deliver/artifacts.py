"""What one audience's report for one period is, rendered: the mail bodies, their images, the workbook and
the JSON document. Delivery starts only from a complete `Artifacts`, so a mail never goes out before the
archive could be written, and nothing half-rendered is sent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from awscost.core.errors import InputError
from awscost.reports.config import NAME

# The period labels of reports/periods.py: a month, or a START..END range of days (END included).
PERIOD_LABEL = re.compile(r"^\d{4}-\d{2}$|^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$")
# A Content-ID name: it is written inside <...> in a header and after cid: in the html.
CID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CID_REF = re.compile(r"""cid:([^"'\s)>]+)""")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive


@dataclass(frozen=True)
class Artifacts:
    """One audience x period, everything rendered before anything is sent."""

    audience: str  # audience name (letters, digits, . _ -): an S3 key part and a store key part
    period: str  # period label: "2026-10" or "2026-10-26..2026-11-01"
    subject: str
    html: str  # references inline images as <img src="cid:NAME">
    text: str  # plain-text alternative
    images: dict[str, bytes] = field(default_factory=dict)  # Content-ID name -> PNG bytes
    xlsx: bytes = b""  # the workbook
    json: bytes = b""  # the JSON document
    # The archived page: charts embedded as data: URIs, so it opens standalone in a browser ("" = `html`).
    html_file: str = ""

    @property
    def where(self) -> str:
        return f"report {self.audience} {self.period}"

    @property
    def workbook_name(self) -> str:
        """The attachment's file name: says whose report and which period once saved to a folder."""
        return f"cost-report-{self.audience}-{self.period}.xlsx"

    def problems(self) -> list[str]:
        """What is missing or malformed, one phrase each; empty when the report can be delivered."""
        out: list[str] = []
        if not NAME.match(self.audience):
            out.append(f"audience name {self.audience!r} may hold only letters, digits, '.', '_' and '-'")
        if not PERIOD_LABEL.match(self.period):
            out.append(f"period label {self.period!r} is neither YYYY-MM nor YYYY-MM-DD..YYYY-MM-DD")
        if not self.subject.strip():
            out.append("the subject is empty")
        if not self.html.strip():
            out.append("the html body is empty")
        if not self.text.strip():
            out.append("the plain-text body is empty")
        for name, data in self.images.items():
            if not CID_NAME.match(name):
                out.append(f"image name {name!r} may hold only letters, digits, '.', '_' and '-'")
            if not data.startswith(PNG_MAGIC):
                out.append(f"image {name!r} is not a PNG")
        for ref in sorted(set(CID_REF.findall(self.html))):
            if ref not in self.images:
                out.append(f"the html shows cid:{ref} but no such image was rendered")
        if not self.xlsx.startswith(ZIP_MAGIC):
            out.append("the workbook is missing (not an .xlsx)")
        try:
            json.loads(self.json)
        except ValueError:
            out.append("the JSON document is missing or not JSON")
        return out

    def check(self) -> None:
        """Raise one InputError naming every problem: a report is delivered whole or not at all."""
        problems = self.problems()
        if problems:
            raise InputError("; ".join(problems), where=self.where, hint="nothing was archived or sent")
