"""E-mail each issued invoice's PDF to its customer over SMTP (SPEC "Integrations").

Settings come from the environment (`SMTP_HOST`, `SMTP_PORT`, `SMTP_USER`,
`SMTP_PASSWORD`, `INVOICE_FROM`); with `SMTP_HOST` unset nothing is sent and
the outcome says so. Port 465 speaks TLS from the start; on other ports
(default 587) STARTTLS is used whenever the server offers it, since invoices
are private. The login happens only when `SMTP_USER` is set, and never over an
unencrypted connection except to this machine. The password is passed to the
SMTP login only: it is never logged, never in an outcome line and never in the
warehouse.

Delivery is safe to re-run. `sync.invoice_deliveries` records each invoice
right after the server accepted its message, and a recorded invoice is never
e-mailed again. Each message carries a `Message-ID` derived from the invoice
number and content hash, so the one duplicate a crash can cause (accepted,
then the process died before the row was written) is the same message twice,
which a receiver can drop by its id.
"""

import hashlib
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

import duckdb

from exporters.invoice_documents import InvoiceDocument
from exporters.invoice_pdf import long_date, period_label
from exporters.money import format_money

DEFAULT_PORT = 587
IMPLICIT_TLS_PORT = 465
MAX_ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 1.0
NOT_CONFIGURED = "E-mail delivery is not configured (SMTP_HOST is unset): no invoice was e-mailed."

# Issued invoices have a number; a voided one must not reach the customer as a bill.
_NEVER_SENT_STATUSES = ("draft", "void")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

_DDL = (
    "create schema if not exists sync",
    """
    create table if not exists sync.invoice_deliveries (
        invoice_id varchar primary key,
        invoice_number varchar,
        recipient varchar,
        message_id varchar,
        sent_at timestamp
    )
    """,
)


class EmailConfigError(ValueError):
    """The SMTP_* / INVOICE_FROM variables are incomplete, invalid or refused by the server."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom to send; build with `from_environ`. The password stays out of `repr`."""

    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0

    @property
    def implicit_tls(self) -> bool:
        """Port 465 speaks TLS from the first byte (SMTPS); other ports may offer STARTTLS."""
        return self.port == IMPLICIT_TLS_PORT

    @property
    def sender_address(self) -> str:
        """The bare address of `INVOICE_FROM` ("Billing <b@x.example>" -> "b@x.example")."""
        return parseaddr(self.sender)[1]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "SmtpSettings | None":
        """Read the variables; None when `SMTP_HOST` is unset or empty (no e-mail).

        An incomplete or invalid set is an `EmailConfigError` naming the variable.
        """
        values = {name: environ.get(name, "").strip() for name in _VARIABLES}
        host = values["SMTP_HOST"]
        if not host:
            return None
        port_text = values["SMTP_PORT"] or str(DEFAULT_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise EmailConfigError(f"SMTP_PORT={port_text!r} is not a port number (1-65535)")
        sender = values["INVOICE_FROM"]
        if not sender:
            raise EmailConfigError(
                "INVOICE_FROM is not set: it is the sender address of invoice e-mails"
            )
        if "@" not in parseaddr(sender)[1]:
            raise EmailConfigError(f"INVOICE_FROM={sender!r} is not an e-mail address")
        password = environ.get("SMTP_PASSWORD") or None
        if password and not values["SMTP_USER"]:
            raise EmailConfigError("SMTP_PASSWORD is set but SMTP_USER is not")
        return cls(
            host=host,
            port=int(port_text),
            sender=sender,
            user=values["SMTP_USER"] or None,
            password=password,
        )


_VARIABLES = ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "INVOICE_FROM")


@dataclass(frozen=True)
class Delivery:
    """One row of `sync.invoice_deliveries`: an invoice the SMTP server accepted."""

    invoice_id: str
    invoice_number: str
    recipient: str
    message_id: str
    sent_at: datetime


@dataclass(frozen=True)
class DeliveryOutcome:
    """What a delivery run did: one line per invoice, and the invoice numbers by result.

    `configured` is False when SMTP is not set up; then nothing was sent and
    `lines` says so. `failures` holds the lines of the invoices not e-mailed.
    """

    configured: bool
    lines: tuple[str, ...]
    sent: tuple[str, ...] = ()
    already_sent: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()


def ensure_delivery_table(conn: duckdb.DuckDBPyConnection) -> None:
    """Create `sync.invoice_deliveries` if missing (callable by readers of invoice status)."""
    for statement in _DDL:
        conn.execute(statement)


