"""Sessions kept on the server: each browser its own, ended one by one or all at once, for real."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select, update

from app.accounts.models import Role, User, UserSession
from app.accounts.service import create_user
from app.accounts.sessions import device
from app.db import AuditEntry, utcnow

PASSWORD = "une phrase de passe solide"
NEW_PASSWORD = "trois chevaux bleus sous la pluie"
EMAIL = "camille@example.org"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SESSION_FORM = re.compile(r'action="/compte/sessions/(\d+)/terminer"')


@pytest.fixture
def user(app: FastAPI) -> User:
    with Session(app.state.engine) as session:
        return create_user(session, email=EMAIL, name="Camille Martin", role=Role.DIRECTOR, password=PASSWORD)


@pytest.fixture
def browsers(app: FastAPI, user: User) -> Iterator[tuple[TestClient, TestClient]]:
    """Two browsers signed in to the same account: Firefox on Linux, Safari on an iPhone."""
    with (
        TestClient(app, follow_redirects=False, headers={"User-Agent": FIREFOX}) as first,
        TestClient(app, follow_redirects=False, headers={"User-Agent": SAFARI}) as second,
    ):
        sign_in(first)
        sign_in(second)
        yield first, second


def csrf(client: TestClient, path: str = "/connexion") -> str:
    found = CSRF_FIELD.search(client.get(path).text)
    assert found
    return found.group(1)


def sign_in(client: TestClient, email: str = EMAIL) -> None:
    form = {"email": email, "password": PASSWORD, "csrf_token": csrf(client)}
    assert client.post("/connexion", data=form).status_code == 303


def signed_in(client: TestClient) -> bool:
    return client.get("/compte").status_code == 200


def open_sessions(app: FastAPI) -> list[UserSession]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(UserSession).order_by(UserSession.id)))


def test_signing_out_ends_this_session_only_and_every_copy_of_its_cookie(
    app: FastAPI, browsers: tuple[TestClient, TestClient]
) -> None:
    first, second = browsers
    copy = dict(first.cookies)
    assert first.post("/deconnexion", data={"csrf_token": csrf(first, "/compte")}).status_code == 303
    first.cookies.clear()
    first.cookies.update(copy)
    assert not signed_in(first)
    assert signed_in(second)
    assert len(open_sessions(app)) == 1


def test_the_account_page_lists_each_browser_with_its_device_and_marks_this_one(
    browsers: tuple[TestClient, TestClient],
) -> None:
    first, _second = browsers
    markup = first.get("/compte").text
    page = html.unescape(re.sub(r"<[^>]+>", "", markup))
    assert "Firefox sous Linux (cette session)" in page
    assert "Safari sous iOS" in page
    assert "Safari sous iOS (cette session)" not in page
    assert len(SESSION_FORM.findall(markup)) == 2


def test_ending_another_session_from_the_account_page_signs_that_browser_out(
    app: FastAPI, browsers: tuple[TestClient, TestClient]
) -> None:
    first, second = browsers
    other = open_sessions(app)[1]
    ended = first.post(f"/compte/sessions/{other.id}/terminer", data={"csrf_token": csrf(first, "/compte")})
    assert ended.status_code == 303
    assert ended.headers["location"] == "/compte?fait=session"
    assert not signed_in(second)
    assert signed_in(first)
    with Session(app.state.engine) as session:
        actions = [entry.action for entry in session.exec(select(AuditEntry))]
    assert actions.count("user.sign_out") == 1


def test_someone_elses_session_is_not_found_and_stays_open(
    app: FastAPI, browsers: tuple[TestClient, TestClient]
) -> None:
    first, _second = browsers
    with Session(app.state.engine) as session:
        create_user(session, email="autre@example.org", name="Autre", role=Role.DIRECTOR, password=PASSWORD)
    with TestClient(app, follow_redirects=False) as stranger:
        sign_in(stranger, "autre@example.org")
        target = open_sessions(app)[0]
        refused = stranger.post(
            f"/compte/sessions/{target.id}/terminer", data={"csrf_token": csrf(stranger, "/compte")}
        )
        assert refused.status_code == 404
        assert (
            stranger.post(
                "/compte/sessions/999999/terminer", data={"csrf_token": csrf(stranger, "/compte")}
            ).status_code
            == 404
        )
    assert signed_in(first)


def test_signing_out_everywhere_ends_every_session_this_one_too(
    app: FastAPI, browsers: tuple[TestClient, TestClient]
) -> None:
    first, second = browsers
    ended = first.post("/compte/sessions/terminer", data={"csrf_token": csrf(first, "/compte")})
    assert (ended.status_code, ended.headers["location"]) == (303, "/connexion")
    assert not signed_in(first)
    assert not signed_in(second)
    assert open_sessions(app) == []


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    browsers: tuple[TestClient, TestClient],
) -> None:
    first, second = browsers
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    changed = first.post("/compte/mot-de-passe", data=form | {"csrf_token": csrf(first, "/compte")})
    assert changed.status_code == 303
    assert signed_in(first)
    assert not signed_in(second)


def test_a_refused_password_change_ends_nothing(browsers: tuple[TestClient, TestClient]) -> None:
    first, second = browsers
    form = {
        "current_password": "pas le bon",
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
    }
    assert (
        first.post("/compte/mot-de-passe", data=form | {"csrf_token": csrf(first, "/compte")}).status_code
        == 422
    )
    assert signed_in(second)


def test_an_administrator_ends_a_persons_sessions(
    app: FastAPI, user: User, browsers: tuple[TestClient, TestClient]
) -> None:
    first, second = browsers
    with Session(app.state.engine) as session:
        create_user(session, email="admin@example.org", name="Admin", role=Role.ADMIN, password=PASSWORD)
    with TestClient(app, follow_redirects=False) as admin:
        sign_in(admin, "admin@example.org")
        page = html.unescape(admin.get(f"/admin/utilisateurs/{user.id}").text)
        assert "2 sessions ouvertes." in page
        token = csrf(admin, f"/admin/utilisateurs/{user.id}")
        ended = admin.post(f"/admin/utilisateurs/{user.id}/sessions/terminer", data={"csrf_token": token})
        assert ended.status_code == 303
        assert "2 sessions fermées." in html.unescape(admin.get(ended.headers["location"]).text)
        assert signed_in(admin)
    assert not signed_in(first)
    assert not signed_in(second)
    with Session(app.state.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "user.sessions_end")).one()
    assert entry.after == {"ended": 2}


def test_a_director_cannot_end_sessions_through_the_administration(
    app: FastAPI, user: User, browsers: tuple[TestClient, TestClient]
) -> None:
    first, second = browsers
    token = csrf(first, "/compte")
    assert (
        first.post(f"/admin/utilisateurs/{user.id}/sessions/terminer", data={"csrf_token": token}).status_code
        == 404
    )
    assert signed_in(second)


def test_deactivation_ends_every_session(
    app: FastAPI, user: User, browsers: tuple[TestClient, TestClient]
) -> None:
    from app.admin.service import set_active

    first, second = browsers
    with Session(app.state.engine) as session:
        account = session.get(User, user.id)
        assert account
        set_active(session, user=account, active=False, actor=None)
    assert open_sessions(app) == []
    assert not signed_in(first)
    assert not signed_in(second)


def test_last_use_is_written_at_most_once_a_minute(
    app: FastAPI, browsers: tuple[TestClient, TestClient]
) -> None:
    first, _second = browsers
    mine = open_sessions(app)[0]
    for _ in range(3):
        assert signed_in(first)
    assert open_sessions(app)[0].last_used_at == mine.last_used_at
    earlier = utcnow() - timedelta(minutes=5)
    with Session(app.state.engine) as session:
        session.exec(update(UserSession).where(UserSession.id == mine.id).values(last_used_at=earlier))  # type: ignore[call-overload]
        session.commit()
    assert signed_in(first)
    assert open_sessions(app)[0].last_used_at > earlier + timedelta(minutes=4)


def test_an_expired_session_signs_out_and_is_dropped_at_the_next_sign_in(
    app: FastAPI, browsers: tuple[TestClient, TestClient]
) -> None:
    first, second = browsers
    with Session(app.state.engine) as session:
        session.exec(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))  # type: ignore[call-overload]
        session.commit()
    assert not signed_in(first)
    sign_in(second)
    assert len(open_sessions(app)) == 1


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (FIREFOX, "Firefox sous Linux"),
        (SAFARI, "Safari sous iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge sous Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
            "Chrome sous Android",
        ),
        ("curl/8.5.0", "Appareil inconnu"),
        ("", "Appareil inconnu"),
    ],
)
def test_the_device_is_read_from_the_user_agent(user_agent: str, expected: str) -> None:
    assert device(user_agent) == expected
