"""People who sign in, their open sessions, the failed sign-ins that slow down password guessing, and personal API tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from app.db import stored_enum, utcnow
from app.locale import N_
from app.locale import gettext as _


class Role(StrEnum):
    ADMIN = "admin"
    DIRECTOR = "director"
    TRAINER = "trainer"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return _(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: N_("Administrateur·rice"),
    Role.DIRECTOR: N_("Directeur·rice de structure"),
    Role.TRAINER: N_("Formateur·rice"),
    Role.AUDITOR: N_("Auditeur·rice"),
}


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
    notify_submissions: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    """E-mail me when a structure of my cohorts submits an assessment (trainers)."""
    notify_decisions: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    """E-mail me when a trainer returns or validates my structure's assessment."""
    notify_grants: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    """E-mail me when a structure grants me access as an auditor."""
    notify_reminders: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    """E-mail me reminders of the certification cycle (audits, deadlines, expiring evidence)."""


class UserSession(SQLModel, table=True):
    """A signed-in browser; its cookie holds a random secret, only the SHA-256 is kept.

    Ending a session deletes its row, so the cookie (and any copy of it) stops working at its next request.
    """

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_agent: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime = Field(default_factory=utcnow)
    """Written at most once a minute (`app.accounts.sessions.touch`)."""
    expires_at: datetime = Field(index=True)


class PasswordReset(SQLModel, table=True):
    """A one-time link to choose a new password; only the SHA-256 of its secret is kept."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LoginAttempt(SQLModel, table=True):
    """A failed sign-in, or a password reset request; recent ones for an address or a client
    throttle further tries of the same `purpose`."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    client: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    purpose: str = Field(default="sign_in", max_length=16, sa_column_kwargs={"server_default": "sign_in"})
    """`sign_in` (a failed one) or `reset` (a reset link asked for)."""


class Scope(StrEnum):
    CATALOG = "read:catalog"
    """Referentials, criteria, questionnaires, and `POST /score`."""
    ASSESSMENTS = "read:assessments"
    """Structures, submitted assessments, answers, evidence metadata, results, snapshots."""
    EVIDENCE = "read:evidence"
    """Evidence files."""

    @property
    def label(self) -> str:
        return _(SCOPE_LABELS[self])


SCOPE_LABELS = {
    Scope.CATALOG: N_("Lire le catalogue (référentiels, critères, questionnaires) et calculer un score"),
    Scope.ASSESSMENTS: N_(
        "Lire les structures, les autoévaluations soumises, leurs résultats et instantanés"
    ),
    Scope.EVIDENCE: N_("Télécharger les fichiers de preuve"),
}


class ApiToken(SQLModel, table=True):
    """A personal API token. Only the SHA-256 of the secret is kept; the secret is shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    """The first characters of the secret, shown in lists so a person can tell tokens apart."""
    token_hash: str = Field(max_length=64, unique=True, index=True)
    scopes: str = Field(max_length=200)
    """Space-separated scopes, as in OAuth."""
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: int | None = Field(default=None, foreign_key="user.id")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def state(self, now: datetime) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


# The forms as posted: every field a string (or strings) so that any input reaches the service,
# which checks it and answers with the form and a message for each field.


class ApiRateWindow(SQLModel, table=True):
    """How many requests a token made in its current minute: one row per token, in the database
    so that every worker counts the same requests (`app.api.auth.RateLimiter`)."""

    __tablename__ = "api_rate_window"

    token_id: int = Field(foreign_key="api_token.id", primary_key=True)
    window_start: int
    """The minute counted, as seconds since the epoch (a multiple of 60)."""
    requests: int = 0


class SignInForm(BaseModel):
    email: str = ""
    password: str = ""
    suivant: str = "/"


class LanguageForm(BaseModel):
    langue: str = ""
    suivant: str = "/"


class TokenForm(BaseModel):
    name: str = ""
    scopes: list[str] = []
    days: str = ""

    def day_count(self) -> int:
        """The validity typed, or 0 (refused by the service) when it is not a whole number."""
        return int(self.days) if self.days.isdecimal() else 0


class PasswordChangeForm(BaseModel):
    current_password: str = ""
    new_password: str = ""
    new_password_again: str = ""


class PasswordResetForm(BaseModel):
    new_password: str = ""
    new_password_again: str = ""


class ForgottenPasswordForm(BaseModel):
    email: str = ""


class NoticesForm(BaseModel):
    avis: list[str] = []
