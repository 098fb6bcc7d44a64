"""Assessments, their answers and evidence, submitted snapshots, and the action plan.

Then the same rows as the questionnaire pages read them (`Loaded`): plain tuples, cheaper to build.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel, col

from app.db import stored_enum, utcnow
from app.locale import N_
from app.scoring import models as scoring

TEXT_MAX = 5000
TOO_LONG = N_("Ce texte est trop long : 5 000 caractères au plus.")
SUBMITTED = N_("Cette autoévaluation a été soumise : elle ne peut plus être modifiée.")


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class AssessmentKind(StrEnum):
    """Which audit of the cycle an assessment prepares: a surveillance or renewal one starts from
    the previous assessment."""

    INITIAL = "initial"
    SURVEILLANCE = "surveillance"
    RENEWAL = "renouvellement"


class Assessment(SQLModel, table=True):
    """One self-assessment of a structure, bound to the exact questionnaire and criteria it used."""

    __tablename__ = "assessment"

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    name: str = Field(default="", max_length=120)
    """The structure's label for it (« Autoévaluation complète — décembre 2026 » by default)."""
    questionnaire_ref: str = Field(max_length=80)
    questionnaire_sha256: str = Field(max_length=64)
    criteria_ref: str = Field(max_length=80)
    criteria_sha256: str = Field(max_length=64)
    status: AssessmentStatus = Field(
        default=AssessmentStatus.DRAFT, sa_type=stored_enum(AssessmentStatus), index=True
    )
    revision: int = 1
    """Grows each time a trainer returns the submitted assessment for changes; each submission of a
    revision stores its own snapshot."""
    previous_id: int | None = Field(default=None, foreign_key="assessment.id")
    kind: AssessmentKind = Field(
        default=AssessmentKind.INITIAL,
        sa_type=stored_enum(AssessmentKind),
        sa_column_kwargs={"server_default": "initial"},
    )
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    submitted_profile: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    """The structure's profile when the assessment was last submitted: a submitted result never
    moves when the profile is edited later (it is also in the signed snapshot)."""


class Answer(SQLModel, table=True):
    """The director's answer to one criterion. `revision` grows with every write."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("assessment_id", "criterion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    criterion_id: str = Field(max_length=16)
    level: int | None = None
    not_applicable: bool = False
    justification: str = Field(default="", max_length=TEXT_MAX)
    comment: str = Field(default="", max_length=TEXT_MAX)
    carried_over: bool = False
    """Copied from the previous assessment and not yet re-confirmed."""
    revision: int = 1
    updated_by: int = Field(foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


class EvidenceKind(StrEnum):
    FILE = "file"
    REFERENCE = "reference"


class Evidence(SQLModel, table=True):
    """A document of the structure: an uploaded file (stored by SHA-256) or a reference."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    structure_id: int = Field(foreign_key="structure.id", index=True)
    kind: EvidenceKind = Field(sa_type=stored_enum(EvidenceKind))
    title: str = Field(max_length=300)
    document_date: date | None = None
    owner: str = Field(default="", max_length=120)
    link: str = Field(default="", max_length=2000)
    filename: str = Field(default="", max_length=255)
    content_type: str = Field(default="", max_length=120)
    size: int | None = None
    sha256: str = Field(default="", max_length=64, index=True)
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)


class EvidenceLink(SQLModel, table=True):
    """Evidence supporting one criterion of one assessment; one piece may support many."""

    __tablename__ = "evidence_link"
    __table_args__ = (UniqueConstraint("assessment_id", "criterion_id", "evidence_id"),)

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    criterion_id: str = Field(max_length=16)
    evidence_id: int = Field(foreign_key="evidence.id", index=True)
    covers: str = Field(default="", max_length=500)
    """Comma-separated expected-evidence ids this piece proves for the criterion."""
    carried_over: bool = False


