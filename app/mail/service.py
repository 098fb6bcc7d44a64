"""Queue e-mails in the caller's transaction, and read the outbox (what failed, what waits).

`enqueue` renders `templates/mail/<template>.txt` and `.html` in the recipient's language and adds
the row to the session without committing: the use case that causes the message commits it with
its own change, so a message exists exactly when its cause does. `app.mail.sender` sends it after
commit. The text template's first line is the subject; the rest, after a blank line, the body.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, func, select

from app import locale
from app.config import settings
from app.db import utcnow
from app.mail.models import OutboxMessage

PENDING_KEY = "outbox_pending"
"""Set in `session.info` by `enqueue`; after the commit, the senders waiting in this process wake."""
# Process-wide: a commit that queued mail may happen in any session, the senders to wake are per app.
_wakers: list[Callable[[], None]] = []


def enqueue(
    session: Session,
    *,
    event_key: str,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str | None,
) -> OutboxMessage | None:
    """Add the message for this event to the session (not committed); None if the event has one already."""
    taken = select(OutboxMessage.id).where(OutboxMessage.event_key == event_key)
    if session.exec(taken).first() is not None:
        return None
    subject, text_body, html_body = render(template, context, language=language)
    message = OutboxMessage(
        event_key=event_key[:200],
        recipient=to,
        subject=subject[:300],
        text_body=text_body,
        html_body=html_body,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.info[PENDING_KEY] = True
    return message


def render(template: str, context: dict[str, Any], *, language: str | None) -> tuple[str, str, str]:
    """The subject, text body and HTML body of `template` in `language` (French when None)."""
    environment = _environment(settings.templates_dir)
    values = {"url": absolute_url, **context}
    with locale.language(language or locale.DEFAULT_LANGUAGE):
        text = environment.get_template(f"mail/{template}.txt").render(values)
        html = environment.get_template(f"mail/{template}.html").render(values)
    subject, _sep, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n", html


def absolute_url(path: str) -> str:
    """The address of a page of this site, for a link in an e-mail (`settings.base_url`)."""
    return settings.base_url.rstrip("/") + "/" + path.lstrip("/")


@cache
def _environment(templates_dir: Path) -> Environment:
    # Jinja's own newstyle gettext: it escapes in the HTML templates and leaves the text ones plain.
    environment = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        locale.gettext, locale.ngettext, newstyle=True
    )
    environment.filters["date"] = locale.format_date
    environment.globals["current_language"] = locale.current_language
    return environment


def failed_messages(session: Session, *, limit: int = 100) -> list[OutboxMessage]:
    """The messages given up on, newest first: for administrators to see and retry."""
    query = select(OutboxMessage).where(col(OutboxMessage.failed_at).is_not(None))
    return list(session.exec(query.order_by(col(OutboxMessage.failed_at).desc()).limit(limit)))


def pending_count(session: Session) -> int:
    """How many messages wait to be sent (new, or to be tried again)."""
    query = select(func.count()).where(
        col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.failed_at).is_(None)
    )
    return session.exec(query).one()


def retry(session: Session, *, message: OutboxMessage) -> None:
    """Send a failed message again from its first try (an administrator fixed the cause)."""
    message.failed_at, message.attempts, message.next_attempt_at = None, 0, utcnow()
    session.add(message)
    session.info[PENDING_KEY] = True
    session.commit()


def on_commit_wake(callback: Callable[[], None]) -> None:
    """Call `callback()` after each commit that queued a message (the web process's sender)."""
    _wakers.append(callback)


def stop_waking(callback: Callable[[], None]) -> None:
    if callback in _wakers:
        _wakers.remove(callback)


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    if session.info.pop(PENDING_KEY, False):
        for callback in list(_wakers):
            callback()


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    session.info.pop(PENDING_KEY, None)
