"""Drafts through HTTP, on SQLite and PostgreSQL: names, the second-draft warning, deletion."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.assessments.models import ActionItem, Answer, Assessment, AssessmentStatus, Evidence, EvidenceLink
from app.db import AuditEntry
from tests.assessments.test_routes import (
    PDF,
    STRANGER,
    add_evidence,
    answer,
    director,
    post,
    rows,
    sign_in,
    start,
    text,
)


def month_now() -> str:
    months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ]
    today = datetime.now(UTC)
    return f"{months[today.month - 1]} {today.year}"


def assessment_row(app: FastAPI, assessment_id: int) -> Assessment | None:
    with Session(app.state.engine) as session:
        return session.get(Assessment, assessment_id)


def audits(app: FastAPI, action: str) -> list[AuditEntry]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def structure_id(app: FastAPI, client: TestClient) -> int:
    found = director(app)
    sign_in(client)
    return found


def test_a_new_assessment_is_named_after_its_questionnaire_and_month(
    app: FastAPI, client: TestClient, structure_id: int
) -> None:
    full = start(client, structure_id)
    express = start(client, structure_id, "express")
    assert assessment_row(app, full).name == f"Autoévaluation complète — {month_now()}"  # type: ignore[union-attr]
    assert assessment_row(app, express).name == f"Autoévaluation express — {month_now()}"  # type: ignore[union-attr]
    page = text(client.get(f"/structures/{structure_id}"))
    assert f"Autoévaluation complète — {month_now()}" in page
    assert f"Autoévaluation express — {month_now()}" in page
    assert "Renommer ou supprimer" in text(client.get(f"/autoevaluations/{full}"))


def test_a_second_draft_of_the_same_questionnaire_warns_and_links_to_the_first(
    app: FastAPI, client: TestClient, structure_id: int
) -> None:
    first = start(client, structure_id)
    warned = post(client, f"/structures/{structure_id}/autoevaluations", {"questionnaire": "full"})
    assert warned.status_code == 409
    page = text(warned)
    assert "Un brouillon de ce questionnaire existe déjà" in page
    assert f'href="/autoevaluations/{first}"' in warned.text
    assert '<input type="hidden" name="nouveau" value="1">' in warned.text
    assert len(rows(app, Assessment)) == 1  # nothing started
    anyway = post(
        client, f"/structures/{structure_id}/autoevaluations", {"questionnaire": "full", "nouveau": "1"}
    )
    assert anyway.status_code == 303
    assert len(rows(app, Assessment)) == 2
    # Another questionnaire is no duplicate.
    assert (
        post(client, f"/structures/{structure_id}/autoevaluations", {"questionnaire": "express"}).status_code
        == 303
    )


def test_renaming_trims_the_name_and_is_audited(app: FastAPI, client: TestClient, structure_id: int) -> None:
    assessment = start(client, structure_id)
    response = post(client, f"/autoevaluations/{assessment}/nom", {"nom": "  Relecture   de printemps "})
    assert response.status_code == 303
    assert assessment_row(app, assessment).name == "Relecture de printemps"  # type: ignore[union-attr]
    [entry] = audits(app, "assessment.rename")
    assert entry.after == {"name": "Relecture de printemps"}
    assert "Relecture de printemps" in text(client.get(f"/structures/{structure_id}"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Donnez un nom à cette autoévaluation."),
        ("   ", "Donnez un nom à cette autoévaluation."),
        ("x" * 121, "Le nom ne doit pas dépasser 120 caractères (il en compte 121)."),
    ],
)
def test_an_empty_or_too_long_name_is_refused_with_422(
    app: FastAPI, client: TestClient, structure_id: int, name: str, message: str
) -> None:
    assessment = start(client, structure_id)
    before = assessment_row(app, assessment).name  # type: ignore[union-attr]
    response = post(client, f"/autoevaluations/{assessment}/nom", {"nom": name})
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'href="#nom"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert assessment_row(app, assessment).name == before  # type: ignore[union-attr]
    assert audits(app, "assessment.rename") == []


def test_a_malformed_name_form_changes_nothing(app: FastAPI, client: TestClient, structure_id: int) -> None:
    assessment = start(client, structure_id)
    response = post(client, f"/autoevaluations/{assessment}/nom", {"autre": "x"})
    assert response.status_code == 422
    assert "Donnez un nom à cette autoévaluation." in text(response)


def test_deleting_a_draft_needs_the_confirmation_box(
    app: FastAPI, client: TestClient, structure_id: int
) -> None:
    assessment = start(client, structure_id)
    for form in ({}, {"confirmer": "non"}):
        response = post(client, f"/autoevaluations/{assessment}/supprimer", form)
        assert response.status_code == 422
        assert "Cochez la case pour confirmer la suppression de ce brouillon." in text(response)
    assert assessment_row(app, assessment) is not None


def test_deleting_a_draft_removes_its_answers_and_keeps_evidence_linked_elsewhere(
    app: FastAPI, client: TestClient, structure_id: int
) -> None:
    kept_in = start(client, structure_id, "express")
    doomed = start(client, structure_id)
    assert answer(client, doomed, "DEO-01", "2").status_code == 303
    assert add_evidence(client, doomed, "DEO-01", content=PDF, titre="Charte signée").status_code == 303
    assert (
        add_evidence(client, doomed, "DEO-02", content=PDF, name="autre.pdf", titre="Note").status_code == 303
    )
    with Session(app.state.engine) as session:  # the charter also supports the express draft
        charter = session.exec(select(Evidence).where(Evidence.title == "Charte signée")).one()
        session.add(EvidenceLink(assessment_id=kept_in, criterion_id="DEO-01", evidence_id=charter.id))
        session.add(ActionItem(assessment_id=doomed, criterion_id="DEO-02", title="Agir"))
        session.commit()
    page = text(client.get(f"/autoevaluations/{doomed}/brouillon"))
    assert "Charte signée" in page.split("une autre autoévaluation les utilise")[1]
    assert "Note" in page.split("seront supprimées avec lui")[1]
    response = post(client, f"/autoevaluations/{doomed}/supprimer", {"confirmer": "oui"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/structures/{structure_id}?supprime=1"
    assert assessment_row(app, doomed) is None
    assert [a.assessment_id for a in rows(app, Answer)] == []
    assert rows(app, ActionItem) == []
    assert [p.title for p in rows(app, Evidence)] == ["Charte signée"]
    assert [link.assessment_id for link in rows(app, EvidenceLink)] == [kept_in]
    [entry] = audits(app, "assessment.delete")
    assert entry.before is not None
    assert entry.before["answers"] == 1
    assert entry.before["evidence_deleted"] == ["Note"]
    assert "Le brouillon a été supprimé." in text(client.get(response.headers["location"]))
    assert client.get(f"/autoevaluations/{doomed}").status_code == 404


def test_a_submitted_or_returned_assessment_cannot_be_deleted(
    app: FastAPI, client: TestClient, structure_id: int
) -> None:
    submitted = start(client, structure_id, "express")
    returned = start(client, structure_id)
    with Session(app.state.engine) as session:
        first = session.get(Assessment, submitted)
        second = session.get(Assessment, returned)
        assert first is not None
        assert second is not None
        first.status, first.submitted_at = AssessmentStatus.SUBMITTED, datetime.now(UTC)
        second.revision = 2  # sent back by the trainer once
        session.add_all([first, second])
        session.commit()
    refused = post(client, f"/autoevaluations/{submitted}/supprimer", {"confirmer": "oui"})
    assert refused.status_code == 409
    assert "Une autoévaluation soumise ne peut pas être supprimée." in text(refused)
    again = post(client, f"/autoevaluations/{returned}/supprimer", {"confirmer": "oui"})
    assert again.status_code == 409
    assert "déjà été soumise puis retournée" in text(again)
    assert assessment_row(app, submitted) is not None
    assert assessment_row(app, returned) is not None
    assert audits(app, "assessment.delete") == []
    assert "Retournée pour modifications — révision 2" in text(client.get(f"/structures/{structure_id}"))


def test_another_director_cannot_rename_or_delete(
    app: FastAPI, client: TestClient, structure_id: int
) -> None:
    assessment = start(client, structure_id)
    director(app, STRANGER, "Autre structure")
    with TestClient(app, follow_redirects=False) as other:
        sign_in(other, STRANGER)
        assert other.get(f"/autoevaluations/{assessment}/brouillon").status_code == 404
        assert post(other, f"/autoevaluations/{assessment}/nom", {"nom": "Pris"}).status_code == 404
        assert (
            post(other, f"/autoevaluations/{assessment}/supprimer", {"confirmer": "oui"}).status_code == 404
        )
    assert assessment_row(app, assessment) is not None
