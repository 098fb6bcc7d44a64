"""Sign-in, sessions and CSRF through HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.accounts.models import Role, User
from app.accounts.service import WRONG_CREDENTIALS, create_user
from app.config import Settings
from app.db import AuditEntry
from app.deps import CurrentUser
from app.main import create_app

PASSWORD = "une phrase de passe solide"
EMAIL = "camille@example.org"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(
    database_url: str, data_dir: Path, *, environment: str = "test", secret_key: str = ""
) -> FastAPI:
    settings = Settings(
        database_url=database_url, data_dir=data_dir, environment=environment, secret_key=secret_key
    )
    return create_app(settings)


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The app of conftest.py with a page for signed-in users only."""

    @app.get("/essai-prive")
    def private_page(user: CurrentUser) -> dict[str, str]:
        return {"name": user.name}

    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def make_user(app: FastAPI, *, email: str = EMAIL, role: Role = Role.DIRECTOR) -> User:
    with Session(app.state.engine) as session:
        return create_user(session, email=email, name="Camille Martin", role=role, password=PASSWORD)


def audit_count(app: FastAPI) -> int:
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(AuditEntry)).one()


def csrf_from(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def sign_in(
    client: TestClient, *, email: str = EMAIL, password: str = PASSWORD, suivant: str = "/"
) -> httpx.Response:
    token = csrf_from(client.get("/connexion").text)
    form = {"email": email, "password": password, "suivant": suivant, "csrf_token": token}
    return client.post("/connexion", data=form)


def signed_in_name(client: TestClient) -> str | None:
    """The name the header shows, or None when it offers to sign in."""
    found = re.search(r'<p class="account-who"><strong>([^<]+)</strong>', client.get("/").text)
    return html.unescape(found.group(1)) if found else None


def text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def test_sign_in_page_is_a_french_form_with_labels_and_autocomplete(client: TestClient) -> None:
    response = client.get("/connexion?suivant=/referentiels")
    page = text(response)
    assert response.status_code == 200
    assert '<label for="email">Adresse électronique</label>' in page
    assert '<label for="password">Mot de passe</label>' in page
    assert 'autocomplete="username"' in page
    assert 'autocomplete="current-password"' in page
    assert '<input type="hidden" name="suivant" value="/referentiels">' in page
    assert 'role="alert"' not in page


def test_sign_in_sets_an_httponly_samesite_lax_cookie_and_shows_who_is_signed_in(
    app: FastAPI, client: TestClient
) -> None:
    make_user(app)
    assert signed_in_name(client) is None
    response = sign_in(client, email="Camille@Example.org")
    # a director of no structure yet lands on the structures list (tests/accounts/test_landing.py)
    assert (response.status_code, response.headers["location"]) == (303, "/structures")
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("autodiag_session=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "max-age=43200" in cookie
    assert "secure" not in cookie
    page = text(client.get("/"))
    assert signed_in_name(client) == "Camille Martin"
    assert "Directeur·rice de structure" in page
    assert "Se déconnecter" in page


def test_wrong_password_is_422_with_the_message_keeping_the_email_but_not_the_password(
    app: FastAPI, client: TestClient
) -> None:
    make_user(app)
    response = sign_in(client, password="pas le bon mot de passe")
    page = text(response)
    assert response.status_code == 422
    assert WRONG_CREDENTIALS in page
    assert 'role="alert"' in page
    assert f'value="{EMAIL}"' in page
    assert "pas le bon mot de passe" not in page
    assert signed_in_name(client) is None


def test_an_unknown_email_gets_the_same_message(app: FastAPI, client: TestClient) -> None:
    make_user(app)
    response = sign_in(client, email="personne@example.org")
    assert response.status_code == 422
    assert WRONG_CREDENTIALS in text(response)


def test_an_empty_field_is_named_next_to_the_field_and_in_the_summary(client: TestClient) -> None:
    response = sign_in(client, password="")
    page = text(response)
    assert response.status_code == 422
    assert '<a href="#password">Saisissez votre mot de passe.</a>' in page
    assert '<p class="field-error" id="password-erreur">Saisissez votre mot de passe.</p>' in page
    assert 'aria-invalid="true" aria-describedby="password-erreur"' in page


def test_the_sixth_attempt_is_429_even_with_the_right_password(app: FastAPI, client: TestClient) -> None:
    make_user(app)
    for _ in range(5):
        assert sign_in(client, password="pas le bon mot de passe").status_code == 422
    response = sign_in(client)
    assert response.status_code == 429
    assert "Trop de tentatives de connexion infructueuses depuis cet appareil. Réessayez dans" in text(
        response
    )
    assert 0 < int(response.headers["retry-after"]) <= 30
    assert signed_in_name(client) is None


def test_sign_out_needs_the_csrf_token(app: FastAPI, client: TestClient) -> None:
    make_user(app)
    sign_in(client)
    refused = client.post("/deconnexion")
    assert refused.status_code == 403
    assert "La vérification de sécurité du formulaire a échoué" in text(refused)
    assert signed_in_name(client) == "Camille Martin"
    token = csrf_from(client.get("/").text)
    response = client.post("/deconnexion", data={"csrf_token": token})
    assert (response.status_code, response.headers["location"]) == (303, "/")
    assert signed_in_name(client) is None


def test_the_csrf_token_may_come_in_the_htmx_header_set_on_body(app: FastAPI, client: TestClient) -> None:
    make_user(app)
    sign_in(client)
    page = client.get("/").text
    token = csrf_from(page)
    assert f'<body hx-boost="true" hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'>' in page
    assert "<script>" not in page
    response = client.post("/deconnexion", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 303
    assert signed_in_name(client) is None


# The PostgreSQL run keeps the first case: the others only vary what the CSRF check parses.
@pytest.mark.parametrize(
    "token", [None, *(pytest.param(t, marks=pytest.mark.sqlite_only) for t in ("", "forged-token", "é"))]
)
def test_a_missing_or_forged_csrf_token_is_403_and_changes_nothing(
    app: FastAPI, client: TestClient, token: str | None
) -> None:
    make_user(app)
    client.get("/connexion")  # the session has a real token, which the request does not carry
    before = audit_count(app)
    form = {"email": EMAIL, "password": PASSWORD, "suivant": "/"}
    response = client.post("/connexion", data=form if token is None else {**form, "csrf_token": token})
    assert response.status_code == 403
    assert "Rien n'a été enregistré" in text(response)
    assert audit_count(app) == before
    assert signed_in_name(client) is None


def test_signing_in_issues_a_new_csrf_token(app: FastAPI, client: TestClient) -> None:
    make_user(app)
    before = csrf_from(client.get("/connexion").text)
    sign_in(client)
    after = csrf_from(client.get("/").text)
    assert before != after
    assert client.post("/deconnexion", data={"csrf_token": before}).status_code == 403


# The PostgreSQL run keeps the first case: the others only vary the address `suivant` parses.
@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        *(
            pytest.param(target, marks=pytest.mark.sqlite_only)
            for target in ("//evil.example", "/\\evil.example", "/\t/evil.example", "referentiels")
        ),
    ],
)
def test_suivant_leading_off_the_site_is_ignored(app: FastAPI, client: TestClient, target: str) -> None:
    make_user(app)
    response = sign_in(client, suivant=target)
    assert (response.status_code, response.headers["location"]) == (303, "/structures")  # the landing


def test_suivant_local_path_is_followed_after_sign_in(app: FastAPI, client: TestClient) -> None:
    make_user(app)
    response = sign_in(client, suivant="/referentiels?onglet=1")
    assert response.headers["location"] == "/referentiels?onglet=1"


def test_a_page_for_signed_in_users_sends_visitors_to_sign_in_and_back(
    app: FastAPI, client: TestClient
) -> None:
    make_user(app)
    response = client.get("/essai-prive?x=1")
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/connexion?suivant=%2Fessai-prive%3Fx%3D1",
    )
    sign_in_page = text(client.get(response.headers["location"]))
    assert '<input type="hidden" name="suivant" value="/essai-prive?x=1">' in sign_in_page
    assert sign_in(client, suivant="/essai-prive?x=1").headers["location"] == "/essai-prive?x=1"
    assert client.get("/essai-prive?x=1").json() == {"name": "Camille Martin"}


