"""A structure's data downloaded whole, and a structure erased: through HTTP, as a director and an administrator would."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, func, select

from app.accounts.models import Role, User, UserSession
from app.accounts.service import create_user
from app.assessments import answering, evidence, files, service, snapshot
from app.assessments.models import Answer, Assessment, Evidence, Snapshot
from app.db import AuditEntry, pk
from app.structures import service as structures
from app.structures.models import MemberRole, Membership, Structure

PASSWORD = "une phrase de passe solide"
PDF = (Path(__file__).parent.parent / "fixtures" / "files" / "charte.pdf").read_bytes()
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def submitted_structure(
    app: FastAPI, session: Session, *, name: str, director: User, content: bytes
) -> dict[str, Any]:
    """A structure directed by `director` with one evidence file and a submitted assessment."""
    catalog, settings = app.state.catalog, app.state.settings
    structure = structures.create(session, name=name, city="Lille")
    structures.add_member(session, structure=structure, user=director)
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=director, questionnaire_ref="full"
    )
    stored = files.store_file(settings.evidence_dir, io.BytesIO(content), max_bytes=10**6)
    piece = evidence.add(
        session, structure=structure, user=director, title="Charte", stored=stored, filename="charte.pdf"
    )
    answering.save_answer(
        session,
        catalog=catalog,
        assessment=assessment,
        user=director,
        criterion_id="DEO-01",
        base_revision=0,
        level=3,
        not_applicable=False,
        justification="",
        comment=f"Signée par {director.name}",
    )
    evidence.attach(
        session, assessment=assessment, evidence=piece, criterion_id="DEO-01", covers=[], user=director
    )
    snapshot.submit(
        session,
        catalog=catalog,
        assessment=assessment,
        structure=structure,
        user=director,
        signer=app.state.signer,
    )
    return {"structure": pk(structure), "assessment": pk(assessment), "sha256": stored.sha256}


@pytest.fixture
def world(app: FastAPI) -> dict[str, Any]:
    """Structure A (its own director, a member shared with B, a unique file and one shared with B), and B."""
    with Session(app.state.engine) as session:
        person = {
            email: create_user(session, email=email, name=name, role=role, password=PASSWORD)
            for email, name, role in (
                ("camille@a.org", "Camille Dupont", Role.DIRECTOR),
                ("dominique@b.org", "Dominique B", Role.DIRECTOR),
                ("sacha@a.org", "Sacha Partagé", Role.DIRECTOR),
                ("admin@example.org", "Admin", Role.ADMIN),
            )
        }
        a = submitted_structure(
            app, session, name="Médiation A", director=person["camille@a.org"], content=PDF + b"%A"
        )
        b = submitted_structure(
            app, session, name="Médiation B", director=person["dominique@b.org"], content=PDF
        )
        shared = files.store_file(app.state.settings.evidence_dir, io.BytesIO(PDF), max_bytes=10**6)
        structure_a = session.get(Structure, a["structure"])
        evidence.add(
            session,
            structure=structure_a,
            user=person["camille@a.org"],
            title="Copie",
            stored=shared,
            filename="c.pdf",
        )  # type: ignore[arg-type]
        for structure_id in (a["structure"], b["structure"]):
            found = session.get(Structure, structure_id)
            structures.add_member(
                session, structure=found, user=person["sacha@a.org"], role=MemberRole.CONTRIBUTION
            )  # type: ignore[arg-type]
        return {"a": a, "b": b, "ids": {email: pk(user) for email, user in person.items()}}


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, email: str) -> str:
    token = CSRF_FIELD.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    assert (
        client.post(
            "/connexion", data={"email": email, "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 303
    )
    return CSRF_FIELD.search(client.get("/compte").text).group(1)  # type: ignore[union-attr]


def test_the_direction_downloads_every_record_file_and_snapshot_of_its_structure(
    app: FastAPI, browser: TestClient, world: dict[str, Any]
) -> None:
    token = sign_in(browser, "camille@a.org")
    structure_id = world["a"]["structure"]
    assert "Télécharger toutes les données" in html.unescape(
        browser.get(f"/structures/{structure_id}/donnees").text
    )
    response = browser.post(f"/structures/{structure_id}/donnees", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    document = json.loads(archive.read("donnees.json"))
    tables = document["tables"]
    assert [row["name"] for row in tables["structure"]] == ["Médiation A"]
    assert len(tables["membership"]) == 2
    assert [row["comment"] for row in tables["answer"]] == ["Signée par Camille Dupont"]
    assert {row["title"] for row in tables["evidence"]} == {"Charte", "Copie"}
    assert {person["email"] for person in document["people"]} >= {"camille@a.org", "sacha@a.org"}
    assert "dominique@b.org" not in json.dumps(document)
    assert "password_hash" not in json.dumps(document)
    assert sorted(name for name in archive.namelist() if name.startswith("preuves/")) == sorted(
        f"preuves/{row['id']}-{'charte' if row['title'] == 'Charte' else 'c'}.pdf"
        for row in tables["evidence"]
    )
    stem = f"instantanes/autoevaluation-{world['a']['assessment']}-revision-1"
    signed = json.loads(archive.read(f"{stem}.signature.json"))
    assert snapshot.verify(
        app.state.signer.public_bytes, archive.read(f"{stem}.json").decode(), signed["signature"]
    )
    with Session(app.state.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "structure.export")).one()
    assert (entry.actor_id, entry.structure_id, entry.after["files"]) == (
        world["ids"]["camille@a.org"],
        structure_id,
        2,
    )  # type: ignore[index]


def test_a_member_who_does_not_direct_the_structure_may_not_download_it(
    app: FastAPI, browser: TestClient, world: dict[str, Any]
) -> None:
    token = sign_in(browser, "sacha@a.org")
    assert (
        browser.post(f"/structures/{world['a']['structure']}/donnees", data={"csrf_token": token}).status_code
        == 403
    )
    with Session(app.state.engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "structure.export")).all() == []


def counts(app: FastAPI) -> dict[str, int]:
    with Session(app.state.engine) as session:
        return {
            model.__tablename__: session.exec(select(func.count()).select_from(model)).one()  # type: ignore[arg-type]
            for model in (Assessment, Answer, Evidence, Snapshot, Membership, AuditEntry)
        }


def test_erasure_needs_the_structures_name_typed_and_changes_nothing_otherwise(
    app: FastAPI, browser: TestClient, world: dict[str, Any]
) -> None:
    token = sign_in(browser, "admin@example.org")
    path = f"/admin/structures/{world['a']['structure']}/effacer"
    before = counts(app)
    refused = browser.post(path, data={"csrf_token": token, "confirmation": "Médiation"})
    assert refused.status_code == 422
    assert "Saisissez exactement le nom de la structure, « Médiation A », pour confirmer." in html.unescape(
        refused.text
    )
    assert counts(app) == before


def test_erasing_a_structure_removes_its_records_and_anonymises_the_people_who_were_only_its_own(
    app: FastAPI, browser: TestClient, world: dict[str, Any]
) -> None:
    evidence_dir = app.state.settings.evidence_dir
    with TestClient(app, follow_redirects=False) as director:
        sign_in(director, "camille@a.org")
        token = sign_in(browser, "admin@example.org")
        path = f"/admin/structures/{world['a']['structure']}/effacer"
        erased = browser.post(path, data={"csrf_token": token, "confirmation": " Médiation A "})
        assert erased.status_code == 303
        assert "Cette structure a été effacée le" in html.unescape(browser.get(path).text)
        assert director.get("/compte").status_code == 303  # the director's session ended
    with Session(app.state.engine) as session:
        structure = session.get(Structure, world["a"]["structure"])
        assert structure is not None
        assert (structure.name, structure.city, structure.profile) == ("Structure effacée", "", {})
        assert structure.erased_at is not None
        assert structure.archived_at is not None
        assert session.exec(select(Assessment).where(Assessment.structure_id == structure.id)).all() == []
        assert session.exec(select(Evidence).where(Evidence.structure_id == structure.id)).all() == []
        camille = session.get(User, world["ids"]["camille@a.org"])
        assert camille is not None
        assert (camille.email, camille.name, camille.is_active) == (
            f"erased-{camille.id}@erased.invalid",
            "Personne effacée",
            False,
        )
        assert session.exec(select(UserSession).where(UserSession.user_id == camille.id)).all() == []
        sacha = session.get(User, world["ids"]["sacha@a.org"])
        assert sacha is not None
        assert (sacha.email, sacha.is_active) == ("sacha@a.org", True)
        assert [
            m.structure_id for m in session.exec(select(Membership).where(Membership.user_id == sacha.id))
        ] == [world["b"]["structure"]]
        entries = list(
            session.exec(
                select(AuditEntry).where(AuditEntry.structure_id == structure.id).order_by(AuditEntry.id)
            )
        )
        assert len(entries) > 5
        assert all(entry.before is None and entry.after is None for entry in entries[:-1])
        assert entries[-1].action == "structure.erase"
        assert entries[-1].after["people_anonymised"] == 1  # type: ignore[index]
        created = session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "user.create", AuditEntry.object_id == str(camille.id)
            )
        ).one()
        assert (created.after, created.erased_at is not None) == (None, True)
        dumped = json.dumps([entry.model_dump(mode="json") for entry in session.exec(select(AuditEntry))])
        assert "camille@a.org" not in dumped
        assert "Camille Dupont" not in dumped
        remaining = session.exec(select(Snapshot)).one()
        assert snapshot.verify(app.state.signer.public_bytes, remaining.canonical_json, remaining.signature)
    assert not (evidence_dir / world["a"]["sha256"][:2] / world["a"]["sha256"]).exists()
    assert (
        evidence_dir / world["b"]["sha256"][:2] / world["b"]["sha256"]
    ).read_bytes() == PDF  # shared with B
    with TestClient(app, follow_redirects=False) as again:
        token = CSRF_FIELD.search(again.get("/connexion").text).group(1)  # type: ignore[union-attr]
        refused = again.post(
            "/connexion", data={"email": "camille@a.org", "password": PASSWORD, "csrf_token": token}
        )
        assert refused.status_code == 422


def test_a_structure_is_erased_once(app: FastAPI, browser: TestClient, world: dict[str, Any]) -> None:
    token = sign_in(browser, "admin@example.org")
    path = f"/admin/structures/{world['b']['structure']}/effacer"
    assert browser.post(path, data={"csrf_token": token, "confirmation": "Médiation B"}).status_code == 303
    assert (
        browser.post(path, data={"csrf_token": token, "confirmation": "Structure effacée"}).status_code == 409
    )


def test_only_administrators_reach_the_erasure(browser: TestClient, world: dict[str, Any]) -> None:
    token = sign_in(browser, "camille@a.org")
    path = f"/admin/structures/{world['a']['structure']}/effacer"
    assert browser.get(path).status_code == 404
    assert browser.post(path, data={"csrf_token": token, "confirmation": "Médiation A"}).status_code == 404


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entry SET before = NULL, after = NULL, erased_at = CURRENT_TIMESTAMP, action = 'x'",
        "UPDATE audit_entry SET erased_at = CURRENT_TIMESTAMP",
        "DELETE FROM audit_entry",
    ],
)
def test_the_audit_log_allows_only_erasing_its_values_once(session: Session, statement: str) -> None:
    session.add(AuditEntry(action="user.create", object_type="user", object_id="1", after={"email": "a@b.c"}))
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    session.rollback()
    session.execute(text("UPDATE audit_entry SET before = NULL, after = NULL, erased_at = CURRENT_TIMESTAMP"))
    session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(
            text("UPDATE audit_entry SET before = NULL, after = NULL, erased_at = CURRENT_TIMESTAMP")
        )
