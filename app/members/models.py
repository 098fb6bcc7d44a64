"""Invitations into a structure, and the forms that manage members."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from app.db import stored_enum, utcnow
from app.structures.models import MemberRole

INVITATION_DAYS = 7


class Invitation(SQLModel, table=True):
    """An invitation by e-mail into a structure with a role; only the SHA-256 of its secret is kept.

    Single use: accepting sets `accepted_at`; resending revokes it and makes a new one.
    """

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    email: str = Field(max_length=254, index=True)
    role: MemberRole = Field(sa_type=stored_enum(MemberRole))
    token_hash: str = Field(max_length=64, unique=True, index=True)
    invited_by: int | None = Field(default=None, foreign_key="user.id")
    """None when an operator invited from the command line."""
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(default_factory=lambda: utcnow() + timedelta(days=INVITATION_DAYS))
    accepted_at: datetime | None = None
    accepted_by: int | None = Field(default=None, foreign_key="user.id")
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> Literal["pending", "accepted", "revoked", "expired"]:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "pending"


# The forms as posted: strings only, so that any input reaches the service and its messages.


class InviteForm(BaseModel):
    email: str = ""
    role: str = ""


class RoleForm(BaseModel):
    role: str = ""


class AcceptForm(BaseModel):
    name: str = ""
    password: str = ""
    password_confirmation: str = ""
