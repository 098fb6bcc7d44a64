"""The one permission function: who may read or write which structure."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.accounts.models import Role
from app.accounts.permissions import Access, can, structure_ids
from app.db import pk
from tests.factories import director_with_structure, make_user


def test_a_director_reads_and_writes_only_their_structures(session: Session) -> None:
    director, mine = director_with_structure(session)
    _, theirs = director_with_structure(session)
    for access in Access:
        assert can(session, director, access, pk(mine))
        assert not can(session, director, access, pk(theirs))
    assert structure_ids(session, director) == {pk(mine)}


def test_an_admin_sees_everything(session: Session) -> None:
    admin = make_user(session, role=Role.ADMIN)
    _, structure = director_with_structure(session)
    assert structure_ids(session, admin) is None
    assert can(session, admin, Access.WRITE, pk(structure))


@pytest.mark.parametrize("role", [Role.TRAINER, Role.AUDITOR])
def test_trainers_and_auditors_see_nothing_without_cohort_or_grant(session: Session, role: Role) -> None:
    user = make_user(session, role=role)
    _, structure = director_with_structure(session)
    assert not can(session, user, Access.READ, pk(structure))
    assert not can(session, user, Access.WRITE, pk(structure))


def test_an_inactive_account_sees_nothing(session: Session) -> None:
    director, structure = director_with_structure(session)
    director.is_active = False
    assert not can(session, director, Access.READ, pk(structure))
