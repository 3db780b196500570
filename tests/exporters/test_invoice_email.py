"""Invoice e-mail against a real SMTP server (aiosmtpd on 127.0.0.1): what arrives,
what is recorded, what is refused, and that a re-run sends nothing new."""

import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import duckdb
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from exporters.invoice_email import (
    NOT_CONFIGURED,
    EmailConfigError,
    SmtpSettings,
    build_invoice_email,
    send_invoice_emails,
)
from exporters.invoice_pdf import render_invoice_pdfs

AS_OF = datetime(2026, 11, 5, 6, 0)
SENDER = "Northwind Billing <billing@northwind.example>"
PASSWORD = "s3cret-smtp-pw"


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it accepts, refuses some recipients with 550
    and rejects the content of messages to others with 554."""

    refused: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    received: list[tuple[str, tuple[str, ...], bytes]] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.rejected.intersection(envelope.rcpt_tos):
            return "554 5.7.1 Message content rejected"
        self.received.append((envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(content, policy=email.policy.default)
            for _, _, content in self.received
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(mailbox: Mailbox, **smtp_parameters) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **smtp_parameters)
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture
def smtp_server(mailbox: Mailbox) -> Iterator[Controller]:
    controller = start_server(mailbox)
    yield controller
    controller.stop()


@pytest.fixture
def settings(smtp_server: Controller) -> SmtpSettings:
    return SmtpSettings.from_environ(
        {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port), "INVOICE_FROM": SENDER}
    )


@pytest.fixture(scope="module")
def pdf_paths(tmp_path_factory: pytest.TempPathFactory, documents) -> dict[str, Path]:
    """The three finalized invoices rendered once for the module, by invoice id."""
    paths = render_invoice_pdfs(documents, tmp_path_factory.mktemp("pdfs"))
    return {doc.invoice_id: path for doc, path in zip(documents, paths, strict=True)}


def deliveries(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute("select * from sync.invoice_deliveries order by invoice_number").fetchall()


def test_settings_come_from_the_environment() -> None:
    assert SmtpSettings.from_environ({}) is None
    assert SmtpSettings.from_environ({"SMTP_HOST": " ", "INVOICE_FROM": SENDER}) is None
    settings = SmtpSettings.from_environ(
        {
            "SMTP_HOST": "smtp.example.com",
            "SMTP_PORT": "465",
            "SMTP_USER": "billing",
            "SMTP_PASSWORD": PASSWORD,
            "INVOICE_FROM": SENDER,
        }
    )
    assert (settings.host, settings.port, settings.user) == ("smtp.example.com", 465, "billing")
    assert settings.implicit_tls and settings.sender_address == "billing@northwind.example"
    assert PASSWORD not in repr(settings)
    default = SmtpSettings.from_environ({"SMTP_HOST": "smtp.example.com", "INVOICE_FROM": SENDER})
    assert (default.port, default.user, default.implicit_tls) == (587, None, False)
    with pytest.raises(EmailConfigError, match="SMTP_PORT"):
        SmtpSettings.from_environ({"SMTP_HOST": "h", "SMTP_PORT": "smtp", "INVOICE_FROM": SENDER})
    with pytest.raises(EmailConfigError, match="INVOICE_FROM is not set"):
        SmtpSettings.from_environ({"SMTP_HOST": "h"})


def test_each_issued_invoice_arrives_with_its_pdf(
    conn, documents, pdf_paths, settings, mailbox
) -> None:
    outcome = send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)

    assert outcome.configured and not outcome.failures
    assert outcome.sent == ("INV-000001", "INV-000002", "INV-000003")
    assert outcome.lines[0] == "INV-000001: e-mailed to billing@acme.example"
    assert [rcpts for _, rcpts, _ in mailbox.received] == [
        ("billing@acme.example",),
        ("ap@kaito.example",),
        ("zeta@zeta.example",),
    ]
    acme = mailbox.messages()[0]
    assert acme["To"] == '"Acme Analytics, Inc." <billing@acme.example>'
    assert acme["From"] == SENDER
    assert "INV-000001" in acme["Subject"] and "$635.96" in acme["Subject"]
    body = acme.get_body(preferencelist=("plain",)).get_content()
    for snippet in ("INV-000001", "$635.96 (USD)", "Oct 1 – Oct 31, 2026", "Nov 9, 2026"):
        assert snippet in body
    (attachment,) = acme.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "INV-000001.pdf"
    assert attachment.get_content() == pdf_paths["cus_0001-2026-10"].read_bytes()
    assert deliveries(conn)[0] == (
        "cus_0001-2026-10",
        "INV-000001",
        "billing@acme.example",
        acme["Message-ID"],
        AS_OF,
    )
    zero_body = mailbox.messages()[2].get_body(preferencelist=("plain",)).get_content()
    assert "nothing to pay" in zero_body


def test_the_state_table_has_exactly_the_agreed_columns(conn, settings) -> None:
    send_invoice_emails(conn, [], {}, settings, as_of=AS_OF)
    columns = conn.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_schema = 'sync' and table_name = 'invoice_deliveries'
        order by ordinal_position
        """
    ).fetchall()
    assert columns == [
        ("invoice_id", "VARCHAR"),
        ("invoice_number", "VARCHAR"),
        ("recipient", "VARCHAR"),
        ("message_id", "VARCHAR"),
        ("sent_at", "TIMESTAMP"),
    ]


