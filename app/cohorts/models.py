"""Preparation cohorts: a cycle of France Médiation's four workshops, its trainers, its structures."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class Cohort(SQLModel, table=True):
    """One preparation cycle; its trainers see and review the structures enrolled in it."""

    __tablename__ = "cohort"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class CohortWorkshop(SQLModel, table=True):
    """When and where the cohort meets for one of the four workshops (ids from the criteria files)."""

    __tablename__ = "cohort_workshop"
    __table_args__ = (UniqueConstraint("cohort_id", "workshop"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    workshop: str = Field(max_length=40)
    held_on: date | None = None
    place: str = Field(default="", max_length=200)


class CohortTrainer(SQLModel, table=True):
    __tablename__ = "cohort_trainer"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)


class CohortStructure(SQLModel, table=True):
    """A structure enrolled in a cohort."""

    __tablename__ = "cohort_structure"
    __table_args__ = (UniqueConstraint("cohort_id", "structure_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id", index=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)


class CohortForm(BaseModel):
    """The cohort form as posted, strings only; each workshop adds `date-<id>` and `lieu-<id>`."""

    model_config = ConfigDict(extra="allow")

    nom: str = ""
    formateurs: list[str] = []
    structures: list[str] = []

    def typed(self, name: str) -> str:
        """A workshop's field (`date-<id>`, `lieu-<id>`) as typed, "" when absent."""
        value = (self.model_extra or {}).get(name, "")
        return str(value[-1] if isinstance(value, list) else value)
