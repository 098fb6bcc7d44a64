"""What the results pages add to a score: each structure's assessments, score history, deadlines.

Scores always come from `app.assessments.service.evaluate`; this module only arranges them. The
action plan, the follow-up a director edits after (and before) submitting, is `app.reports.plan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.permissions import Access, structure_ids
from app.assessments import service as assessments
from app.assessments.models import Assessment, AssessmentStatus
from app.catalog.service import Catalog
from app.db import pk, utcnow
from app.scoring.models import Gap, Result
from app.structures.models import Structure


@dataclass(frozen=True)
class Evaluated:
    """An assessment with its result as it stands (a live preview for a draft)."""

    assessment: Assessment
    result: Result


def evaluated(
    session: Session, *, catalog: Catalog, assessment: Assessment, structure: Structure
) -> Evaluated:
    result = assessments.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    return Evaluated(assessment, result)


def readable_structures(
    session: Session, *, catalog: Catalog, user: User
) -> list[tuple[Structure, Evaluated | None]]:
    """The structures `user` may see, by name, each with the latest assessment `user` may read.

    Archived structures are left out: they stay readable at their address, not listed.
    """
    allowed = structure_ids(session, user, Access.SUBMITTED)
    with_drafts = structure_ids(session, user, Access.READ)
    query = (
        select(Structure)
        .where(col(Structure.archived_at).is_(None))
        .order_by(col(Structure.name), col(Structure.id))
    )
    if allowed is not None:
        query = query.where(col(Structure.id).in_(allowed))
    structures = list(session.exec(query))
    latest_ids = select(func.max(Assessment.id)).group_by(col(Assessment.structure_id))
    if allowed is not None:
        latest_ids = latest_ids.where(col(Assessment.structure_id).in_(allowed))
    if with_drafts is not None:
        latest_ids = latest_ids.where(
            col(Assessment.structure_id).in_(with_drafts) | (Assessment.status == AssessmentStatus.SUBMITTED)
        )
    latest = {
        a.structure_id: a for a in session.exec(select(Assessment).where(col(Assessment.id).in_(latest_ids)))
    }
    return [
        (
            s,
            evaluated(session, catalog=catalog, assessment=latest[pk(s)], structure=s)
            if pk(s) in latest
            else None,
        )
        for s in structures
    ]


def structure_assessments(
    session: Session, *, catalog: Catalog, structure: Structure, drafts: bool = True
) -> list[Evaluated]:
    """The structure's assessments with their results, newest first; `drafts=False` leaves drafts out."""
    query = (
        select(Assessment)
        .where(Assessment.structure_id == structure.id)
        .order_by(col(Assessment.created_at).desc(), col(Assessment.id).desc())
    )
    if not drafts:
        query = query.where(Assessment.status == AssessmentStatus.SUBMITTED)
    return [
        evaluated(session, catalog=catalog, assessment=a, structure=structure) for a in session.exec(query)
    ]


@dataclass(frozen=True)
class History:
    """Area scores of the submitted assessments, oldest first; `areas` pairs each area id with its title."""

    areas: tuple[tuple[str, str], ...]
    points: tuple[Evaluated, ...]

    def scores(self, area_id: str) -> list[float | None]:
        return [next(a.score for a in p.result.areas if a.area == area_id) for p in self.points]


def score_history(catalog: Catalog, *, rows: Sequence[Evaluated]) -> History:
    """The submitted assessments in submission order; area titles come from their own criteria versions."""
    points = sorted(
        (e for e in rows if e.assessment.status == AssessmentStatus.SUBMITTED),
        key=lambda e: (e.assessment.submitted_at, e.assessment.id),
    )
    titles: dict[str, str] = {}
    for point in points:  # the newest version names an area when versions disagree
        version = catalog.criteria[point.assessment.criteria_ref]
        titles |= {area.area: version.area(area.area).title for area in point.result.areas}
    return History(tuple(titles.items()), tuple(points))


def reference_date(assessment: Assessment) -> date:
    """The day suggested deadlines count from: the submission day, or today for a draft."""
    moment = assessment.submitted_at or utcnow()
    return moment.date()


def due_date(assessment: Assessment, gap: Gap, *, before_audit: date | None = None) -> date:
    """The suggested deadline: the day `before_audit` when an audit is set, else days from the reference."""
    return before_audit or reference_date(assessment) + timedelta(days=gap.deadline_days)