def read_deliveries(
    conn: duckdb.DuckDBPyConnection, invoice_ids: Sequence[str]
) -> dict[str, Delivery]:
    """The recorded deliveries of those of `invoice_ids` that were e-mailed, by invoice id."""
    rows = conn.execute(
        """
        select invoice_id, invoice_number, recipient, message_id, sent_at
        from sync.invoice_deliveries where list_contains(?, invoice_id)
        """,
        [list(invoice_ids)],
    ).fetchall()
    return {row[0]: Delivery(*row) for row in rows}


def record_delivery(conn: duckdb.DuckDBPyConnection, delivery: Delivery) -> None:
    """Remember an accepted message; the first delivery of an invoice stays."""
    conn.execute(
        "insert into sync.invoice_deliveries values (?, ?, ?, ?, ?) on conflict do nothing",
        [
            delivery.invoice_id,
            delivery.invoice_number,
            delivery.recipient,
            delivery.message_id,
            delivery.sent_at,
        ],
    )


def is_issued(doc: InvoiceDocument) -> bool:
    """True for an invoice with a number that is neither a draft nor void: one to e-mail."""
    return bool(doc.invoice_number) and doc.status not in _NEVER_SENT_STATUSES


def message_id(doc: InvoiceDocument, sender_address: str) -> str:
    """`<INV-000042.1a2b…@example.com>`: the same invoice content always gets the same id."""
    digest = hashlib.sha256(f"{doc.invoice_number}\n{doc.content_hash}".encode()).hexdigest()
    domain = sender_address.rpartition("@")[2]
    return f"<{doc.invoice_number}.{digest[:24]}@{domain}>"


def build_invoice_email(
    doc: InvoiceDocument, pdf: bytes, settings: SmtpSettings, as_of: datetime
) -> EmailMessage:
    """The message for one invoice: a short text body and the PDF attached as `<number>.pdf`.

    Raises ValueError or HeaderParseError when the customer's name and address
    cannot be put in a header.
    """
    number = doc.invoice_number
    total = format_money(doc.total, doc.currency)
    due = long_date(doc.due_on)
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = Address(display_name=doc.customer_name, addr_spec=doc.customer_email)
    message["Subject"] = f"Invoice {number} from {doc.seller_name}: {total} due {due}"
    message["Date"] = format_datetime(_utc(as_of))
    message["Message-ID"] = message_id(doc, settings.sender_address)
    message.set_content(_body(doc, total, due))
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{number}.pdf")
    return message


def send_invoice_emails(
    conn: duckdb.DuckDBPyConnection,
    documents: Sequence[InvoiceDocument],
    pdf_paths: Mapping[str, Path],
    settings: SmtpSettings | None,
    *,
    as_of: datetime,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int = MAX_ATTEMPTS,
) -> DeliveryOutcome:
    """E-mail each issued invoice of `documents` not yet delivered; drafts never.

    `pdf_paths` maps invoice id to its rendered PDF. `conn` must be writable:
    each accepted message is recorded at once. A refused recipient or another
    permanent SMTP error fails that invoice only; network errors and 4xx
    replies are retried `max_attempts` times with doubling waits, and once the
    server stays unreachable the remaining invoices fail without waiting.
    A login the server refuses is an `EmailConfigError`.
    """
    ensure_delivery_table(conn)
    if settings is None:
        return DeliveryOutcome(configured=False, lines=(NOT_CONFIGURED,))
    issued = [doc for doc in documents if is_issued(doc)]
    delivered = read_deliveries(conn, [doc.invoice_id for doc in issued])
    lines: list[str] = []
    sent: list[str] = []
    already: list[str] = []
    failures: list[str] = []
    unreachable: str | None = None
    with _SmtpConnection(settings) as smtp:
        for doc in issued:
            number = doc.invoice_number
            previous = delivered.get(doc.invoice_id)
            if previous:
                already.append(number)
                lines.append(
                    f"{number}: already e-mailed to {previous.recipient} at {previous.sent_at}"
                )
                continue
            prepared = unreachable or _prepare(doc, pdf_paths, settings, as_of)
            problem = prepared if isinstance(prepared, str) else None
            if isinstance(prepared, EmailMessage):
                problem, lost_server = _send(
                    smtp, prepared, doc.customer_email, sleep, max_attempts
                )
                if lost_server:
                    unreachable = f"not attempted: {problem}"
            if problem:
                failures.append(f"{number}: not e-mailed: {problem}")
                lines.append(failures[-1])
                continue
            record_delivery(
                conn,
                Delivery(
                    invoice_id=doc.invoice_id,
                    invoice_number=number,
                    recipient=doc.customer_email,
                    message_id=prepared["Message-ID"],
                    sent_at=_utc(as_of).replace(tzinfo=None),
                ),
            )
            sent.append(number)
            lines.append(f"{number}: e-mailed to {doc.customer_email}")
    if not issued:
        lines.append("No issued invoice to e-mail.")
    return DeliveryOutcome(
        configured=True,
        lines=tuple(lines),
        sent=tuple(sent),
        already_sent=tuple(already),
        failures=tuple(failures),
    )


