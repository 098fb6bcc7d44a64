"""The cohort pages through HTTP: create and edit with every bad input refused, who sees what."""

from __future__ import annotations

import html
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.accounts.models import Role, User
from app.cohorts.models import Cohort, CohortStructure, CohortTrainer, CohortWorkshop
from app.db import AuditEntry
from app.structures.models import Structure
from tests.factories import make_cohort
from tests.reports.helpers import assessment_with_answers, csrf_from, member, signed_in

WORKSHOPS = ("politique_qualite", "gestion_activite", "formation_equipes", "utilite_sociale")


@pytest.fixture
def people(app: FastAPI) -> dict[str, Any]:
    """An admin, two trainers, a director with a structure, an auditor, and two more structures."""
    admin, _ = member(app, "admin@example.org", role=Role.ADMIN)
    julien, _ = member(app, "julien@example.org", role=Role.TRAINER)
    lea, _ = member(app, "lea@example.org", role=Role.TRAINER)
    director, horizon = member(app, "nadia@example.org", structure_name="Médiation Horizon")
    auditor, _ = member(app, "claire@example.org", role=Role.AUDITOR)
    _, nord = member(app, "paul@example.org", structure_name="Médiacité Nord")
    return {
        "admin": admin,
        "julien": julien,
        "lea": lea,
        "director": director,
        "auditor": auditor,
        "horizon": horizon,
        "nord": nord,
    }


def text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def post(client: TestClient, url: str, data: dict[str, Any]) -> httpx.Response:
    return client.post(url, data={**data, "csrf_token": csrf_from(client.get("/").text)})


def form(
    name: str = "Cycle 2027",
    *,
    trainers: list[User] | None = None,
    structures: list[Structure] | None = None,
) -> dict[str, Any]:
    dates = {f"date-{w}": f"2027-0{i + 1}-14" for i, w in enumerate(WORKSHOPS)}
    places = {f"lieu-{w}": "Maison de la médiation, Roubaix" for w in WORKSHOPS}
    chosen = {
        "formateurs": [str(t.id) for t in trainers or []],
        "structures": [str(s.id) for s in structures or []],
    }
    return {"nom": name, **dates, **places, **chosen}


def stored(app: FastAPI) -> tuple[int, int, int, int, int]:
    """Rows of every cohort table and of the audit log: what a refused form must not change."""
    with Session(app.state.engine) as session:
        return tuple(  # type: ignore[return-value]
            session.exec(select(func.count()).select_from(model)).one()
            for model in (Cohort, CohortWorkshop, CohortTrainer, CohortStructure, AuditEntry)
        )


def cohort_rows(app: FastAPI, cohort_id: int) -> tuple[str, dict[str, tuple[str, str]], set[int], set[int]]:
    with Session(app.state.engine) as session:
        cohort = session.get(Cohort, cohort_id)
        assert cohort is not None
        workshops = session.exec(select(CohortWorkshop).where(CohortWorkshop.cohort_id == cohort_id))
        trainers = session.exec(select(CohortTrainer.user_id).where(CohortTrainer.cohort_id == cohort_id))
        enrolled = session.exec(
            select(CohortStructure.structure_id).where(CohortStructure.cohort_id == cohort_id)
        )
        return (
            cohort.name,
            {w.workshop: (w.held_on.isoformat() if w.held_on else "", w.place) for w in workshops},
            set(trainers),
            set(enrolled),
        )


def actions(app: FastAPI) -> list[tuple[str, int | None]]:
    with Session(app.state.engine) as session:
        query = select(AuditEntry.action, AuditEntry.structure_id).where(
            AuditEntry.action.startswith("cohort.")
        )  # type: ignore[attr-defined]
        return list(session.exec(query.order_by(AuditEntry.id)))  # type: ignore[arg-type]


def test_an_admin_creates_a_cohort_with_dated_workshops_trainers_and_structures(
    app: FastAPI, people: dict[str, Any]
) -> None:
    admin = signed_in(app, "admin@example.org")
    page = text(admin.get("/cohortes/nouvelle"))
    assert "Politique Qualité" in page
    assert "Évaluation de l'utilité sociale" in page
    assert "Médiation Horizon" in page
    assert "Médiacité Nord" in page
    response = post(admin, "/cohortes", form(trainers=[people["julien"]], structures=[people["horizon"]]))
    assert response.status_code == 303
    cohort_id = int(response.headers["location"].rsplit("/", 1)[1])
    name, workshops, trainers, enrolled = cohort_rows(app, cohort_id)
    assert name == "Cycle 2027"
    assert workshops["politique_qualite"] == ("2027-01-14", "Maison de la médiation, Roubaix")
    assert set(workshops) == set(WORKSHOPS)
    assert (trainers, enrolled) == ({people["julien"].id}, {people["horizon"].id})
    assert actions(app) == [("cohort.enrol", people["horizon"].id), ("cohort.create", None)]
    dashboard = text(admin.get(f"/cohortes/{cohort_id}"))
    assert "14 janvier 2027" in dashboard
    assert "Médiation Horizon" in dashboard


