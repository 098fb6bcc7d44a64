"""The certification cycle of a structure: where it stands, its audits' outcomes, and calendar feeds."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from app.db import stored_enum, utcnow
from app.locale import N_
from app.locale import gettext as _


class Stage(StrEnum):
    """Where a structure stands in the certification cycle, in the order it goes through it."""

    PREPARATION = "preparation"
    INITIAL_PLANNED = "audit_initial_planifie"
    CERTIFIED = "certifiee"
    SURVEILLANCE = "audit_surveillance"
    RENEWAL = "renouvellement"

    @property
    def label(self) -> str:
        return _(STAGE_LABELS[self])


STAGE_LABELS = {
    Stage.PREPARATION: N_("Préparation"),
    Stage.INITIAL_PLANNED: N_("Audit initial planifié"),
    Stage.CERTIFIED: N_("Certifiée"),
    Stage.SURVEILLANCE: N_("Audit de surveillance"),
    Stage.RENEWAL: N_("Renouvellement"),
}


class AuditKind(StrEnum):
    INITIAL = "initial"
    SURVEILLANCE = "surveillance"
    RENEWAL = "renouvellement"

    @property
    def label(self) -> str:
        return _(AUDIT_KIND_LABELS[self])


AUDIT_KIND_LABELS = {
    AuditKind.INITIAL: N_("Audit initial"),
    AuditKind.SURVEILLANCE: N_("Audit de surveillance"),
    AuditKind.RENEWAL: N_("Audit de renouvellement"),
}


class AuditResult(StrEnum):
    GRANTED = "accordee"
    """Certification granted, maintained or renewed."""
    CONDITIONAL = "sous_reserve"
    """Granted once the corrective actions are accepted."""
    REFUSED = "refusee"

    @property
    def label(self) -> str:
        return _(AUDIT_RESULT_LABELS[self])


AUDIT_RESULT_LABELS = {
    AuditResult.GRANTED: N_("Certification accordée ou maintenue"),
    AuditResult.CONDITIONAL: N_("Accordée sous réserve des actions correctives"),
    AuditResult.REFUSED: N_("Refusée ou suspendue"),
}


class CertificationRecord(SQLModel, table=True):
    """One structure's place in the cycle: its stage, the audit it prepares for, its certificate."""

    __tablename__ = "certification_record"

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", unique=True)
    stage: Stage = Field(default=Stage.PREPARATION, sa_type=stored_enum(Stage))
    audit_on: date | None = None
    """The next audit's date, planned or booked with the certifier."""
    audit_booked: bool = False
    """True once the certifier confirmed the date; a planned date may still move."""
    certificate_number: str = Field(default="", max_length=60)
    certified_on: date | None = None
    valid_until: date | None = None
    revision: int = 1
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class AuditOutcome(SQLModel, table=True):
    """What a real audit found, as the structure's direction or its trainer recorded it.

    Findings are counted on AFNOR Certification's usual scale (major and minor non-conformities,
    « points sensibles », « pistes de progrès »); see shared/domain/norm.md §1 for its confidence.
    """

    __tablename__ = "audit_outcome"

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    kind: AuditKind = Field(sa_type=stored_enum(AuditKind))
    held_on: date
    result: AuditResult = Field(sa_type=stored_enum(AuditResult))
    major_nonconformities: int = 0
    minor_nonconformities: int = 0
    sensitive_points: int = 0
    improvement_leads: int = 0
    corrective_due_on: date | None = None
    """When the corrective actions are due to the certifier, if any are."""
    recorded_by: int = Field(foreign_key="user.id")
    recorded_at: datetime = Field(default_factory=utcnow)


class CalendarFeed(SQLModel, table=True):
    """A person's private iCalendar address; only the SHA-256 of its secret is kept."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


# The forms as posted: strings only, so that any input reaches the service and its messages.


class RecordForm(BaseModel):
    stage: str = ""
    audit_on: str = ""
    audit_booked: str = ""
    certificate_number: str = ""
    certified_on: str = ""
    valid_until: str = ""


class OutcomeForm(BaseModel):
    kind: str = ""
    held_on: str = ""
    result: str = ""
    major_nonconformities: str = "0"
    minor_nonconformities: str = "0"
    sensitive_points: str = "0"
    improvement_leads: str = "0"
    corrective_due_on: str = ""


class FollowUpForm(BaseModel):
    kind: str = ""
    questionnaire: str = ""
