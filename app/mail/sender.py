"""Send what the outbox holds: claim due messages, deliver them, record the outcome.

Senders may run at once (the web workers, `autodiag mail send` from cron): each claims a message
with one conditional UPDATE on its `attempts` count, so only one of them gets it. PostgreSQL also
skips rows another sender has locked (`FOR UPDATE SKIP LOCKED`) rather than queueing behind it;
SQLite has one writer at a time and ignores the clause. A claim pushes `next_attempt_at` past the
lease: a sender that dies mid-send leaves the message to be taken again once the lease is over.
"""

from __future__ import annotations

import hashlib
import logging
import os
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app.config import Settings
from app.db import utcnow
from app.mail import service
from app.mail.models import OutboxMessage

log = logging.getLogger(__name__)
CLAIM_LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=6)
SMTP_TIMEOUT = 30
BATCH = 10
"""Messages claimed at once: ten tries at the SMTP timeout still end before the lease does."""
Deliver = Callable[[EmailMessage], None]


@dataclass
class SendCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def send_pending(
    engine: Engine, *, settings: Settings, now: datetime | None = None, limit: int = 100
) -> SendCounts:
    """Send the messages that are due, up to `limit`; a failure is tried again later, then marked failed."""
    now = now or utcnow()
    counts = SendCounts()
    with Session(engine) as session:
        while counts.sent + counts.retried + counts.failed < limit:
            # Small batches: each is sent well within its claim's lease, even over a slow server.
            room = limit - counts.sent - counts.retried - counts.failed
            claimed = _claim(session, now=now, limit=min(BATCH, room))
            if not claimed:
                break
            _send_batch(session, claimed, counts=counts, now=now, settings=settings)
    return counts


def _send_batch(
    session: Session, claimed: list[OutboxMessage], *, counts: SendCounts, now: datetime, settings: Settings
) -> None:
    with _transport(settings) as deliver:
        for message in claimed:
            try:
                deliver(as_email(message, settings=settings))
            except (OSError, smtplib.SMTPException) as error:
                failed = _record_failure(session, message, error, now=now, settings=settings)
                counts.failed += failed
                counts.retried += not failed
            else:
                _record(session, message, sent_at=utcnow())
                counts.sent += 1


def _claim(session: Session, *, now: datetime, limit: int) -> list[OutboxMessage]:
    """Take the due messages nobody else took; what another sender claimed first is left to it."""
    due = (
        select(OutboxMessage.id, OutboxMessage.attempts)
        .where(
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.failed_at).is_(None),
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = []
    for message_id, attempts in session.exec(due).all():
        done = session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.attempts) == attempts)
            .values(attempts=attempts + 1, next_attempt_at=now + CLAIM_LEASE)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            taken.append(message_id)
    session.commit()
    query = select(OutboxMessage).where(col(OutboxMessage.id).in_(taken)).order_by(col(OutboxMessage.id))
    return list(session.exec(query))


def _record(session: Session, message: OutboxMessage, **values: object) -> None:
    session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == message.id).values(**values))
    session.commit()


def _record_failure(
    session: Session, message: OutboxMessage, error: Exception, *, now: datetime, settings: Settings
) -> bool:
    """Note the error; give up (True) after the last try or a permanent refusal, else wait and try again."""
    text = f"{type(error).__name__}: {error}"[:500]
    log.warning("e-mail %s to %s not sent: %s", message.event_key, message.recipient, text)
    if message.attempts >= settings.mail_max_attempts or _permanent(error):
        _record(session, message, failed_at=now, last_error=text)
        return True
    wait = min(FIRST_RETRY * 2 ** (message.attempts - 1), LAST_RETRY)
    _record(session, message, next_attempt_at=now + wait, last_error=text)
    return False


def _permanent(error: Exception) -> bool:
    """Whether the server refused this message for good (a 5xx reply to its recipient or content).

    Refused credentials, TLS or sender are the configuration's fault, not the message's: once an
    operator fixes them, the messages waiting go out.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _reply in error.recipients.values())
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


def as_email(message: OutboxMessage, *, settings: Settings) -> EmailMessage:
    """The message as plain text with an HTML alternative; its Message-ID follows from its event."""
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    # The same id on every try: a receiving server may then drop a copy it already has.
    digest = hashlib.sha256(message.event_key.encode()).hexdigest()[:32]
    email["Message-ID"] = f"<{digest}@{urlsplit(settings.base_url).hostname or 'localhost'}>"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email


@contextmanager
def _transport(settings: Settings) -> Iterator[Deliver]:
    """One SMTP connection for a batch, or `.eml` files when no SMTP server is configured."""
    if not settings.smtp_host:
        yield eml_files(settings.outbox_dir)
        return
    try:
        connection = _connect(settings)
    except (OSError, smtplib.SMTPException) as error:
        yield _refuse(error)
        return
    try:
        yield connection.send_message  # type: ignore[misc]
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def _refuse(error: Exception) -> Deliver:
    def deliver(_email: EmailMessage) -> None:
        raise error

    return deliver


def _connect(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    connection: smtplib.SMTP
    if settings.smtp_security == "tls":
        connection = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    try:
        if settings.smtp_security == "starttls":
            connection.starttls(context=context)
        if settings.smtp_username:
            connection.login(settings.smtp_username, settings.smtp_password)
    except (OSError, smtplib.SMTPException):
        connection.close()  # refused credentials or TLS: the socket is not left open
        raise
    return connection


def eml_files(folder: Path) -> Deliver:
    """Write each message as `<folder>/<message id>.eml` (written aside, then moved into place)."""

    def deliver(email: EmailMessage) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        name = str(email["Message-ID"]).strip("<>").split("@")[0]
        draft = folder / f".{name}.{os.getpid()}.tmp"
        draft.write_bytes(email.as_bytes())
        draft.replace(folder / f"{utcnow():%Y%m%d-%H%M%S}-{name[:16]}.eml")

    return deliver


class MailWorker:
    """Sends in a thread of the web process: woken after each commit that queued mail, and every minute.

    The minute's round sends what is due to be tried again, and what a crash left behind.
    """

    def __init__(self, engine: Engine, settings: Settings, *, every: float = 60.0) -> None:
        self.engine, self.settings, self.every = engine, settings, every
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)

    def start(self) -> None:
        service.on_commit_wake(self._wake.set)
        self._thread.start()

    def stop(self) -> None:
        service.stop_waking(self._wake.set)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=SMTP_TIMEOUT)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                send_pending(self.engine, settings=self.settings)
            except Exception:
                log.exception("sending e-mail failed; trying again later")
            self._wake.wait(self.every)
            self._wake.clear()
