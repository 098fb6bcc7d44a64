"""Password change and reset by e-mail through HTTP, with the messages read from a real SMTP server."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, update

from app.accounts.models import PasswordReset, Role, User
from app.accounts.service import create_user
from app.accounts.sessions import end_sessions
from app.config import Settings
from app.db import utcnow
from app.mail.sender import send_pending
from tests.smtp import Inbox, text_of

PASSWORD = "une phrase de passe solide"
NEW_PASSWORD = "trois chevaux bleus sous la pluie"
EMAIL = "camille@example.org"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"http://127\.0\.0\.1:8000(/mot-de-passe/reinitialiser/[\w-]+)")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def user(app: FastAPI) -> User:
    with Session(app.state.engine) as session:
        return create_user(session, email=EMAIL, name="Camille Martin", role=Role.DIRECTOR, password=PASSWORD)


def csrf(client: TestClient, path: str = "/connexion") -> str:
    found = CSRF_FIELD.search(client.get(path).text)
    assert found
    return found.group(1)


def sign_in(client: TestClient, password: str = PASSWORD) -> httpx.Response:
    form = {"email": EMAIL, "password": password, "suivant": "/", "csrf_token": csrf(client)}
    return client.post("/connexion", data=form)


def signed_in(client: TestClient) -> bool:
    return client.get("/compte").status_code == 200


def ask_reset(client: TestClient, email: str = EMAIL) -> httpx.Response:
    return client.post(
        "/mot-de-passe-oublie", data={"email": email, "csrf_token": csrf(client, "/mot-de-passe-oublie")}
    )


def deliver(app: FastAPI, smtp: tuple[Inbox, int], tmp_path: Path) -> list[str]:
    """Send the outbox to the test server; the reset links of what it received until now."""
    inbox, port = smtp
    settings = Settings(
        environment="test", data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
    )
    send_pending(app.state.engine, settings=settings)
    return [found.group(1) for message in inbox.messages if (found := LINK.search(text_of(message)))]


def choose(
    client: TestClient, path: str, password: str = NEW_PASSWORD, again: str | None = None
) -> httpx.Response:
    token = csrf(client, "/mot-de-passe-oublie")
    form = {"new_password": password, "new_password_again": again or password, "csrf_token": token}
    return client.post(path, data=form)


def test_the_sign_in_page_links_to_the_forgotten_password_form(client: TestClient) -> None:
    assert 'href="/mot-de-passe-oublie"' in client.get("/connexion").text


def test_a_reset_link_arrives_by_email_and_works_once(
    app: FastAPI, client: TestClient, user: User, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    response = ask_reset(client, email="  Camille@Example.org ")
    assert response.status_code == 303
    assert "Si un compte actif correspond" in html.unescape(client.get(response.headers["location"]).text)
    [path] = deliver(app, smtp, tmp_path)
    assert smtp[0].messages[0]["Subject"] == "Réinitialiser votre mot de passe"
    assert client.get(path).status_code == 200
    done = choose(client, path)
    assert done.status_code == 303
    assert done.headers["location"] == "/compte?fait=mot-de-passe"
    assert "Votre mot de passe a été modifié" in html.unescape(client.get("/compte?fait=mot-de-passe").text)
    again = client.get(path)
    assert again.status_code == 410
    assert "a déjà servi" in html.unescape(again.text)
    assert choose(client, path, password="une autre phrase bien longue").status_code == 410
    client.cookies.clear()
    assert sign_in(client, PASSWORD).status_code == 422
    assert sign_in(client, NEW_PASSWORD).status_code == 303


def test_an_unknown_address_gets_the_same_answer_and_no_message(
    app: FastAPI, client: TestClient, user: User, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    known, unknown = ask_reset(client), ask_reset(client, email="personne@example.org")
    assert (known.status_code, known.headers["location"]) == (
        unknown.status_code,
        unknown.headers["location"],
    )
    assert len(deliver(app, smtp, tmp_path)) == 1
    assert [message["To"] for message in smtp[0].messages] == [EMAIL]


def test_a_deactivated_account_gets_no_link(
    app: FastAPI, client: TestClient, user: User, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    with Session(app.state.engine) as session:
        session.exec(update(User).values(is_active=False))  # type: ignore[call-overload]
        session.commit()
    assert ask_reset(client).status_code == 303
    assert deliver(app, smtp, tmp_path) == []


def test_a_malformed_address_is_refused_on_the_form(client: TestClient) -> None:
    response = ask_reset(client, email="pas une adresse")
    assert response.status_code == 422
    assert "Saisissez une adresse électronique valide" in html.unescape(response.text)
    assert 'aria-invalid="true"' in response.text


def test_asking_too_often_is_throttled_for_any_address(app: FastAPI, client: TestClient, user: User) -> None:
    for _ in range(5):
        assert ask_reset(client, email="personne@example.org").status_code == 303
    response = ask_reset(client, email="personne@example.org")
    assert response.status_code == 429
    assert "Trop de demandes de réinitialisation" in html.unescape(response.text)
    assert int(response.headers["Retry-After"]) > 0
    assert sign_in(client).status_code == 303  # signing in is counted apart


def test_an_expired_link_says_so_in_plain_words(
    app: FastAPI, client: TestClient, user: User, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    ask_reset(client)
    [path] = deliver(app, smtp, tmp_path)
    with Session(app.state.engine) as session:
        session.exec(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))  # type: ignore[call-overload]
        session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "a expiré : il n'est valable qu'une heure" in html.unescape(response.text)
    assert choose(client, path).status_code == 410


def test_a_forged_link_is_a_page_saying_it_is_not_valid(client: TestClient, user: User) -> None:
    for path in ("/mot-de-passe/reinitialiser/inventé", "/mot-de-passe/reinitialiser/" + "A" * 43):
        response = client.get(path)
        assert response.status_code == 404
        assert "Ce lien de réinitialisation n'est pas valide" in html.unescape(response.text)
        assert choose(client, path).status_code == 404


def test_a_weak_new_password_is_refused_and_the_link_still_works(
    app: FastAPI, client: TestClient, user: User, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    ask_reset(client)
    [path] = deliver(app, smtp, tmp_path)
    weak = choose(client, path, password="motdepasse123")
    assert weak.status_code == 422
    assert "trop facile à deviner" in html.unescape(weak.text)
    different = choose(client, path, again="une autre phrase bien longue")
    assert different.status_code == 422
    assert "Les deux saisies du nouveau mot de passe diffèrent" in html.unescape(different.text)
    assert choose(client, path).status_code == 303


def test_a_reset_ends_every_open_session_of_the_account(
    app: FastAPI, client: TestClient, user: User, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    with TestClient(app, follow_redirects=False) as elsewhere:
        sign_in(elsewhere)
        assert signed_in(elsewhere)
        ask_reset(client)
        [path] = deliver(app, smtp, tmp_path)
        choose(client, path)
        assert signed_in(client)
        assert not signed_in(elsewhere)


def test_a_second_link_asked_for_stops_working_once_another_served(
    app: FastAPI, client: TestClient, user: User, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    ask_reset(client)
    ask_reset(client)
    first, second = deliver(app, smtp, tmp_path)
    assert choose(client, second).status_code == 303
    assert client.get(first).status_code == 410


def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(
    app: FastAPI, client: TestClient, user: User
) -> None:
    sign_in(client)
    with TestClient(app, follow_redirects=False) as elsewhere:
        sign_in(elsewhere)
        form = {
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
            "csrf_token": csrf(client, "/compte"),
        }
        wrong = client.post("/compte/mot-de-passe", data=form | {"current_password": "pas le bon"})
        assert wrong.status_code == 422
        assert "Le mot de passe actuel n'est pas le bon" in html.unescape(wrong.text)
        assert signed_in(elsewhere)
        done = client.post("/compte/mot-de-passe", data=form | {"current_password": PASSWORD})
        assert done.status_code == 303
        assert signed_in(client)
        assert not signed_in(elsewhere)


def test_a_weak_new_password_is_refused_on_the_account_page(
    app: FastAPI, client: TestClient, user: User
) -> None:
    sign_in(client)
    form = {
        "current_password": PASSWORD,
        "new_password": "Camille Martin",
        "new_password_again": "Camille Martin",
    }
    response = client.post("/compte/mot-de-passe", data=form | {"csrf_token": csrf(client, "/compte")})
    assert response.status_code == 422
    assert "il reprend votre nom ou votre adresse" in html.unescape(response.text)
    client.cookies.clear()
    assert sign_in(client).status_code == 303


def test_signing_out_ends_the_session_for_any_copy_of_the_cookie(client: TestClient, user: User) -> None:
    sign_in(client)
    copy = dict(client.cookies)
    client.post("/deconnexion", data={"csrf_token": csrf(client, "/compte")})
    client.cookies.clear()
    client.cookies.update(copy)
    assert not signed_in(client)


def test_ending_sessions_signs_out_at_the_next_request(app: FastAPI, client: TestClient, user: User) -> None:
    sign_in(client)
    with Session(app.state.engine) as session:
        account = session.get(User, user.id)
        assert account
        end_sessions(session, user=account)
        session.commit()
    assert client.get("/compte").status_code == 303


def test_a_deactivated_account_is_signed_out_and_its_tokens_refused(
    app: FastAPI, client: TestClient, user: User
) -> None:
    from app.accounts.tokens import create_token

    sign_in(client)
    with Session(app.state.engine) as session:
        account = session.get(User, user.id)
        assert account
        _token, secret = create_token(session, user=account, name="outil", scopes=["read:catalog"], days=1)
        assert (
            client.get("/api/v1/referentials", headers={"Authorization": f"Bearer {secret}"}).status_code
            != 401
        )
        account.is_active = False
        session.add(account)
        session.commit()
    assert not signed_in(client)
    assert (
        client.get("/api/v1/referentials", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_the_account_page_offers_the_notices_of_the_role_and_keeps_the_choice(
    app: FastAPI, client: TestClient, user: User
) -> None:
    sign_in(client)
    page = html.unescape(client.get("/compte").text)
    assert "Quand un·e formateur·rice renvoie ou valide l'autoévaluation de ma structure" in page
    assert "Quand une structure de mes cohortes soumet" not in page  # a director's account
    response = client.post("/compte/avis", data={"csrf_token": csrf(client, "/compte")})
    assert response.headers["location"] == "/compte?fait=avis"
    assert 'value="decisions" checked' not in client.get("/compte").text
    with Session(app.state.engine) as session:
        account = session.get(User, user.id)
        assert account
        assert account.notify_decisions is False
    form = {"avis": ["decisions", "inconnu"], "csrf_token": csrf(client, "/compte")}
    assert client.post("/compte/avis", data=form).status_code == 303
    assert 'value="decisions" checked' in client.get("/compte").text
