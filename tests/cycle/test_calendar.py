"""The private calendar feed: parsed by icalendar and by vobject, stable UIDs, revoked → 404."""

from __future__ import annotations

import re
from datetime import date

import icalendar
import pytest
import vobject
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import Role
from app.assessments import service as assessments
from app.assessments.models import ActionItem
from app.cohorts.models import CohortWorkshop
from app.cycle.models import CertificationRecord, Stage
from app.db import pk
from tests.factories import make_cohort
from tests.reports.helpers import csrf_from, member, signed_in

URL = re.compile(r"https?://[^\s<]+/calendrier/[\w-]+\.ics")


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """« Nord » (audit on 15 June 2027, one open action, a cohort workshop) and « Sud », which its director alone sees."""
    director, nord = member(app, "d@example.org", structure_name="Nord")
    trainer, _ = member(app, "t@example.org", role=Role.TRAINER)
    _, sud = member(app, "o@example.org", structure_name="Sud")
    assert nord is not None
    assert sud is not None
    with Session(app.state.engine, expire_on_commit=False) as session:
        cohort = make_cohort(session, trainers=[trainer], structures=[nord], name="Cycle 2027")
        session.add(
            CohortWorkshop(cohort_id=pk(cohort), workshop="politique_qualite", held_on=date(2027, 4, 2))
        )
        session.add(
            CertificationRecord(
                structure_id=pk(nord), stage=Stage.INITIAL_PLANNED, audit_on=date(2027, 6, 15)
            )
        )
        session.add(
            CertificationRecord(structure_id=pk(sud), stage=Stage.INITIAL_PLANNED, audit_on=date(2027, 9, 1))
        )
        draft = assessments.start(
            session, catalog=app.state.catalog, structure=nord, user=director, questionnaire_ref="full"
        )
        session.add(
            ActionItem(
                assessment_id=pk(draft), criterion_id="DEO-01", title="Charte signée", due_on=date(2027, 5, 1)
            )
        )
        session.commit()
    return app


def new_feed(client: TestClient) -> str:
    token = csrf_from(client.get("/compte/calendrier").text)
    assert client.post("/compte/calendrier", data={"csrf_token": token}).status_code == 303
    page = client.get("/compte/calendrier").text
    found = URL.search(page)
    assert found is not None, page
    assert URL.search(client.get("/compte/calendrier").text) is None  # shown once
    return "/" + found.group(0).split("/", 3)[3]


def test_the_feed_parses_twice_and_lists_what_the_person_follows(app: FastAPI) -> None:
    path = new_feed(signed_in(app, "d@example.org"))
    response = TestClient(app).get(path)  # a calendar program: no session
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    parsed = icalendar.Calendar.from_ical(response.content)
    events = {str(e["summary"]): (e.decoded("dtstart"), str(e["uid"])) for e in parsed.walk("VEVENT")}
    assert events == {
        "Audit de certification · Nord": (date(2027, 6, 15), "audit-1@autodiag-mediation"),
        "Échéance : Charte signée · Nord": (date(2027, 5, 1), "action-1@autodiag-mediation"),
        "Atelier de la cohorte « Cycle 2027 »": (date(2027, 4, 2), "workshop-1@autodiag-mediation"),
    }
    other = vobject.readOne(response.text)
    assert sorted((e.summary.value, e.dtstart.value) for e in other.vevent_list) == sorted(
        (summary, day) for summary, (day, _) in events.items()
    )
    assert all(
        e.url.value.endswith(("/structures/1/certification", "#action-1", "/cohortes/1"))
        for e in other.vevent_list
    )


def test_uids_stay_the_same_across_fetches_and_a_moved_date_keeps_its_uid(app: FastAPI) -> None:
    client = TestClient(app)
    path = new_feed(signed_in(app, "d@example.org"))
    first = icalendar.Calendar.from_ical(client.get(path).content)
    with Session(app.state.engine) as session:
        record = session.get(CertificationRecord, 1)
        assert record is not None
        record.audit_on = date(2027, 6, 22)
        session.add(record)
        session.commit()
    second = icalendar.Calendar.from_ical(client.get(path).content)
    uids = [sorted(str(e["uid"]) for e in c.walk("VEVENT")) for c in (first, second)]
    assert uids[0] == uids[1]
    moved = next(e for e in second.walk("VEVENT") if str(e["uid"]) == "audit-1@autodiag-mediation")
    assert moved.decoded("dtstart") == date(2027, 6, 22)


def test_a_trainer_sees_their_cohorts_structures_but_not_others(app: FastAPI) -> None:
    path = new_feed(signed_in(app, "t@example.org"))
    summaries = {
        str(e["summary"])
        for e in icalendar.Calendar.from_ical(TestClient(app).get(path).content).walk("VEVENT")
    }
    assert "Audit de certification · Nord" in summaries
    assert not any("Sud" in s for s in summaries)


def test_a_revoked_or_replaced_address_answers_404(app: FastAPI) -> None:
    director = signed_in(app, "d@example.org")
    old = new_feed(director)
    newer = new_feed(director)
    assert TestClient(app).get(old).status_code == 404
    assert TestClient(app).get(newer).status_code == 200
    token = csrf_from(director.get("/compte/calendrier").text)
    assert director.post("/compte/calendrier/revoquer", data={"csrf_token": token}).status_code == 303
    assert TestClient(app).get(newer).status_code == 404
    assert TestClient(app).get("/calendrier/nimporte-quoi.ics").status_code == 404
    assert "Vous n'avez pas encore d'adresse" in director.get("/compte/calendrier").text
