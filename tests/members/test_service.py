"""Members' roles where other domains read them: who hears about a structure's decisions."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.accounts.notifications import structure_recipients
from app.db import pk
from app.errors import ServiceError
from app.structures import service as structures
from app.structures.models import MemberRole
from tests.factories import make_structure, make_user


def test_only_the_direction_hears_about_returns_and_validations(session: Session) -> None:
    structure = make_structure(session)
    people = {role: make_user(session) for role in MemberRole}
    for role, user in people.items():
        structures.add_member(session, structure=structure, user=user, role=role)
    assert structure_recipients(session, pk(structure)) == [people[MemberRole.DIRECTION]]


def test_adding_a_member_twice_is_refused_with_a_message(session: Session) -> None:
    user, structure = make_user(session), make_structure(session)
    structures.add_member(session, structure=structure, user=user)
    with pytest.raises(ServiceError, match="déjà membre"):
        structures.add_member(session, structure=structure, user=user, role=MemberRole.LECTURE)
    assert structure_recipients(session, pk(structure)) == [user]
