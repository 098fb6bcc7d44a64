"""The outbox through a real SMTP server: enqueue in a transaction, send after commit, retry, give up."""

from __future__ import annotations

import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select, update

from app import cli
from app.config import Settings
from app.db import utcnow
from app.mail.models import OutboxMessage
from app.mail.sender import send_pending
from app.mail.service import enqueue, failed_messages, pending_count, retry
from app.main import create_app
from tests.smtp import Inbox, html_of, text_of

RESET = {"name": "Camille Martin", "path": "/mot-de-passe/reinitialiser/abc"}


def smtp_settings(port: int, tmp_path: Path, **values: object) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="Autodiag <autodiag@example.org>",
        **values,  # type: ignore[arg-type]
    )


def queue(
    session: Session, key: str = "reset:1", to: str = "camille@example.org", language: str = "fr"
) -> None:
    assert enqueue(session, event_key=key, to=to, template="password_reset", context=RESET, language=language)
    session.commit()


def stored(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


def test_a_committed_message_is_sent_once_as_text_and_html_with_an_absolute_link(
    engine: Engine, session: Session, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    queue(session)
    counts = send_pending(engine, settings=smtp_settings(port, tmp_path))
    assert (counts.sent, counts.retried, counts.failed) == (1, 0, 0)
    [received] = inbox.messages
    assert received["To"] == "camille@example.org"
    assert received["From"] == "Autodiag <autodiag@example.org>"
    assert received["Subject"] == "Réinitialiser votre mot de passe"
    assert "Bonjour Camille Martin," in text_of(received)
    assert "http://127.0.0.1:8000/mot-de-passe/reinitialiser/abc" in text_of(received)
    assert 'href="http://127.0.0.1:8000/mot-de-passe/reinitialiser/abc"' in html_of(received)
    assert stored(session)[0].sent_at is not None
    assert send_pending(engine, settings=smtp_settings(port, tmp_path)).sent == 0
    assert len(inbox.messages) == 1


def test_a_message_is_written_in_the_recipients_language(
    engine: Engine, session: Session, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    queue(session, language="en")
    send_pending(engine, settings=smtp_settings(port, tmp_path))
    assert inbox.messages[0]["Subject"] == "Reset your password"
    assert "Hello Camille Martin," in text_of(inbox.messages[0])


def test_one_event_queues_one_message_however_often_it_happens(session: Session) -> None:
    queue(session, key="reset:7")
    again = enqueue(
        session,
        event_key="reset:7",
        to="x@example.org",
        template="password_reset",
        context=RESET,
        language=None,
    )
    assert again is None
    assert len(stored(session)) == 1


def test_a_message_rolled_back_with_its_cause_is_never_sent(
    engine: Engine, session: Session, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    enqueue(
        session,
        event_key="reset:2",
        to="a@example.org",
        template="password_reset",
        context=RESET,
        language=None,
    )
    session.rollback()
    assert send_pending(engine, settings=smtp_settings(port, tmp_path)).sent == 0
    assert inbox.messages == []
    assert stored(session) == []


def test_a_refused_message_is_tried_again_with_a_doubling_wait_then_marked_failed(
    engine: Engine, session: Session, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    inbox.refuse = "451 4.3.0 Mailbox temporarily unavailable"
    settings = smtp_settings(port, tmp_path, mail_max_attempts=3)
    queue(session)
    start = utcnow()
    assert send_pending(engine, settings=settings, now=start).retried == 1
    [message] = stored(session)
    assert message.attempts == 1
    assert message.next_attempt_at == start + timedelta(minutes=1)
    assert "451" in (message.last_error or "")
    assert send_pending(engine, settings=settings, now=start + timedelta(seconds=59)).retried == 0
    second = start + timedelta(minutes=1)
    assert send_pending(engine, settings=settings, now=second).retried == 1
    assert stored(session)[0].next_attempt_at == second + timedelta(minutes=2)
    assert send_pending(engine, settings=settings, now=second + timedelta(minutes=2)).failed == 1
    session.expire_all()
    [failed] = failed_messages(session)
    assert failed.attempts == 3
    assert failed.failed_at is not None
    assert not failed.pending
    inbox.refuse = None
    assert send_pending(engine, settings=settings, now=start + timedelta(days=1)).sent == 0
    assert inbox.messages == []


def test_an_unreachable_server_leaves_the_message_to_try_again(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    queue(session)
    from tests.smtp import free_port

    counts = send_pending(engine, settings=smtp_settings(free_port(), tmp_path))
    assert counts.retried == 1
    assert stored(session)[0].pending
    assert "Error" in (stored(session)[0].last_error or "")


def test_two_senders_at_once_never_send_one_message_twice(
    engine: Engine, session: Session, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    for number in range(40):
        enqueue(
            session,
            event_key=f"reset:{number}",
            to=f"p{number}@example.org",
            template="password_reset",
            context=RESET,
            language=None,
        )
    session.commit()
    settings, start = smtp_settings(port, tmp_path), threading.Barrier(2)

    def sender() -> None:
        start.wait()
        send_pending(engine, settings=settings)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recipients = [message["To"] for message in inbox.messages]
    assert sorted(recipients) == sorted(f"p{number}@example.org" for number in range(40))
    assert all(message.attempts == 1 and message.sent_at for message in stored(session))


def test_without_an_smtp_server_messages_are_written_as_eml_files(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    queue(session)
    settings = Settings(environment="test", data_dir=tmp_path)
    assert send_pending(engine, settings=settings).sent == 1
    [path] = sorted((tmp_path / "outbox").glob("*.eml"))
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Réinitialiser votre mot de passe"
    assert "/mot-de-passe/reinitialiser/abc" in text_of(parsed)  # type: ignore[arg-type]
    assert not list((tmp_path / "outbox").glob(".*.tmp"))


def test_a_message_left_by_a_crash_is_sent_by_the_command(
    engine: Engine,
    database_url: str,
    session: Session,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, port = smtp
    queue(session)  # committed, and the process that queued it stopped before sending
    assert pending_count(session) == 1
    for name, value in smtp_settings(port, tmp_path, database_url=database_url):
        monkeypatch.setattr(cli.settings, name, value)
    monkeypatch.setattr(sys, "argv", ["autodiag", "mail", "send"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 0
    out, err = capsys.readouterr()
    assert "sent 1, to try again later 0, failed 0" in out
    assert "127.0.0.1" in err
    assert len(inbox.messages) == 1
    assert pending_count(session) == 0


def test_the_web_process_sends_right_after_the_commit_that_queued_a_message(
    database_url: str, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    settings = smtp_settings(port, tmp_path, database_url=database_url, mail_worker=True)
    app = create_app(settings)
    with TestClient(app), Session(app.state.engine) as session:
        queue(session)
        # Woken by the commit: the worker's round every minute would come too late for this wait.
        deadline = time.monotonic() + 20
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    app.state.engine.dispose()
    assert [message["To"] for message in inbox.messages] == ["camille@example.org"]


def test_a_permanent_refusal_is_failed_at_once_and_listed_by_the_command(
    engine: Engine,
    database_url: str,
    session: Session,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, port = smtp
    inbox.refuse = "550 5.1.1 No such user"
    queue(session, to="nobody@example.org")
    queue(session, key="reset:2")
    settings = smtp_settings(port, tmp_path)
    assert send_pending(engine, settings=settings).failed == 2
    session.exec(update(OutboxMessage).where(OutboxMessage.event_key == "reset:2").values(failed_at=None))  # type: ignore[call-overload]
    session.commit()
    for name, value in settings:
        monkeypatch.setattr(cli.settings, name, value)
    monkeypatch.setattr(cli.settings, "database_url", database_url)
    monkeypatch.setattr(sys, "argv", ["autodiag", "mail", "failed"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 0
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    assert "nobody@example.org\tRéinitialiser votre mot de passe\tSMTPDataError: (550" in line
    assert "1 message(s) waiting to be sent" in err


def test_a_failed_message_retried_by_an_administrator_is_sent(
    engine: Engine, session: Session, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    inbox.refuse = "550 5.1.1 No such user"
    queue(session)
    settings = smtp_settings(port, tmp_path)
    assert send_pending(engine, settings=settings).failed == 1
    inbox.refuse = None
    session.expire_all()
    [failed] = failed_messages(session)
    retry(session, message=failed)
    assert send_pending(engine, settings=settings).sent == 1
    assert len(inbox.messages) == 1
    assert failed_messages(session) == []
