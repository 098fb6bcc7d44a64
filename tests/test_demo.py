"""The demo seeds four accounts, « Médiation Horizon » with a submitted and a half-filled assessment,
three more structures, and a cohort of all four run by the demo trainer; once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from app import demo
from app.accounts.models import User
from app.accounts.service import authenticate
from app.assessments import service
from app.assessments.models import Assessment, AssessmentStatus, EvidenceLink, Snapshot
from app.assessments.snapshot import Signer, load_or_create_signer, verify
from app.catalog.service import Catalog
from app.cohorts.dashboard import dashboard
from app.cohorts.models import Cohort
from app.structures.models import Structure

# The demo is seeded on the embedded default (SQLite); its inserts are plain ORM writes.
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return load_or_create_signer(tmp_path)


def test_demo_is_seeded_once_with_working_accounts(
    session: Session, catalog: Catalog, signer: Signer
) -> None:
    assert demo.seed(session, catalog=catalog, signer=signer).created
    assert not demo.seed(session, catalog=catalog, signer=signer).created
    assert len(session.exec(select(User)).all()) == 4
    for email, _, role, password in demo.ACCOUNTS:
        assert authenticate(session, email=email, password=password, client="test").role == role


def test_demo_assessment_is_half_filled_with_evidence(
    session: Session, catalog: Catalog, signer: Signer
) -> None:
    demo.seed(session, catalog=catalog, signer=signer)
    structure = horizon(session)
    assessment = session.exec(select(Assessment).where(Assessment.status == AssessmentStatus.DRAFT)).one()
    assert assessment.structure_id == structure.id
    assert assessment.questionnaire_ref == catalog.questionnaire("full").ref  # new work starts on the latest
    assert structure.profile["type_structure"] == "association"
    result = service.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    assert 0.3 < result.progress.answered / result.progress.applicable < 0.7
    assert session.exec(select(EvidenceLink)).first() is not None


def test_demo_has_an_earlier_express_assessment_submitted_and_signed(
    session: Session, catalog: Catalog, signer: Signer
) -> None:
    demo.seed(session, catalog=catalog, signer=signer)
    structure = horizon(session)
    submitted = session.exec(
        select(Assessment).where(
            Assessment.status == AssessmentStatus.SUBMITTED, Assessment.structure_id == structure.id
        )
    ).one()
    assert submitted.questionnaire_ref == "express@1.0.0"  # submitted earlier: it keeps its version
    snapshot = session.exec(select(Snapshot).where(Snapshot.assessment_id == submitted.id)).one()
    assert verify(signer.public_bytes, snapshot.canonical_json, snapshot.signature)
    result = service.evaluate(session, catalog=catalog, assessment=submitted, structure=structure)
    assert result.progress.answered == result.progress.applicable


def horizon(session: Session) -> Structure:
    return session.exec(select(Structure).where(Structure.name == "Médiation Horizon")).one()


def test_demo_cohort_gathers_the_four_structures_with_submitted_assessments_for_the_trainer(
    session: Session, catalog: Catalog, signer: Signer
) -> None:
    demo.seed(session, catalog=catalog, signer=signer)
    trainer = session.exec(select(User).where(User.email == "formateur@demo.autodiag.fr")).one()
    cohort = session.exec(select(Cohort)).one()
    assert cohort.name == "Cycle de préparation 2027"
    board = dashboard(session, catalog=catalog, cohort=cohort)
    assert [row.structure.name for row in board.rows] == [
        "Médiacité Nord",
        "Médiation Horizon",
        "Médiation Quartiers Sud",
        "Trait d'Union Médiation",
    ]
    assert all(row.assessment and row.assessment.status == AssessmentStatus.SUBMITTED for row in board.rows)
    assert len({row.result.verdict for row in board.rows if row.result}) > 1  # different levels
    assert all(meeting.held_on and meeting.place for meeting in board.meetings.values())
    assert [t.id for t in board.trainers] == [trainer.id]
    assert any(len(gap.concerned) > 1 for gaps in board.common.values() for gap in gaps)


def test_demo_auditor_may_read_the_structure_through_a_grant(
    session: Session, catalog: Catalog, signer: Signer
) -> None:
    from app.accounts.permissions import Access, structure_ids

    demo.seed(session, catalog=catalog, signer=signer)
    auditor = session.exec(select(User).where(User.email == "auditrice@demo.autodiag.fr")).one()
    assert structure_ids(session, auditor, Access.SUBMITTED) == {horizon(session).id}
