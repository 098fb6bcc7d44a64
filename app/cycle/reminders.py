"""The cycle's reminders by e-mail: what is due on a given day, queued once per item and milestone.

Each reminder's outbox `event_key` names its item and milestone (`reminder:audit:3:2027-06-15:30:12`),
and the key is unique: a run repeated within the hour, or two runs at once, queue it once. Each
reminder is committed alone, so the run that loses a race on one key keeps the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts import notifications
from app.accounts.models import User
from app.assessments.models import (
    ActionItem,
    ActionStatus,
    Answer,
    Assessment,
    AssessmentStatus,
    Evidence,
    EvidenceLink,
)
from app.catalog.service import Catalog
from app.cycle.models import CertificationRecord
from app.mail.service import enqueue
from app.reviews.models import ReviewDecision
from app.scoring.evidence import months_before
from app.structures.models import Structure

AUDIT_DAYS = (7, 30, 90)
ACTION_SOON_DAYS = 7
EVIDENCE_DAYS = 30
DRAFT_IDLE_DAYS = 30
REVIEW_WAIT_DAYS = 14


@dataclass(frozen=True)
class Reminder:
    """One e-mail to one person: `kind` picks the sentence, `key` makes it once."""

    key: str
    user: User
    kind: str
    path: str
    context: dict[str, Any] = field(default_factory=dict)


def send_reminders(session: Session, *, catalog: Catalog, today: date) -> int:
    """Queue every reminder due on `today` that was not queued before; return how many were."""
    return queue_reminders(session, due_reminders(session, catalog=catalog, today=today))


def queue_reminders(session: Session, reminders: list[Reminder]) -> int:
    """Queue each reminder in its own transaction; one another run queued meanwhile is skipped."""
    queued = 0
    for reminder in reminders:
        context = {
            "kind": reminder.kind,
            "path": reminder.path,
            "name": reminder.user.name,
            **reminder.context,
        }
        try:
            message = enqueue(
                session,
                event_key=reminder.key,
                to=reminder.user.email,
                template="reminder",
                context=context,
                language=reminder.user.language,
            )
            session.commit()
        except IntegrityError:  # another run queued this very key between our check and our insert
            session.rollback()
            continue
        queued += message is not None
    return queued


def due_reminders(session: Session, *, catalog: Catalog, today: date) -> list[Reminder]:
    """Every reminder due on `today`, for active people who did not turn reminders off."""
    found = [
        *_audits(session, today),
        *_actions(session, today),
        *_evidence(session, catalog, today),
        *_drafts(session, today),
        *_reviews(session, today),
    ]
    return [
        r for r in found if r.user.is_active and notifications.wants(r.user, notifications.Notice.REMINDERS)
    ]


def _people(session: Session, structure_id: int, *, trainers: bool = False) -> list[User]:
    direction = notifications.structure_recipients(session, structure_id)
    return direction + (notifications.reviewers(session, structure_id) if trainers else [])


def _live_structures(session: Session) -> dict[int, Structure]:
    query = select(Structure).where(col(Structure.archived_at).is_(None))
    return {s.id: s for s in session.exec(query) if s.id is not None}


def _audits(session: Session, today: date) -> Iterator[Reminder]:
    structures = _live_structures(session)
    for record in session.exec(
        select(CertificationRecord).where(col(CertificationRecord.audit_on).is_not(None))
    ):
        structure = structures.get(record.structure_id)
        if record.audit_on is None or structure is None:
            continue
        left = (record.audit_on - today).days
        milestone = next((days for days in AUDIT_DAYS if 0 <= left <= days), None)
        if milestone is None:
            continue
        for user in _people(session, record.structure_id, trainers=True):
            yield Reminder(
                f"reminder:audit:{record.structure_id}:{record.audit_on}:{milestone}:{user.id}",
                user,
                "audit",
                f"/structures/{record.structure_id}/certification",
                {"structure": structure.name, "on": record.audit_on, "days": left},
            )


def _newest_assessments(session: Session) -> dict[int, Assessment]:
    """The newest assessment of each live structure: older plans and evidence were superseded."""
    newest = select(func.max(Assessment.id)).group_by(col(Assessment.structure_id))
    query = select(Assessment).where(col(Assessment.id).in_(newest))
    live = _live_structures(session)
    return {pk: a for a in session.exec(query) if (pk := a.id) is not None and a.structure_id in live}


def _actions(session: Session, today: date) -> Iterator[Reminder]:
    assessments = _newest_assessments(session)
    query = select(ActionItem).where(
        col(ActionItem.assessment_id).in_(list(assessments)),
        col(ActionItem.due_on).is_not(None),
        col(ActionItem.due_on) <= today + timedelta(days=ACTION_SOON_DAYS),
        ActionItem.status != ActionStatus.DONE,
    )
    for item in session.exec(query.order_by(col(ActionItem.id))):
        assert item.due_on is not None
        milestone = "overdue" if item.due_on < today else "soon"
        assessment = assessments[item.assessment_id]
        for user in _people(session, assessment.structure_id):
            yield Reminder(
                f"reminder:action:{item.id}:{item.due_on}:{milestone}:{user.id}",
                user,
                "action_overdue" if milestone == "overdue" else "action_soon",
                f"/autoevaluations/{assessment.id}/plan#action-{item.id}",
                {"title": item.title, "on": item.due_on},
            )


def _evidence(session: Session, catalog: Catalog, today: date) -> Iterator[Reminder]:
    assessments = _newest_assessments(session)
    query = (
        select(EvidenceLink, Evidence)
        .join(Evidence, col(Evidence.id) == col(EvidenceLink.evidence_id))
        .where(
            col(EvidenceLink.assessment_id).in_(list(assessments)), col(Evidence.document_date).is_not(None)
        )
    )
    expiring: dict[tuple[int, date], tuple[Assessment, Evidence]] = {}
    for link, piece in session.exec(query):
        assessment = assessments[link.assessment_id]
        criterion = catalog.criteria[assessment.criteria_ref].by_id.get(link.criterion_id)
        covered = set(filter(None, link.covers.split(",")))
        for item in criterion.expected_evidence if criterion else ():
            if item.validity_months and item.id in covered and piece.document_date and piece.id:
                ends = months_before(piece.document_date, -item.validity_months)
                if 0 <= (ends - today).days <= EVIDENCE_DAYS:
                    expiring[(piece.id, ends)] = (assessment, piece)
    for (piece_id, ends), (assessment, piece) in sorted(expiring.items(), key=lambda kv: kv[0]):
        for user in _people(session, assessment.structure_id):
            yield Reminder(
                f"reminder:evidence:{piece_id}:{ends}:{user.id}",
                user,
                "evidence",
                f"/autoevaluations/{assessment.id}",
                {"title": piece.title, "on": ends},
            )


def _drafts(session: Session, today: date) -> Iterator[Reminder]:
    touched = (
        select(Assessment, func.max(Answer.updated_at))
        .join(Answer, col(Answer.assessment_id) == col(Assessment.id), isouter=True)
        .where(Assessment.status == AssessmentStatus.DRAFT)
        .group_by(col(Assessment.id))
    )
    live = _live_structures(session)
    for assessment, answered_at in session.exec(touched):
        last: datetime = max(filter(None, (assessment.created_at, answered_at)))
        if assessment.structure_id not in live or (today - last.date()).days < DRAFT_IDLE_DAYS:
            continue
        for user in _people(session, assessment.structure_id):
            yield Reminder(
                f"reminder:draft:{assessment.id}:{last.date()}:{user.id}",
                user,
                "draft",
                f"/autoevaluations/{assessment.id}",
                {"structure": live[assessment.structure_id].name, "since": last.date()},
            )


def _reviews(session: Session, today: date) -> Iterator[Reminder]:
    decided = select(ReviewDecision.id).where(
        ReviewDecision.assessment_id == Assessment.id,
        ReviewDecision.assessment_revision == Assessment.revision,
    )
    waiting = select(Assessment).where(
        Assessment.status == AssessmentStatus.SUBMITTED,
        col(Assessment.submitted_at).is_not(None),
        ~decided.exists(),
    )
    live = _live_structures(session)
    for assessment in session.exec(waiting):
        assert assessment.submitted_at is not None
        if (
            assessment.structure_id not in live
            or (today - assessment.submitted_at.date()).days < REVIEW_WAIT_DAYS
        ):
            continue
        for user in notifications.reviewers(session, assessment.structure_id):
            yield Reminder(
                f"reminder:review:{assessment.id}:{assessment.revision}:{user.id}",
                user,
                "review",
                f"/autoevaluations/{assessment.id}/relecture",
                {"structure": live[assessment.structure_id].name, "since": assessment.submitted_at.date()},
            )