def _prepare(
    doc: InvoiceDocument, pdf_paths: Mapping[str, Path], settings: SmtpSettings, as_of: datetime
) -> EmailMessage | str:
    """The invoice's message, or why it cannot be e-mailed at all."""
    if not doc.customer_email or "@" not in doc.customer_email:
        return f"customer {doc.customer_id} has no e-mail address"
    path = pdf_paths.get(doc.invoice_id)
    if path is None or not path.is_file():
        return f"its PDF is missing ({path or 'not rendered'})"
    try:
        return build_invoice_email(doc, path.read_bytes(), settings, as_of)
    except (ValueError, HeaderParseError) as error:
        return f"cannot address {doc.customer_email!r} to {doc.customer_name!r}: {error}"


def _send(
    smtp: "_SmtpConnection",
    message: EmailMessage,
    recipient: str,
    sleep: Callable[[float], None],
    max_attempts: int,
) -> tuple[str | None, bool]:
    """Send one message: (None, False) when accepted, else (reason, server unreachable)."""
    delay = FIRST_BACKOFF_SECONDS
    reason, lost_server = "no attempt made", False
    for attempt in range(1, max_attempts + 1):
        try:
            smtp.client().send_message(message, to_addrs=[recipient])
            return None, False
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = error.recipients.get(recipient, (None, b""))
            return f"recipient {recipient} refused: {_reply(code, reply)}", False
        except smtplib.SMTPAuthenticationError as error:
            raise EmailConfigError(
                f"SMTP server {smtp.settings.host} refused the login of SMTP_USER="
                f"{smtp.settings.user!r}: {_reply(error.smtp_code, error.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as error:
            reason = _reply(error.smtp_code, error.smtp_error)
            if not 400 <= error.smtp_code < 500:
                return f"server refused the message: {reason}", False
            smtp.reset()
            lost_server = False
        except smtplib.SMTPNotSupportedError as error:
            return f"server cannot take this message: {error}", False
        except smtplib.SMTPServerDisconnected as error:
            smtp.reset()
            reason, lost_server = f"server disconnected: {error}", True
        except smtplib.SMTPException as error:
            raise EmailConfigError(f"SMTP server {smtp.settings.host}: {error}") from None
        except ssl.SSLCertVerificationError as error:
            raise EmailConfigError(
                f"SMTP server {smtp.settings.host}: TLS certificate not trusted: {error}"
            ) from None
        except OSError as error:
            smtp.reset()
            reason, lost_server = f"{type(error).__name__}: {error}", True
        if attempt < max_attempts:
            sleep(delay)
            delay *= 2
    return f"gave up after {max_attempts} attempts: {reason}", lost_server


class _SmtpConnection:
    """One SMTP session for a batch, opened on first use and reopened after a network error."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> "_SmtpConnection":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except OSError:
                self._client.close()
        self._client = None

    def client(self) -> smtplib.SMTP:
        if self._client is None:
            self._client = self._open()
        return self._client

    def reset(self) -> None:
        """Drop a broken connection; the next `client()` opens a new one."""
        if self._client is not None:
            self._client.close()
        self._client = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.implicit_tls:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            client.ehlo()
            encrypted = s.implicit_tls
            if not encrypted and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
                encrypted = True
            if s.user:
                if not encrypted and s.host not in _LOOPBACK_HOSTS:
                    raise EmailConfigError(
                        f"SMTP server {s.host}:{s.port} offers no STARTTLS: refusing to send "
                        "SMTP_USER's password unencrypted (use port 465 or a TLS server)"
                    )
                client.login(s.user, s.password or "")
        except BaseException:
            client.close()
            raise
        return client


def _body(doc: InvoiceDocument, total: str, due: str) -> str:
    number = doc.invoice_number
    nothing_to_pay = "" if doc.total else ", nothing to pay for this period"
    return (
        f"Hello {doc.customer_name},\n\n"
        f"Please find attached invoice {number} from {doc.seller_name}.\n\n"
        f"  Invoice number:  {number}\n"
        f"  Billing period:  {period_label(doc)}\n"
        f"  Total due:       {total} ({doc.currency}){nothing_to_pay}\n"
        f"  Due date:        {due}\n\n"
        f"Please quote {number} with your payment and with any question about this invoice.\n\n"
        f"{doc.seller_name}\n"
    )


def _reply(code: int | None, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}".strip() if code else text


def _utc(moment: datetime) -> datetime:
    """The run's as-of is naive UTC, like every time in the warehouse."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
