"""The administration pages through HTTP: accounts, structures, the audit log, the catalog; bad input."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.accounts.tokens import create_token
from app.db import AuditEntry, utcnow
from app.mail.models import OutboxMessage
from app.structures.models import Structure
from tests.reports.helpers import PASSWORD, audit_count, csrf_from, member, signed_in

VALID_SIRET = "73282932000074"


@pytest.fixture
def admin(app: FastAPI) -> TestClient:
    member(app, "admin@example.org", role=Role.ADMIN)
    member(app, "d@example.org", structure_name="Nord")
    return signed_in(app, "admin@example.org")


def post(client: TestClient, url: str, data: dict[str, str]) -> object:
    token = csrf_from(client.get("/admin").text)
    return client.post(url, data=data | {"csrf_token": token})


def structures(app: FastAPI) -> list[Structure]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(Structure).order_by(Structure.id)))  # type: ignore[arg-type]


def account(app: FastAPI, email: str) -> User:
    with Session(app.state.engine) as session:
        found = session.exec(select(User).where(User.email == email)).one()
        return found


def test_everyone_but_an_administrator_gets_404_on_every_admin_page(app: FastAPI) -> None:
    member(app, "d@example.org", structure_name="Nord")
    member(app, "t@example.org", role=Role.TRAINER)
    for email in ("d@example.org", "t@example.org"):
        client = signed_in(app, email)
        for url in (
            "/admin",
            "/admin/utilisateurs",
            "/admin/utilisateurs/1",
            "/admin/structures",
            "/admin/structures/1",
            "/admin/structures/nouvelle",
            "/admin/journal",
            "/admin/journal.csv",
            "/admin/catalogue",
        ):
            assert client.get(url).status_code == 404, url
        assert 'href="/admin"' not in client.get("/structures").text
    anonymous = TestClient(app, follow_redirects=False)
    assert anonymous.get("/admin").status_code == 303


def test_an_administrator_lands_on_admin_and_sees_its_menu(admin: TestClient) -> None:
    page = admin.get("/admin")
    assert page.status_code == 200
    assert 'href="/admin"' in page.text
    assert 'href="/compte/jetons"' in page.text


def test_the_users_list_searches_filters_and_paginates(app: FastAPI, admin: TestClient) -> None:
    for number in range(30):
        member(app, f"p{number:02d}@example.org", role=Role.AUDITOR if number % 2 else Role.TRAINER)
    first = admin.get("/admin/utilisateurs", params={"role": "auditor"})
    assert "15 comptes" in first.text
    page_two = admin.get("/admin/utilisateurs", params={"page": "2"})
    assert "Page 2 sur 2" in page_two.text
    assert "P29" in page_two.text or "p29@" in page_two.text
    found = admin.get("/admin/utilisateurs", params={"q": "P07@EXAMPLE"})
    assert "1 compte" in found.text
    assert "p07@example.org" in found.text
    assert "Aucun compte" in admin.get("/admin/utilisateurs", params={"q": "personne"}).text
    assert admin.get("/admin/utilisateurs", params={"page": "x", "role": "roi"}).status_code == 200


def test_an_administrator_creates_an_account_and_changes_its_role(app: FastAPI, admin: TestClient) -> None:
    created = post(
        admin,
        "/admin/utilisateurs",
        {"email": "New@Example.org", "name": "Nouvelle", "role": "trainer", "password": PASSWORD},
    )
    assert created.status_code == 303  # type: ignore[attr-defined]
    user = account(app, "new@example.org")
    assert user.role == Role.TRAINER
    changed = post(admin, f"/admin/utilisateurs/{user.id}/role", {"role": "auditor"})
    assert changed.status_code == 303  # type: ignore[attr-defined]
    assert account(app, "new@example.org").role == Role.AUDITOR
    assert audit_count(app, "user.role") == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "pas-une-adresse", "name": "X", "role": "trainer"}, "n&#39;est pas valide"),
        ({"email": "d@example.org", "name": "X", "role": "trainer"}, "déjà utilisée"),
        ({"email": "x@example.org", "name": "X", "role": "roi"}, "Choisissez un des rôles"),
        ({"email": "x@example.org", "name": "X", "role": "trainer", "password": "court"}, "12 caractères"),
    ],
)
def test_a_bad_account_form_is_a_422_with_its_message_and_creates_nothing(
    app: FastAPI, admin: TestClient, form: dict[str, str], message: str
) -> None:
    response = post(admin, "/admin/utilisateurs", {"password": PASSWORD} | form)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]
    assert audit_count(app, "user.create") == 2


def test_an_unknown_role_or_account_changes_nothing(app: FastAPI, admin: TestClient) -> None:
    user = account(app, "d@example.org")
    refused = post(admin, f"/admin/utilisateurs/{user.id}/role", {"role": "roi"})
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert account(app, "d@example.org").role == Role.DIRECTOR
    assert post(admin, "/admin/utilisateurs/999/role", {"role": "admin"}).status_code == 404  # type: ignore[attr-defined]
    assert admin.get("/admin/utilisateurs/abc").status_code == 404


def test_a_deactivated_account_cannot_sign_in_nor_use_its_tokens_until_reactivated(
    app: FastAPI, admin: TestClient
) -> None:
    user = account(app, "d@example.org")
    with Session(app.state.engine) as session:
        _, secret = create_token(
            session, user=session.merge(user), name="outil", scopes=["read:catalog"], days=5
        )
    headers = {"Authorization": f"Bearer {secret}"}
    assert admin.get("/api/v1/referentials", headers=headers).status_code == 200
    assert post(admin, f"/admin/utilisateurs/{user.id}/desactiver", {}).status_code == 303  # type: ignore[attr-defined]
    assert not account(app, "d@example.org").is_active
    assert admin.get("/api/v1/referentials", headers=headers).status_code == 401
    client = TestClient(app, follow_redirects=False)
    token = csrf_from(client.get("/connexion").text)
    refused = client.post(
        "/connexion", data={"email": "d@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert refused.status_code != 303
    assert post(admin, f"/admin/utilisateurs/{user.id}/reactiver", {}).status_code == 303  # type: ignore[attr-defined]
    assert signed_in(app, "d@example.org").get("/structures").status_code == 200
    assert audit_count(app, "user.deactivate") == audit_count(app, "user.reactivate") == 1


def test_an_administrator_cannot_deactivate_or_demote_themselves(app: FastAPI, admin: TestClient) -> None:
    me = account(app, "admin@example.org")
    refused = post(admin, f"/admin/utilisateurs/{me.id}/desactiver", {})
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "votre propre compte" in refused.text  # type: ignore[attr-defined]
    assert post(admin, f"/admin/utilisateurs/{me.id}/role", {"role": "trainer"}).status_code == 422  # type: ignore[attr-defined]
    assert account(app, "admin@example.org").is_active


def test_an_administrator_creates_edits_archives_and_restores_a_structure(
    app: FastAPI, admin: TestClient
) -> None:
    assert admin.get("/admin/structures/nouvelle").status_code == 200
    form = {
        "name": "Médiation Sud",
        "city": "Nîmes",
        "legal_form": "association",
        "siret": "732 829 320 00074",
    }
    created = post(admin, "/admin/structures", form)
    assert created.status_code == 303  # type: ignore[attr-defined]
    sud = structures(app)[-1]
    assert (sud.name, sud.siret, sud.legal_form) == ("Médiation Sud", VALID_SIRET, "association")
    edited = post(admin, f"/admin/structures/{sud.id}", form | {"city": "Arles", "siret": ""})
    assert edited.status_code == 303  # type: ignore[attr-defined]
    assert (structures(app)[-1].city, structures(app)[-1].siret) == ("Arles", "")
    assert post(admin, f"/admin/structures/{sud.id}/archiver", {}).status_code == 303  # type: ignore[attr-defined]
    assert "Médiation Sud" not in admin.get("/admin/structures").text
    assert "Médiation Sud" in admin.get("/admin/structures", params={"archivees": "oui"}).text
    assert "Médiation Sud" not in admin.get("/structures").text
    assert post(admin, f"/admin/structures/{sud.id}/restaurer", {}).status_code == 303  # type: ignore[attr-defined]
    assert "Médiation Sud" in admin.get("/admin/structures").text
    searched = admin.get("/admin/structures", params={"q": "Arles"}).text
    assert "Médiation Sud" in searched
    assert 'value="Arles"' in searched
    assert "Aucune structure ne correspond" in admin.get("/admin/structures", params={"q": "Brest"}).text
    for action in ("structure.create", "structure.update", "structure.archive", "structure.restore"):
        assert audit_count(app, action) >= 1


def test_an_archived_structure_is_read_only_for_its_director(app: FastAPI, admin: TestClient) -> None:
    nord = structures(app)[0]
    post(admin, f"/admin/structures/{nord.id}/archiver", {})
    director = signed_in(app, "d@example.org")
    assert director.get(f"/structures/{nord.id}").status_code == 200
    assert "Nord" not in director.get("/structures").text
    refused = director.get(f"/structures/{nord.id}/profil")
    assert refused.status_code == 403
    assert "archivée" in refused.text
    token = csrf_from(director.get(f"/structures/{nord.id}").text)
    started = director.post(
        f"/structures/{nord.id}/autoevaluations", data={"questionnaire": "full", "csrf_token": token}
    )
    assert started.status_code == 403


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"name": " "}, "name", "Le nom de la structure est obligatoire"),
        ({"name": "S", "siret": "73282932000075"}, "siret", "n&#39;est pas valide"),
        ({"name": "S", "siret": "1234"}, "siret", "14 chiffres"),
        ({"name": "S", "legal_form": "royaume"}, "legal_form", "formes juridiques proposées"),
    ],
)
def test_a_bad_structure_form_is_a_422_and_creates_nothing(
    app: FastAPI, admin: TestClient, form: dict[str, str], field: str, message: str
) -> None:
    response = post(admin, "/admin/structures", form)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]
    assert f'id="structure-{field}"' in response.text  # type: ignore[attr-defined]
    assert len(structures(app)) == 1
    assert post(admin, "/admin/structures/1", form).status_code == 422  # type: ignore[attr-defined]
    assert structures(app)[0].name == "Nord"


def test_the_audit_log_filters_paginates_and_exports_csv(app: FastAPI, admin: TestClient) -> None:
    nord = structures(app)[0]
    for city in ("A", "B", "C"):
        post(admin, f"/admin/structures/{nord.id}", {"name": "Nord", "city": city})
    page = admin.get("/admin/journal", params={"structure": str(nord.id), "action": "structure.update"})
    assert page.status_code == 200
    assert "3 entrées" in page.text
    assert "&#34;city&#34;: &#34;B&#34;" in page.text or '"city": "B"' in page.text
    by_person = admin.get("/admin/journal", params={"personne": "admin@", "action": "structure."})
    assert "3 entrées" in by_person.text
    nothing = admin.get("/admin/journal", params={"debut": "2000-01-01", "fin": "2000-01-02"}).text
    assert "0 entrée" in nothing
    assert "Aucune entrée ne correspond à ce filtre." in nothing
    exported = admin.get("/admin/journal.csv", params={"action": "structure.update"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["id", "at", "actor_id"]
    assert len(rows) == 4
    assert {row[4] for row in rows[1:]} == {"structure.update"}
    assert rows[1][3] == "admin@example.org"
    assert '"city"' in rows[1][9]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"debut": "hier"}, "Saisissez une date valide"),
        ({"debut": "2026-02-01", "fin": "2026-01-01"}, "avant son début"),
        ({"structure": "Nord"}, "nombre entier"),
    ],
)
def test_a_bad_audit_filter_is_a_422_with_its_message(
    admin: TestClient, query: dict[str, str], message: str
) -> None:
    response = admin.get("/admin/journal", params=query)
    assert response.status_code == 422
    assert message in response.text
    assert admin.get("/admin/journal.csv", params=query).status_code == 422


def test_the_catalog_page_lists_versions_with_status_and_sha256(app: FastAPI, admin: TestClient) -> None:
    page = admin.get("/admin/catalogue").text
    catalog = app.state.catalog
    for ref, digest in catalog.criteria_hashes.items():
        assert ref in page
        assert digest in page
    for ref, digest in catalog.questionnaire_hashes.items():
        assert ref in page
        assert digest in page


def test_failed_e_mails_are_listed_and_sent_again_on_request(app: FastAPI, admin: TestClient) -> None:
    with Session(app.state.engine) as session:
        message = OutboxMessage(
            event_key="essai:1",
            recipient="perdu@example.org",
            subject="Un message",
            text_body="x",
            html_body="<p>x</p>",
            attempts=5,
            failed_at=utcnow(),
            last_error="550 mailbox unavailable",
        )
        session.add(message)
        session.commit()
        message_id = message.id
    assert "1 message n'a pas pu être envoyé" in admin.get("/admin").text
    page = admin.get("/admin/courriels").text
    assert "perdu@example.org" in page
    assert "550 mailbox unavailable" in page
    assert post(admin, f"/admin/courriels/{message_id}/renvoyer", {}).status_code == 303
    with Session(app.state.engine) as session:
        retried = session.get(OutboxMessage, message_id)
        assert retried is not None
        assert retried.failed_at is None
        assert retried.attempts == 0
    assert audit_count(app, "mail.retry") == 1
    assert "Aucun courriel en échec" in admin.get("/admin/courriels").text
    assert post(admin, f"/admin/courriels/{message_id}/renvoyer", {}).status_code == 404


def test_deactivating_an_account_ends_its_open_sessions(app: FastAPI, admin: TestClient) -> None:
    director = signed_in(app, "d@example.org")
    assert director.get("/structures").status_code == 200
    user = account(app, "d@example.org")
    post(admin, f"/admin/utilisateurs/{user.id}/desactiver", {})
    assert director.get("/structures").status_code == 303  # sent to the sign-in page
    post(admin, f"/admin/utilisateurs/{user.id}/reactiver", {})
    assert director.get("/structures").status_code == 303  # the old cookie stays dead


def test_the_audit_log_comes_25_entries_a_page(app: FastAPI, admin: TestClient) -> None:
    with Session(app.state.engine) as session:
        for number in range(30):
            session.add(AuditEntry(action="essai.page", object_type="structure", object_id=str(number)))
        session.commit()
    first = admin.get("/admin/journal", params={"action": "essai."})
    assert "30 entrées" in first.text
    assert "Page 1 sur 2" in first.text
    assert first.text.count("<code>essai.page</code>") == 25
    second = admin.get("/admin/journal", params={"action": "essai.", "page": "2"})
    assert second.text.count("<code>essai.page</code>") == 5
    assert 'rel="prev"' in second.text
