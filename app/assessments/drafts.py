"""Drafts a structure can tell apart: a name, a warning before a second draft of the same
questionnaire, and deleting a draft that was never submitted.

A returned draft was submitted before: its signed snapshots and the trainer's review belong to
the record, so it is never deleted. Evidence pieces stay in the structure's library while
another assessment still links them; the ones only this draft used go with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, func, select

from app.accounts.models import User
from app.assessments.models import (
    ActionItem,
    Answer,
    Assessment,
    AssessmentStatus,
    Evidence,
    EvidenceLink,
    Snapshot,
)
from app.catalog.models import Questionnaire
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.locale import format_month
from app.locale import gettext as _

NAME_MAX_LENGTH = 120


def default_name(questionnaire: Questionnaire, *, now: datetime | None = None) -> str:
    """« Autoévaluation complète — décembre 2026 » (or « express »), in the request's language."""
    month = format_month((now or utcnow()).date())
    if questionnaire.partial:
        return _("Autoévaluation express — %(month)s") % {"month": month}
    return _("Autoévaluation complète — %(month)s") % {"month": month}


def checked_name(text: str) -> str:
    """A name from form text, trimmed, or ServiceError (422 on `nom`) when empty or too long."""
    name = " ".join(text.split())
    if not name:
        raise ServiceError(_("Donnez un nom à cette autoévaluation."), field="nom")
    if len(name) > NAME_MAX_LENGTH:
        raise ServiceError(
            _("Le nom ne doit pas dépasser %(max)s caractères (il en compte %(count)s).")
            % {"max": NAME_MAX_LENGTH, "count": len(name)},
            field="nom",
        )
    return name


def rename(session: Session, *, assessment: Assessment, name: str, user: User) -> Assessment:
    """Rename an assessment (any status: the name is the structure's label, not part of the result)."""
    new = checked_name(name)
    if new == assessment.name:
        return assessment
    before = {"name": assessment.name}
    assessment.name = new
    session.add(assessment)
    audit(
        session,
        actor_id=user.id,
        action="assessment.rename",
        obj=assessment,
        structure_id=assessment.structure_id,
        before=before,
        after={"name": new},
    )
    session.commit()
    session.refresh(assessment)
    return assessment


def open_draft(session: Session, *, structure_id: int, questionnaire: Questionnaire) -> Assessment | None:
    """The structure's latest draft of the same questionnaire (any version of it), if any."""
    bare = questionnaire.ref.split("@")[0]
    query = select(Assessment).where(
        Assessment.structure_id == structure_id,
        Assessment.status == AssessmentStatus.DRAFT,
        col(Assessment.questionnaire_ref).startswith(f"{bare}@"),
    )
    return session.exec(query.order_by(col(Assessment.id).desc())).first()


def returned(assessment: Assessment) -> bool:
    """A draft the trainer sent back: it was submitted at least once (its revision grew)."""
    return assessment.status == AssessmentStatus.DRAFT and assessment.revision > 1


def deletable(session: Session, assessment: Assessment) -> bool:
    """Whether the draft may be deleted: never submitted, so nothing signed or reviewed hangs on it."""
    if assessment.status != AssessmentStatus.DRAFT or returned(assessment):
        return False
    snapshots = select(func.count()).select_from(Snapshot).where(Snapshot.assessment_id == assessment.id)
    return session.exec(snapshots).one() == 0


@dataclass(frozen=True)
class EvidenceUsage:
    """What deleting a draft does to its evidence: pieces kept (linked elsewhere) and pieces deleted."""

    kept: list[Evidence]
    deleted: list[Evidence]


def evidence_usage(session: Session, *, assessment: Assessment) -> EvidenceUsage:
    """The draft's evidence pieces, split by whether another assessment still links them."""
    ids = set(
        session.exec(select(EvidenceLink.evidence_id).where(EvidenceLink.assessment_id == assessment.id))
    )
    elsewhere = select(EvidenceLink.evidence_id).where(
        col(EvidenceLink.evidence_id).in_(ids), EvidenceLink.assessment_id != assessment.id
    )
    shared = set(session.exec(elsewhere))
    pieces = sorted(
        (p for p in (session.get(Evidence, i) for i in ids) if p), key=lambda p: (p.title, p.id or 0)
    )
    return EvidenceUsage([p for p in pieces if p.id in shared], [p for p in pieces if p.id not in shared])


def delete_draft(session: Session, *, assessment: Assessment, user: User) -> None:
    """Delete a never-submitted draft with its answers, links, plan, and the evidence only it used."""
    if assessment.status != AssessmentStatus.DRAFT:
        raise ServiceError(_("Une autoévaluation soumise ne peut pas être supprimée."), status=409)
    if not deletable(session, assessment):
        raise ServiceError(
            _(
                "Cette autoévaluation a déjà été soumise puis retournée : son historique est conservé, "
                "elle ne peut pas être supprimée."
            ),
            status=409,
        )
    # Lock the row as a submission does: one racing the deletion waits, then finds nothing.
    locked = select(Assessment.status).where(Assessment.id == assessment.id).with_for_update()
    if session.exec(locked).one() != AssessmentStatus.DRAFT:
        session.rollback()
        raise ServiceError(_("Une autoévaluation soumise ne peut pas être supprimée."), status=409)
    usage = evidence_usage(session, assessment=assessment)
    answers = select(func.count()).select_from(Answer).where(Answer.assessment_id == assessment.id)
    before: dict[str, object] = {"name": assessment.name, "questionnaire": assessment.questionnaire_ref}
    before |= {"answers": session.exec(answers).one(), "evidence_deleted": [p.title for p in usage.deleted]}
    _delete_contents(session, assessment_id=pk(assessment), orphans=usage.deleted)
    audit(
        session,
        actor_id=user.id,
        action="assessment.delete",
        obj=assessment,
        structure_id=assessment.structure_id,
        before=before,
    )
    session.delete(assessment)
    session.commit()


def _delete_contents(session: Session, *, assessment_id: int, orphans: list[Evidence]) -> None:
    """Delete what hangs on the assessment, and the pieces only it linked; later ones forget it."""
    owned: list[SQLModel] = []
    for model in (EvidenceLink, Answer, ActionItem):
        owned += session.exec(select(model).where(model.assessment_id == assessment_id)).all()
    for row in owned:
        session.delete(row)
    session.flush()  # links first: without a relationship, nothing else orders the deletes
    for piece in orphans:
        session.delete(piece)
    started_from = col(Assessment.previous_id) == assessment_id
    session.exec(update(Assessment).where(started_from).values(previous_id=None))
