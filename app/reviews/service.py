"""Trainers' reviews of submitted assessments: levels, comments, findings, evidence ratings, decisions.

A review never changes the director's answers: it sits beside them, one row per criterion and
submitted revision, so each revision keeps the review it was returned or validated with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments.models import Answer, Assessment, AssessmentStatus, EvidenceLink, Snapshot
from app.db import audit, pk, utcnow
from app.locale import gettext as _
from app.reviews.models import (
    AuditFinding,
    Decision,
    EvidenceRating,
    EvidenceVerdict,
    ReviewDecision,
    ReviewItem,
)

TEXT_MAX, RATING_TEXT_MAX = 5000, 2000
LEVELS = {"0": 0, "1": 1, "2": 2, "3": 3}
CHOICES = ("", "accord", *LEVELS, "na")
"""A reviewed level: no opinion yet, the director's level, another level, or not applicable."""


class ReviewError(Exception):
    """A refused review write, with a message in the request's language for the form field it is about."""

    def __init__(self, message: str, field: str = "relecture", status_code: int = 422) -> None:
        super().__init__(message)
        self.field, self.status_code = field, status_code


class NotSubmittedError(ReviewError):
    def __init__(self) -> None:
        super().__init__(
            _(
                "Cette autoévaluation n'est pas soumise : seule une autoévaluation soumise se relit, "
                "et la structure la modifie en ce moment."
            ),
            status_code=409,
        )


class StaleReviewError(ReviewError):
    """Somebody changed this review since the form was loaded; `current` is the newer row."""

    def __init__(self, current: ReviewItem | EvidenceRating | None) -> None:
        self.current = current
        super().__init__(
            _(
                "Cette relecture a été modifiée entre-temps (autre onglet ou autre formateur·rice). "
                "Voici la version enregistrée : vérifiez-la avant de la modifier à nouveau."
            ),
            status_code=409,
        )


def lock_submitted(session: Session, assessment: Assessment) -> Assessment:
    """Re-read the assessment (row-locked where the database can); refuse unless it is submitted."""
    query = select(Assessment).where(Assessment.id == assessment.id).with_for_update()
    fresh = session.exec(query.execution_options(populate_existing=True)).one()
    if fresh.status != AssessmentStatus.SUBMITTED:
        raise NotSubmittedError()
    return fresh


def review_item(
    session: Session, assessment: Assessment, criterion_id: str, revision: int
) -> ReviewItem | None:
    query = select(ReviewItem).where(
        ReviewItem.assessment_id == assessment.id,
        ReviewItem.assessment_revision == revision,
        ReviewItem.criterion_id == criterion_id,
    )
    return session.exec(query.execution_options(populate_existing=True)).first()


def save_review(
    session: Session,
    *,
    assessment: Assessment,
    user: User,
    criterion_id: str,
    base_revision: int,
    choice: str,
    comment: str,
    finding: str,
) -> ReviewItem:
    """Record the trainer's level, comment and finding on one criterion, unless stale (409)."""
    fresh = lock_submitted(session, assessment)
    values = _review_values(
        session, fresh, criterion_id=criterion_id, choice=choice, comment=comment.strip(), finding=finding
    )
    current = review_item(session, fresh, criterion_id, fresh.revision)
    before = None if current is None else _review_state(current)
    row = _upsert(
        session,
        current,
        ReviewItem(
            assessment_id=pk(fresh),
            assessment_revision=fresh.revision,
            criterion_id=criterion_id,
            reviewer_id=pk(user),
            **values,
        ),
        base_revision=base_revision,
        values=values | {"reviewer_id": pk(user)},
        reread=lambda: review_item(session, fresh, criterion_id, fresh.revision),
    )
    after = {"criterion": criterion_id, "assessment_revision": fresh.revision, **values}
    audit(
        session,
        actor_id=user.id,
        action="review.save",
        obj=row,
        structure_id=fresh.structure_id,
        before=before,
        after=after,
    )
    session.commit()
    session.refresh(row)
    return row


def _review_values(
    session: Session, assessment: Assessment, *, criterion_id: str, choice: str, comment: str, finding: str
) -> dict[str, Any]:
    """The row's values from the form's, or ReviewError naming the field that cannot be saved."""
    if choice not in CHOICES:
        raise ReviewError(_("Choisissez d'accord, un niveau de 0 à 3 ou « Non applicable »."), "niveau")
    if len(comment) > TEXT_MAX:
        raise ReviewError(_("Ce commentaire est trop long : 5 000 caractères au plus."), "commentaire")
    if finding and finding not in AuditFinding.__members__.values():
        raise ReviewError(_("Choisissez un constat de l'échelle AFNOR proposée."), "constat")
    if choice == "na" and not comment:
        raise ReviewError(
            _("Dites dans le commentaire pourquoi ce critère ne s'applique pas."), "commentaire"
        )
    answer = session.exec(
        select(Answer).where(Answer.assessment_id == assessment.id, Answer.criterion_id == criterion_id)
    ).first()
    declared = declared_choice(answer)
    if choice == "accord" and declared is None:
        raise ReviewError(_("La structure n'a pas répondu à ce critère : proposez un niveau."), "niveau")
    agrees = None if choice == "" else choice in ("accord", declared)
    return {
        "agrees": agrees,
        "proposed_level": LEVELS.get(choice) if agrees is False else None,
        "proposed_not_applicable": agrees is False and choice == "na",
        "comment": comment,
        "finding": AuditFinding(finding) if finding else None,
    }