def test_a_rerun_sends_nothing_new(conn, documents, pdf_paths, settings, mailbox) -> None:
    send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)
    again = send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)
    assert again.sent == () and again.failures == ()
    assert again.already_sent == ("INV-000001", "INV-000002", "INV-000003")
    assert again.lines[0].startswith("INV-000001: already e-mailed to billing@acme.example")
    assert len(mailbox.received) == 3
    assert len(deliveries(conn)) == 3


def test_message_id_is_fixed_by_invoice_number_and_content(usd_invoice, settings) -> None:
    first = build_invoice_email(usd_invoice, b"%PDF-", settings, AS_OF)
    later = build_invoice_email(usd_invoice, b"%PDF-", settings, datetime(2026, 12, 1))
    assert first["Message-ID"] == later["Message-ID"]
    assert first["Message-ID"].startswith("<INV-000001.")
    assert first["Message-ID"].endswith("@northwind.example>")
    changed = build_invoice_email(replace(usd_invoice, content_hash="x"), b"", settings, AS_OF)
    assert changed["Message-ID"] != first["Message-ID"]


def test_a_refused_recipient_is_reported_and_the_others_still_go_out(
    conn, documents, pdf_paths, settings, mailbox
) -> None:
    mailbox.refused.add("ap@kaito.example")
    outcome = send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)

    assert outcome.sent == ("INV-000001", "INV-000003")
    assert outcome.failures == (
        "INV-000002: not e-mailed: recipient ap@kaito.example refused: "
        "550 5.1.1 No such mailbox here",
    )
    assert [row[1] for row in deliveries(conn)] == ["INV-000001", "INV-000003"]

    mailbox.refused.clear()
    retry = send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)
    assert retry.sent == ("INV-000002",) and len(mailbox.received) == 3


def test_a_rejected_message_is_reported_and_the_others_still_go_out(
    conn, documents, pdf_paths, settings, mailbox
) -> None:
    mailbox.rejected.add("billing@acme.example")
    outcome = send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)
    assert outcome.failures == (
        "INV-000001: not e-mailed: server refused the message: 554 5.7.1 Message content rejected",
    )
    assert outcome.sent == ("INV-000002", "INV-000003")


def test_not_configured_sends_nothing_and_says_so(conn, documents, pdf_paths) -> None:
    outcome = send_invoice_emails(conn, documents, pdf_paths, None, as_of=AS_OF)
    assert not outcome.configured
    assert outcome.lines == (NOT_CONFIGURED,)
    assert outcome.sent == () and outcome.failures == ()
    assert deliveries(conn) == []


def test_drafts_are_never_sent_and_a_missing_address_is_reported(
    conn, usd_invoice, jpy_invoice, pdf_paths, settings, mailbox
) -> None:
    draft = replace(usd_invoice, status="draft", invoice_number=None, finalized_at=None)
    no_address = replace(jpy_invoice, customer_email="")
    bad_address = replace(usd_invoice, customer_email="ap@kaito@example")
    outcome = send_invoice_emails(
        conn, [draft, no_address, bad_address], pdf_paths, settings, as_of=AS_OF
    )
    assert outcome.sent == ()
    assert outcome.failures[0] == (
        "INV-000002: not e-mailed: customer cus_0002 has no e-mail address"
    )
    assert outcome.failures[1].startswith(
        "INV-000001: not e-mailed: cannot address 'ap@kaito@example' to 'Acme Analytics, Inc.'"
    )
    assert mailbox.received == [] and deliveries(conn) == []


def test_an_unreachable_server_is_retried_with_backoff_then_reported(
    conn, documents, pdf_paths, sleeps
) -> None:
    closed_port = free_port()
    settings = SmtpSettings.from_environ(
        {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(closed_port), "INVOICE_FROM": SENDER}
    )
    outcome = send_invoice_emails(
        conn, documents, pdf_paths, settings, as_of=AS_OF, sleep=sleeps.append, max_attempts=3
    )
    assert sleeps == [1.0, 2.0]
    assert outcome.sent == () and len(outcome.failures) == 3
    assert outcome.failures[0].startswith(
        "INV-000001: not e-mailed: gave up after 3 attempts: ConnectionRefusedError"
    )
    assert outcome.failures[1].startswith("INV-000002: not e-mailed: not attempted: gave up")
    assert deliveries(conn) == []