def test_a_french_date_is_understood_and_an_empty_one_is_left_to_fix(
    app: FastAPI, people: dict[str, Any]
) -> None:
    admin = signed_in(app, "admin@example.org")
    data = form(trainers=[people["julien"]]) | {
        "date-politique_qualite": "14/01/2027",
        "date-utilite_sociale": "",
    }
    response = post(admin, "/cohortes", data)
    _, workshops, _, _ = cohort_rows(app, int(response.headers["location"].rsplit("/", 1)[1]))
    assert workshops["politique_qualite"][0] == "2027-01-14"
    assert workshops["utilite_sociale"][0] == ""


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"nom": "   "}, "nom", "Donnez un nom à la cohorte."),
        ({"nom": "x" * 201}, "nom", "Le nom est trop long : 200 caractères au plus."),
        ({"date-gestion_activite": "31/02/2027"}, "date-gestion_activite", "Saisissez une date valide"),
        ({"date-gestion_activite": "demain"}, "date-gestion_activite", "Saisissez une date valide"),
        ({"date-formation_equipes": "1900-01-01"}, "date-formation_equipes", "Saisissez une date valide"),
        ({"lieu-utilite_sociale": "x" * 201}, "lieu-utilite_sociale", "Le lieu est trop long"),
        ({"formateurs": ["999999"]}, "formateurs", "parmi les comptes formateur actifs"),
        ({"formateurs": ["abc"]}, "formateurs", "parmi les comptes formateur actifs"),
        ({"formateurs": "director"}, "formateurs", "parmi les comptes formateur actifs"),
        ({"formateurs": []}, "formateurs", "Choisissez au moins un·e formateur·rice"),
        ({"structures": ["999999"]}, "structures", "Choisissez des structures parmi celles proposées."),
        ({"structures": ["1e3"]}, "structures", "Choisissez des structures parmi celles proposées."),
    ],
)
def test_an_admin_bad_cohort_input_is_refused_in_french_and_nothing_is_stored(
    app: FastAPI, people: dict[str, Any], change: dict[str, Any], field: str, message: str
) -> None:
    admin = signed_in(app, "admin@example.org")
    if change.get("formateurs") == "director":
        change = {"formateurs": [str(people["director"].id)]}
    before = stored(app)
    response = post(
        admin, "/cohortes", form(trainers=[people["julien"]], structures=[people["horizon"]]) | change
    )
    page = text(response)
    assert response.status_code == 422
    assert message in page
    assert f'href="#champ-{field}"' in page  # the summary links to the field
    assert "La cohorte n'a pas été enregistrée" in page
    assert stored(app) == before


def test_an_inactive_trainer_cannot_be_chosen(app: FastAPI, people: dict[str, Any]) -> None:
    with Session(app.state.engine) as session:
        lea = session.get(User, people["lea"].id)
        assert lea is not None
        lea.is_active = False
        session.add(lea)
        session.commit()
    admin = signed_in(app, "admin@example.org")
    assert "lea@example.org" not in admin.get("/cohortes/nouvelle").text
    before = stored(app)
    assert post(admin, "/cohortes", form(trainers=[people["lea"]])).status_code == 422
    assert stored(app) == before


def test_a_trainer_creates_a_cohort_stays_its_trainer_and_enrols_only_structures_they_review(
    app: FastAPI, people: dict[str, Any]
) -> None:
    with Session(app.state.engine, expire_on_commit=False) as session:
        make_cohort(
            session, trainers=[session.merge(people["julien"])], structures=[session.merge(people["horizon"])]
        )
    julien = signed_in(app, "julien@example.org")
    page = text(julien.get("/cohortes/nouvelle"))
    assert "Médiation Horizon" in page
    assert "Médiacité Nord" not in page  # not in one of Julien's cohorts: an admin enrols it
    before = stored(app)
    refused = post(julien, "/cohortes", form("Cycle bis", structures=[people["nord"]]))
    assert refused.status_code == 422
    assert "Choisissez des structures parmi celles proposées." in text(refused)
    assert stored(app) == before

    created = post(
        julien, "/cohortes", form("Cycle bis", trainers=[people["lea"]], structures=[people["horizon"]])
    )
    assert created.status_code == 303
    cohort_id = int(created.headers["location"].rsplit("/", 1)[1])
    _, _, trainers, enrolled = cohort_rows(app, cohort_id)
    assert trainers == {people["julien"].id, people["lea"].id}  # the creator is always one of them
    assert enrolled == {people["horizon"].id}


