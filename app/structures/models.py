"""Mediation structures, the people attached to them, and the auditors they let read their results."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.catalog.models import ProfileField
from app.db import utcnow


class Structure(SQLModel, table=True):
    __tablename__ = "structure"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    city: str = Field(default="", max_length=120)
    profile: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """Answers to the questionnaire's profile questions; they decide which criteria apply."""
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A director (or another member) of a structure."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "structure_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)


class AuditorGrant(SQLModel, table=True):
    """A director lets a named auditor read the structure's submitted assessments until a date.

    Active while not revoked and `expires_on` (inclusive, UTC calendar day) has not passed. Rows are
    kept after revocation or expiry so the audit trail can name the grant every read happened under.
    """

    __tablename__ = "auditor_grant"

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    auditor_id: int = Field(foreign_key="user.id", index=True)
    expires_on: date
    granted_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    revoked_by: int | None = Field(default=None, foreign_key="user.id")


# The forms as posted: strings only, so that any input reaches the service and its messages.


class ProfileForm(BaseModel):
    """The profile form, posted or previewed (`apercu`): each profile field's id with its value or values."""

    model_config = ConfigDict(extra="allow")

    apercu: str | None = None

    def answers(self, fields: Iterable[ProfileField]) -> dict[str, Any]:
        """Profile answers from the form: lists for multi, True/False for oui/non, text otherwise.

        An unchecked multi field is an empty list (the form cannot tell "none" from "not answered");
        other unanswered fields are left out, so the criteria they condition stay applicable.
        """
        values: dict[str, Any] = {}
        for field in fields:
            typed = self._typed(field.id)
            if field.kind == "multi":
                values[field.id] = typed
            elif typed and typed[-1]:  # the last of repeated values, as a form reads them
                last = typed[-1]
                values[field.id] = (
                    {"oui": True, "non": False}.get(last, last) if field.kind == "boolean" else last
                )
        return values

    def _typed(self, field_id: str) -> list[str]:
        raw = (self.model_extra or {}).get(field_id)
        if raw is None:
            return []
        return [str(value) for value in raw] if isinstance(raw, list) else [str(raw)]


class GrantForm(BaseModel):
    email: str = ""
    expires_on: str = ""
