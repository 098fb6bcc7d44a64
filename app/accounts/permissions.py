"""Who may do what to which structure: the one place every access decision is made.

Every object (assessment, answer, evidence, action item, snapshot, review) belongs to one
structure, so an access question is always "may this user do this to this structure?". Routes, the
API and the dashboards never hide links instead of asking: they load objects through
`structure_ids` or check with `can`, and answer 404 when the answer is no, so a structure a user
may not see does not exist for them. A member of the structure whose role does not allow the action
gets 403 instead (`refusal`): they know the structure, and are told their role is why.

Members are people with a `Membership` (any account role); their role in the structure decides:

| who                      | SUBMITTED | READ (drafts too) | REVIEW | ANSWER | DIRECT | EXPORT |
|--------------------------|-----------|-------------------|--------|--------|--------|--------|
| admin                    | every     | every             | every  | every  | every  | every  |
| member, `direction`      | theirs    | theirs            | —      | theirs | theirs | theirs |
| member, `contribution`   | theirs    | theirs            | —      | theirs | —      | —      |
| member, `lecture`        | theirs    | theirs            | —      | —      | —      | —      |
| trainer                  | their cohorts' structures | their cohorts' | their cohorts' | — | — | — |
| auditor                  | structures with an active grant | — | — | — | — | — |

ANSWER: answer, comment, attach or remove evidence, edit the action plan. DIRECT: edit the profile,
start and submit an assessment, grant auditors, invite and manage members. EXPORT: download all
the structure's data (`app/privacy`); erasing a structure is for administrators (`administers`). An archived structure
is read-only for everyone: nobody has REVIEW, ANSWER or DIRECT on it. A deactivated account has
nothing. Administration pages (`/admin`) are for administrators only (`administers`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.assessments.models import Assessment, AssessmentStatus, EvidenceLink
from app.cohorts.models import CohortStructure, CohortTrainer
from app.db import pk
from app.structures.models import AuditorGrant, MemberRole, Membership, Structure


class Access(StrEnum):
    SUBMITTED = "submitted"
    """See the structure and its submitted assessments: their answers, evidence, results, snapshots."""
    READ = "read"
    """See the structure and all its assessments, drafts included."""
    REVIEW = "review"
    """Review submitted assessments as a trainer: propose levels, rate evidence, return or validate."""
    ANSWER = "answer"
    """Answer, comment, attach or remove evidence, edit the action plan."""
    DIRECT = "direct"
    """Edit the profile, start and submit assessments, grant auditors, invite and manage members."""
    EXPORT = "export"
    """Download everything the service holds about the structure (archived ones too)."""


WRITES = frozenset({Access.REVIEW, Access.ANSWER, Access.DIRECT})
"""What nobody may do to an archived structure."""
MEMBER_ACCESS = {
    MemberRole.DIRECTION: frozenset(
        {Access.SUBMITTED, Access.READ, Access.ANSWER, Access.DIRECT, Access.EXPORT}
    ),
    MemberRole.CONTRIBUTION: frozenset({Access.SUBMITTED, Access.READ, Access.ANSWER}),
    MemberRole.LECTURE: frozenset({Access.SUBMITTED, Access.READ}),
}


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
    roles = [role for role, allowed in MEMBER_ACCESS.items() if access in allowed]
    member = select(Membership.structure_id).where(
        Membership.user_id == user.id, col(Membership.role).in_(roles)
    )
    found = set(session.exec(member).all()) if roles else set()
    if user.role == Role.TRAINER and access in (Access.SUBMITTED, Access.READ, Access.REVIEW):
        enrolled = (
            select(CohortStructure.structure_id)
            .join(CohortTrainer, col(CohortTrainer.cohort_id) == col(CohortStructure.cohort_id))
            .where(CohortTrainer.user_id == user.id)
        )
        found |= set(session.exec(enrolled).all())
    if user.role == Role.AUDITOR and access is Access.SUBMITTED:
        found |= set(running_grants(session, auditor_id=pk(user), today=today))
    if access in WRITES and found:
        archived = select(Structure.id).where(
            col(Structure.id).in_(found), col(Structure.archived_at).is_not(None)
        )
        found -= set(session.exec(archived).all())
    return found


ACCESS_CACHE = "autodiag.accesses"
"""`session.info` key of what each user may do to each structure, resolved once per transaction."""
GRANTS_CACHE = "autodiag.grants"
"""`session.info` key of each auditor's running grants, read once per transaction: an API read
checks its grant, then notes it in the audit entry."""
ROLES_CACHE = "autodiag.roles"
"""`session.info` key of the membership roles read with the accesses, once per transaction."""
KEPT = "autodiag.kept"


def running_grants(session: Session, *, auditor_id: int, today: date | None = None) -> dict[int, int]:
    """The grants an auditor reads under: structure id → grant id (the latest if several).

    A grant runs while it is not revoked and `expires_on` (inclusive, UTC calendar day) has not passed.
    """
    today = today or datetime.now(UTC).date()
    cache: dict[tuple[int, date], dict[int, int]] = session.info.setdefault(GRANTS_CACHE, {})
    key = (auditor_id, today)
    if key not in cache:
        query = select(AuditorGrant.structure_id, AuditorGrant.id).where(
            AuditorGrant.auditor_id == auditor_id,
            col(AuditorGrant.revoked_at).is_(None),
            col(AuditorGrant.expires_on) >= today,
        )
        rows = session.exec(query.order_by(col(AuditorGrant.id)))
        cache[key] = {structure_id: grant_id for structure_id, grant_id in rows if grant_id is not None}
    return dict(cache[key])


def can(session: Session, user: User, access: Access, structure_id: int) -> bool:
    """Whether `user` may access structure `structure_id` this way."""
    return access in accesses(session, user, structure_id)


def accesses(session: Session, user: User, structure_id: int) -> frozenset[Access]:
    """Everything `user` may do to the structure, resolved once per transaction: a request asks
    several times (its object, may it write, may it submit) and the answer cannot change meanwhile."""
    key = (user.id, user.role, user.is_active, structure_id)
    cache: dict[Any, frozenset[Access]] = session.info.setdefault(ACCESS_CACHE, {})
    if key not in cache:
        query = (
            select(Structure.archived_at, Membership.role)
            .select_from(Structure)
            .outerjoin(
                Membership,
                and_(col(Membership.structure_id) == col(Structure.id), col(Membership.user_id) == user.id),
            )
            .where(Structure.id == structure_id)
        )
        row = session.exec(query).first()
        archived, role = (row[0] is not None, row[1]) if row else (False, None)
        _remember(session, user, structure_id, archived=archived, role=role)
    return cache[key]


def owned_assessment(session: Session, user: User, assessment_id: int) -> Assessment | None:
    """The assessment with its structure (kept in the session) and, cached, what `user` may do to
    it: one query where the assessment, the structure and the membership would take three."""
    query = (
        select(Assessment, Structure, Membership.role)
        .join(Structure, col(Structure.id) == col(Assessment.structure_id))
        .outerjoin(
            Membership,
            and_(col(Membership.structure_id) == col(Structure.id), col(Membership.user_id) == user.id),
        )
        .where(Assessment.id == assessment_id)
    )
    row = session.exec(query).first()
    if row is None:
        return None
    assessment, structure, role = row
    # The session holds its objects weakly: keep the structure for the request, which shows it.
    session.info.setdefault(KEPT, []).append(structure)
    _remember(session, user, assessment.structure_id, archived=structure.archived_at is not None, role=role)
    return assessment


def _remember(session: Session, user: User, structure_id: int, *, archived: bool, role: str | None) -> None:
    """Keep for the transaction what `user` may do to the structure, and their membership's role
    (`member_role`), from its archived flag and that role as a query read them."""
    accessed: dict[Any, frozenset[Access]] = session.info.setdefault(ACCESS_CACHE, {})
    resolved = _resolve(session, user, structure_id, archived=archived, role=role)
    accessed[(user.id, user.role, user.is_active, structure_id)] = resolved
    roles: dict[tuple[Any, int], MemberRole | None] = session.info.setdefault(ROLES_CACHE, {})
    roles[(user.id, structure_id)] = MemberRole(role) if role else None


def _resolve(
    session: Session, user: User, structure_id: int, *, archived: bool, role: str | None
) -> frozenset[Access]:
    """The table of the module's docstring, for one user and one structure (`role`: their membership's)."""
    if not user.is_active:
        return frozenset()
    if user.role == Role.ADMIN:
        return frozenset(Access) - WRITES if archived else frozenset(Access)
    found = set(MEMBER_ACCESS[MemberRole(role)]) if role else set()
    if user.role == Role.TRAINER and _enrolled(session, user, structure_id):
        found |= {Access.SUBMITTED, Access.READ, Access.REVIEW}
    if user.role == Role.AUDITOR and structure_id in running_grants(session, auditor_id=pk(user)):
        found.add(Access.SUBMITTED)
    return frozenset(found - WRITES if archived else found)


def _enrolled(session: Session, user: User, structure_id: int) -> bool:
    enrolled = (
        select(CohortStructure.id)
        .join(CohortTrainer, col(CohortTrainer.cohort_id) == col(CohortStructure.cohort_id))
        .where(CohortTrainer.user_id == user.id, CohortStructure.structure_id == structure_id)
    )
    return session.exec(enrolled.limit(1)).first() is not None


@event.listens_for(OrmSession, "after_commit")
@event.listens_for(OrmSession, "after_rollback")
def _forget_accesses(session: OrmSession) -> None:
    # Memberships, roles and grants may have changed with what was committed or rolled back.
    session.info.pop(ACCESS_CACHE, None)
    session.info.pop(GRANTS_CACHE, None)
    session.info.pop(ROLES_CACHE, None)


def refusal(session: Session, user: User, structure_id: int) -> int:
    """The status of a refused access: 403 for a member of the structure (their role is why), else 404."""
    member = select(Membership.id).where(
        Membership.user_id == user.id, Membership.structure_id == structure_id
    )
    return 403 if user.is_active and session.exec(member).first() is not None else 404


def member_role(session: Session, user: User, structure_id: int) -> MemberRole | None:
    """The role `user` has in the structure, or None when they are not one of its members."""
    roles: dict[tuple[Any, int], MemberRole | None] = session.info.get(ROLES_CACHE, {})
    if (user.id, structure_id) in roles:  # read with the assessment, in this transaction
        return roles[(user.id, structure_id)]
    query = select(Membership).where(Membership.user_id == user.id, Membership.structure_id == structure_id)
    found = session.exec(query).first()
    return found.role if found else None


def keeps_certification(session: Session, user: User, structure_id: int) -> bool:
    """Whether `user` may edit the structure's certification record and record its real audits:
    its direction (DIRECT) or a trainer of its cohorts (REVIEW)."""
    return can(session, user, Access.DIRECT, structure_id) or can(session, user, Access.REVIEW, structure_id)


def administers(user: User | None) -> bool:
    """Whether `user` may open the administration pages (`/admin`): active administrators only."""
    return user is not None and user.is_active and user.role == Role.ADMIN


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
