"""Trainers' reviews of submitted assessments: levels, comments, findings, evidence ratings.

A review never changes the director's answers: it sits beside them, one row per criterion and
submitted revision, so each revision keeps the review it was returned or validated with (the
decisions: `app.reviews.decisions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session, select

from app.accounts.models import User
from app.assessments.models import Answer, Assessment, AssessmentStatus, EvidenceLink
from app.db import StaleWriteError, audit, guarded_write, pk
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.reviews.models import AuditFinding, EvidenceRating, EvidenceVerdict, ReviewItem

TEXT_MAX, RATING_TEXT_MAX = 5000, 2000
LEVELS = {"0": 0, "1": 1, "2": 2, "3": 3}
CHOICES = ("", "accord", *LEVELS, "na")
"""A reviewed level: no opinion yet, the director's level, another level, or not applicable."""

# Who may write, and the one revision-guarded write of a review or a rating.

NOT_SUBMITTED = N_(
    "Cette autoévaluation n'est pas soumise : seule une autoévaluation soumise se relit, "
    "et la structure la modifie en ce moment."
)
STALE = N_(
    "Cette relecture a été modifiée entre-temps (autre onglet ou autre formateur·rice). "
    "Voici la version enregistrée : vérifiez-la avant de la modifier à nouveau."
)


class StaleReviewError(ServiceError):
    """Somebody changed this review since the form was loaded (409); `current` is the newer row."""

    def __init__(self, current: ReviewItem | EvidenceRating | None) -> None:
        super().__init__(_(STALE), status=409, field="relecture")
        self.current = current


def lock_submitted(session: Session, assessment: Assessment) -> Assessment:
    """Re-read the assessment (row-locked where the database can); refuse unless it is submitted."""
    query = select(Assessment).where(Assessment.id == assessment.id).with_for_update()
    fresh = session.exec(query.execution_options(populate_existing=True)).one()
    if fresh.status != AssessmentStatus.SUBMITTED:
        raise ServiceError(_(NOT_SUBMITTED), status=409, field="relecture")
    return fresh


Row = TypeVar("Row", ReviewItem, EvidenceRating)


def _guarded_write(
    session: Session,
    current: Row | None,
    new: Row,
    *,
    base_revision: int,
    values: dict[str, Any],
    reread: Callable[[], Row | None],
) -> Row:
    """`app.db.guarded_write`, a stale write refused with the review's own message and the newer row."""
    try:
        return guarded_write(session, current, new, base_revision=base_revision, values=values, reread=reread)
    except StaleWriteError as stale:
        newer = stale.current
        raise StaleReviewError(newer if isinstance(newer, ReviewItem | EvidenceRating) else None) from None


# A criterion's review: the level the trainer retains, a comment, a mock-audit finding.


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
    row = _guarded_write(
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
    """The row's values from the form's, or ServiceError naming the field that cannot be saved."""
    if choice not in CHOICES:
        raise ServiceError(
            _("Choisissez d'accord, un niveau de 0 à 3 ou « Non applicable »."), field="niveau"
        )
    if len(comment) > TEXT_MAX:
        raise ServiceError(_("Ce commentaire est trop long : 5 000 caractères au plus."), field="commentaire")
    if finding and finding not in AuditFinding.__members__.values():
        raise ServiceError(_("Choisissez un constat de l'échelle AFNOR proposée."), field="constat")
    if choice == "na" and not comment:
        raise ServiceError(
            _("Dites dans le commentaire pourquoi ce critère ne s'applique pas."), field="commentaire"
        )
    answer = session.exec(
        select(Answer).where(Answer.assessment_id == assessment.id, Answer.criterion_id == criterion_id)
    ).first()
    declared = declared_choice(answer)
    if choice == "accord" and declared is None:
        raise ServiceError(
            _("La structure n'a pas répondu à ce critère : proposez un niveau."), field="niveau"
        )
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


# Evidence ratings: one per piece of evidence attached to a criterion, for each revision.


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
        raise ServiceError(_("Choisissez : suffisante, insuffisante ou à compléter."), field="appreciation")
    if len(comment.strip()) > RATING_TEXT_MAX:
        raise ServiceError(_("Ce commentaire est trop long : 2 000 caractères au plus."), field="commentaire")
    if link.assessment_id != assessment.id:
        raise ServiceError(_("Cette preuve n'est pas jointe à cette autoévaluation."), field="relecture")
    fresh = lock_submitted(session, assessment)
    values: dict[str, Any] = {"rating": EvidenceVerdict(rating), "comment": comment.strip()}
    current = rating_of(session, link, fresh.revision)
    before = None if current is None else {"rating": current.rating, "comment": current.comment}
    new = EvidenceRating(link_id=pk(link), assessment_revision=fresh.revision, reviewer_id=pk(user), **values)
    current = _guarded_write(
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
