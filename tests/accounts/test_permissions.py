"""The one permission function: who may read or write which structure."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from app.accounts.models import Role, User
from app.accounts.permissions import (
    Access,
    administers,
    can,
    cohort_ids,
    member_role,
    reading,
    refusal,
    structure_ids,
)
from app.assessments.models import Assessment, AssessmentStatus
from app.cohorts.models import Cohort, CohortStructure, CohortTrainer
from app.db import pk, utcnow
from app.structures import registry
from app.structures import service as structures
from app.structures.models import AuditorGrant, MemberRole, Structure
from tests.factories import director_with_structure, make_structure, make_user

TODAY = date(2026, 11, 23)


def enrol(session: Session, *, trainer: User, structure: Structure) -> Cohort:
    cohort = Cohort(name="Cycle 2027", created_by=pk(trainer))
    session.add(cohort)
    session.flush()
    session.add(CohortTrainer(cohort_id=pk(cohort), user_id=pk(trainer)))
    session.add(CohortStructure(cohort_id=pk(cohort), structure_id=pk(structure)))
    session.commit()
    return cohort


def grant(
    session: Session, *, auditor: User, structure: Structure, by: User, **values: object
) -> AuditorGrant:
    row = AuditorGrant(
        structure_id=pk(structure),
        auditor_id=pk(auditor),
        granted_by=pk(by),
        **{"expires_on": TODAY, **values},  # type: ignore[arg-type]
    )
    session.add(row)
    session.commit()
    return row


def test_a_director_reads_and_writes_only_their_structures(session: Session) -> None:
    director, mine = director_with_structure(session)
    _, theirs = director_with_structure(session)
    for access in (Access.SUBMITTED, Access.READ, Access.ANSWER, Access.DIRECT):
        assert can(session, director, access, pk(mine))
        assert not can(session, director, access, pk(theirs))
    assert structure_ids(session, director) == {pk(mine)}


def test_a_director_never_reviews_even_their_own_structure(session: Session) -> None:
    director, mine = director_with_structure(session)
    assert not can(session, director, Access.REVIEW, pk(mine))


def test_a_trainer_reads_and_reviews_only_their_cohorts_structures(session: Session) -> None:
    trainer = make_user(session, role=Role.TRAINER)
    _, enrolled = director_with_structure(session)
    _, elsewhere = director_with_structure(session)
    cohort = enrol(session, trainer=trainer, structure=enrolled)
    other_trainer = make_user(session, role=Role.TRAINER)
    enrol(session, trainer=other_trainer, structure=elsewhere)
    for access in (Access.SUBMITTED, Access.READ, Access.REVIEW):
        assert structure_ids(session, trainer, access) == {pk(enrolled)}
    assert not can(session, trainer, Access.ANSWER, pk(enrolled))
    assert not can(session, trainer, Access.DIRECT, pk(enrolled))
    assert cohort_ids(session, trainer) == {pk(cohort)}


def test_an_auditor_sees_submitted_results_only_while_a_grant_runs(session: Session) -> None:
    auditor = make_user(session, role=Role.AUDITOR)
    director, structure = director_with_structure(session)
    row = grant(session, auditor=auditor, structure=structure, by=director)
    assert structure_ids(session, auditor, Access.SUBMITTED, today=TODAY) == {pk(structure)}
    for access in (Access.READ, Access.REVIEW, Access.ANSWER, Access.DIRECT):
        assert structure_ids(session, auditor, access, today=TODAY) == set()
    assert structure_ids(session, auditor, Access.SUBMITTED, today=TODAY + timedelta(days=1)) == set()
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    assert structure_ids(session, auditor, Access.SUBMITTED, today=TODAY) == set()


def test_a_grant_to_another_auditor_shows_nothing(session: Session) -> None:
    auditor, other = make_user(session, role=Role.AUDITOR), make_user(session, role=Role.AUDITOR)
    director, structure = director_with_structure(session)
    grant(session, auditor=other, structure=structure, by=director)
    assert structure_ids(session, auditor, Access.SUBMITTED, today=TODAY) == set()


def test_reading_a_draft_needs_more_than_reading_a_submitted_assessment() -> None:
    draft = Assessment(
        structure_id=1,
        questionnaire_ref="q",
        questionnaire_sha256="",
        criteria_ref="c",
        criteria_sha256="",
        created_by=1,
    )
    assert reading(draft) is Access.READ
    draft.status = AssessmentStatus.SUBMITTED
    assert reading(draft) is Access.SUBMITTED


def test_only_trainers_and_admins_run_cohorts(session: Session) -> None:
    assert cohort_ids(session, make_user(session, role=Role.ADMIN)) is None
    for role in (Role.DIRECTOR, Role.AUDITOR):
        assert cohort_ids(session, make_user(session, role=role)) == set()


def test_an_admin_sees_everything(session: Session) -> None:
    admin = make_user(session, role=Role.ADMIN)
    _, structure = director_with_structure(session)
    assert structure_ids(session, admin) is None
    assert can(session, admin, Access.DIRECT, pk(structure))


@pytest.mark.parametrize("role", [Role.TRAINER, Role.AUDITOR])
def test_trainers_and_auditors_see_nothing_without_cohort_or_grant(session: Session, role: Role) -> None:
    user = make_user(session, role=role)
    _, structure = director_with_structure(session)
    for access in Access:
        assert not can(session, user, access, pk(structure))


def test_an_inactive_account_sees_nothing(session: Session) -> None:
    director, structure = director_with_structure(session)
    director.is_active = False
    assert not can(session, director, Access.READ, pk(structure))


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (MemberRole.DIRECTION, {Access.SUBMITTED, Access.READ, Access.ANSWER, Access.DIRECT, Access.EXPORT}),
        (MemberRole.CONTRIBUTION, {Access.SUBMITTED, Access.READ, Access.ANSWER}),
        (MemberRole.LECTURE, {Access.SUBMITTED, Access.READ}),
    ],
)
def test_a_members_role_decides_what_they_may_do(
    session: Session, role: MemberRole, allowed: set[Access]
) -> None:
    member = make_user(session)
    structure = make_structure(session)
    structures.add_member(session, structure=structure, user=member, role=role)
    assert {access for access in Access if can(session, member, access, pk(structure))} == allowed
    assert member_role(session, member, pk(structure)) == role
    _, elsewhere = director_with_structure(session)
    assert not any(can(session, member, access, pk(elsewhere)) for access in Access)


def test_a_director_account_that_is_a_lecture_member_reads_but_cannot_write(session: Session) -> None:
    director = make_user(session, role=Role.DIRECTOR)
    structure = make_structure(session)
    structures.add_member(session, structure=structure, user=director, role=MemberRole.LECTURE)
    assert can(session, director, Access.READ, pk(structure))
    assert not can(session, director, Access.ANSWER, pk(structure))
    assert structure_ids(session, director, Access.DIRECT) == set()


def test_a_trainer_who_is_also_a_member_answers_for_that_structure_only(session: Session) -> None:
    trainer = make_user(session, role=Role.TRAINER)
    structure = make_structure(session)
    structures.add_member(session, structure=structure, user=trainer, role=MemberRole.CONTRIBUTION)
    assert structure_ids(session, trainer, Access.ANSWER) == {pk(structure)}
    assert not can(session, trainer, Access.REVIEW, pk(structure))


def test_an_archived_structure_is_read_only_even_for_administrators(session: Session) -> None:
    admin = make_user(session, role=Role.ADMIN)
    director, structure = director_with_structure(session)
    trainer = make_user(session, role=Role.TRAINER)
    enrol(session, trainer=trainer, structure=structure)
    registry.set_archived(session, structure=structure, archived=True, actor=admin)
    for user in (admin, director):
        assert can(session, user, Access.READ, pk(structure))
        assert not can(session, user, Access.ANSWER, pk(structure))
        assert not can(session, user, Access.DIRECT, pk(structure))
    assert can(session, trainer, Access.READ, pk(structure))
    assert not can(session, trainer, Access.REVIEW, pk(structure))
    registry.set_archived(session, structure=structure, archived=False, actor=admin)
    assert can(session, director, Access.DIRECT, pk(structure))


def test_a_refusal_is_403_for_a_member_and_404_for_anyone_else(session: Session) -> None:
    reader = make_user(session)
    structure = make_structure(session)
    structures.add_member(session, structure=structure, user=reader, role=MemberRole.LECTURE)
    assert refusal(session, reader, pk(structure)) == 403
    assert refusal(session, make_user(session, role=Role.TRAINER), pk(structure)) == 404
    reader.is_active = False
    assert refusal(session, reader, pk(structure)) == 404


def test_only_active_administrators_administer(session: Session) -> None:
    admin = make_user(session, role=Role.ADMIN)
    assert administers(admin)
    assert not any(administers(make_user(session, role=role)) for role in Role if role != Role.ADMIN)
    admin.is_active = False
    assert not administers(admin)
    assert not administers(None)
