"""Deadlines anchored to the audit: « avant l'audit du … » with the scoring block's lead time; overdue marked."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.assessments.models import ActionItem
from app.cycle.models import CertificationRecord, Stage
from tests.reports.helpers import assessment_with_answers, member, signed_in

pytestmark = pytest.mark.sqlite_only  # rendering of dates: nothing dialect-specific


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" ,", ",")


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """« Nord » with a submitted assessment where DEO-01 is a gap."""
    user, structure = member(app, "d@example.org", structure_name="Nord")
    assert structure is not None
    assessment_with_answers(app, user=user, structure=structure, levels={"DEO-01": 0})
    return app


def plan_audit(app: FastAPI, on: date) -> None:
    with Session(app.state.engine) as session:
        session.add(CertificationRecord(structure_id=1, stage=Stage.INITIAL_PLANNED, audit_on=on))
        session.commit()


def test_without_an_audit_date_deadlines_count_days_as_before(app: FastAPI) -> None:
    page = text_of(signed_in(app, "d@example.org").get("/autoevaluations/1/resultats").text)
    assert "Échéance suggérée 90 jours, soit le" in page
    assert "avant l'audit du" not in page


def test_with_an_audit_date_gaps_and_new_actions_fall_the_lead_time_before_it(app: FastAPI) -> None:
    plan_audit(app, date(2027, 6, 15))
    client = signed_in(app, "d@example.org")
    page = text_of(client.get("/autoevaluations/1/resultats").text)
    assert (
        "Échéance suggérée avant l'audit du 15 juin 2027, soit le 16 mai 2027" in page
    )  # audit_lead_days: 30
    plan = client.get("/autoevaluations/1/plan")  # DEO-01's suggestion, saved on its first edit
    row = plan.text[plan.text.index('id="action-DEO-01"') :]
    assert 'name="echeance"' in row
    assert 'value="2027-05-16"' in row[: row.index("</tr>")]


def test_an_action_past_its_deadline_shows_as_overdue_until_done(app: FastAPI) -> None:
    client = signed_in(app, "d@example.org")
    with Session(app.state.engine) as session:
        item = ActionItem(assessment_id=1, criterion_id="DEO-01", title="Charte", due_on=date(2020, 1, 1))
        session.add(item)
        session.commit()
    assert "En retard" in client.get("/autoevaluations/1/plan").text
    with Session(app.state.engine) as session:
        item = session.exec(select(ActionItem).where(ActionItem.criterion_id == "DEO-01")).one()
        item.status = "fait"
        session.add(item)
        session.commit()
    assert "En retard" not in client.get("/autoevaluations/1/plan").text
