"""The trainers' reviews of submitted assessments: levels, findings, evidence ratings, decisions."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import stored_enum, utcnow
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _


class AuditFinding(StrEnum):
    """A mock-audit finding on AFNOR Certification's scale, from best to worst."""

    POINT_FORT = "point_fort"
    PISTE_DE_PROGRES = "piste_de_progres"
    POINT_SENSIBLE = "point_sensible"
    NC_MINEURE = "nc_mineure"
    NC_MAJEURE = "nc_majeure"

    @property
    def label(self) -> str:
        return _(FINDING_LABELS[self])


FINDING_LABELS = {
    AuditFinding.POINT_FORT: N_("Point fort"),
    AuditFinding.PISTE_DE_PROGRES: N_("Piste de progrès"),
    AuditFinding.POINT_SENSIBLE: N_("Point sensible"),
    AuditFinding.NC_MINEURE: N_("Non-conformité mineure"),
    AuditFinding.NC_MAJEURE: N_("Non-conformité majeure"),
}


class EvidenceVerdict(StrEnum):
    """How a trainer rates one piece of evidence for one criterion."""

    SUFFISANTE = "suffisante"
    INSUFFISANTE = "insuffisante"
    A_COMPLETER = "a_completer"

    @property
    def label(self) -> str:
        return _(VERDICT_LABELS[self])


VERDICT_LABELS = {
    EvidenceVerdict.SUFFISANTE: N_("Suffisante"),
    EvidenceVerdict.INSUFFISANTE: N_("Insuffisante"),
    EvidenceVerdict.A_COMPLETER: N_("À compléter"),
}


class Decision(StrEnum):
    RETURNED = "returned"
    VALIDATED = "validated"

    @property
    def label(self) -> str:
        return _(DECISION_LABELS[self])


DECISION_LABELS = {
    Decision.RETURNED: N_("Retournée pour modifications"),
    Decision.VALIDATED: N_("Validée"),
}


class ReviewItem(SQLModel, table=True):
    """A trainer's review of one criterion of one submitted revision; the director's answer stays as is.

    `agrees` is None until the trainer gives a level: True keeps the director's, False proposes
    `proposed_level` (or N/A). `revision` grows with every write, as an answer's does.
    """

    __tablename__ = "review_item"
    __table_args__ = (UniqueConstraint("assessment_id", "assessment_revision", "criterion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id")
    assessment_revision: int
    criterion_id: str = Field(max_length=16)
    agrees: bool | None = None
    proposed_level: int | None = None
    proposed_not_applicable: bool = False
    comment: str = Field(default="", max_length=5000)
    finding: AuditFinding | None = Field(default=None, sa_type=stored_enum(AuditFinding))
    revision: int = 1
    reviewer_id: int = Field(foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class EvidenceRating(SQLModel, table=True):
    """A trainer's rating of one piece of evidence attached to one criterion, for one revision.

    Deleted with its link: evidence the director removes is no longer part of the answer.
    """

    __tablename__ = "evidence_rating"
    __table_args__ = (UniqueConstraint("link_id", "assessment_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    link_id: int = Field(foreign_key="evidence_link.id", ondelete="CASCADE")
    assessment_revision: int
    rating: EvidenceVerdict = Field(sa_type=stored_enum(EvidenceVerdict))
    comment: str = Field(default="", max_length=2000)
    revision: int = 1
    reviewer_id: int = Field(foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class ReviewDecision(SQLModel, table=True):
    """A trainer returned a submitted revision for changes, or validated the snapshot it names."""

    __tablename__ = "review_decision"

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    assessment_revision: int
    decision: Decision = Field(sa_type=stored_enum(Decision))
    snapshot_id: int = Field(foreign_key="snapshot.id")
    snapshot_sha256: str = Field(max_length=64)
    comment: str = Field(default="", max_length=5000)
    decided_by: int = Field(foreign_key="user.id")
    decided_at: datetime = Field(default_factory=utcnow)


# The forms as posted: strings only, so that any input reaches the service and its messages.

INCOMPLETE_FORM = N_("Le formulaire est incomplet : rechargez la page, puis recommencez.")


class RevisedForm(BaseModel):
    """A form that carries the revision of the row it was loaded with (0: no row yet)."""

    revision: str = ""

    def base_revision(self, field: str) -> int:
        """The revision the write is based on; refused (422, on `field`) when the form lost it."""
        if not re.fullmatch(r"\d{1,9}", self.revision):
            raise ServiceError(_(INCOMPLETE_FORM), field=field)
        return int(self.revision)


class ReviewForm(RevisedForm):
    niveau: str = ""
    commentaire: str = ""
    constat: str = ""


class RatingForm(RevisedForm):
    appreciation: str = ""
    commentaire: str = ""


class DecisionForm(BaseModel):
    message: str = ""
    confirmation: str = ""
    """On a validation: the count of applicable criteria not reviewed, which the ticked box states."""
