"""Report delivery against real parts: an aiosmtpd server on 127.0.0.1 (with STARTTLS and a certificate made
here), SES and S3 of the moto server over HTTP, and the SQLite store for the delivery record. Every mail is
read back from what the server received and parsed with the standard library."""

from __future__ import annotations

import ast
import datetime as dt
import email
import functools
import io
import json
import os
import socket
import ssl
import struct
import sys
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from awscost.aws.session import make_session
from awscost.core.errors import AwsAccessError, ConfigError, InputError
from awscost.reports.config import Audience, ReportSettings
from awscost.reports.deliver import (
    MAX_SES_BYTES,
    Artifacts,
    MailError,
    SesTransport,
    SmtpTransport,
    archive,
    build_message,
    deliver,
    make_transport,
    record_id,
)
from awscost.reports.deliver.archive import XLSX_TYPE, s3_client
from awscost.store import open_store

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd (the dev extra) is needed")

NOW = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
SENDER = "finops@example.com"
PACKAGE = Path(__file__).resolve().parents[1] / "src" / "awscost" / "reports" / "deliver"


# --- what is delivered -----------------------------------------------------------------------------------


def png(width: int = 2, height: int = 1) -> bytes:
    """A real (tiny, grey) PNG: signature, IHDR, IDAT, IEND with their CRCs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@functools.cache
def workbook() -> bytes:
    """A real workbook, made once: XlsxWriter stamps the creation time, so two calls can differ."""
    xlsxwriter = pytest.importorskip("xlsxwriter", reason="the reports extra writes the workbook")
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("Costs")
    sheet.write_row(0, 0, ["Service", "EffectiveCost (USD, 2026-10)"])
    sheet.write_row(1, 0, ["AmazonEC2", "1234.56"])
    book.close()
    return buf.getvalue()


def artifacts(audience: str = "payments", period: str = "2026-10", **changes: Any) -> Artifacts:
    fields: dict[str, Any] = {
        "audience": audience,
        "period": period,
        "subject": f"AWS cost report {audience} {period}",
        "html": '<html><body><h1>Costs</h1><p>Total 1234.56 USD</p><img src="cid:trend"></body></html>',
        "text": "Costs\nTotal 1234.56 USD\n",
        "images": {"trend": png()},
        "xlsx": workbook(),
        "json": json.dumps({"period": period, "total": "1234.56"}).encode(),
    }
    fields.update(changes)
    return Artifacts(**fields)


def parse(raw: bytes | str) -> EmailMessage:
    data = raw.encode() if isinstance(raw, str) else raw
    msg = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def check_report_mail(msg: EmailMessage, art: Artifacts, *, attached: bool = True) -> None:
    """The structure the mail must have, and its contents equal to the artifacts'."""
    assert msg.get_content_type() == "multipart/mixed"
    parts = list(msg.iter_parts())
    related = parts[0]
    assert related.get_content_type() == "multipart/related"
    alternative, *images = list(related.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html = list(alternative.iter_parts())
    assert plain.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert art.text.strip() in plain.get_content().replace("\r\n", "\n")  # mail text travels with CRLF
    html_body = html.get_content()
    assert "Total 1234.56 USD" in html_body
    # The inline image's Content-ID is what the html's cid: names, and its bytes are the rendered PNG.
    assert [i.get_content_type() for i in images] == ["image/png"]
    assert images[0]["Content-ID"] == "<trend>" and 'src="cid:trend"' in html_body
    assert images[0].get_content_disposition() == "inline"
    assert images[0].get_content() == art.images["trend"]
    if attached:
        assert len(parts) == 2
        book = parts[1]
        assert book.get_content_type() == XLSX_TYPE
        assert book.get_content_disposition() == "attachment"
        assert book.get_filename() == f"cost-report-{art.audience}-{art.period}.xlsx"
        assert book.get_content() == art.xlsx
    else:
        assert len(parts) == 1, "a linked workbook is not attached too"


# --- an SMTP server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Handler:
    """Keeps what it receives; refuses the addresses in `refuse` with 550 at RCPT."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.refuse = set(refuse)
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, handler: Handler, **smtp: Any) -> None:
        self.handler = handler
        self.port = free_port()
        self.controller = aiosmtpd_controller.Controller(
            handler, hostname="127.0.0.1", port=self.port, **smtp
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def settings(self, **changes: Any) -> ReportSettings:
        fields: dict[str, Any] = {
            "mail_from": SENDER,
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_starttls": False,
        }
        fields.update(changes)
        return ReportSettings(**fields)


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(Handler()) as server:
        yield server


class Ctx:
    """The part of jobs.Context that deliver uses: the standard boto3 chain (here: the moto server)."""

    def session(self) -> boto3.Session:
        return make_session()


def sqlite(tmp_path: Path) -> Any:
    return open_store("sqlite:///" + str(tmp_path / "s.db"))


PAYMENTS = Audience("payments", recipients=("a@example.com", "b@example.com", "c@example.com"), accounts=None)


# --- SMTP ----------------------------------------------------------------------------------------------


def test_smtp_sends_one_mail_per_recipient_with_the_report_parts(smtp: SmtpServer, tmp_path: Path) -> None:
    art = artifacts()
    with sqlite(tmp_path) as store:
        result = deliver(Ctx(), smtp.settings(), PAYMENTS, art, store=store, now=NOW, archive=False)
    assert result.sent == PAYMENTS.recipients and not result.failed and result.transport == "smtp"
    assert [(frm, to) for frm, to, _ in smtp.handler.received] == [(SENDER, [r]) for r in PAYMENTS.recipients]
    for (_, [recipient], raw), expected in zip(smtp.handler.received, PAYMENTS.recipients, strict=True):
        msg = parse(raw)
        assert recipient == expected and msg["To"] == expected and msg["From"] == SENDER
        assert msg["Subject"] == art.subject
        check_report_mail(msg, art)
    ids = {parse(raw)["Message-ID"] for _, _, raw in smtp.handler.received}
    assert len(ids) == 3, "each send is its own message"
    assert json.loads(json.dumps(result.to_json()))["sent"] == list(PAYMENTS.recipients)


def test_a_refused_recipient_fails_alone_and_a_rerun_retries_only_it(tmp_path: Path) -> None:
    with SmtpServer(Handler(refuse=("b@example.com",))) as server, sqlite(tmp_path) as store:
        result = deliver(Ctx(), server.settings(), PAYMENTS, artifacts(), store=store, now=NOW, archive=False)
        assert result.sent == ("a@example.com", "c@example.com")
        assert list(result.failed) == ["b@example.com"] and "550" in result.failed["b@example.com"]
        assert not result.ok
        assert [to for _, to, _ in server.handler.received] == [["a@example.com"], ["c@example.com"]]
        record = store.get_map(record_id("payments", "2026-10"))
        assert sorted(record["sent"]) == ["a@example.com", "c@example.com"]

        server.handler.refuse.clear()
        again = deliver(Ctx(), server.settings(), PAYMENTS, artifacts(), store=store, now=NOW, archive=False)
        assert again.sent == ("b@example.com",) and again.skipped == ("a@example.com", "c@example.com")
        assert len(server.handler.received) == 3


def starttls_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography, installed with moto)."""
    crypto = pytest.importorskip("cryptography", reason="cryptography makes the test certificate")
    del crypto
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_starttls_then_login_with_the_password_from_the_named_variable(tmp_path: Path) -> None:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = starttls_certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes, bool]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password, session.ssl is not None))
        return AuthResult(success=data.password == b"s3cret")

    handler = Handler()
    # require_starttls: the server refuses MAIL before TLS, so a delivery proves the session was encrypted.
    with SmtpServer(
        handler, tls_context=server_tls, require_starttls=True, authenticator=authenticator
    ) as server:
        settings = server.settings(smtp_starttls=True, smtp_user="reports", smtp_password_env="REPORT_PW")
        with pytest.raises(ConfigError, match="REPORT_PW"):
            make_transport(settings, Ctx().session, environ={})
        transport = make_transport(settings, Ctx().session, environ={"REPORT_PW": "s3cret"})
        assert isinstance(transport, SmtpTransport) and transport.password == "s3cret"
        # The client trusts exactly the test's certificate, and checks the host name (127.0.0.1) against it.
        transport.ssl_context = ssl.create_default_context(cafile=str(cert))
        one = Audience("payments", recipients=("a@example.com",), accounts=None)
        with sqlite(tmp_path) as store:
            result = deliver(
                Ctx(), settings, one, artifacts(), store=store, now=NOW, archive=False, transport=transport
            )
        assert result.sent == ("a@example.com",)
        assert logins == [(b"reports", b"s3cret", True)]
        check_report_mail(parse(handler.received[0][2]), artifacts())

        # Without the certificate trusted, STARTTLS fails verification: a clear error, nothing sent.
        untrusted = SmtpTransport("127.0.0.1", server.port, starttls=True)
        with pytest.raises(MailError, match=r"STARTTLS failed.*CERTIFICATE_VERIFY_FAILED"), untrusted:
            pass
    assert len(handler.received) == 1


