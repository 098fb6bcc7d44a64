"""« Accès des auditeurs » and « Jetons d'API » through the web forms, with CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.accounts.models import ApiToken, Role
from app.structures.models import AuditorGrant
from tests.reports.helpers import audit_count, csrf_from, member, signed_in

IN_A_MONTH = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    """The app of conftest.py with a director, an auditor and a trainer."""
    member(app, "d@example.org", structure_name="Nord")
    member(app, "a@example.org", role=Role.AUDITOR)
    member(app, "t@example.org", role=Role.TRAINER)
    return app


def grants(app: FastAPI) -> list[AuditorGrant]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(AuditorGrant)))


def test_a_director_grants_then_revokes_an_auditor(app: FastAPI) -> None:
    client = signed_in(app, "d@example.org")
    page = client.get("/structures/1/auditeurs")
    assert page.status_code == 200
    assert "Aucun accès donné" in page.text
    assert 'href="/structures/1/auditeurs"' in client.get("/structures/1").text
    form = {"csrf_token": csrf_from(page.text), "email": "A@example.org ", "expires_on": IN_A_MONTH}
    response = client.post("/structures/1/auditeurs", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == "/structures/1/auditeurs"
    assert "En cours" in client.get("/structures/1/auditeurs").text
    assert "Nord" in signed_in(app, "a@example.org").get("/structures").text
    grant_id = grants(app)[0].id
    revoked = client.post(
        f"/structures/1/auditeurs/{grant_id}/revoquer", data={"csrf_token": form["csrf_token"]}
    )
    assert revoked.status_code == 303
    assert grants(app)[0].revoked_at is not None
    assert "Révoqué le" in client.get("/structures/1/auditeurs").text
    assert "Nord" not in signed_in(app, "a@example.org").get("/structures").text
    assert audit_count(app, "grant.create") == 1
    assert audit_count(app, "grant.revoke") == 1


@pytest.mark.parametrize(
    ("email", "expires_on", "field", "message"),
    [
        ("", IN_A_MONTH, "email", "Saisissez l&#39;adresse"),
        ("personne@example.org", IN_A_MONTH, "email", "Aucun compte actif"),
        ("t@example.org", IN_A_MONTH, "email", "n&#39;est pas un compte d&#39;auditeur·rice"),
        ("a@example.org", "2020-01-01", "expires_on", "Cette date est passée"),
        ("a@example.org", "2999-01-01", "expires_on", "au plus deux ans"),
        ("a@example.org", "demain", "expires_on", "Saisissez une date valide"),
    ],
)
def test_a_bad_grant_is_refused_with_a_french_message_and_nothing_stored(
    app: FastAPI, email: str, expires_on: str, field: str, message: str
) -> None:
    client = signed_in(app, "d@example.org")
    token = csrf_from(client.get("/structures/1/auditeurs").text)
    response = client.post(
        "/structures/1/auditeurs", data={"csrf_token": token, "email": email, "expires_on": expires_on}
    )
    assert response.status_code == 422
    assert message in response.text
    assert f'id="acces-{field}-erreur"' in response.text
    assert grants(app) == []


def test_a_grant_needs_the_csrf_token_and_write_access(app: FastAPI) -> None:
    client = signed_in(app, "d@example.org")
    form = {"email": "a@example.org", "expires_on": IN_A_MONTH}
    assert client.post("/structures/1/auditeurs", data=form).status_code == 403
    for email in ("a@example.org", "t@example.org"):
        other = signed_in(app, email)
        assert other.get("/structures/1/auditeurs").status_code == 404
        token = csrf_from(other.get("/").text)
        assert other.post("/structures/1/auditeurs", data=form | {"csrf_token": token}).status_code == 404
    assert grants(app) == []


def test_a_token_is_created_shown_once_listed_and_revoked(app: FastAPI) -> None:
    client = signed_in(app, "a@example.org")
    page = client.get("/compte/jetons")
    assert "aucun jeton pour l" in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "name": "Outil d'audit",
        "scopes": ["read:assessments"],
        "days": "30",
    }
    created = client.post("/compte/jetons", data=form)
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    with Session(app.state.engine) as session:
        token = session.exec(select(ApiToken)).one()
    secret = created.text.split('id="jeton-secret" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith(token.prefix)
    listed = client.get("/compte/jetons").text
    assert secret not in listed
    assert f"{token.prefix}…" in listed
    assert "Actif" in listed
    assert client.get("/api/v1/structures", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    revoked = client.post(f"/compte/jetons/{token.id}/revoquer", data={"csrf_token": form["csrf_token"]})
    assert revoked.status_code == 303
    assert "Révoqué" in client.get("/compte/jetons").text
    assert client.get("/api/v1/structures", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    other = signed_in(app, "d@example.org")
    token_csrf = csrf_from(other.get("/").text)
    assert (
        other.post(f"/compte/jetons/{token.id}/revoquer", data={"csrf_token": token_csrf}).status_code == 404
    )


def test_a_bad_token_form_is_refused_field_by_field(app: FastAPI) -> None:
    client = signed_in(app, "a@example.org")
    token = csrf_from(client.get("/compte/jetons").text)
    response = client.post("/compte/jetons", data={"csrf_token": token, "name": " ", "days": "9999"})
    assert response.status_code == 422
    for field in ("name", "scopes", "days"):
        assert f'href="#jeton-{field}"' in response.text
    with Session(app.state.engine) as session:
        assert session.exec(select(ApiToken)).first() is None
