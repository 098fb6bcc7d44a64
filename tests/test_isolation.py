"""Every object route, generated from the app's route table: nobody reaches another structure.

A new route with an object id in its path is covered here without anyone remembering to: the
test walks the routes, fills each id with an object of director A's structure, and calls it as
someone who may not see that structure. Each call must answer 404 and change nothing.

Members of that structure whose role does not allow a route (contribution, lecture) are tried on
those routes too: the route's dependency decides (`directed_structure`, `writable`…), and they get
403 (they know the structure; their role is why) or 404, and nothing changes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from starlette.datastructures import UploadFile

from app import deps
from app.accounts import sessions
from app.accounts.models import Role, UserSession
from app.accounts.service import create_user
from app.accounts.tokens import create_token
from app.assessments import answering, evidence, files, service, workbook_changes, workbook_export
from app.assessments.models import ActionItem, Answer
from app.cohorts.models import Cohort, CohortStructure, CohortTrainer
from app.config import secret_key
from app.db import AuditEntry, pk
from app.mail.models import OutboxMessage
from app.members import service as members
from app.members.models import Invitation
from app.structures import service as structures
from app.structures.models import MemberRole, Membership

PASSWORD = "une phrase de passe solide"
OBJECT_PARAMETERS = {
    "structure_id",
    "assessment_id",
    "evidence_id",
    "link_id",
    "item_id",
    "grant_id",
    "token_id",
    "cohort_id",
    "membership_id",
    "invitation_id",
    "user_id",
    "message_id",
    "session_id",
}
OWNERS = ("a@example.org", "coach@example.org")
"""Director A, and the trainer of the cohort A's structure is enrolled in."""
ADMIN = "admin@example.org"
"""Who opens the administration's object pages (`/admin/…`)."""
MEMBERS = {"c@example.org": MemberRole.CONTRIBUTION, "l@example.org": MemberRole.LECTURE}
"""Members of A's structure who do not direct it."""
DIRECTING = {deps.directed_structure, deps.submittable, deps.exportable_structure, deps.certified_structure}
ANSWERING = {deps.writable, deps.writable_evidence}
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every APIRoute, including those of included routers."""
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            pending.extend(route.original_router.routes)


def object_routes(app: FastAPI) -> list[tuple[str, str]]:
    found = {
        (method, route.path)
        for route in routes(app)
        for method in route.methods - {"HEAD"}
        if OBJECT_PARAMETERS & set(re.findall(r"{(\w+)}", route.path))
    }
    return sorted(found)


def depends_on(route: APIRoute, wanted: set[Any]) -> bool:
    """Whether the route's dependencies, at any depth, include one of `wanted`."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call in wanted:
            return True
        pending.extend(dependency.dependencies)
    return False


def role_routes(app: FastAPI, wanted: set[Any]) -> list[tuple[str, str]]:
    """The object routes that need one of the `wanted` dependencies."""
    found = {
        (method, route.path)
        for route in routes(app)
        for method in route.methods - {"HEAD"}
        if (method, route.path) in set(object_routes(app)) and depends_on(route, wanted)
    }
    return sorted(found)