def test_starttls_required_but_not_offered_is_a_clear_error(smtp: SmtpServer, tmp_path: Path) -> None:
    with sqlite(tmp_path) as store, pytest.raises(MailError, match="does not offer STARTTLS") as err:
        deliver(
            Ctx(),
            smtp.settings(smtp_starttls=True),
            PAYMENTS,
            artifacts(),
            store=store,
            now=NOW,
            archive=False,
        )
    assert f"127.0.0.1:{smtp.port}" in str(err.value)
    assert smtp.handler.received == []


def test_an_unreachable_smtp_server_is_one_clear_error(tmp_path: Path) -> None:
    settings = ReportSettings(
        mail_from=SENDER, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False
    )
    with sqlite(tmp_path) as store, pytest.raises(MailError, match="cannot connect"):
        deliver(Ctx(), settings, PAYMENTS, artifacts(), store=store, now=NOW, archive=False)


# --- the delivery record -------------------------------------------------------------------------------


def test_a_second_run_skips_what_was_sent_and_resend_sends_again(smtp: SmtpServer, tmp_path: Path) -> None:
    settings = smtp.settings()
    with sqlite(tmp_path) as store:
        first = deliver(Ctx(), settings, PAYMENTS, artifacts(), store=store, now=NOW, archive=False)
        assert first.sent == PAYMENTS.recipients
        record = store.get_map(record_id("payments", "2026-10"))
        assert record["sent"] == {r: NOW.isoformat() for r in PAYMENTS.recipients}

        later = NOW + dt.timedelta(minutes=5)
        second = deliver(Ctx(), settings, PAYMENTS, artifacts(), store=store, now=later, archive=False)
        assert second.sent == () and second.skipped == PAYMENTS.recipients
        assert len(smtp.handler.received) == 3

        third = deliver(
            Ctx(), settings, PAYMENTS, artifacts(), store=store, now=later, archive=False, resend=True
        )
        assert third.sent == PAYMENTS.recipients and third.skipped == ()
        assert len(smtp.handler.received) == 6
        assert store.get_map(record_id("payments", "2026-10"))["sent"]["a@example.com"] == later.isoformat()

        # Another period has its own record.
        other = deliver(
            Ctx(), settings, PAYMENTS, artifacts(period="2026-09"), store=store, now=NOW, archive=False
        )
        assert other.sent == PAYMENTS.recipients