def test_login_uses_the_password_but_never_records_it(conn, documents, pdf_paths) -> None:
    mailbox = Mailbox()
    controller = start_server(mailbox, authenticator=mailbox.authenticate, auth_require_tls=False)
    try:
        environ = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(controller.port),
            "SMTP_USER": "billing",
            "SMTP_PASSWORD": PASSWORD,
            "INVOICE_FROM": SENDER,
        }
        settings = SmtpSettings.from_environ(environ)
        outcome = send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)
        assert mailbox.logins == [(b"billing", PASSWORD.encode())]
        assert len(outcome.sent) == 3
        stored = conn.execute("select * from sync.invoice_deliveries").fetchall()
        assert PASSWORD not in repr(stored)
        assert PASSWORD not in "\n".join(outcome.lines)
        assert all(PASSWORD.encode() not in content for _, _, content in mailbox.received)

        wrong = SmtpSettings.from_environ({**environ, "SMTP_PASSWORD": "wrong"})
        november = replace(documents[0], invoice_id="cus_0001-2026-11")
        november_pdf = {november.invoice_id: pdf_paths[documents[0].invoice_id]}
        with pytest.raises(EmailConfigError, match="refused the login of SMTP_USER='billing'"):
            send_invoice_emails(conn, [november], november_pdf, wrong, as_of=AS_OF)
    finally:
        controller.stop()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_starttls_is_used_when_offered_and_its_certificate_checked(
    conn, documents, pdf_paths, tmp_path, monkeypatch
) -> None:
    cert_path, key_path = self_signed_certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_path, key_path)
    mailbox = Mailbox()
    # The server refuses mail and logins before STARTTLS, so a delivery proves TLS was used.
    controller = start_server(
        mailbox, tls_context=server_tls, require_starttls=True, authenticator=mailbox.authenticate
    )
    try:
        settings = SmtpSettings.from_environ(
            {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(controller.port),
                "SMTP_USER": "billing",
                "SMTP_PASSWORD": PASSWORD,
                "INVOICE_FROM": SENDER,
            }
        )
        with pytest.raises(EmailConfigError, match="TLS certificate not trusted"):
            send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)
        assert mailbox.received == []

        trusting = ssl.create_default_context(cafile=cert_path)
        monkeypatch.setattr(ssl, "create_default_context", lambda: trusting)
        outcome = send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)
        assert len(outcome.sent) == 3 and len(mailbox.received) == 3
        assert mailbox.logins == [(b"billing", PASSWORD.encode())]
    finally:
        controller.stop()


def test_a_password_is_never_sent_unencrypted_to_another_machine(
    conn, documents, pdf_paths
) -> None:
    mailbox = Mailbox()
    # 127.0.0.2 is this machine too, but the sender cannot know that: it counts as remote.
    controller = Controller(
        mailbox,
        hostname="127.0.0.2",
        port=free_port(),
        authenticator=mailbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        settings = SmtpSettings.from_environ(
            {
                "SMTP_HOST": "127.0.0.2",
                "SMTP_PORT": str(controller.port),
                "SMTP_USER": "billing",
                "SMTP_PASSWORD": PASSWORD,
                "INVOICE_FROM": SENDER,
            }
        )
        with pytest.raises(EmailConfigError, match="refusing to send SMTP_USER's password"):
            send_invoice_emails(conn, documents, pdf_paths, settings, as_of=AS_OF)
        assert mailbox.logins == [] and mailbox.received == []
    finally:
        controller.stop()


def test_the_dagster_asset_emails_a_partition_once(
    warehouse_copy, tmp_path, smtp_server, mailbox, monkeypatch
) -> None:
    from dagster import materialize

    from orchestration.assets.delivery import invoice_emails
    from orchestration.resources import BillingClock, BillingWarehouse

    resources = {
        "warehouse": BillingWarehouse(
            data_dir=str(tmp_path), db_path=str(warehouse_copy), output_dir=str(tmp_path)
        ),
        "clock": BillingClock(as_of="2026-11-05T06:00:00Z"),
    }

    def run() -> dict:
        result = materialize([invoice_emails], partition_key="2026-10-01", resources=resources)
        assert result.success
        (materialization,) = result.asset_materializations_for_node("invoice_emails")
        return {key: value.value for key, value in materialization.metadata.items()}

    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    unconfigured = run()
    assert (unconfigured["configured"], unconfigured["sent"]) == (False, 0)
    assert unconfigured["report"] == NOT_CONFIGURED

    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("INVOICE_FROM", SENDER)
    first = run()
    assert (first["configured"], first["sent"], first["failed"]) == (True, 3, 0)
    assert sorted(path.name for path in (tmp_path / "invoices").iterdir()) == [
        "INV-000001.pdf",
        "INV-000002.pdf",
        "INV-000003.pdf",
    ]
    again = run()
    assert (again["sent"], again["already_sent"]) == (0, 3)
    assert len(mailbox.received) == 3