def declared_choice(answer: Answer | None) -> str | None:
    """The director's answer as a review choice ("0" to "3", "na"), or None when unanswered."""
    if answer is None or (answer.level is None and not answer.not_applicable):
        return None
    return "na" if answer.not_applicable else str(answer.level)


def _review_state(item: ReviewItem) -> dict[str, Any]:
    fields = ("agrees", "proposed_level", "proposed_not_applicable", "comment", "finding", "revision")
    return {name: getattr(item, name) for name in fields}


Row = TypeVar("Row", ReviewItem, EvidenceRating)


def _upsert(
    session: Session,
    current: Row | None,
    new: Row,
    *,
    base_revision: int,
    values: dict[str, Any],
    reread: Callable[[], Row | None],
) -> Row:
    """Add `new` when there is no row yet, else update `current`; a write based on an old revision is
    stale. One conditional UPDATE, so two writers based on the same revision cannot both succeed."""
    if current is None:
        if base_revision != 0:
            raise StaleReviewError(None)
        session.add(new)
        try:
            session.flush()
        except IntegrityError:  # created meanwhile by another request
            session.rollback()
            raise StaleReviewError(reread()) from None
        return new
    model = type(current)
    done = session.execute(
        update(model)
        .where(col(model.id) == current.id, col(model.revision) == base_revision)
        .values(**values, revision=model.revision + 1, updated_at=utcnow())
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise StaleReviewError(reread())
    return current


def rate_evidence(
    session: Session,
    *,
    assessment: Assessment,
    link: EvidenceLink,
    user: User,
    base_revision: int,
    rating: str,
    comment: str,
) -> EvidenceRating:
    """Rate one piece of evidence of one criterion: suffisante, insuffisante or à compléter."""
    if rating not in EvidenceVerdict.__members__.values():
        raise ReviewError(_("Choisissez : suffisante, insuffisante ou à compléter."), "appreciation")
    if len(comment.strip()) > RATING_TEXT_MAX:
        raise ReviewError(_("Ce commentaire est trop long : 2 000 caractères au plus."), "commentaire")
    if link.assessment_id != assessment.id:
        raise ReviewError(_("Cette preuve n'est pas jointe à cette autoévaluation."))
    fresh = lock_submitted(session, assessment)
    values: dict[str, Any] = {"rating": EvidenceVerdict(rating), "comment": comment.strip()}
    current = rating_of(session, link, fresh.revision)
    before = None if current is None else {"rating": current.rating, "comment": current.comment}
    new = EvidenceRating(link_id=pk(link), assessment_revision=fresh.revision, reviewer_id=pk(user), **values)
    current = _upsert(
        session,
        current,
        new,
        base_revision=base_revision,
        values=values | {"reviewer_id": pk(user)},
        reread=lambda: rating_of(session, link, fresh.revision),
    )
    audit(
        session,
        actor_id=user.id,
        action="review.rate_evidence",
        obj=current,
        structure_id=fresh.structure_id,
        before=before,
        after={"criterion": link.criterion_id, "evidence": link.evidence_id, **values},
    )
    session.commit()
    session.refresh(current)
    return current


def rating_of(session: Session, link: EvidenceLink, revision: int) -> EvidenceRating | None:
    query = select(EvidenceRating).where(
        EvidenceRating.link_id == link.id, EvidenceRating.assessment_revision == revision
    )
    return session.exec(query.execution_options(populate_existing=True)).first()


def decide(
    session: Session, *, assessment: Assessment, user: User, decision: Decision, comment: str
) -> ReviewDecision:
    """Validate the current snapshot, or return the assessment for changes as a new draft revision."""
    comment = _checked_message(decision, comment)
    fresh = lock_submitted(session, assessment)
    snapshot = session.exec(
        select(Snapshot)
        .options(defer(Snapshot.canonical_json))  # type: ignore[arg-type]
        .where(Snapshot.assessment_id == fresh.id, Snapshot.revision == fresh.revision)
    ).one()
    validated = select(ReviewDecision.id).where(
        ReviewDecision.snapshot_id == snapshot.id, ReviewDecision.decision == Decision.VALIDATED
    )
    if decision is Decision.VALIDATED and session.exec(validated).first() is not None:
        raise ReviewError(_("Cette version de l'autoévaluation est déjà validée."), status_code=409)
    row = ReviewDecision(
        assessment_id=pk(fresh),
        assessment_revision=fresh.revision,
        decision=decision,
        snapshot_id=pk(snapshot),
        snapshot_sha256=snapshot.sha256,
        comment=comment,
        decided_by=pk(user),
    )
    session.add(row)
    if decision is Decision.RETURNED:
        fresh.status, fresh.revision, fresh.submitted_at = AssessmentStatus.DRAFT, fresh.revision + 1, None
        session.add(fresh)
    session.flush()
    audit(
        session,
        actor_id=user.id,
        action=f"review.{decision.value}",
        obj=row,
        structure_id=fresh.structure_id,
        after={
            "assessment": fresh.id,
            "revision": row.assessment_revision,
            "snapshot_sha256": snapshot.sha256,
        },
    )
    session.commit()
    session.refresh(row)
    return row


def _checked_message(decision: Decision, comment: str) -> str:
    """The decision's message, required to return an assessment: the structure must know what to change."""
    comment = comment.strip()
    if len(comment) > TEXT_MAX:
        raise ReviewError(_("Ce message est trop long : 5 000 caractères au plus."), "message")
    if decision is Decision.RETURNED and not comment:
        raise ReviewError(
            _("Dites à la structure ce qu'elle doit reprendre avant de la soumettre à nouveau."), "message"
        )
    return comment