def test_an_htmx_fragment_request_is_sent_to_sign_in_with_a_full_page_load(client: TestClient) -> None:
    headers = {"HX-Request": "true", "HX-Current-URL": "http://testserver/referentiels?a=b"}
    response = client.get("/essai-prive", headers=headers)
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/connexion?suivant=%2Freferentiels%3Fa%3Db"


def test_a_deactivated_account_is_signed_out_at_its_next_request(app: FastAPI, client: TestClient) -> None:
    user = make_user(app)
    sign_in(client)
    with Session(app.state.engine) as session:
        user.is_active = False
        session.add(user)
        session.commit()
    assert signed_in_name(client) is None
    assert client.get("/essai-prive").status_code == 303


def test_the_cookie_is_secure_in_production(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, environment="production", secret_key="k" * 40)
    make_user(app)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = sign_in(client)
        assert response.status_code == 303
        assert "; secure" in response.headers["set-cookie"].lower()
        assert signed_in_name(client) == "Camille Martin"


def test_the_generated_secret_key_is_private_and_survives_a_restart(
    app: FastAPI, client: TestClient, database_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "secret_key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    make_user(app)
    sign_in(client)
    with TestClient(make_app(database_url, tmp_path)) as restarted:
        restarted.cookies = client.cookies
        assert signed_in_name(restarted) == "Camille Martin"
    assert (tmp_path / "secret_key").read_text() == key.read_text()