def test_dry_run_neither_archives_nor_sends_nor_records(aws: str, smtp: SmtpServer, tmp_path: Path) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="reports-bucket")
    settings = smtp.settings(bucket="reports-bucket")
    with sqlite(tmp_path) as store:
        result = deliver(Ctx(), settings, PAYMENTS, artifacts(), store=store, now=NOW, dry_run=True)
        assert result.dry_run and result.sent == () and result.archived == ()
        assert result.would_send == PAYMENTS.recipients
        assert result.would_archive == (
            "s3://reports-bucket/reports/payments/2026-10/cost-report.html",
            "s3://reports-bucket/reports/payments/2026-10/cost-report.xlsx",
            "s3://reports-bucket/reports/payments/2026-10/cost-report.json",
            "s3://reports-bucket/reports/payments/latest/cost-report.html",
            "s3://reports-bucket/reports/payments/latest/cost-report.xlsx",
            "s3://reports-bucket/reports/payments/latest/cost-report.json",
        )
        assert store.get_map(record_id("payments", "2026-10")) is None
        assert list(store.scan_map("report-delivery:")) == []
    assert smtp.handler.received == []
    assert s3.list_objects_v2(Bucket="reports-bucket").get("KeyCount") == 0
    assert result.to_json()["would_send"] == list(PAYMENTS.recipients)


