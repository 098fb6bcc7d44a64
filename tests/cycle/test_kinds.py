"""Surveillance and renewal assessments: from the last submitted one, reconfirming only what expired."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select

from app.assessments import evidence, snapshot
from app.assessments import service as assessments
from app.assessments.models import Answer, Assessment, AssessmentKind
from app.assessments.snapshot import load_or_create_signer
from app.cycle.models import AuditKind, AuditOutcome, AuditResult
from app.db import pk
from app.deps import today
from tests.reports.helpers import answer, audit_count, csrf_from, member, signed_in

TODAY = date(2027, 3, 1)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.dependency_overrides[today] = lambda: TODAY
    member(app, "d@example.org", structure_name="Nord")
    return app


def submitted_with_history(app: FastAPI) -> None:
    """DEO-01 answered before the last audit, DEO-02 after it, PRO-07 with evidence dated 2025: submitted."""
    catalog = app.state.catalog
    with Session(app.state.engine, expire_on_commit=False) as session:
        from app.accounts.models import User
        from app.structures.models import Structure

        user = session.exec(select(User)).one()
        structure = session.exec(select(Structure)).one()
        first = assessments.start(
            session, catalog=catalog, structure=structure, user=user, questionnaire_ref="full"
        )
        for criterion_id in ("DEO-01", "DEO-02", "PRO-07"):
            answer(session, catalog, assessment=first, user=user, criterion_id=criterion_id, level=3)
        piece = evidence.add(
            session,
            structure=structure,
            user=user,
            title="Annuaire",
            link="https://example.org/a",
            document_date=date(2025, 12, 1),
        )
        evidence.attach(
            session, assessment=first, evidence=piece, criterion_id="PRO-07", covers=["annuaire"], user=user
        )
        snapshot.submit(
            session,
            catalog=catalog,
            assessment=first,
            structure=structure,
            user=user,
            signer=load_or_create_signer(app.state.settings.data_dir),
        )
        old = session.exec(select(Answer).where(Answer.criterion_id == "DEO-01")).one()
        old.updated_at = datetime(2026, 6, 1, tzinfo=UTC)
        session.add(old)
        session.add(
            AuditOutcome(
                structure_id=pk(structure),
                kind=AuditKind.INITIAL,
                held_on=date(2026, 9, 1),
                result=AuditResult.GRANTED,
                recorded_by=pk(user),
            )
        )
        session.commit()


def start(app: FastAPI, **fields: str) -> tuple[int, str, str]:
    client = signed_in(app, "d@example.org")
    token = csrf_from(client.get("/structures/1/certification").text)
    form = {"csrf_token": token, "kind": "surveillance", "questionnaire": "full", **fields}
    response = client.post("/structures/1/certification/autoevaluations", data=form)
    return response.status_code, response.text, response.headers.get("location", "")


def test_a_surveillance_assessment_asks_to_reconfirm_only_what_expired(app: FastAPI) -> None:
    submitted_with_history(app)
    status, _, location = start(app)
    assert status == 303
    with Session(app.state.engine) as session:
        new = session.exec(select(Assessment).order_by(col(Assessment.id).desc())).first()
        assert new is not None
        assert location == f"/autoevaluations/{new.id}"
        assert (new.kind, new.previous_id) == (AssessmentKind.SURVEILLANCE, 1)
        carried = {
            a.criterion_id: a.carried_over
            for a in session.exec(select(Answer).where(Answer.assessment_id == new.id))
        }
    assert carried == {
        "DEO-01": True,
        "DEO-02": False,
        "PRO-07": True,
    }  # older than the audit; evidence expired
    page = signed_in(app, "d@example.org").get(location).text
    assert "reconfirmer" in page


@pytest.mark.sqlite_only
def test_a_surveillance_with_no_earlier_assessment_is_refused_and_nothing_started(app: FastAPI) -> None:
    status, text, _ = start(app)
    assert status == 422
    assert "cette structure n&#39;en a soumis aucune : commencez par une autoévaluation initiale" in text
    with Session(app.state.engine) as session:
        assert session.exec(select(Assessment)).first() is None
    assert audit_count(app, "assessment.start") == 0


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "initial"}, "Choisissez une autoévaluation de surveillance ou de renouvellement"),
        ({"kind": ""}, "Choisissez une autoévaluation de surveillance ou de renouvellement"),
        ({"questionnaire": "inconnu"}, "Choisissez le questionnaire complet ou le questionnaire express"),
    ],
)
def test_a_malformed_start_is_refused_with_its_field(
    app: FastAPI, fields: dict[str, str], message: str
) -> None:
    submitted_with_history(app)
    status, text, _ = start(app, **fields)
    assert status == 422
    assert message in text
    with Session(app.state.engine) as session:
        assert len(session.exec(select(Assessment)).all()) == 1
