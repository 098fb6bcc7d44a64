"""Members and invitations through HTTP: invite, accept with a password, resend, revoke; bad input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.db import utcnow
from app.mail.models import OutboxMessage
from app.members.models import Invitation
from app.structures.models import MemberRole, Membership
from tests.reports.helpers import audit_count, csrf_from, member, signed_in

NEW_PASSWORD = "cerf-volant turquoise sous la pluie"
LINK = re.compile(r"/invitations/([A-Za-z0-9_-]+)")


@pytest.fixture
def director(app: FastAPI) -> TestClient:
    member(app, "d@example.org", structure_name="Nord")
    return signed_in(app, "d@example.org")


def post(client: TestClient, url: str, data: dict[str, str]) -> object:
    token = csrf_from(client.get("/").text)
    return client.post(url, data=data | {"csrf_token": token})


def messages(app: FastAPI, to: str) -> list[OutboxMessage]:
    with Session(app.state.engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.recipient == to).order_by(col(OutboxMessage.id))
        return list(session.exec(query))


def link_for(app: FastAPI, to: str) -> str:
    """The invitation path in the latest message to `to`."""
    found = LINK.search(messages(app, to)[-1].text_body)
    assert found is not None
    return found.group(0)


def memberships(app: FastAPI) -> list[tuple[str, MemberRole]]:
    with Session(app.state.engine) as session:
        query = select(User.email, Membership.role).join(Membership, col(Membership.user_id) == col(User.id))
        return sorted(session.exec(query).all())


def invitations(app: FastAPI) -> list[Invitation]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(Invitation).order_by(col(Invitation.id))))


def accept(client: TestClient, path: str, **fields: str) -> object:
    token = csrf_from(client.get("/connexion").text)
    form = {"name": "Inès Contributrice", "password": NEW_PASSWORD, "password_confirmation": NEW_PASSWORD}
    return client.post(path, data=form | fields | {"csrf_token": token})


def test_a_director_invites_and_the_invitee_joins_signed_in(app: FastAPI, director: TestClient) -> None:
    assert "Aucune invitation en attente" in director.get("/structures/1/membres").text
    sent = post(director, "/structures/1/membres", {"email": " Ines@Example.org", "role": "contribution"})
    assert sent.status_code == 303  # type: ignore[attr-defined]
    assert "ines@example.org" in director.get("/structures/1/membres").text
    [message] = messages(app, "ines@example.org")
    assert "Nord" in message.subject
    assert "Contribution" in message.text_body
    path = link_for(app, "ines@example.org")
    assert invitations(app)[0].token_hash not in message.text_body  # only the secret travels
    invitee = TestClient(app, follow_redirects=False)
    page = invitee.get(path)
    assert page.status_code == 200
    assert "Rejoindre Nord" in page.text
    joined = accept(invitee, path)
    assert joined.status_code == 303  # type: ignore[attr-defined]
    assert joined.headers["location"] == "/structures/1"  # type: ignore[attr-defined]
    assert invitee.get("/structures/1").status_code == 200
    assert ("ines@example.org", MemberRole.CONTRIBUTION) in memberships(app)
    assert audit_count(app, "invitation.accept") == 1
    again = invitee.get(path)
    assert again.status_code == 410
    assert "déjà été acceptée" in again.text


def test_an_existing_account_is_added_at_once_and_told_by_e_mail(app: FastAPI, director: TestClient) -> None:
    member(app, "t@example.org", role=Role.TRAINER)
    sent = post(director, "/structures/1/membres", {"email": "t@example.org", "role": "lecture"})
    assert sent.status_code == 303  # type: ignore[attr-defined]
    assert ("t@example.org", MemberRole.LECTURE) in memberships(app)
    assert invitations(app) == []
    [message] = messages(app, "t@example.org")
    assert "membre de Nord" in message.subject


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "pas une adresse", "role": "contribution"}, "n&#39;est pas valide"),
        ({"email": "d@example.org", "role": "contribution"}, "déjà membre"),
        ({"email": "x@example.org", "role": "roi"}, "Choisissez un des rôles"),
        ({"email": "", "role": ""}, "n&#39;est pas valide"),
    ],
)
def test_a_bad_invitation_is_a_422_and_changes_nothing(
    app: FastAPI, director: TestClient, form: dict[str, str], message: str
) -> None:
    response = post(director, "/structures/1/membres", form)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]
    assert invitations(app) == []
    assert memberships(app) == [("d@example.org", MemberRole.DIRECTION)]


def test_a_second_invitation_to_the_same_address_is_refused(app: FastAPI, director: TestClient) -> None:
    post(director, "/structures/1/membres", {"email": "x@example.org", "role": "lecture"})
    again = post(director, "/structures/1/membres", {"email": "x@example.org", "role": "lecture"})
    assert again.status_code == 422  # type: ignore[attr-defined]
    assert "renvoyez-la" in again.text  # type: ignore[attr-defined]
    assert len(invitations(app)) == 1


def test_resending_kills_the_old_link_and_revoking_kills_the_new(app: FastAPI, director: TestClient) -> None:
    post(director, "/structures/1/membres", {"email": "x@example.org", "role": "lecture"})
    first = link_for(app, "x@example.org")
    resent = post(director, f"/structures/1/invitations/{invitations(app)[0].id}/renvoyer", {})
    assert resent.status_code == 303  # type: ignore[attr-defined]
    second = link_for(app, "x@example.org")
    assert second != first
    visitor = TestClient(app, follow_redirects=False)
    assert visitor.get(first).status_code == 410
    assert "remplacée" in visitor.get(first).text
    assert visitor.get(second).status_code == 200
    revoked = post(director, f"/structures/1/invitations/{invitations(app)[1].id}/revoquer", {})
    assert revoked.status_code == 303  # type: ignore[attr-defined]
    assert visitor.get(second).status_code == 410
    assert accept(visitor, second).status_code == 410  # type: ignore[attr-defined]
    again = post(director, f"/structures/1/invitations/{invitations(app)[1].id}/renvoyer", {})
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert len(invitations(app)) == 2
    assert memberships(app) == [("d@example.org", MemberRole.DIRECTION)]


def test_an_expired_or_forged_link_says_so_in_plain_words(app: FastAPI, director: TestClient) -> None:
    post(director, "/structures/1/membres", {"email": "x@example.org", "role": "lecture"})
    path = link_for(app, "x@example.org")
    with Session(app.state.engine) as session:
        invitation = session.exec(select(Invitation)).one()
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        session.add(invitation)
        session.commit()
    visitor = TestClient(app, follow_redirects=False)
    expired = visitor.get(path)
    assert expired.status_code == 410
    assert "a expiré" in expired.text
    assert accept(visitor, path).status_code == 410  # type: ignore[attr-defined]
    forged = visitor.get("/invitations/faux-jeton")
    assert forged.status_code == 404
    assert "n&#39;est pas valide" in forged.text
    assert memberships(app) == [("d@example.org", MemberRole.DIRECTION)]
    assert "expirée" in director.get("/structures/1/membres").text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "court", "password_confirmation": "court"}, "12 caractères"),
        ({"password": "motdepasse123", "password_confirmation": "motdepasse123"}, "trop facile"),
        ({"password_confirmation": "autre chose encore"}, "différents"),
        ({"name": "  "}, "entre 1 et 120"),
    ],
)
def test_a_bad_acceptance_is_a_422_and_creates_no_account(
    app: FastAPI, director: TestClient, fields: dict[str, str], message: str
) -> None:
    post(director, "/structures/1/membres", {"email": "x@example.org", "role": "lecture"})
    path = link_for(app, "x@example.org")
    visitor = TestClient(app, follow_redirects=False)
    response = accept(visitor, path, **fields)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert message in response.text  # type: ignore[attr-defined]
    with Session(app.state.engine) as session:
        assert session.exec(select(User).where(User.email == "x@example.org")).first() is None
    assert visitor.get(path).status_code == 200  # still usable


def test_members_roles_change_and_the_last_director_stays(app: FastAPI, director: TestClient) -> None:
    other, _ = member(app, "c@example.org")
    post(director, "/structures/1/membres", {"email": "c@example.org", "role": "contribution"})
    with Session(app.state.engine) as session:
        mine = session.exec(select(Membership).where(Membership.user_id == 1)).one()
        theirs = session.exec(select(Membership).where(Membership.user_id == other.id)).one()
    refused = post(director, f"/structures/1/membres/{mine.id}/role", {"role": "lecture"})
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "dernier membre de la direction" in refused.text  # type: ignore[attr-defined]
    assert post(director, f"/structures/1/membres/{theirs.id}/role", {"role": "roi"}).status_code == 422  # type: ignore[attr-defined]
    assert post(director, f"/structures/1/membres/{theirs.id}/role", {"role": "direction"}).status_code == 303  # type: ignore[attr-defined]
    assert post(director, f"/structures/1/membres/{mine.id}/retirer", {}).status_code == 303  # type: ignore[attr-defined]
    assert memberships(app) == [("c@example.org", MemberRole.DIRECTION)]
    assert director.get("/structures/1/membres").status_code == 404
    assert post(director, "/structures/1/membres/999/retirer", {}).status_code == 404  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["contribution", "lecture"])
def test_a_member_who_does_not_direct_cannot_invite(app: FastAPI, director: TestClient, role: str) -> None:
    member(app, "m@example.org")
    post(director, "/structures/1/membres", {"email": "m@example.org", "role": role})
    client = signed_in(app, "m@example.org")
    assert client.get("/structures/1/membres").status_code == 403
    refused = post(client, "/structures/1/membres", {"email": "y@example.org", "role": "direction"})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert invitations(app) == []


def test_a_director_of_another_structure_gets_404(app: FastAPI, director: TestClient) -> None:
    member(app, "b@example.org", structure_name="Sud")
    other = signed_in(app, "b@example.org")
    assert other.get("/structures/1/membres").status_code == 404
    assert (
        post(other, "/structures/1/membres", {"email": "y@example.org", "role": "lecture"}).status_code == 404
    )  # type: ignore[attr-defined]
    assert invitations(app) == []


def test_an_administrator_invites_into_any_structure(app: FastAPI, director: TestClient) -> None:
    member(app, "admin@example.org", role=Role.ADMIN)
    admin = signed_in(app, "admin@example.org")
    sent = post(admin, "/structures/1/membres", {"email": "z@example.org", "role": "direction"})
    assert sent.status_code == 303  # type: ignore[attr-defined]
    assert invitations(app)[0].invited_by is not None
    assert "/structures/1/membres" in admin.get("/admin/structures/1").text
