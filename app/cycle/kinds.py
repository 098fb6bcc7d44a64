"""Surveillance and renewal assessments: started from the last validated (or submitted) assessment,
asking to reconfirm only what expired since the previous audit."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.assessments import service as assessments
from app.assessments.carry import starting_point
from app.assessments.forms import StartForm
from app.assessments.models import Assessment, AssessmentKind, AssessmentStatus
from app.assessments.renewal import Renewal
from app.catalog.service import Catalog
from app.cycle.models import AuditOutcome
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.reviews.models import Decision, ReviewDecision
from app.structures.models import Structure

FOLLOW_UPS = (AssessmentKind.SURVEILLANCE, AssessmentKind.RENEWAL)
NO_EARLIER = N_(
    "Une autoévaluation de surveillance ou de renouvellement part de la précédente, et cette structure "
    "n'en a soumis aucune : commencez par une autoévaluation initiale."
)


def starting_assessment(session: Session, *, structure_id: int) -> Assessment | None:
    """The structure's last validated assessment, else its last submitted one."""
    validated = (
        select(Assessment)
        .join(ReviewDecision, col(ReviewDecision.assessment_id) == col(Assessment.id))
        .where(Assessment.structure_id == structure_id, ReviewDecision.decision == Decision.VALIDATED)
        .order_by(col(ReviewDecision.decided_at).desc())
    )
    submitted = (
        select(Assessment)
        .where(Assessment.structure_id == structure_id, Assessment.status == AssessmentStatus.SUBMITTED)
        .order_by(col(Assessment.submitted_at).desc(), col(Assessment.id).desc())
    )
    return session.exec(validated).first() or session.exec(submitted).first()


def previous_audit(session: Session, *, structure_id: int, today: date) -> date | None:
    """The day of the structure's last real audit: answers older than it are to reconfirm."""
    query = select(AuditOutcome).where(
        AuditOutcome.structure_id == structure_id, col(AuditOutcome.held_on) <= today
    )
    last = session.exec(query.order_by(col(AuditOutcome.held_on).desc())).first()
    return last.held_on if last else None


def start_follow_up(
    session: Session,
    *,
    catalog: Catalog,
    structure: Structure,
    user: User,
    kind: str,
    questionnaire: str,
    today: date,
) -> Assessment:
    """Start a surveillance or renewal assessment of `questionnaire` from the structure's latest result."""
    chosen = next((k for k in FOLLOW_UPS if k.value == kind), None)
    if chosen is None:
        raise ServiceError(
            field="kind", message=_("Choisissez une autoévaluation de surveillance ou de renouvellement.")
        )
    source = starting_assessment(session, structure_id=structure.id or 0)
    if source is None:
        raise ServiceError(field="kind", message=_(NO_EARLIER))
    try:
        form = StartForm(questionnaire=questionnaire, depuis=str(source.id))
        target, previous = starting_point(session, catalog=catalog, structure=structure, form=form)
    except ServiceError as error:
        raise ServiceError(field="questionnaire", message=error.message) from error
    since = previous_audit(session, structure_id=structure.id or 0, today=today)
    return assessments.start(
        session,
        catalog=catalog,
        structure=structure,
        user=user,
        questionnaire_ref=target.ref,
        previous=previous,
        renewal=Renewal(chosen, since, today),
    )
