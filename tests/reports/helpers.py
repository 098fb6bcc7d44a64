"""Plain helpers for the HTTP tests of structures and reports: an app, a signed-in director, answers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.accounts.models import Role, User
from app.accounts.service import create_user
from app.assessments import answering, snapshot
from app.assessments import service as assessments
from app.assessments.models import Assessment
from app.assessments.snapshot import load_or_create_signer
from app.catalog.service import Catalog
from app.db import AuditEntry
from app.structures import service as structures
from app.structures.models import Structure
from tests.accounts.test_routes import PASSWORD, csrf_from, sign_in

__all__ = ["PASSWORD", "csrf_from"]

LEVELS = {"DEO-01": 3, "DEO-02": 0, "DEO-04": 3}
"""DEO-01 declared in place with no evidence (capped), DEO-02 absent although critical (major gap)."""


def member(
    app: FastAPI, email: str, *, structure_name: str = "", role: Role = Role.DIRECTOR
) -> tuple[User, Structure | None]:
    """A user who can sign in, with (for a director) a structure of their own named `structure_name`."""
    with Session(app.state.engine, expire_on_commit=False) as session:
        user = create_user(
            session, email=email, name=email.split("@", maxsplit=1)[0].title(), role=role, password=PASSWORD
        )
        if not structure_name:
            return user, None
        structure = structures.create(session, name=structure_name, city="Lille")
        structures.add_member(session, structure=structure, user=user)
        return user, structure


def signed_in(app: FastAPI, email: str) -> TestClient:
    """A client signed in as `email` through the real sign-in form."""
    client = TestClient(app, follow_redirects=False)
    assert sign_in(client, email=email).status_code == 303
    return client


def assessment_with_answers(
    app: FastAPI,
    *,
    user: User,
    structure: Structure,
    levels: dict[str, int],
    questionnaire: str = "full",
    submit: bool = False,
) -> Assessment:
    """Start an assessment, answer each criterion of `levels` at its level, and submit it if asked."""
    catalog = app.state.catalog
    with Session(app.state.engine, expire_on_commit=False) as session:
        user, structure = session.merge(user), session.merge(structure)
        assessment = assessments.start(
            session, catalog=catalog, structure=structure, user=user, questionnaire_ref=questionnaire
        )
        for criterion_id, level in levels.items():
            answer(session, catalog, assessment=assessment, user=user, criterion_id=criterion_id, level=level)
        if submit:
            signer = load_or_create_signer(app.state.settings.data_dir)
            snapshot.submit(
                session, catalog=catalog, assessment=assessment, structure=structure, user=user, signer=signer
            )
        return assessment


def answer(
    session: Session,
    catalog: Catalog,
    *,
    assessment: Assessment,
    user: User,
    criterion_id: str,
    level: int,
    base_revision: int = 0,
) -> None:
    """Answer one criterion at `level`, with no comment and no evidence."""
    answering.save_answer(
        session,
        catalog=catalog,
        assessment=assessment,
        user=user,
        criterion_id=criterion_id,
        base_revision=base_revision,
        level=level,
        not_applicable=False,
        justification="",
        comment="",
    )


def audit_count(app: FastAPI, action: str) -> int:
    with Session(app.state.engine) as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        return session.exec(query).one()