def test_dry_run_checks_the_settings_too(
    smtp: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWSCOST_TEST_NO_SUCH_PW", raising=False)
    settings = smtp.settings(smtp_user="reports", smtp_password_env="AWSCOST_TEST_NO_SUCH_PW")
    with sqlite(tmp_path) as store, pytest.raises(ConfigError, match="AWSCOST_TEST_NO_SUCH_PW"):
        deliver(Ctx(), settings, PAYMENTS, artifacts(), store=store, now=NOW, archive=False, dry_run=True)


# --- SES -----------------------------------------------------------------------------------------------


def ses_sent(endpoint: str) -> list[dict[str, Any]]:
    """The raw messages the moto server's SES accepted: {"source", "destinations", "raw_data", "id"}."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json") as answer:
        data = json.loads(answer.read())
    return list(data["ses"]["RawMessage"])


def test_ses_delivers_each_recipient_a_parseable_report(aws: str, tmp_path: Path) -> None:
    boto3.client("ses", region_name="eu-west-1").verify_email_identity(EmailAddress=SENDER)
    settings = ReportSettings(mail_from=SENDER, ses_region="eu-west-1")
    art = artifacts()
    with sqlite(tmp_path) as store:
        result = deliver(Ctx(), settings, PAYMENTS, art, store=store, now=NOW, archive=False)
        assert result.transport == "ses" and result.sent == PAYMENTS.recipients and not result.failed
        assert sorted(store.get_map(record_id("payments", "2026-10"))["sent"]) == list(PAYMENTS.recipients)
    sent = ses_sent(aws)
    assert [m["source"] for m in sent] == [SENDER] * 3
    for message, recipient in zip(sent, PAYMENTS.recipients, strict=True):
        assert set(message["destinations"]) == {recipient}
        msg = parse(message["raw_data"])
        assert msg["To"] == recipient and msg["Subject"] == art.subject
        check_report_mail(msg, art)


def test_an_unverified_ses_sender_is_one_clear_error_and_nothing_is_recorded(
    aws: str, tmp_path: Path
) -> None:
    settings = ReportSettings(mail_from=SENDER, ses_region="us-east-1")
    with sqlite(tmp_path) as store:
        with pytest.raises(AwsAccessError) as err:
            deliver(Ctx(), settings, PAYMENTS, artifacts(), store=store, now=NOW, archive=False)
        line = str(err.value)
        assert "\n" not in line and SENDER in line and "verify it in SES" in line
        record = store.get_map(record_id("payments", "2026-10"))
        assert record is None or record["sent"] == {}
    assert ses_sent(aws) == []


# --- S3 archive and the link for a large workbook ------------------------------------------------------


def test_archive_writes_the_period_and_latest_with_content_types_and_overwrites(aws: str) -> None:
    s3 = s3_client(make_session())
    s3.create_bucket(Bucket="reports-bucket")
    art = artifacts()
    first = archive(s3, "reports-bucket", art)
    expected = {
        "reports/payments/2026-10/cost-report.html": "text/html; charset=utf-8",
        "reports/payments/2026-10/cost-report.xlsx": XLSX_TYPE,
        "reports/payments/2026-10/cost-report.json": "application/json",
        "reports/payments/latest/cost-report.html": "text/html; charset=utf-8",
        "reports/payments/latest/cost-report.xlsx": XLSX_TYPE,
        "reports/payments/latest/cost-report.json": "application/json",
    }
    assert first.keys == tuple(expected)
    for key, content_type in expected.items():
        assert s3.head_object(Bucket="reports-bucket", Key=key)["ContentType"] == content_type
    body = s3.get_object(Bucket="reports-bucket", Key="reports/payments/latest/cost-report.xlsx")[
        "Body"
    ].read()
    assert body == art.xlsx

    # A rerun of the period with new content: the same six keys, holding the new content.
    rerun = artifacts(json=b'{"total": "99.00"}')
    archive(s3, "reports-bucket", rerun)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="reports-bucket")["Contents"]]
    assert sorted(listed) == sorted(expected)
    for key in ("reports/payments/2026-10/cost-report.json", "reports/payments/latest/cost-report.json"):
        assert s3.get_object(Bucket="reports-bucket", Key=key)["Body"].read() == b'{"total": "99.00"}'

    # The next period adds its own folder and moves latest/.
    archive(s3, "reports-bucket", artifacts(period="2026-11", json=b'{"total": "1.00"}'))
    assert len(s3.list_objects_v2(Bucket="reports-bucket")["Contents"]) == 9
    latest = s3.get_object(Bucket="reports-bucket", Key="reports/payments/latest/cost-report.json")
    assert latest["Body"].read() == b'{"total": "1.00"}'

    with pytest.raises(InputError, match="1 to 7 days"):
        first.presign(first.workbook_key, days=8)


def test_a_missing_bucket_is_a_clear_error_and_nothing_is_sent(
    aws: str, smtp: SmtpServer, tmp_path: Path
) -> None:
    with pytest.raises(AwsAccessError, match="'no-such-bucket' does not exist"):
        archive(s3_client(make_session()), "no-such-bucket", artifacts())
    with sqlite(tmp_path) as store:
        with pytest.raises(AwsAccessError, match="no-such-bucket"):
            deliver(
                Ctx(), smtp.settings(bucket="no-such-bucket"), PAYMENTS, artifacts(), store=store, now=NOW
            )
        assert store.get_map(record_id("payments", "2026-10")) is None
    assert smtp.handler.received == []


def test_no_credentials_is_a_clear_error_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real S3 client with no credentials anywhere (botocore raises NoCredentialsError while signing)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3 = boto3.session.Session().client("s3", region_name="us-east-1")
    with pytest.raises(AwsAccessError) as err:
        archive(s3, "reports-bucket", artifacts())
    assert err.value.render().startswith(
        "report payments 2026-10: archiving to s3://reports-bucket/ failed: Unable to locate credentials"
    )


def test_a_mail_over_the_ses_limit_carries_a_presigned_link_instead(aws: str, tmp_path: Path) -> None:
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress=SENDER)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="reports-bucket")
    big = artifacts(xlsx=b"PK\x03\x04" + os.urandom(11 * 1024 * 1024))
    settings = ReportSettings(mail_from=SENDER, ses_region="us-east-1", bucket="reports-bucket")
    one = Audience("payments", recipients=("a@example.com",), accounts=None)
    with sqlite(tmp_path) as store:
        result = deliver(Ctx(), settings, one, big, store=store, now=NOW, archive=False)
    # Not asked to archive, but the link needs the archive.
    assert result.link_used and result.sent == ("a@example.com",)
    assert "s3://reports-bucket/reports/payments/2026-10/cost-report.xlsx" in result.archived
    assert result.message_bytes < MAX_SES_BYTES
    [sent] = ses_sent(aws)
    msg = parse(sent["raw_data"])
    check_report_mail(msg, big, attached=False)
    text = msg.get_body(("plain",))
    assert text is not None
    [url] = [w for w in text.get_content().split() if w.startswith("http")]
    parsed = urllib.parse.urlparse(url)
    query = urllib.parse.parse_qs(parsed.query)
    assert parsed.path == "/reports-bucket/reports/payments/2026-10/cost-report.xlsx"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert 0 < int(query["X-Amz-Expires"][0]) <= 7 * 86400
    html = msg.get_body(("html",))
    assert html is not None and url.replace("&", "&amp;") in html.get_content()
    with urllib.request.urlopen(url) as answer:  # the link serves the workbook
        assert answer.read() == big.xlsx


def test_a_large_mail_without_a_bucket_is_a_clear_error(aws: str, smtp: SmtpServer, tmp_path: Path) -> None:
    big = artifacts(xlsx=b"PK\x03\x04" + os.urandom(11 * 1024 * 1024))
    with sqlite(tmp_path) as store, pytest.raises(ConfigError, match=r"\[report\] bucket.*sent as a link"):
        deliver(Ctx(), smtp.settings(), PAYMENTS, big, store=store, now=NOW, archive=False)
    assert smtp.handler.received == []


# --- the message itself --------------------------------------------------------------------------------


def test_a_subject_with_a_line_break_cannot_add_a_header(smtp: SmtpServer, tmp_path: Path) -> None:
    art = artifacts(subject="Cost report\r\nBcc: evil@example.com")
    one = Audience("payments", recipients=("a@example.com",), accounts=None)
    with sqlite(tmp_path) as store:
        deliver(Ctx(), smtp.settings(), one, art, store=store, now=NOW, archive=False)
    [(_, rcpts, raw)] = smtp.handler.received
    assert rcpts == ["a@example.com"]
    msg = parse(raw)
    assert msg.get_all("Bcc") is None
    assert msg.get_all("Subject") == ["Cost report Bcc: evil@example.com"]
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc") for line in header_block.split(b"\r\n"))


def test_a_sender_or_recipient_with_a_line_break_is_refused() -> None:
    with pytest.raises(InputError, match="line break"):
        build_message(artifacts(), "FinOps\r\nBcc: evil@example.com <finops@example.com>", ["a@example.com"])
    with pytest.raises(InputError, match="line break"):
        build_message(artifacts(), SENDER, ["a@example.com\nBcc: evil@example.com"])


def test_nothing_is_delivered_from_incomplete_artifacts(smtp: SmtpServer, tmp_path: Path) -> None:
    broken = artifacts(xlsx=b"", html='<img src="cid:missing">', images={"trend": b"not a png"})
    problems = broken.problems()
    assert any("workbook" in p for p in problems) and any("cid:missing" in p for p in problems)
    assert any("not a PNG" in p for p in problems)
    with sqlite(tmp_path) as store, pytest.raises(InputError, match="nothing was archived or sent"):
        deliver(Ctx(), smtp.settings(), PAYMENTS, broken, store=store, now=NOW, archive=False)
    assert smtp.handler.received == []
    with pytest.raises(InputError, match="period label"):
        artifacts(period="last-month").check()


def test_the_package_needs_only_boto3_and_the_standard_library() -> None:
    """It runs in the report Lambda: no pandas, no XlsxWriter here (the lead's rendering holds those)."""
    allowed = {"awscost", "boto3", "botocore"} | set(sys.stdlib_module_names)
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_the_delivery_record_round_trips_through_dynamodb(aws: str, smtp: SmtpServer) -> None:
    """The report Lambda keeps its record in DynamoDB (AWSCostMap): a retried invocation skips as SQLite does."""
    with open_store("dynamodb://AWSCost?region=us-east-1") as store:
        store.init()
        first = deliver(Ctx(), smtp.settings(), PAYMENTS, artifacts(), store=store, now=NOW, archive=False)
        retried = deliver(Ctx(), smtp.settings(), PAYMENTS, artifacts(), store=store, now=NOW, archive=False)
        assert first.sent == PAYMENTS.recipients and retried.skipped == PAYMENTS.recipients
        assert sorted(store.get_map(record_id("payments", "2026-10"))["sent"]) == list(PAYMENTS.recipients)
    assert len(smtp.handler.received) == 3


def test_ses_rejecting_one_recipient_fails_it_alone_and_rejecting_the_sender_stops(tmp_path: Path) -> None:
    """AWS's own rejections, which moto does not produce (in the SES sandbox an unverified recipient is
    rejected; AWS names the identities that failed), through botocore's Stubber (checked against the model)."""
    from botocore.stub import ANY, Stubber

    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    settings = ReportSettings(mail_from=SENDER, ses_region="us-east-1")
    failed_check = (
        "Email address is not verified. The following identities failed the check in region US-EAST-1: "
    )
    params = {"Source": SENDER, "Destinations": ANY, "RawMessage": ANY}

    transport = SesTransport(session, "us-east-1")
    with Stubber(transport.ses) as stub, sqlite(tmp_path) as store:
        stub.add_response("send_raw_email", {"MessageId": "m-a"}, params)
        stub.add_client_error("send_raw_email", "MessageRejected", failed_check + "b@example.com", 400)
        stub.add_response("send_raw_email", {"MessageId": "m-c"}, params)
        result = deliver(
            Ctx(), settings, PAYMENTS, artifacts(), store=store, now=NOW, archive=False, transport=transport
        )
        stub.assert_no_pending_responses()
        assert result.sent == ("a@example.com", "c@example.com")
        assert (
            "MessageRejected" in result.failed["b@example.com"]
            and "b@example.com" in result.failed["b@example.com"]
        )

    transport = SesTransport(session, "us-east-1")
    with Stubber(transport.ses) as stub, sqlite(tmp_path / "2") as store:
        stub.add_client_error("send_raw_email", "MessageRejected", failed_check + SENDER, 400)
        with pytest.raises(AwsAccessError, match=f"refused the sender {SENDER}.*verify it in SES"):
            deliver(
                Ctx(),
                settings,
                PAYMENTS,
                artifacts(),
                store=store,
                now=NOW,
                archive=False,
                transport=transport,
            )
        stub.assert_no_pending_responses()  # one call: b and c were not tried after the sender was refused


@given(subject=st.text(min_size=1, max_size=200).filter(lambda s: s.strip()))
def test_any_subject_is_one_header_of_the_same_words(subject: str) -> None:
    """Whatever the rendered subject holds (line breaks, header-like text, any script), the mail has exactly
    its fixed headers and the subject reads back as the same words on one line."""
    msg = parse(build_message(artifacts(subject=subject), SENDER, ["a@example.com"]).as_bytes())
    assert sorted(msg.keys()) == sorted(
        ["Subject", "From", "To", "Date", "Message-ID", "MIME-Version", "Content-Type"]
    )
    assert msg["Subject"] == " ".join(subject.split())
