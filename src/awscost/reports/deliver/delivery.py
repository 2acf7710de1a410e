"""`deliver`: one audience's report for one period, archived and mailed.

Order: check everything that can be checked without side effects (artifacts, sender, recipients, transport
settings, the size of the mail), then archive, then one send per recipient, recording each success in the
delivery record as it happens, so a run cut short (a Lambda timeout) and retried sends only what is left."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from awscost.core.errors import ConfigError, InputError
from awscost.reports.config import Audience, ReportSettings

# Imported under another name: `archive` is also deliver()'s flag.
from awscost.reports.deliver.archive import ArchiveResult, planned_keys, s3_client
from awscost.reports.deliver.archive import archive as write_archive
from awscost.reports.deliver.artifacts import Artifacts
from awscost.reports.deliver.dashboard import DashboardSet, put_set
from awscost.reports.deliver.message import build_message, check_address, readdress
from awscost.reports.deliver.records import DeliveryRecord
from awscost.reports.deliver.transports import SendFailure, Transport, make_transport
from awscost.store.base import Store

# SES's limit for a raw message, base64 included; most SMTP relays allow no more, so it holds for both.
MAX_SES_BYTES = 10 * 1024 * 1024
LINK_DAYS = 7
# A presigned URL's length is bounded (key + SigV4 query, with a session token ~1.5 KB); this stand-in is
# longer, so a mail that fits with it fits with the real link.
_LINK_STAND_IN = "https://example.com/" + "x" * 4000


class SessionSource(Protocol):
    """What `deliver` needs of its caller's context (jobs.Context is one): a boto3 session."""

    def session(self) -> Any: ...


@dataclass(frozen=True)
class DeliveryResult:
    audience: str
    period: str
    transport: str | None  # "ses" | "smtp" | None (not sending)
    dry_run: bool = False
    sent: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # already sent by an earlier run (the delivery record)
    failed: dict[str, str] = field(default_factory=dict)  # recipient -> reason
    archived: tuple[str, ...] = ()  # s3://bucket/key written
    link_used: bool = False  # the workbook went as a presigned link, being too large to attach
    message_bytes: int = 0  # the size of the mail as sent (with the attachment, or with the link)
    would_send: tuple[str, ...] = ()  # dry run: the recipients a real run would send to
    would_archive: tuple[str, ...] = ()  # dry run: the keys a real run would write

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "audience": self.audience,
            "period": self.period,
            "transport": self.transport,
            "dry_run": self.dry_run,
            "sent": list(self.sent),
            "skipped": list(self.skipped),
            "failed": [{"recipient": r, "reason": why} for r, why in self.failed.items()],
            "archived": list(self.archived),
            "link_used": self.link_used,
            "message_bytes": self.message_bytes,
        }
        if self.dry_run:
            out["would_send"] = list(self.would_send)
            out["would_archive"] = list(self.would_archive)
        return out


