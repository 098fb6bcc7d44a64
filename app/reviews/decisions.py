"""A trainer's decision on a submitted revision: return it for changes, or validate its snapshot.

Returning reopens the assessment as a new draft revision; the returned one keeps its review, and
the structure sees the comments beside its questions. A validation names the snapshot it validates
(its SHA-256), so a later submission needs a validation of its own.
"""

from __future__ import annotations

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from app.accounts import notifications
from app.accounts.models import User
from app.assessments.models import Assessment, AssessmentStatus, Snapshot
from app.db import audit, pk
from app.errors import ServiceError
from app.locale import gettext as _
from app.locale import ngettext
from app.reviews.models import Decision, ReviewDecision
from app.reviews.service import TEXT_MAX, lock_submitted
from app.structures.models import Structure


def decide(
    session: Session,
    *,
    assessment: Assessment,
    user: User,
    decision: Decision,
    comment: str,
    unreviewed: int = 0,
    confirmed: str = "",
) -> ReviewDecision:
    """Validate the current snapshot, or return the assessment for changes as a new draft revision.

    A validation with `unreviewed` applicable criteria not looked at needs `confirmed` to state that
    very count (the box the page ticks says it): a review that moved on since asks again.
    """
    comment = _checked_message(decision, comment)
    fresh = lock_submitted(session, assessment)
    snapshot = _decided_snapshot(session, fresh, decision)
    if decision is Decision.VALIDATED and unreviewed and confirmed != str(unreviewed):
        session.rollback()  # release the lock: nothing is decided
        raise _unconfirmed(unreviewed)
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
    after = {"assessment": fresh.id, "revision": row.assessment_revision, "snapshot_sha256": snapshot.sha256}
    audit(
        session,
        actor_id=user.id,
        action=f"review.{decision.value}",
        obj=row,
        structure_id=fresh.structure_id,
        after=after,
    )
    _notify(session, assessment=fresh, decision=row, user=user)
    session.commit()
    session.refresh(row)
    return row


def _unconfirmed(unreviewed: int) -> ServiceError:
    message = ngettext(
        "%(num)d critère applicable n'a pas été relu : relisez-le, ou cochez la case qui le "
        "confirme pour valider quand même.",
        "%(num)d critères applicables n'ont pas été relus : relisez-les, ou cochez la case qui le "
        "confirme pour valider quand même.",
        unreviewed,
    )
    return ServiceError(message % {"num": unreviewed}, field="confirmation")


def _notify(session: Session, *, assessment: Assessment, decision: ReviewDecision, user: User) -> None:
    """Tell the structure's people, in the decision's transaction."""
    structure = session.get(Structure, assessment.structure_id)
    returned = decision.decision is Decision.RETURNED
    notifications.notify(
        session,
        users=notifications.structure_recipients(session, assessment.structure_id),
        notice=notifications.Notice.DECISIONS,
        event_key=f"review_{decision.decision.value}:{decision.id}",
        template="assessment_returned" if returned else "assessment_validated",
        context={
            "structure": structure.name if structure else "",
            "person": user.name,
            "comment": decision.comment,
            "path": f"/autoevaluations/{assessment.id}" + ("" if returned else "/resultats"),
        },
    )


def _decided_snapshot(session: Session, assessment: Assessment, decision: Decision) -> Snapshot:
    """The submitted revision's snapshot; validating it a second time is refused (409)."""
    snapshot = session.exec(
        select(Snapshot)
        .options(defer(Snapshot.canonical_json))  # type: ignore[arg-type]
        .where(Snapshot.assessment_id == assessment.id, Snapshot.revision == assessment.revision)
    ).one()
    validated = select(ReviewDecision.id).where(
        ReviewDecision.snapshot_id == snapshot.id, ReviewDecision.decision == Decision.VALIDATED
    )
    if decision is Decision.VALIDATED and session.exec(validated).first() is not None:
        raise ServiceError(_("Cette version de l'autoévaluation est déjà validée."), status=409)
    return snapshot


def _checked_message(decision: Decision, comment: str) -> str:
    """The decision's message, required to return an assessment: the structure must know what to change."""
    comment = comment.strip()
    if len(comment) > TEXT_MAX:
        raise ServiceError(_("Ce message est trop long : 5 000 caractères au plus."), field="message")
    if decision is Decision.RETURNED and not comment:
        raise ServiceError(
            _("Dites à la structure ce qu'elle doit reprendre avant de la soumettre à nouveau."),
            field="message",
        )
    return comment
