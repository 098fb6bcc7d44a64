"""Who is told what: submissions, returns, validations and auditor grants, received over SMTP."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.assessments.models import Assessment
from app.assessments.snapshot import Signer, load_or_create_signer
from app.catalog.service import Catalog
from app.config import Settings
from app.mail.models import OutboxMessage
from app.mail.sender import send_pending
from app.reviews import decisions
from app.reviews.models import Decision
from app.structures import service as structures
from app.structures.models import Structure
from tests.cohorts.test_dashboard import answered
from tests.factories import make_cohort, make_structure, make_user
from tests.smtp import Inbox, html_of, text_of

LEVELS = {"DEO-01": 2, "DEO-02": 2, "PRO-01": 2, "EVA-01": 2}


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return load_or_create_signer(tmp_path)


@pytest.fixture
def structure(session: Session) -> Structure:
    structure = make_structure(
        session, director=make_user(session, email="direction@example.org"), name="Horizon"
    )
    structure.profile = {"registres": ["a"], "nuit": False}
    session.add(structure)
    session.commit()
    return structure


def received(engine: Engine, smtp: tuple[Inbox, int], tmp_path: Path) -> Inbox:
    inbox, port = smtp
    settings = Settings(
        environment="test", data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
    )
    send_pending(engine, settings=settings)
    return inbox


def opt_out(session: Session, user: User, column: str) -> None:
    setattr(user, column, False)
    session.add(user)
    session.commit()


def director_of(session: Session) -> User:
    found = session.exec(select(User).where(User.email == "direction@example.org")).one()
    return found


def submitted(session: Session, catalog: Catalog, structure: Structure, signer: Signer) -> Assessment:
    return answered(
        session, catalog, structure=structure, user=director_of(session), levels=LEVELS, signer=signer
    )


def test_a_submission_is_told_to_the_trainers_of_the_structures_cohorts(
    engine: Engine,
    session: Session,
    mini_catalog: Catalog,
    signer: Signer,
    structure: Structure,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    coach, other, quiet = (
        make_user(session, role=Role.TRAINER, email=f"{n}@example.org") for n in ("coach", "other", "quiet")
    )
    make_cohort(session, trainers=[coach, quiet], structures=[structure])
    make_cohort(session, trainers=[other], structures=[make_structure(session)], name="Ailleurs")
    opt_out(session, quiet, "notify_submissions")
    assessment = submitted(session, mini_catalog, structure, signer)
    inbox = received(engine, smtp, tmp_path)
    [message] = inbox.messages
    assert message["To"] == "coach@example.org"
    assert message["Subject"] == "Horizon a soumis son autoévaluation"
    assert f"http://127.0.0.1:8000/autoevaluations/{assessment.id}/relecture" in text_of(message)
    assert "Camille Test a soumis l'autoévaluation de la structure « Horizon »" in text_of(message)
    assert "/compte" in html_of(message)


def test_a_return_for_changes_is_told_to_the_structures_members_with_the_comment(
    engine: Engine,
    session: Session,
    mini_catalog: Catalog,
    signer: Signer,
    structure: Structure,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    trainer = make_user(session, role=Role.TRAINER)
    assessment = submitted(session, mini_catalog, structure, signer)
    colleague = make_user(session, email="colleague@example.org")
    colleague.language = "en"
    structures.add_member(session, structure=structure, user=colleague)
    decisions.decide(
        session,
        assessment=assessment,
        user=trainer,
        decision=Decision.RETURNED,
        comment="Revoir la charte <signée>",
    )
    inbox = received(engine, smtp, tmp_path)
    assert sorted(message["To"] for message in inbox.messages) == [
        "colleague@example.org",
        "direction@example.org",
    ]
    [french] = inbox.to("direction@example.org")
    assert french["Subject"] == "Votre autoévaluation vous est renvoyée pour modifications"
    assert "Revoir la charte <signée>" in text_of(french)
    assert "Revoir la charte &lt;signée&gt;" in html_of(french)
    assert f"http://127.0.0.1:8000/autoevaluations/{assessment.id}" in text_of(french).splitlines()
    [english] = inbox.to("colleague@example.org")
    assert english["Subject"] == "Your assessment is returned for changes"


def test_a_validation_is_told_to_the_members_who_did_not_turn_it_off(
    engine: Engine,
    session: Session,
    mini_catalog: Catalog,
    signer: Signer,
    structure: Structure,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    trainer = make_user(session, role=Role.TRAINER)
    assessment = submitted(session, mini_catalog, structure, signer)
    quiet = make_user(session, email="quiet@example.org")
    structures.add_member(session, structure=structure, user=quiet)
    opt_out(session, quiet, "notify_decisions")
    decisions.decide(session, assessment=assessment, user=trainer, decision=Decision.VALIDATED, comment="")
    inbox = received(engine, smtp, tmp_path)
    [message] = inbox.messages
    assert message["To"] == "direction@example.org"
    assert message["Subject"] == "Votre autoévaluation est validée"
    assert f"/autoevaluations/{assessment.id}/resultats" in text_of(message)


def test_a_grant_is_told_to_the_auditor_in_their_language_with_the_date(
    engine: Engine, session: Session, structure: Structure, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    auditor = make_user(session, role=Role.AUDITOR, email="audit@example.org")
    auditor.language = "en"
    session.add(auditor)
    session.commit()
    until = date.today() + timedelta(days=30)
    structures.grant_auditor(
        session,
        structure=structure,
        email=auditor.email,
        expires_on=until.isoformat(),
        actor=director_of(session),
    )
    [message] = received(engine, smtp, tmp_path).messages
    assert message["To"] == "audit@example.org"
    assert message["Subject"] == "Horizon gives you access to its results"
    assert f"{until:%B} {until.day}, {until.year}" in text_of(message)
    assert f"http://127.0.0.1:8000/structures/{structure.id}" in text_of(message)


def test_an_auditor_who_turned_grants_off_is_not_told(
    engine: Engine, session: Session, structure: Structure, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    auditor = make_user(session, role=Role.AUDITOR, email="audit@example.org")
    opt_out(session, auditor, "notify_grants")
    until = (date.today() + timedelta(days=30)).isoformat()
    structures.grant_auditor(
        session, structure=structure, email=auditor.email, expires_on=until, actor=director_of(session)
    )
    assert received(engine, smtp, tmp_path).messages == []
    assert session.exec(select(OutboxMessage)).all() == []
