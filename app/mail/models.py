"""The outbox: one row per e-mail to send, written with the change that causes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.db import utcnow


class OutboxMessage(SQLModel, table=True):
    """A rendered e-mail waiting to be sent, sent, or given up on after its last try.

    `event_key` names what caused it (`password_reset:12`, `submitted:40:7`): unique, so a cause
    retried or run twice queues one message, never two.
    """

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=200, unique=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_type=Text)
    html_body: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    """Tries so far, counted when a sender claims the message (so a crash mid-send counts too)."""
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    """When a sender may take it: now for a new message, later after a failure or while claimed."""
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    """Set after the last try failed: kept for administrators to see, never sent again by itself."""
    last_error: str | None = Field(default=None, max_length=500)

    @property
    def pending(self) -> bool:
        return self.sent_at is None and self.failed_at is None