@pytest.fixture
def world(app: FastAPI) -> dict[str, Any]:
    """Director A's structure with one of everything; the ids fill the route paths."""
    catalog = app.state.catalog
    with Session(app.state.engine) as session:
        owner = create_user(session, email="a@example.org", name="A", role=Role.DIRECTOR, password=PASSWORD)
        structure = structures.create(session, name="Structure A")
        structures.add_member(session, structure=structure, user=owner)
        assessment = service.start(
            session, catalog=catalog, structure=structure, user=owner, questionnaire_ref="full"
        )
        answering.save_answer(
            session,
            catalog=catalog,
            assessment=assessment,
            user=owner,
            criterion_id="DEO-01",
            base_revision=0,
            level=2,
            not_applicable=False,
            justification="",
            comment="",
        )
        pdf = (Path(__file__).parent / "fixtures" / "files" / "charte.pdf").read_bytes()
        stored = files.store_file(app.state.settings.evidence_dir, io.BytesIO(pdf), max_bytes=len(pdf))
        piece = evidence.add(
            session, structure=structure, user=owner, title="Charte", stored=stored, filename="charte.pdf"
        )
        link = evidence.attach(
            session, assessment=assessment, evidence=piece, criterion_id="DEO-01", covers=[], user=owner
        )
        item = ActionItem(assessment_id=pk(assessment), criterion_id="DEO-01", title="Faire signer la charte")
        session.add(item)
        session.commit()
        granted = create_user(session, email="g@example.org", name="G", role=Role.AUDITOR, password=PASSWORD)
        grant = structures.grant_auditor(
            session,
            structure=structure,
            email=granted.email,
            expires_on=str(datetime.now(UTC).date()),
            actor=owner,
        )
        token, _ = create_token(session, user=owner, name="A", scopes=["read:catalog"], days=1)
        filled = workbook_export.export(
            session, catalog=catalog, assessment=assessment, key=secret_key(app.state.settings)
        )
        preview_id = workbook_changes.upload(
            catalog=catalog,
            assessment=assessment,
            file=UploadFile(io.BytesIO(filled), filename="classeur.xlsx"),
            announced_bytes=None,
            key=secret_key(app.state.settings),
            data_dir=app.state.settings.data_dir,
        )
        for email, role in (
            ("b@example.org", Role.DIRECTOR),
            ("t@example.org", Role.TRAINER),
            ("x@example.org", Role.AUDITOR),
        ):
            intruder = create_user(session, email=email, name="Intrus", role=role, password=PASSWORD)
            if role == Role.DIRECTOR:
                structures.add_member(
                    session, structure=structures.create(session, name="Structure B"), user=intruder
                )
            if role == Role.TRAINER:  # a trainer too, of another cohort
                cohort(session, trainer=pk(intruder), structure=pk(structures.create(session, name="C")))
        coach = create_user(session, email=OWNERS[1], name="Coach", role=Role.TRAINER, password=PASSWORD)
        own_cohort = cohort(session, trainer=pk(coach), structure=pk(structure))
        create_user(session, email=ADMIN, name="Admin", role=Role.ADMIN, password=PASSWORD)
        for email, member_role in MEMBERS.items():
            person = create_user(session, email=email, name="Membre", role=Role.DIRECTOR, password=PASSWORD)
            structures.add_member(session, structure=structure, user=person, role=member_role)
        invited = members.invite(
            session, structure=structure, email="i@example.org", role="lecture", actor=owner
        )
        membership = session.exec(select(Membership).where(Membership.user_id == owner.id)).one()
        sessions.open_session(session, user=owner, user_agent="Firefox/128.0")
        owner_session = session.exec(select(UserSession).where(UserSession.user_id == owner.id)).one()
        return {
            "structure_id": pk(structure),
            "assessment_id": pk(assessment),
            "evidence_id": pk(piece),
            "link_id": pk(link),
            "item_id": pk(item),
            "grant_id": pk(grant),
            "token_id": pk(token),
            "cohort_id": own_cohort,
            "membership_id": pk(membership),
            "invitation_id": pk(invited.invitation) if invited.invitation else 0,
            "user_id": pk(owner),
            "message_id": pk(session.exec(select(OutboxMessage)).first()),
            "session_id": pk(owner_session),
            "workshop_id": "politique_qualite",
            "section_id": "deontologie",
            "criterion_id": "DEO-01",
            "preview_id": preview_id,
        }


def cohort(session: Session, *, trainer: int, structure: int) -> int:
    row = Cohort(name="Cycle", created_by=trainer)
    session.add(row)
    session.flush()
    session.add(CohortTrainer(cohort_id=pk(row), user_id=trainer))
    session.add(CohortStructure(cohort_id=pk(row), structure_id=structure))
    session.commit()
    return pk(row)


def state(app: FastAPI) -> tuple[int, list[tuple[str, int | None, int]], list[Any], list[Any]]:
    with Session(app.state.engine) as session:
        audits = session.exec(select(func.count()).select_from(AuditEntry)).one()
        answers = [(a.criterion_id, a.level, a.revision) for a in session.exec(select(Answer))]
        roles = sorted((m.user_id, m.role) for m in session.exec(select(Membership)))
        invitations = sorted((i.id, i.revoked_at) for i in session.exec(select(Invitation)))
    return audits, answers, roles, invitations