def test_editing_replaces_trainers_and_structures_and_audits_each_enrolment(
    app: FastAPI, people: dict[str, Any]
) -> None:
    admin = signed_in(app, "admin@example.org")
    created = post(admin, "/cohortes", form(trainers=[people["julien"]], structures=[people["horizon"]]))
    cohort_id = int(created.headers["location"].rsplit("/", 1)[1])
    edit_page = text(admin.get(f"/cohortes/{cohort_id}/modifier"))
    assert 'value="Cycle 2027"' in edit_page
    assert 'value="2027-01-14"' in edit_page
    data = form("Cycle 2027 (Lille)", trainers=[people["lea"]], structures=[people["nord"]])
    response = post(admin, f"/cohortes/{cohort_id}/modifier", data)
    assert (response.status_code, response.headers["location"]) == (303, f"/cohortes/{cohort_id}")
    name, _, trainers, enrolled = cohort_rows(app, cohort_id)
    assert (name, trainers, enrolled) == ("Cycle 2027 (Lille)", {people["lea"].id}, {people["nord"].id})
    assert actions(app)[-3:] == [
        ("cohort.unenrol", people["horizon"].id),
        ("cohort.enrol", people["nord"].id),
        ("cohort.update", None),
    ]


def test_a_trainer_sees_only_their_cohorts_and_the_others_answer_404(
    app: FastAPI, people: dict[str, Any]
) -> None:
    with Session(app.state.engine, expire_on_commit=False) as session:
        mine = make_cohort(
            session, name="Cycle de Julien", trainers=[session.merge(people["julien"])], structures=[]
        )
        theirs = make_cohort(
            session,
            name="Cycle de Léa",
            trainers=[session.merge(people["lea"])],
            structures=[session.merge(people["horizon"])],
        )
    julien = signed_in(app, "julien@example.org")
    listing = text(julien.get("/cohortes"))
    assert "Cycle de Julien" in listing
    assert "Cycle de Léa" not in listing
    assert julien.get(f"/cohortes/{mine.id}").status_code == 200
    before = stored(app)
    for url in (
        f"/cohortes/{theirs.id}",
        f"/cohortes/{theirs.id}/modifier",
        f"/cohortes/{theirs.id}/ateliers/politique_qualite",
    ):
        assert julien.get(url).status_code == 404, url
    assert (
        post(julien, f"/cohortes/{theirs.id}/modifier", form(structures=[people["horizon"]])).status_code
        == 404
    )
    assert stored(app) == before
    assert julien.get(f"/cohortes/{mine.id}/ateliers/inconnu").status_code == 404


@pytest.mark.parametrize("email", ["nadia@example.org", "claire@example.org"])
def test_directors_and_auditors_find_no_cohort_pages(
    app: FastAPI, people: dict[str, Any], email: str
) -> None:
    with Session(app.state.engine, expire_on_commit=False) as session:
        cohort = make_cohort(
            session, trainers=[session.merge(people["julien"])], structures=[session.merge(people["horizon"])]
        )
    client = signed_in(app, email)
    assert "Mes cohortes" not in client.get("/").text
    before = stored(app)
    for url in (
        "/cohortes",
        "/cohortes/nouvelle",
        f"/cohortes/{cohort.id}",
        f"/cohortes/{cohort.id}/modifier",
        f"/cohortes/{cohort.id}/ateliers/politique_qualite",
    ):
        assert client.get(url).status_code == 404, url
    assert post(client, "/cohortes", form(trainers=[people["julien"]])).status_code == 404
    assert stored(app) == before


def test_trainers_and_admins_have_the_mes_cohortes_link(app: FastAPI, people: dict[str, Any]) -> None:
    for email in ("julien@example.org", "admin@example.org"):
        assert '<a href="/cohortes"' in signed_in(app, email).get("/").text


def test_the_dashboard_and_workshop_page_show_the_cohort_gaps(app: FastAPI, people: dict[str, Any]) -> None:
    """DEO-02 is critical and declared absent: a major gap of « Politique Qualité »."""
    assessment_with_answers(
        app, user=people["director"], structure=people["horizon"], levels={"DEO-02": 0}, submit=True
    )
    with Session(app.state.engine, expire_on_commit=False) as session:
        cohort = make_cohort(
            session, trainers=[session.merge(people["julien"])], structures=[session.merge(people["horizon"])]
        )
    julien = signed_in(app, "julien@example.org")
    dashboard = text(julien.get(f"/cohortes/{cohort.id}"))
    assert "À relire" in dashboard
    assert "En écart dans 1 structure sur 1" in dashboard
    workshop = text(julien.get(f"/cohortes/{cohort.id}/ateliers/politique_qualite"))
    assert "Préparer l'atelier « Politique Qualité »" in workshop
    assert "DEO-02" in workshop
    assert "Médiation Horizon : écart majeur" in workshop
    assert "date à fixer" in workshop