def deliver(
    ctx: SessionSource,
    settings: ReportSettings,
    audience: Audience,
    artifacts: Artifacts,
    *,
    store: Store,
    now: datetime,
    send: bool = True,
    archive: bool = True,
    resend: bool = False,
    dry_run: bool = False,
    transport: Transport | None = None,
    dashboard: DashboardSet | None = None,
) -> DeliveryResult:
    """Archive (`archive`) and mail (`send`) one audience's report. Recipients already in the delivery record
    are skipped unless `resend`; `dry_run` only reports what would be done. `transport` replaces the one
    `[report]` configures (a private CA's SMTP context, say). Raises an AwsCostError for what stops the whole
    audience (bad artifacts or settings, the bucket, the mail server, the sender); a recipient's own failure
    is in the result's `failed`. `dashboard` (the audience's rendered dashboard set) is put beside the archive
    and its presigned link goes in every mail."""
    artifacts.check()
    if artifacts.audience != audience.name:
        raise InputError(f"the artifacts are audience {artifacts.audience!r}'s, not {audience.name!r}'s")
    session: Any = None  # made on first use: an SMTP delivery without archive needs no AWS session

    def get_session() -> Any:
        nonlocal session
        if session is None:
            session = ctx.session()
        return session

    if dashboard is not None:
        dashboard.check()
        if dashboard.audience != audience.name:
            raise InputError(
                f"the dashboard set is audience {dashboard.audience!r}'s, not {audience.name!r}'s"
            )
    mail = _plan_mail(settings, audience, artifacts, dashboard) if send else None
    if mail and transport is None:  # in a dry run too: it checks the settings (the SMTP password variable)
        transport = make_transport(settings, get_session)
    recipients = mail.recipients if mail else []
    link_needed = bool(mail and mail.link_needed)
    message_bytes = mail.size if mail else 0
    do_archive = archive or link_needed
    if (do_archive or dashboard is not None) and not settings.bucket:
        raise ConfigError(
            "no bucket to archive the report in", where="[report] bucket", hint=f"audience {audience.name}"
        )

    record = DeliveryRecord.load(store, artifacts.audience, artifacts.period)
    skipped = [] if resend else [r for r in recipients if r in record.sent]
    pending = [r for r in recipients if r not in skipped]
    transport_name = (transport.name if transport else settings.transport) if send else None

    if dry_run:
        keys = (*(planned_keys(artifacts) if do_archive else ()), *(dashboard.keys() if dashboard else ()))
        return DeliveryResult(
            artifacts.audience,
            artifacts.period,
            transport_name,
            dry_run=True,
            skipped=tuple(skipped),
            link_used=link_needed,
            message_bytes=message_bytes,
            would_send=tuple(pending),
            would_archive=tuple(f"s3://{settings.bucket}/{k}" for k in keys),
        )

    stored: ArchiveResult | None = None
    if do_archive:
        assert settings.bucket is not None  # checked above
        stored = archive_to(get_session(), settings.bucket, artifacts)
        record.archived = [f"s3://{stored.bucket}/{k}" for k in stored.keys]
        record.save(store, now)
    published: list[str] = []
    if dashboard is not None:
        assert settings.bucket is not None  # checked above
        published = put_set(s3_client(get_session()), settings.bucket, dashboard)

    sent: list[str] = []
    failed: dict[str, str] = {}
    if mail and pending:
        assert transport is not None  # made with `mail`
        link = stored.presign(stored.workbook_key, LINK_DAYS) if link_needed and stored else None
        msg = build_message(
            artifacts, mail.sender, pending[:1], workbook_link=link, **_dashboard_args(dashboard)
        )
        with transport:
            for recipient in pending:
                raw = readdress(msg, recipient)
                message_bytes = len(raw)
                try:
                    transport.send(mail.sender, recipient, raw)
                except SendFailure as exc:
                    failed[recipient] = exc.reason
                    continue
                # Saved after each send, not once at the end: what went out stays recorded if the run dies.
                sent.append(recipient)
                record.mark_sent(recipient, now)
                record.save(store, now)
    return DeliveryResult(
        artifacts.audience,
        artifacts.period,
        transport_name,
        sent=tuple(sent),
        skipped=tuple(skipped),
        failed=failed,
        archived=(*(record.archived if stored else ()), *published),
        link_used=link_needed,
        message_bytes=message_bytes,
    )


@dataclass(frozen=True)
class _Mail:
    sender: str
    recipients: list[str]
    size: int  # bytes of the mail as it will be sent
    link_needed: bool  # the workbook goes as a link: attached, the mail would exceed MAX_SES_BYTES


def _dashboard_args(dashboard: DashboardSet | None) -> dict[str, Any]:
    return {} if dashboard is None else {"dashboard_link": dashboard.link, "dashboard_days": dashboard.days}


def _plan_mail(
    settings: ReportSettings, audience: Audience, artifacts: Artifacts, dashboard: DashboardSet | None = None
) -> _Mail:
    """Who sends to whom, and whether the workbook fits in the mail: all settled before any side effect."""
    where = f"audience {audience.name}"
    if not settings.mail_from:
        raise ConfigError("no sender to mail the report from", where="[report] mail_from")
    sender = check_address(settings.mail_from, "[report] mail_from")
    recipients = [check_address(r, f"{where} recipients") for r in dict.fromkeys(audience.recipients)]
    if not recipients:
        raise ConfigError("has no recipients", where=where, hint="[[report.audience]] recipients")
    extra = _dashboard_args(dashboard)
    attached = len(build_message(artifacts, sender, recipients[:1], **extra).as_bytes())
    if attached <= MAX_SES_BYTES:
        return _Mail(sender, recipients, attached, link_needed=False)
    linked = len(
        build_message(artifacts, sender, recipients[:1], workbook_link=_LINK_STAND_IN, **extra).as_bytes()
    )
    if linked > MAX_SES_BYTES:
        raise InputError(
            f"the mail is {linked} bytes even without the workbook (the limit is {MAX_SES_BYTES})",
            where=artifacts.where,
            hint="fewer or smaller images",
        )
    if not settings.bucket:
        raise ConfigError(
            f"the mail with the workbook is {attached} bytes (over {MAX_SES_BYTES}), so it is sent as a link "
            "to the archive, and no bucket is configured",
            where="[report] bucket",
            hint=where,
        )
    return _Mail(sender, recipients, linked, link_needed=True)


def archive_to(session: Any, bucket: str, artifacts: Artifacts) -> ArchiveResult:
    """`archive` through a SigV4 S3 client of `session`."""
    return write_archive(s3_client(session), bucket, artifacts)