def test_the_route_table_has_object_routes_to_check(app: FastAPI) -> None:
    found = object_routes(app)
    assert ("GET", "/structures/{structure_id}") in found
    assert len(found) >= 5


def sign_in(client: TestClient, email: str) -> str:
    """Sign in through the form; return the CSRF token of the new session."""
    token = CSRF_FIELD.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    signed = client.post("/connexion", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert signed.status_code == 303
    return CSRF_FIELD.search(client.get("/").text).group(1)  # type: ignore[union-attr]


REDIRECTING = {"/autoevaluations/{assessment_id}/questions/{criterion_id}"}
"""Object routes whose answer to an owner is a redirect (303) to the page showing the object."""


def test_the_owners_open_every_object_page(app: FastAPI, world: dict[str, Any]) -> None:
    """The control for the test below: its 404s come from the permission check, not broken routes.

    Each page opens for one of its owners: the structure's director, or the trainer of its cohort.
    """
    statuses: dict[str, int] = {}
    for owner in (*OWNERS, ADMIN):
        with TestClient(app, follow_redirects=False) as client:
            sign_in(client, owner)
            for method, path in object_routes(app):
                if method == "GET" and (owner == ADMIN) == path.startswith("/admin/"):
                    status = client.get(path.format(**world)).status_code
                    statuses[path] = min(statuses.get(path, status), status)
    redirects = {path: statuses.pop(path) for path in REDIRECTING}
    assert set(statuses.values()) == {200}, statuses
    assert set(redirects.values()) == {303}, redirects  # to the page that shows the object


@pytest.mark.parametrize("intruder", ["b@example.org", "t@example.org", "x@example.org"])
def test_no_object_route_reaches_another_structure(
    app: FastAPI, world: dict[str, Any], intruder: str
) -> None:
    with TestClient(app, follow_redirects=False) as client:
        token = CSRF_FIELD.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
        signed = client.post(
            "/connexion", data={"email": intruder, "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303
        token = CSRF_FIELD.search(client.get("/").text).group(1)  # type: ignore[union-attr]
        before = state(app)  # signing in is audited too
        answers = {}
        for method, path in object_routes(app):
            url = path.format(**world)
            response = client.request(method, url, data=tempting(token) if method != "GET" else None)
            answers[f"{method} {path}"] = response.status_code
    assert set(answers.values()) == {404}, {k: v for k, v in answers.items() if v != 404}
    assert state(app) == before


def tempting(token: str) -> dict[str, str]:
    """A form that would change something on any route that let it through."""
    return {
        "csrf_token": token,
        "niveau": "3",
        "revision": "1",
        "questionnaire": "full",
        "titre": "x",
        "email": "y@example.org",
        "role": "direction",
        "expires_on": str(datetime.now(UTC).date()),
    }


@pytest.mark.parametrize("email", list(MEMBERS))
def test_a_member_who_may_not_use_a_route_gets_403_or_404_and_changes_nothing(
    app: FastAPI, world: dict[str, Any], email: str
) -> None:
    """Contribution may not direct (403); lecture may neither direct nor answer (403); other refusals 404."""
    refused = set(role_routes(app, DIRECTING))
    if MEMBERS[email] == MemberRole.LECTURE:
        refused |= set(role_routes(app, ANSWERING))
    assert ("POST", "/autoevaluations/{assessment_id}/soumettre") in refused
    assert ("GET", "/structures/{structure_id}/membres") in refused
    with TestClient(app, follow_redirects=False) as client:
        token = sign_in(client, email)
        before = state(app)
        answers = {}
        for method, path in object_routes(app):
            if (method, path) in refused or (method != "GET" and MEMBERS[email] == MemberRole.LECTURE):
                url = path.format(**world)
                response = client.request(method, url, data=tempting(token) if method != "GET" else None)
                answers[f"{method} {path}"] = response.status_code
        assert state(app) == before
    expected = {f"{method} {path}": 403 for method, path in refused}
    assert {key: status for key, status in answers.items() if key in expected} == expected
    assert set(answers.values()) <= {403, 404}, answers
