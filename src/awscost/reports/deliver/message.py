"""The report mail, built with the standard library's `email` package:

    multipart/mixed
      multipart/related
        multipart/alternative
          text/plain
          text/html            shows the images as <img src="cid:NAME">
        image/png ...          Content-ID <NAME>, inline
      the workbook .xlsx       attachment (or, when it is too large to mail, a link in both bodies)

Headers are set through `policy.SMTP`, which refuses CR/LF in a header value, so no value can add a header.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Sequence
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import formatdate, make_msgid, parseaddr
from typing import cast

from awscost.core.errors import InputError
from awscost.reports.deliver.archive import XLSX_TYPE
from awscost.reports.deliver.artifacts import Artifacts

POLICY = policy.SMTP  # CRLF line ends, as SMTP and SES's raw messages expect


def check_address(value: str, where: str) -> str:
    """A mail address (optionally "Name <addr>") as configured. CR/LF is refused outright: such a value is a
    mistake or an attack, never something to repair silently."""
    if "\r" in value or "\n" in value:
        raise InputError(f"{value!r} holds a line break", where=where)
    _, addr = parseaddr(value)
    if "@" not in addr:
        raise InputError(f"{value!r} is not a mail address", where=where)
    return value


def one_line(text: str) -> str:
    """A subject on one line: rendered text may hold line breaks, a header may not."""
    return " ".join(text.split())


def _text_part(body: str, subtype: str) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    # quoted-printable keeps every line under SMTP's 998-octet limit (html is often one long line) and
    # needs no 8BITMIME from the server.
    part.set_content(body, subtype=subtype, charset="utf-8", cte="quoted-printable")
    return part


def _with_note(text: str, body: str, note: str, link: str, label: str) -> tuple[str, str]:
    """Both bodies with a note and its link added at the end (the html's before </body>)."""
    text = f"{text.rstrip()}\n\n{note}\n{link}\n"
    anchor = (
        f'<p>{html_lib.escape(note)} <a href="{html_lib.escape(link, quote=True)}">'
        f"{html_lib.escape(label)}</a></p>"
    )
    end = body.lower().rfind("</body>")
    body = body[:end] + anchor + body[end:] if end >= 0 else body + anchor
    return text, body


def _with_link(artifacts: Artifacts, link: str) -> tuple[str, str]:
    note = "The workbook is too large to attach; download it here (the link expires within 7 days):"
    return _with_note(artifacts.text, artifacts.html, note, link, artifacts.workbook_name)


def dashboard_note(days: int) -> str:
    return (
        f"This report's dashboard (overview, live usage, reservations, tags, services), for your audience "
        f"only; the link expires within {days} day{'s' if days != 1 else ''}:"
    )


def build_message(
    artifacts: Artifacts,
    sender: str,
    recipients: Sequence[str],
    *,
    workbook_link: str | None = None,
    dashboard_link: str | None = None,
    dashboard_days: int = 7,
) -> EmailMessage:
    """The report mail from `sender` to `recipients` (the To header; the envelope is the transport's). With
    `workbook_link`, the workbook is not attached and the link is added to both bodies; `dashboard_link` (the
    audience's published dashboard set) is added to both bodies."""
    artifacts.check()
    check_address(sender, "[report] mail_from")
    for recipient in recipients:
        check_address(recipient, f"recipients of audience {artifacts.audience}")
    text, body = _with_link(artifacts, workbook_link) if workbook_link else (artifacts.text, artifacts.html)
    if dashboard_link:
        text, body = _with_note(
            text, body, dashboard_note(dashboard_days), dashboard_link, "Open the dashboard"
        )

    alternative = MIMEPart(policy=POLICY)
    alternative.set_type("multipart/alternative")
    del alternative["MIME-Version"]  # set_type adds it; it belongs on the message only
    alternative.attach(_text_part(text, "plain"))
    alternative.attach(_text_part(body, "html"))

    related = MIMEPart(policy=POLICY)
    related.set_type("multipart/related")
    del related["MIME-Version"]
    related.attach(alternative)
    for name, png in artifacts.images.items():
        image = MIMEPart(policy=POLICY)
        image.set_content(
            png,
            maintype="image",
            subtype="png",
            disposition="inline",
            filename=f"{name}.png",
            cid=f"<{name}>",
        )
        related.attach(image)

    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = one_line(artifacts.subject)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=_domain(sender))
    msg.set_type("multipart/mixed")
    msg.attach(cast(EmailMessage, related))  # typeshed types attach() of EmailMessage too narrowly
    if not workbook_link:
        workbook = MIMEPart(policy=POLICY)
        maintype, subtype = XLSX_TYPE.split("/")
        workbook.set_content(
            artifacts.xlsx,
            maintype=maintype,
            subtype=subtype,
            disposition="attachment",
            filename=artifacts.workbook_name,
        )
        msg.attach(cast(EmailMessage, workbook))
    return msg


def readdress(msg: EmailMessage, recipient: str) -> bytes:
    """The message for one recipient, as sent: its own To and Message-ID (one send per recipient)."""
    del msg["To"]
    msg["To"] = recipient
    del msg["Message-ID"]
    msg["Message-ID"] = make_msgid(domain=_domain(str(msg["From"])))
    return msg.as_bytes()


def _domain(sender: str) -> str | None:
    addr = parseaddr(sender)[1]
    try:
        return Address(addr_spec=addr).domain or None
    except (ValueError, IndexError):
        return None
