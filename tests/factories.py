"""Plain factory functions for tests: real rows through the real services."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from app.accounts.models import Role, User
from app.cohorts.models import Cohort, CohortStructure, CohortTrainer
from app.db import pk
from app.structures import service as structures
from app.structures.models import Structure

_numbers = itertools.count(1)


def make_user(session: Session, *, role: Role = Role.DIRECTOR, email: str = "") -> User:
    """A user with a placeholder hash (tests that sign in set a real password)."""
    user = User(
        email=email or f"user{next(_numbers)}@example.org",
        name="Camille Test",
        role=role,
        password_hash="not-a-real-hash",
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def make_structure(session: Session, *, director: User | None = None, name: str = "") -> Structure:
    structure = structures.create(session, name=name or f"Structure {next(_numbers)}", city="Lille")
    if director is not None:
        structures.add_member(session, structure=structure, user=director)
    return structure


def director_with_structure(session: Session) -> tuple[User, Structure]:
    user = make_user(session)
    structure = make_structure(session, director=user)
    assert pk(structure)
    return user, structure


def make_cohort(
    session: Session, *, trainers: list[User], structures: list[Structure], name: str = "Cycle 2027"
) -> Cohort:
    """A cohort run by `trainers` with `structures` enrolled (no workshop dates)."""
    cohort = Cohort(name=name, created_by=pk(trainers[0]))
    session.add(cohort)
    session.flush()
    session.add_all(CohortTrainer(cohort_id=pk(cohort), user_id=pk(user)) for user in trainers)
    session.add_all(CohortStructure(cohort_id=pk(cohort), structure_id=pk(s)) for s in structures)
    session.commit()
    session.refresh(cohort)
    return cohort
