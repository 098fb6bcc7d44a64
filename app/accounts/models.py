"""People who sign in, and the failed sign-ins that slow down password guessing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import stored_enum, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    DIRECTOR = "director"
    TRAINER = "trainer"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return {
            "admin": "Administrateur·rice",
            "director": "Directeur·rice de structure",
            "trainer": "Formateur·rice",
            "auditor": "Auditeur·rice",
        }[self.value]


class User(SQLModel, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    """Stored lower-cased; the login form lower-cases what it receives."""
    name: str = Field(max_length=120)
    role: Role = Field(sa_type=stored_enum(Role))
    password_hash: str = Field(max_length=200)
    is_active: bool = True
    language: str | None = Field(default=None, max_length=5)
    """The interface language the person chose (`app.locale.LANGUAGES`); None: their browser's."""
    created_at: datetime = Field(default_factory=utcnow)


class LoginAttempt(SQLModel, table=True):
    """A failed sign-in; recent ones for an address or a client throttle further tries."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