class Snapshot(SQLModel, table=True):
    """The signed, immutable record of one submission of an assessment (canonical JSON).

    An assessment returned for changes and submitted again gets a new snapshot for its new revision;
    the earlier ones stay, so what was approved or read under a grant can always be shown again.
    """

    __tablename__ = "snapshot"
    __table_args__ = (
        UniqueConstraint("assessment_id", "revision"),
        # Every column a listing shows (`app.api.service.SNAPSHOT_LISTED`), so that SQLite answers
        # a listing from the index alone: in the table, each row's later columns sit after its tens
        # of KB of canonical JSON, in overflow pages that reading them walks through.
        Index(
            "ix_snapshot_listed",
            "assessment_id",
            "id",
            "revision",
            "sha256",
            "signature",
            "key_id",
            "created_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    revision: int = 1
    canonical_json: str
    sha256: str = Field(max_length=64)
    signature: str = Field(max_length=200)
    """Ed25519 signature of the canonical JSON bytes, base64."""
    key_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class ActionStatus(StrEnum):
    TODO = "a_faire"
    IN_PROGRESS = "en_cours"
    DONE = "fait"


class ActionItem(SQLModel, table=True):
    """One line of the action plan, by default one per gap; `revision` grows with every edit."""

    __tablename__ = "action_item"
    __table_args__ = (UniqueConstraint("assessment_id", "criterion_id"),)

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    criterion_id: str = Field(max_length=16)
    title: str = Field(max_length=300)
    owner: str = Field(default="", max_length=120)
    due_on: date | None = None
    status: ActionStatus = Field(default=ActionStatus.TODO, sa_type=stored_enum(ActionStatus))
    revision: int = 1
    updated_at: datetime = Field(default_factory=utcnow)


# --- What the pages read ---------------------------------------------------------------------


class AnswerRow(NamedTuple):
    """An `Answer` as the pages read it (a plain tuple: Jinja reads its fields many times a page)."""

    criterion_id: str
    level: int | None
    not_applicable: bool
    justification: str
    comment: str
    carried_over: bool
    revision: int


class LinkRow(NamedTuple):
    """An `EvidenceLink` as the pages read it."""

    id: int
    criterion_id: str
    evidence_id: int
    covers: str
    carried_over: bool


class PieceRow(NamedTuple):
    """An `Evidence` as the pages read it."""

    id: int
    structure_id: int
    kind: EvidenceKind
    title: str
    document_date: date | None
    owner: str
    link: str
    filename: str
    content_type: str
    size: int | None
    sha256: str
    created_at: datetime


ANSWER_COLUMNS = tuple(col(getattr(Answer, name)) for name in AnswerRow._fields)
LINK_COLUMNS = tuple(col(getattr(EvidenceLink, name)) for name in LinkRow._fields)
PIECE_COLUMNS = tuple(col(getattr(Evidence, name)) for name in PieceRow._fields)


@dataclass(frozen=True)
class Loaded:
    """An assessment's answers and evidence links as read-only rows, read once per request.

    Rows, not ORM objects: a page reads every answer and link of the assessment, and building
    ORM instances for them cost more than the rest of the request (measured on the autosave).
    Rows have the same attribute names as `Answer`, `EvidenceLink` and `Evidence`.
    """

    answers: dict[str, AnswerRow]
    links: dict[str, list[tuple[LinkRow, PieceRow]]]
    """The evidence supporting each criterion, by title."""

    def inputs(self) -> dict[str, scoring.Answer]:
        """The answers and their evidence as the scoring core takes them."""
        return {
            criterion_id: scoring.Answer(
                answer.level,
                answer.not_applicable,
                answer.justification,
                tuple(
                    scoring.Evidence(
                        piece.title, frozenset(filter(None, link.covers.split(","))), piece.document_date
                    )
                    for link, piece in self.links.get(criterion_id, ())
                ),
            )
            for criterion_id, answer in self.answers.items()
        }
