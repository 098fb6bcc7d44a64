"""The certification page through HTTP: the record, the timeline, real audits, bad input."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.cycle.models import AuditOutcome, CertificationRecord, Stage
from app.deps import today
from tests.factories import make_cohort
from tests.reports.helpers import audit_count, csrf_from, member, signed_in

TODAY = date(2027, 3, 1)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """A director of « Nord », a trainer of its cohort, an outsider; the clock on 1 March 2027."""
    _director, structure = member(app, "d@example.org", structure_name="Nord")
    trainer, _ = member(app, "t@example.org", role=Role.TRAINER)
    member(app, "o@example.org", structure_name="Sud")
    assert structure is not None
    with Session(app.state.engine) as session:
        make_cohort(session, trainers=[trainer], structures=[structure])
    app.dependency_overrides[today] = lambda: TODAY
    return app


def text_of(html: str) -> str:
    """The page's words without markup, as a reader sees them."""
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def record(app: FastAPI) -> CertificationRecord | None:
    with Session(app.state.engine) as session:
        return session.exec(select(CertificationRecord)).first()


def post_record(app: FastAPI, email: str, **fields: str) -> tuple[int, str]:
    client = signed_in(app, email)
    token = csrf_from(client.get("/structures/1/certification").text)
    form = {"csrf_token": token, "stage": "audit_initial_planifie", "audit_on": "2027-06-15", **fields}
    response = client.post("/structures/1/certification", data=form)
    return response.status_code, response.text


def test_a_director_plans_the_initial_audit_and_the_structure_page_counts_the_days(app: FastAPI) -> None:
    status, _ = post_record(app, "d@example.org", audit_booked="1")
    assert status == 303
    saved = record(app)
    assert saved is not None
    assert (saved.stage, saved.audit_on, saved.audit_booked) == (
        Stage.INITIAL_PLANNED,
        date(2027, 6, 15),
        True,
    )
    page = text_of(signed_in(app, "d@example.org").get("/structures/1").text)
    assert "Prochaine étape : Audit prévu, 15 juin 2027 (dans 106 jours)" in page
    assert audit_count(app, "certification.update") == 1


def test_a_certificate_without_an_end_lasts_the_cycle_of_the_criteria_file(app: FastAPI) -> None:
    status, _ = post_record(
        app,
        "t@example.org",
        stage="certifiee",
        audit_on="",
        certificate_number=" AFAQ-2027-12 ",
        certified_on="2027-02-01",
    )
    assert status == 303
    saved = record(app)
    assert saved is not None
    assert (saved.certificate_number, saved.valid_until) == ("AFAQ-2027-12", date(2031, 2, 1))
    page = text_of(signed_in(app, "d@example.org").get("/structures/1/certification").text)
    assert "Audit de surveillance (à 24 mois) : 1er février 2029 (dans 703 jours)" in page
    assert "Fin de validité du certificat : audit de renouvellement : 1er février 2031" in page
    assert "48 mois" in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"audit_on": "2027-02-28"}, "audit_on", "La date de l&#39;audit prévu est passée"),
        ({"audit_on": ""}, "audit_on", "Indiquez la date de l&#39;audit prévu"),
        ({"audit_on": "15/13/2027"}, "audit_on", "Saisissez une date au format JJ/MM/AAAA"),
        ({"stage": "certified"}, "stage", "Choisissez l&#39;étape"),
        (
            {"stage": "certifiee", "audit_on": "", "certified_on": "2027-02-01", "valid_until": "2027-01-01"},
            "valid_until",
            "La fin de validité du certificat doit tomber après sa date de délivrance",
        ),
        ({"certificate_number": "X" * 61}, "certificate_number", "60 caractères au plus"),
    ],
)
@pytest.mark.sqlite_only
def test_bad_record_input_is_refused_with_a_french_message_and_nothing_saved(
    app: FastAPI, fields: dict[str, str], field: str, message: str
) -> None:
    status, text = post_record(app, "d@example.org", **fields)
    assert status == 422
    assert message in text
    assert f'href="#dossier-{field}"' in text
    assert record(app) is None
    assert audit_count(app, "certification.update") == 0


def test_a_trainer_records_an_audit_outcome_which_clears_the_planned_date(app: FastAPI) -> None:
    assert post_record(app, "d@example.org", audit_on="2027-03-01")[0] == 303
    client = signed_in(app, "t@example.org")
    token = csrf_from(client.get("/structures/1/certification").text)
    form = {
        "csrf_token": token,
        "kind": "initial",
        "held_on": "01/03/2027",
        "result": "sous_reserve",
        "major_nonconformities": "0",
        "minor_nonconformities": "3",
        "sensitive_points": "2",
        "improvement_leads": "5",
        "corrective_due_on": "2027-05-01",
    }
    response = client.post("/structures/1/certification/audits", data=form)
    assert response.status_code == 303
    page = client.get("/structures/1/certification").text
    assert "Accordée sous réserve des actions correctives" in page
    assert "<td>3</td>" in page
    saved = record(app)
    assert saved is not None
    assert saved.audit_on is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"held_on": "2027-03-02"}, "Cet audit n&#39;a pas encore eu lieu"),
        ({"held_on": ""}, "Indiquez la date de l&#39;audit"),
        ({"kind": "blanc"}, "Choisissez le type d&#39;audit"),
        ({"result": ""}, "Choisissez le résultat"),
        ({"minor_nonconformities": "-1"}, "Saisissez un nombre entier entre 0 et 999"),
        ({"major_nonconformities": "deux"}, "Saisissez un nombre entier entre 0 et 999"),
        ({"corrective_due_on": "2027-01-01"}, "ne peut précéder l&#39;audit"),
    ],
)
@pytest.mark.sqlite_only
def test_bad_outcome_input_is_refused_and_nothing_recorded(
    app: FastAPI, fields: dict[str, str], message: str
) -> None:
    client = signed_in(app, "d@example.org")
    token = csrf_from(client.get("/structures/1/certification").text)
    form = {
        "csrf_token": token,
        "kind": "surveillance",
        "held_on": "2027-02-20",
        "result": "accordee",
        **fields,
    }
    response = client.post("/structures/1/certification/audits", data=form)
    assert response.status_code == 422
    assert message in response.text
    with Session(app.state.engine) as session:
        assert session.exec(select(AuditOutcome)).first() is None


def test_outsiders_get_404_and_readers_cannot_write(app: FastAPI) -> None:
    outsider = signed_in(app, "o@example.org")
    assert outsider.get("/structures/1/certification").status_code == 404
    token = csrf_from(outsider.get("/structures/2/certification").text)
    form = {"csrf_token": token, "stage": "preparation"}
    assert outsider.post("/structures/1/certification", data=form).status_code == 404
    assert record(app) is None


def test_a_person_turns_reminders_off_on_their_account_page(app: FastAPI) -> None:
    client = signed_in(app, "d@example.org")
    page = client.get("/compte").text
    assert 'value="reminders" checked' in page
    form = {"csrf_token": csrf_from(page), "avis": ["decisions"]}
    assert client.post("/compte/avis", data=form).status_code == 303
    assert 'value="reminders" checked' not in client.get("/compte").text
    with Session(app.state.engine) as session:
        user = session.exec(select(User).where(User.email == "d@example.org")).one()
        assert (user.notify_reminders, user.notify_decisions) == (False, True)
