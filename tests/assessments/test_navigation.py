"""Getting through a questionnaire over HTTP: section pages, « Continuer », the next unanswered
question, the counts an autosave updates, the in-page sign-in an autosave falls back on."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.assessments.models import Answer
from tests.assessments import test_routes as routes
from tests.assessments.test_routes import (
    CSRF_FIELD,
    DIRECTOR,
    PASSWORD,
    answer,
    question,
    rows,
    text,
)

client = routes.client  # the fixtures of the questionnaire's route tests
assessment = routes.assessment
pytestmark = pytest.mark.sqlite_only  # pages and wording: nothing here depends on the database

QUESTION_IDS = re.compile(r'<section id="q-([A-Z]+-\d+)"')


def page_of(client: TestClient, assessment: int, section: str, page: int | None = None) -> str:
    query = f"?page={page}" if page else ""
    response = client.get(f"/autoevaluations/{assessment}/sections/{section}{query}")
    assert response.status_code == 200, response.status_code
    return response.text


def test_a_long_section_comes_in_even_pages_that_together_ask_every_question_once(
    client: TestClient, assessment: int
) -> None:
    first = page_of(client, assessment, "structuration")
    assert "Questions 1 à 7 sur 34" in text(
        client.get(f"/autoevaluations/{assessment}/sections/structuration")
    )
    pages = [QUESTION_IDS.findall(page_of(client, assessment, "structuration", n)) for n in range(1, 6)]
    assert [len(p) for p in pages] == [7, 7, 7, 7, 6]
    asked = [cid for p in pages for cid in p]
    assert len(asked) == len(set(asked)) == 34
    assert QUESTION_IDS.findall(first) == pages[0]
    assert len(first.encode()) < 80_000
    assert '?page=2">Questions suivantes' in first
    for bad in ("0", "6", "deux"):
        response = client.get(f"/autoevaluations/{assessment}/sections/structuration?page={bad}")
        assert response.status_code in (404, 422)
        assert "Traceback" not in response.text


def test_a_question_link_opens_the_page_of_its_section_that_asks_it(
    client: TestClient, assessment: int
) -> None:
    response = client.get(f"/autoevaluations/{assessment}/questions/STR-20")
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(rf"/autoevaluations/{assessment}/sections/structuration\?page=\d#q-STR-20", location)
    assert "STR-20" in QUESTION_IDS.findall(client.get(location).text)
    first = client.get(f"/autoevaluations/{assessment}/questions/DEO-01").headers["location"]
    assert first == f"/autoevaluations/{assessment}/sections/deontologie#q-DEO-01"
    assert client.get(f"/autoevaluations/{assessment}/questions/XYZ-99").status_code == 404


def test_continue_opens_the_first_unanswered_question_and_the_panel_the_next_one(
    client: TestClient, assessment: int
) -> None:
    base = f"/autoevaluations/{assessment}"
    overview = client.get(base).text
    assert f'href="{base}/questions/DEO-01" hx-boost="false">Commencer le questionnaire' in overview
    for criterion in ("DEO-01", "DEO-02"):
        assert answer(client, assessment, criterion, "2").status_code == 303
    assert (
        f'href="{base}/questions/DEO-03" hx-boost="false">Continuer le questionnaire' in client.get(base).text
    )
    panel = page_of(client, assessment, "deontologie").split('id="prochaine-question"')[1][:300]
    assert f'href="{base}/questions/DEO-03"' in panel
    later = page_of(client, assessment, "processus", 2)  # from this page on: PRO-07 first
    assert f'href="{base}/questions/PRO-07"' in later.split('id="prochaine-question"')[1][:300]


def test_an_autosave_updates_the_section_tabs_and_the_next_question_out_of_band(
    client: TestClient, assessment: int
) -> None:
    reply = answer(client, assessment, "DEO-02", "1", htmx=True)
    assert reply.status_code == 200
    tabs = reply.text.split('id="onglets-sections"')[1].split("</nav>")[0]
    assert 'hx-swap-oob="true"' in tabs
    assert re.search(r"Déontologie</a>\s*<span class=\"muted\">\(1/\d+\)", tabs)
    following = reply.text.split('id="prochaine-question"')[1][:300]
    assert 'hx-swap-oob="true"' in following
    assert f"/autoevaluations/{assessment}/questions/DEO-03" in following  # after the one just saved


def test_the_na_justification_is_in_the_page_for_the_script_to_hide_and_a_reader_sees_sentences(
    client: TestClient, assessment: int
) -> None:
    card = question(
        client.get(f"/autoevaluations/{assessment}/questions/PRO-16", follow_redirects=True).text, "PRO-16"
    )
    assert 'class="field na-justification"' in card  # always there; hidden by CSS once JS runs
    assert "<noscript><button" in card


def test_the_in_page_sign_in_gives_a_fresh_token_and_refuses_a_wrong_password(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    before = client.get("/connexion/jeton")
    assert before.headers["cache-control"] == "no-store"
    assert json.loads(before.text)["signed_in"] is True
    old = json.loads(before.text)["csrf_token"]
    client.cookies.clear()  # the session is over: the page still holds the old token
    expired = client.post(
        f"/autoevaluations/{assessment}/reponses/DEO-04",
        data={"niveau": "2", "revision": "0"},
        headers={"HX-Request": "true", "X-CSRF-Token": old},
    )
    assert expired.status_code == 403  # the autosave the script catches
    state = client.get("/connexion/jeton").json()
    assert state["signed_in"] is False
    token = state["csrf_token"]
    wrong = client.post(
        "/connexion/reprise", data={"email": DIRECTOR, "password": "pas le bon", "csrf_token": token}
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]
    no_token = client.post("/connexion/reprise", data={"email": DIRECTOR, "password": PASSWORD})
    assert no_token.status_code == 403
    good = client.post(
        "/connexion/reprise", data={"email": DIRECTOR, "password": PASSWORD, "csrf_token": token}
    )
    assert good.status_code == 200
    fresh = good.json()["csrf_token"]
    assert fresh != token
    resent = client.post(
        f"/autoevaluations/{assessment}/reponses/DEO-04",
        data={"niveau": "2", "revision": "0", "justification": "", "commentaire": ""},
        headers={"HX-Request": "true", "X-CSRF-Token": fresh},
    )
    assert resent.status_code == 200
    assert [(a.criterion_id, a.level) for a in rows(app, Answer)] == [("DEO-04", 2)]
    assert CSRF_FIELD.search(client.get("/").text).group(1) == fresh  # type: ignore[union-attr]


def test_an_anonymous_autosave_gets_401_not_a_page(client: TestClient, assessment: int) -> None:
    """A cookie from before a sign-out elsewhere: the CSRF token holds, the user does not."""
    token = CSRF_FIELD.search(client.get("/").text).group(1)  # type: ignore[union-attr]
    client.post("/deconnexion", data={"csrf_token": token})
    token = client.get("/connexion/jeton").json()["csrf_token"]
    reply = client.post(
        f"/autoevaluations/{assessment}/reponses/DEO-05",
        data={"niveau": "1", "revision": "0"},
        headers={"HX-Request": "true", "X-CSRF-Token": token, "HX-Current-URL": "http://testserver/x"},
    )
    assert reply.status_code == 401
    assert reply.headers["HX-Redirect"].startswith("/connexion?")
