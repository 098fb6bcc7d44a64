"""Who may do what to which structure: the one place every access decision is made.

Every object (assessment, answer, evidence, action item, snapshot, review) belongs to one
structure, so an access question is always "may this user do this to this structure?". Routes, the
API and the dashboards never hide links instead of asking: they load objects through
`structure_ids` or check with `can`, and answer 404 when the answer is no, so a structure a user
may not see does not exist for them.

| role     | SUBMITTED                | READ (drafts too)     | REVIEW                | WRITE             |
|----------|--------------------------|-----------------------|-----------------------|-------------------|
| admin    | every structure          | every structure       | every structure       | every structure   |
| director | their structures         | their structures      | —                     | their structures  |
| trainer  | their cohorts' structures| their cohorts'        | their cohorts'        | —                 |
| auditor  | structures with an active grant | —              | —                     | —                 |
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.assessments.models import Assessment, AssessmentStatus, EvidenceLink
from app.cohorts.models import CohortStructure, CohortTrainer
from app.db import pk
from app.structures.models import AuditorGrant, Membership


class Access(StrEnum):
    SUBMITTED = "submitted"
    """See the structure and its submitted assessments: their answers, evidence, results, snapshots."""
    READ = "read"
    """See the structure and all its assessments, drafts included."""
    REVIEW = "review"
    """Review submitted assessments as a trainer: propose levels, rate evidence, return or validate."""
    WRITE = "write"
    """Edit the profile, answer, attach evidence, submit, edit the action plan, grant auditors."""


def structure_ids(
    session: Session, user: User, access: Access = Access.READ, *, today: date | None = None
) -> set[int] | None:
    """The structures `user` may access this way; None means every structure (administrators).

    `today` (UTC calendar day) decides which auditor grants are still running; tests pass it.
    """
    if not user.is_active:
        return set()
    if user.role == Role.ADMIN:
        return None
    if user.role == Role.DIRECTOR and access is not Access.REVIEW:
        query = select(Membership.structure_id).where(Membership.user_id == user.id)
        return set(session.exec(query).all())
    if user.role == Role.TRAINER and access is not Access.WRITE:
        enrolled = (
            select(CohortStructure.structure_id)
            .join(CohortTrainer, col(CohortTrainer.cohort_id) == col(CohortStructure.cohort_id))
            .where(CohortTrainer.user_id == user.id)
        )
        return set(session.exec(enrolled).all())
    if user.role == Role.AUDITOR and access is Access.SUBMITTED:
        return set(running_grants(session, auditor_id=pk(user), today=today))
    return set()


def running_grants(session: Session, *, auditor_id: int, today: date | None = None) -> dict[int, int]:
    """The grants an auditor reads under: structure id → grant id (the latest if several).

    A grant runs while it is not revoked and `expires_on` (inclusive, UTC calendar day) has not passed.
    """
    today = today or datetime.now(UTC).date()
    query = select(AuditorGrant.structure_id, AuditorGrant.id).where(
        AuditorGrant.auditor_id == auditor_id,
        col(AuditorGrant.revoked_at).is_(None),
        col(AuditorGrant.expires_on) >= today,
    )
    rows = session.exec(query.order_by(col(AuditorGrant.id)))
    return {structure_id: grant_id for structure_id, grant_id in rows if grant_id is not None}


def can(session: Session, user: User, access: Access, structure_id: int) -> bool:
    """Whether `user` may access structure `structure_id` this way."""
    allowed = structure_ids(session, user, access)
    return allowed is None or structure_id in allowed


def reading(assessment: Assessment) -> Access:
    """The access that reading `assessment` needs: drafts are for those who may read drafts."""
    return Access.SUBMITTED if assessment.status == AssessmentStatus.SUBMITTED else Access.READ


def reading_evidence(session: Session, evidence_id: int) -> Access:
    """The access that reading a piece of evidence needs: SUBMITTED once a submitted assessment
    relies on it (an auditor reads it with that assessment), READ otherwise."""
    relied_on = (
        select(EvidenceLink.id)
        .join(Assessment, col(Assessment.id) == col(EvidenceLink.assessment_id))
        .where(EvidenceLink.evidence_id == evidence_id, Assessment.status == AssessmentStatus.SUBMITTED)
    )
    return Access.SUBMITTED if session.exec(relied_on.limit(1)).first() is not None else Access.READ


def cohort_ids(session: Session, user: User) -> set[int] | None:
    """The cohorts `user` may see and run; None means every cohort (administrators)."""
    if not user.is_active:
        return set()
    if user.role == Role.ADMIN:
        return None
    if user.role != Role.TRAINER:
        return set()
    return set(session.exec(select(CohortTrainer.cohort_id).where(CohortTrainer.user_id == user.id)).all())


def runs_cohorts(user: User) -> bool:
    """Whether `user` may open the cohort pages and create a cohort (trainers, administrators)."""
    return user.is_active and user.role in (Role.ADMIN, Role.TRAINER)


def enrollable_structure_ids(session: Session, user: User) -> set[int] | None:
    """The structures `user` may enrol in a cohort they run; None means every structure (administrators).

    Enrolling lets a cohort's trainers read the structure's drafts, so a trainer may only enrol
    structures they already review in one of their cohorts; an administrator enrols the others.
    """
    if not runs_cohorts(user):
        return set()
    return structure_ids(session, user, Access.REVIEW)
