"""Mediation structures, the people attached to them, and the auditors they let read their results."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.catalog.models import ProfileField
from app.db import stored_enum, utcnow
from app.locale import N_
from app.locale import gettext as _


class MemberRole(StrEnum):
    """What a member may do in their structure (the permission function reads it)."""

    DIRECTION = "direction"
    """Everything: answer, submit, edit the profile, start assessments, grant auditors, invite members."""
    CONTRIBUTION = "contribution"
    """Answer, comment, attach evidence, edit the action plan; never submit, grant or invite."""
    LECTURE = "lecture"
    """Read only."""

    @property
    def label(self) -> str:
        return _(MEMBER_ROLE_LABELS[self])


MEMBER_ROLE_LABELS = {
    MemberRole.DIRECTION: N_("Direction"),
    MemberRole.CONTRIBUTION: N_("Contribution"),
    MemberRole.LECTURE: N_("Lecture"),
}

LEGAL_FORMS = {
    "association": N_("Association"),
    "collectivite": N_("Collectivité territoriale"),
    "etablissement_public": N_("Établissement public"),
    "scic_scop": N_("SCIC / SCOP"),
    "entreprise": N_("Entreprise"),
    "autre": N_("Autre"),
}
"""The legal forms a structure may have: stored code → label."""


class Structure(SQLModel, table=True):
    __tablename__ = "structure"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    city: str = Field(default="", max_length=120)
    legal_form: str = Field(default="", max_length=40)
    """A key of `LEGAL_FORMS`, or empty when not given."""
    siret: str = Field(default="", max_length=14)
    """14 digits with a valid Luhn key, or empty."""
    archived_at: datetime | None = None
    """Set while the structure is archived: read-only everywhere and left out of lists."""
    erased_at: datetime | None = None
    """Set when an administrator erased the structure: what is left is this row, archived, without its
    name or details, so the audit log's entries still point at one structure (`app.privacy`)."""
    profile: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    """Answers to the questionnaire's profile questions; they decide which criteria apply."""
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A person of a structure, with their role in it (`MemberRole`)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "structure_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    role: MemberRole = Field(default=MemberRole.DIRECTION, sa_type=stored_enum(MemberRole))
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
