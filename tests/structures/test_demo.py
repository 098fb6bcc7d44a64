"""The demo seeds one structure, four accounts and a half-filled assessment, once."""

from __future__ import annotations

from sqlmodel import Session, select

from app.accounts.models import User
from app.accounts.service import authenticate
from app.assessments import service
from app.assessments.models import Assessment, EvidenceLink
from app.catalog.service import Catalog
from app.structures import demo
from app.structures.models import Structure


def test_demo_is_seeded_once_with_working_accounts(session: Session, catalog: Catalog) -> None:
    assert demo.seed(session, catalog=catalog).created
    assert not demo.seed(session, catalog=catalog).created
    assert len(session.exec(select(User)).all()) == 4
    for email, _, role, password in demo.ACCOUNTS:
        assert authenticate(session, email=email, password=password, client="test").role == role


def test_demo_assessment_is_half_filled_with_evidence(session: Session, catalog: Catalog) -> None:
    demo.seed(session, catalog=catalog)
    structure = session.exec(select(Structure)).one()
    assessment = session.exec(select(Assessment)).one()
    assert structure.profile["type_structure"] == "association"
    result = service.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    assert 0.3 < result.progress.answered / result.progress.applicable < 0.7
    assert session.exec(select(EvidenceLink)).first() is not None
