"""STARTTLS, implicit TLS and credentials against a real aiosmtpd server with a certificate made here."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine
from sqlmodel import Session

from app.config import Settings
from app.mail.sender import send_pending
from app.mail.service import enqueue
from tests.smtp import Inbox, free_port

# TLS with the SMTP server: the outbox queries are tested on both databases in test_sender.py.
pytestmark = pytest.mark.sqlite_only

CONTEXT = {"name": "Camille", "path": "/mot-de-passe/reinitialiser/abc"}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: its file and its key's."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def check_login(_server: SMTP, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"autodiag", b"secret du relais")
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself


@pytest.fixture
def trusting(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """The server's TLS context; the sender trusts its certificate as if a public authority signed it."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(*certificate)
    default = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *_a, **_k: default(cafile=str(certificate[0])))
    return server


def serve(inbox: Inbox, port: int, **options: Any) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=check_login, **options)
    controller.start()
    return controller


@pytest.fixture
def starttls_server(trusting: ssl.SSLContext) -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = serve(inbox, port, tls_context=trusting, require_starttls=True, auth_required=True)
    yield inbox, port
    controller.stop()


def settings(port: int, tmp_path: Path, **values: Any) -> Settings:
    return Settings(environment="test", data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, **values)


def queue(session: Session) -> None:
    enqueue(
        session,
        event_key="reset:1",
        to="camille@example.org",
        template="password_reset",
        context=CONTEXT,
        language=None,
    )
    session.commit()


def test_starttls_with_credentials_delivers(
    engine: Engine, session: Session, starttls_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = starttls_server
    queue(session)
    configured = settings(port, tmp_path, smtp_username="autodiag", smtp_password="secret du relais")
    assert send_pending(engine, settings=configured).sent == 1
    assert [message["To"] for message in inbox.messages] == ["camille@example.org"]


def test_wrong_credentials_leave_the_message_to_try_again(
    engine: Engine, session: Session, starttls_server: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = starttls_server
    queue(session)
    configured = settings(port, tmp_path, smtp_username="autodiag", smtp_password="pas le bon")
    counts = send_pending(engine, settings=configured)
    assert (counts.sent, counts.retried) == (0, 1)
    assert inbox.messages == []


def test_implicit_tls_delivers(
    engine: Engine, session: Session, trusting: ssl.SSLContext, tmp_path: Path
) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=trusting)
    controller.start()
    try:
        queue(session)
        assert send_pending(engine, settings=settings(port, tmp_path, smtp_security="tls")).sent == 1
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
