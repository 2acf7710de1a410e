"""Delivery of a rendered report: the S3 archive, the mail (SES or SMTP) and the delivery record that keeps
a retried run from mailing anyone twice. boto3 and the standard library only: it runs in the report Lambda."""

from awscost.reports.deliver.archive import ArchiveResult, archive, archive_file
from awscost.reports.deliver.artifacts import Artifacts
from awscost.reports.deliver.dashboard import DashboardSet, presigned_links, put_set
from awscost.reports.deliver.delivery import MAX_SES_BYTES, DeliveryResult, deliver
from awscost.reports.deliver.message import build_message
from awscost.reports.deliver.records import DeliveryRecord, record_id
from awscost.reports.deliver.transports import (
    MailError,
    SendFailure,
    SesTransport,
    SmtpTransport,
    Transport,
    make_transport,
)

__all__ = [
    "MAX_SES_BYTES",
    "ArchiveResult",
    "Artifacts",
    "DashboardSet",
    "DeliveryRecord",
    "DeliveryResult",
    "MailError",
    "SendFailure",
    "SesTransport",
    "SmtpTransport",
    "Transport",
    "archive",
    "archive_file",
    "build_message",
    "deliver",
    "make_transport",
    "presigned_links",
    "put_set",
    "record_id",
]
