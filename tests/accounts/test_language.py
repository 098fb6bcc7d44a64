"""The interface language: the header's switch, the account's choice, the browser's, then French."""

from __future__ import annotations

import html

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.accounts.service import create_user
from app.db import AuditEntry
from app.locale import LANGUAGE_COOKIE
from tests.accounts.test_routes import EMAIL, PASSWORD, csrf_from, sign_in

# The interface language: rendering and a cookie, nothing that differs between databases.
pytestmark = pytest.mark.sqlite_only


def switch(client: TestClient, language: str, *, suivant: str = "/referentiels") -> object:
    token = csrf_from(client.get(suivant).text)
    return client.post(
        "/langue", data={"langue": language, "suivant": suivant, "csrf_token": token}, follow_redirects=False
    )


def test_pages_are_french_by_default_and_english_when_the_browser_asks(app: FastAPI) -> None:
    client = TestClient(app)
    french = client.get("/referentiels").text
    assert '<html lang="fr">' in french
    assert "Référentiels" in french
    english = client.get("/referentiels", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"}).text
    assert '<html lang="en">' in english
    assert "Frameworks" in english
    german = client.get("/referentiels", headers={"Accept-Language": "de-DE, it;q=0.8"}).text
    assert '<html lang="fr">' in german


def test_the_switch_sets_a_cookie_and_comes_back_to_the_same_page(app: FastAPI) -> None:
    client = TestClient(app)
    response = switch(client, "en", suivant="/referentiels/x60-600/1.0.0/criteres/DEO-01")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == "/referentiels/x60-600/1.0.0/criteres/DEO-01"  # type: ignore[attr-defined]
    assert response.cookies[LANGUAGE_COOKIE] == "en"  # type: ignore[attr-defined]
    page = client.get("/referentiels/x60-600/1.0.0/criteres/DEO-01", headers={"Accept-Language": "fr"}).text
    assert '<html lang="en">' in page
    assert "Written and signed ethics charter" in page  # the criteria file's English translation
    assert switch(client, "fr").cookies[LANGUAGE_COOKIE] == "fr"  # type: ignore[attr-defined]
    assert '<html lang="fr">' in client.get("/referentiels").text


def test_an_unknown_language_is_refused_and_changes_nothing(app: FastAPI) -> None:
    client = TestClient(app)
    token = csrf_from(client.get("/").text)
    response = client.post(
        "/langue", data={"langue": "xx", "suivant": "/", "csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 422
    assert LANGUAGE_COOKIE not in response.cookies
    assert "Cette langue n'est pas proposée." in html.unescape(response.text)


def test_the_switch_never_leads_to_another_site(app: FastAPI) -> None:
    client = TestClient(app)
    token = csrf_from(client.get("/").text)
    form = {"langue": "en", "suivant": "//evil.example/", "csrf_token": token}
    assert client.post("/langue", data=form, follow_redirects=False).headers["location"] == "/"


def test_a_signed_in_choice_is_kept_on_the_account_and_follows_them_at_sign_in(
    app: FastAPI, session: Session
) -> None:
    create_user(session, email=EMAIL, name="Camille", role=Role.DIRECTOR, password=PASSWORD)
    first = TestClient(app)
    sign_in(first)
    switch(first, "en")
    session.expire_all()
    user = session.exec(select(User).where(User.email == EMAIL)).one()
    assert user.language == "en"
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "user.language")).one().after == {
        "language": "en"
    }
    elsewhere = TestClient(app)  # another browser, no cookie
    response = sign_in(elsewhere)
    assert response.status_code == 200
    assert elsewhere.cookies.get(LANGUAGE_COOKIE) == "en"
    assert '<html lang="en">' in elsewhere.get("/structures").text


def test_numbers_and_dates_follow_the_language(app: FastAPI) -> None:
    client = TestClient(app)
    french = client.get("/referentiels").text
    english = client.get("/referentiels", headers={"Accept-Language": "en"}).text
    assert "22 novembre 2026" in french
    assert "November 22, 2026" in english
