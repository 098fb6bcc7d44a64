"""After signing in, each person lands where their work is, unless they asked for a page."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import Role
from app.structures import service as structures
from tests.reports.helpers import PASSWORD, assessment_with_answers, csrf_from, member


def landing(app: FastAPI, email: str, suivant: str | None = None) -> str:
    client = TestClient(app, follow_redirects=False)
    form = {"email": email, "password": PASSWORD, "csrf_token": csrf_from(client.get("/connexion").text)}
    if suivant is not None:
        form["suivant"] = suivant
    response = client.post("/connexion", data=form)
    assert response.status_code == 303
    return str(response.headers["location"])


def test_each_role_lands_where_their_work_is(app: FastAPI) -> None:
    member(app, "admin@example.org", role=Role.ADMIN)
    member(app, "t@example.org", role=Role.TRAINER)
    member(app, "x@example.org", role=Role.AUDITOR)
    director, nord = member(app, "d@example.org", structure_name="Nord")
    assert landing(app, "admin@example.org") == "/admin"
    assert landing(app, "t@example.org") == "/cohortes"
    assert landing(app, "x@example.org") == "/structures"
    assert landing(app, "d@example.org") == f"/structures/{nord.id}"  # type: ignore[union-attr]
    assert nord is not None
    draft = assessment_with_answers(app, user=director, structure=nord, levels={})
    assert landing(app, "d@example.org") == f"/autoevaluations/{draft.id}"
    assessment_with_answers(app, user=director, structure=nord, levels={})
    assert landing(app, "d@example.org") == f"/structures/{nord.id}"  # two drafts: the structure
    with Session(app.state.engine) as session:
        structures.add_member(
            session, structure=structures.create(session, name="Sud"), user=session.merge(director)
        )
    assert landing(app, "d@example.org") == "/structures"


def test_an_explicit_next_page_wins(app: FastAPI) -> None:
    member(app, "admin@example.org", role=Role.ADMIN)
    assert landing(app, "admin@example.org", "/referentiels") == "/referentiels"
    assert landing(app, "admin@example.org", "https://ailleurs.example") == "/admin"
