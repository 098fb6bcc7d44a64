"""The API shows each role exactly what the web shows it, submitted assessments only, never more."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts.models import Role
from app.cohorts.models import Cohort, CohortStructure, CohortTrainer
from tests.api.helpers import World, bearer, seed, token_for
from tests.reports.helpers import member, signed_in


@pytest.fixture
def world(app: FastAPI) -> World:
    """Nord (granted to a@example.org, in t@example.org's cohort) and Sud, which nobody else sees."""
    world = seed(app)
    member(app, "sud@example.org", structure_name="Sud")
    member(app, "admin@example.org", role=Role.ADMIN)
    trainer, _ = member(app, "t@example.org", role=Role.TRAINER)
    with Session(app.state.engine) as session:
        cohort = Cohort(name="Promo", created_by=world.director.id or 0)
        session.add(cohort)
        session.flush()
        session.add(CohortTrainer(cohort_id=cohort.id or 0, user_id=trainer.id or 0))
        session.add(CohortStructure(cohort_id=cohort.id or 0, structure_id=world.structure_id))
        session.commit()
    return world


def api_ids(client: TestClient, headers: dict[str, str], path: str) -> set[int]:
    ids, page = set(), path
    while page:
        answer = client.get(page, headers=headers).json()
        ids |= {item["id"] for item in answer["items"]}
        page = answer["next"]
    return ids


@pytest.mark.parametrize("email", ["a@example.org", "d@example.org", "t@example.org", "admin@example.org"])
def test_the_api_shows_what_the_web_shows(app: FastAPI, world: World, email: str) -> None:
    web = signed_in(app, email)
    from sqlmodel import select

    from app.accounts.models import User

    with Session(app.state.engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
    headers, api = bearer(token_for(app, user)), TestClient(app)
    web_structures = {int(i) for i in re.findall(r'href="/structures/(\d+)"', web.get("/structures").text)}
    assert api_ids(api, headers, "/api/v1/structures") == web_structures
    for structure_id in web_structures:
        page = web.get(f"/structures/{structure_id}").text
        on_web = {int(i) for i in re.findall(r'href="/autoevaluations/(\d+)"', page)}
        listed = api_ids(api, headers, f"/api/v1/structures/{structure_id}/assessments")
        assert listed == on_web - {world.draft_id}
        for assessment_id in listed:
            assert web.get(f"/autoevaluations/{assessment_id}").status_code == 200
            for piece in api_ids(api, headers, f"/api/v1/assessments/{assessment_id}/evidence"):
                assert web.get(f"/preuves/{piece}/fichier").status_code == 200
    assert world.draft_id not in {
        a for s in web_structures for a in api_ids(api, headers, f"/api/v1/structures/{s}/assessments")
    }
