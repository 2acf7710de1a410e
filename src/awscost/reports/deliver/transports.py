"""How a report mail goes out: through SES (`send_raw_email`) or an SMTP server, one envelope recipient per
send. A failure that concerns one recipient (refused address, SES rejecting that recipient) is a
`SendFailure`, recorded and passed over; a failure no other recipient could escape (server unreachable,
login refused, sender not verified) raises an AwsCostError at once rather than repeating for every one."""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from awscost.aws.errors import failure_reason
from awscost.aws.session import client
from awscost.core.errors import AwsAccessError, AwsCostError, ConfigError
from awscost.reports.config import ReportSettings

SMTP_TIMEOUT = 60.0  # seconds per SMTP command: a hung server must not eat the Lambda's whole budget
# SES errors that no recipient escapes: the account, the identity or the credentials are at fault.
SES_FATAL = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AccountSendingPausedException",
        "ConfigurationSetDoesNotExist",
        "ConfigurationSetSendingPausedException",
        "InvalidClientTokenId",
        "MailFromDomainNotVerifiedException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


class MailError(AwsCostError):
    """The mail server could not be reached, or refused the connection, the login or the sender: no
    recipient can be sent to."""

    exit_code = 4


class SendFailure(Exception):
    """One recipient could not be sent to; `reason` is one line for the delivery result."""

    def __init__(self, reason: str) -> None:
        self.reason = " ".join(reason.split())
        super().__init__(self.reason)


class Transport(Protocol):
    name: str

    def __enter__(self) -> Transport: ...

    def __exit__(self, *exc: object) -> None: ...

    def send(self, sender: str, recipient: str, raw: bytes) -> str:
        """Send `raw` (an RFC 5322 message) to `recipient`; returns the message id the server gave, or ""."""
        ...


class SesTransport:
    name = "ses"

    def __init__(self, session: Any, region: str) -> None:
        self.region = region
        self.ses = client(session, "ses", region)

    def __enter__(self) -> SesTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, sender: str, recipient: str, raw: bytes) -> str:
        try:
            # Source is the envelope sender: the bare address (a display name would need MIME encoding there);
            # the From header inside `raw` keeps the name.
            answer = self.ses.send_raw_email(
                Source=parseaddr(sender)[1], Destinations=[parseaddr(recipient)[1]], RawMessage={"Data": raw}
            )
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code, message = err.get("Code", ""), err.get("Message", "")
            address = parseaddr(sender)[1].lower()
            if code == "MessageRejected" and (address in message.lower() or "authority to send" in message):
                # SES names the identity that failed its check; when that is the sender, every send fails.
                raise AwsAccessError(
                    f"SES ({self.region}) refused the sender {address}: {message}; verify it in SES",
                    where="[report] mail_from",
                    hint=f"aws ses verify-email-identity --email-address {address} --region {self.region}",
                ) from None
            if code in SES_FATAL:
                raise AwsAccessError(
                    f"SES ({self.region}) refused to send: {failure_reason(exc)}", where="[report] ses_region"
                ) from None
            # Another rejection (in the SES sandbox: an unverified recipient) concerns this recipient only.
            raise SendFailure(f"SES: {failure_reason(exc)}") from None
        except BotoCoreError as exc:
            raise AwsAccessError(f"SES ({self.region}) unreachable: {failure_reason(exc)}") from None
        return str(answer.get("MessageId", ""))


class SmtpTransport:
    """One SMTP connection for all the recipients of a report, opened by `with`."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        starttls: bool = True,
        user: str | None = None,
        password: str | None = None,
        timeout: float = SMTP_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.starttls, self.user, self.password = starttls, user, password
        self.timeout = timeout
        # The system's trusted CAs and hostname check by default; a test or a private CA passes its own.
        self.ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"SMTP {self.host}:{self.port}"

    def __enter__(self) -> SmtpTransport:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"cannot connect: {exc}", where=self.where, hint="[report] smtp_host/smtp_port"
            ) from None
        stage = "EHLO"  # what was being done, for the error
        try:
            smtp.ehlo()
            if self.starttls:
                if not smtp.has_extn("starttls"):
                    raise MailError(
                        "the server does not offer STARTTLS, and smtp_starttls = true",
                        where=self.where,
                        hint="use a server that encrypts; set smtp_starttls = false only on a trusted network",
                    )
                stage = "STARTTLS"
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                stage = f"login of {self.user!r}"
                smtp.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            _close(smtp)
            raise MailError(
                f"login of {self.user!r} refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                where=self.where,
                hint="[report] smtp_user and the variable smtp_password_env names",
            ) from None
        except (OSError, smtplib.SMTPException) as exc:  # ssl.SSLError is an OSError
            _close(smtp)
            raise MailError(f"{stage} failed: {exc}", where=self.where) from None
        except BaseException:
            _close(smtp)
            raise
        self._smtp = smtp
        return self

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            _close(self._smtp)
            self._smtp = None

    def send(self, sender: str, recipient: str, raw: bytes) -> str:
        if self._smtp is None:
            raise RuntimeError("SmtpTransport.send outside `with`")  # a bug in the caller, not an input
        try:
            # The envelope takes bare addresses; the headers in `raw` keep the display names.
            self._smtp.sendmail(parseaddr(sender)[1], [parseaddr(recipient)[1]], raw)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(recipient, (0, b"refused"))
            raise SendFailure(f"SMTP refused {recipient}: {code} {_text(text)}") from None
        except smtplib.SMTPSenderRefused as exc:
            raise MailError(
                f"refused the sender {sender}: {exc.smtp_code} {_text(exc.smtp_error)}",
                where=self.where,
                hint="[report] mail_from",
            ) from None
        except smtplib.SMTPDataError as exc:
            # Refused after the recipient was accepted (content policy, size): this message to this recipient.
            raise SendFailure(f"SMTP refused the message: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"the connection failed: {exc}", where=self.where) from None
        return ""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def smtp_password(settings: ReportSettings, environ: Mapping[str, str] = os.environ) -> str | None:
    """The SMTP password, read from the variable `smtp_password_env` names (never from the file)."""
    if not settings.smtp_user:
        return None
    name = settings.smtp_password_env
    if not name:
        raise ConfigError(
            "smtp_user is set but smtp_password_env is not",
            where="[report] smtp_password_env",
            hint="name the environment variable that holds the password",
        )
    if name not in environ:
        raise ConfigError(
            f"environment variable {name} (the SMTP password) is not set", where="[report] smtp_password_env"
        )
    return environ[name]


def make_transport(
    settings: ReportSettings, session: Callable[[], Any], environ: Mapping[str, str] = os.environ
) -> Transport:
    """The transport `[report]` configures: SMTP when smtp_host is set, else SES in ses_region (default the
    session's region). `session` makes the boto3 Session, called for SES only."""
    if settings.transport == "smtp":
        assert settings.smtp_host is not None  # transport == "smtp" says so
        return SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            starttls=settings.smtp_starttls,
            user=settings.smtp_user,
            password=smtp_password(settings, environ),
        )
    boto = session()
    region = settings.ses_region or boto.region_name
    if not region:
        raise ConfigError("no region to send mail from through SES", where="[report] ses_region")
    return SesTransport(boto, region)
