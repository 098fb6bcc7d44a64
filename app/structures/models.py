"""Mediation structures and the people attached to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

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
