"""Carrying answers to another criteria version through HTTP: the preview, then the start of a new
assessment or the move of a draft; re-confirming carried answers before submission.

The app runs on the test referential with two released versions: tests/fixtures/catalog (mini@1.0.0
released, mini@1.1.0 a draft) with tests/fixtures/versions laid over it (mini@2.0.0 released, and
questionnaires mini-full and mini-express for it). From 1.0.0 to 2.0.0: DEO-01 unchanged, DEO-02
replaced by DEO-03, PRO-01's requirement and levels changed, PRO-02 and STR-01 merged into STR-02,
EVA-01 withdrawn without successor, EVA-02 new.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.accounts.service import create_user
from app.assessments import answering, evidence, service, snapshot
from app.assessments.models import Answer, Assessment, AssessmentStatus, EvidenceLink, Snapshot
from app.db import AuditEntry, pk
from app.structures.models import Structure
from tests.assessments.test_routes import (
    DIRECTOR,
    PASSWORD,
    audit_count,
    make_app,
    post,
    rows,
    sign_in,
    submission,
    text,
)
from tests.factories import make_cohort

FIXTURES = Path(__file__).parent.parent / "fixtures"
ANSWERS = {"DEO-01": 3, "DEO-02": 2, "PRO-01": 2, "PRO-02": 3, "STR-01": 1, "EVA-01": 3}
PIECES = {  # title: (criterion, expected-evidence items it covers in mini@1.0.0)
    "Charte": ("DEO-01", ["charte", "registre"]),
    "Feuilles de présence": ("DEO-02", ["presence"]),
    "Procédure B": ("PRO-02", ["procedure-b"]),
    "Procédure de nuit": ("STR-01", ["procedure-nuit"]),
}


def versions_catalog(folder: Path) -> Path:
    """A catalog folder holding both versions of the test referential."""
    shutil.copytree(FIXTURES / "catalog", folder)
    shutil.copytree(FIXTURES / "versions", folder, dirs_exist_ok=True)
    return folder


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    application = make_app(
        database_url, tmp_path / "data", catalog_dir=versions_catalog(tmp_path / "catalog")
    )
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def structure(app: FastAPI, client: TestClient) -> int:
    """A signed-in director's structure."""
    with Session(app.state.engine) as session:
        user = create_user(
            session, email=DIRECTOR, name="Camille Martin", role=Role.DIRECTOR, password=PASSWORD
        )
        found = Structure(name="Médiation Lille Sud", city="Lille")
        session.add(found)
        session.commit()
        from app.structures import service as structures

        structures.add_member(session, structure=found, user=user)
        structure_id = pk(found)
    sign_in(client)
    return structure_id


def on_old_version(app: FastAPI, structure_id: int, *, submitted: bool = False) -> int:
    """An assessment of mini-full@1.0.0 (started before 2.0.0 was released), answered with evidence."""
    catalog = app.state.catalog
    with Session(app.state.engine) as session:
        user = session.exec(select(User).where(User.email == DIRECTOR)).one()
        found = session.get(Structure, structure_id)
        assert found is not None
        started = service.start(
            session, catalog=catalog, structure=found, user=user, questionnaire_ref="mini-full@1.0.0"
        )
        for criterion_id, level in ANSWERS.items():
            answering.save_answer(
                session,
                catalog=catalog,
                assessment=started,
                user=user,
                criterion_id=criterion_id,
                base_revision=0,
                level=level,
                not_applicable=False,
                justification="",
                comment=f"Note {criterion_id}",
            )
        for title, (criterion_id, covers) in PIECES.items():
            piece = evidence.add(session, structure=found, user=user, title=title)
            evidence.attach(
                session,
                assessment=started,
                evidence=piece,
                criterion_id=criterion_id,
                covers=covers,
                user=user,
            )
        if submitted:
            snapshot.submit(
                session,
                catalog=catalog,
                assessment=started,
                structure=found,
                user=user,
                signer=app.state.signer,
            )
        return pk(started)


def assessment_of(app: FastAPI, assessment_id: int) -> Assessment:
    with Session(app.state.engine) as session:
        found = session.get(Assessment, assessment_id)
        assert found is not None
        return found


def answers_of(app: FastAPI, assessment_id: int) -> dict[str, Answer]:
    with Session(app.state.engine) as session:
        return {
            a.criterion_id: a
            for a in session.exec(select(Answer).where(Answer.assessment_id == assessment_id))
        }


def covers_of(app: FastAPI, assessment_id: int) -> dict[tuple[str, str], str]:
    """Each link of the assessment as (criterion, piece title) → the items it covers."""
    from app.assessments.models import Evidence

    with Session(app.state.engine) as session:
        query = (
            select(EvidenceLink, Evidence).join(Evidence).where(EvidenceLink.assessment_id == assessment_id)
        )
        return {(link.criterion_id, piece.title): link.covers for link, piece in session.exec(query)}


def line(page: str, criterion: str) -> str:
    """The preview's row for one criterion."""
    found = re.search(rf'<tr id="reprise-{criterion}">(.*?)</tr>', page, re.DOTALL)
    assert found, f"no row for {criterion}"
    return found.group(1)


def move_url(assessment_id: int) -> str:
    return f"/autoevaluations/{assessment_id}/changer-de-version"


# --- New assessments and the preview of « À partir de la précédente » -------------------------


def test_new_assessments_start_on_the_latest_released_version(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    response = post(client, f"/structures/{structure}/autoevaluations", {"questionnaire": "mini-full"})
    assert response.status_code == 303
    started = assessment_of(app, int(response.headers["location"].rsplit("/", 1)[1]))
    assert (started.questionnaire_ref, started.criteria_ref) == ("mini-full@2.0.0", "mini@2.0.0")
    assert started.criteria_sha256 == app.state.catalog.criteria_hashes["mini@2.0.0"]


def test_starting_from_an_earlier_version_shows_the_preview_criterion_by_criterion_first(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    previous = on_old_version(app, structure, submitted=True)
    form = {"questionnaire": "mini-full", "depuis": str(previous)}
    response = post(client, f"/structures/{structure}/autoevaluations", form)
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"/structures/{structure}/reprise?questionnaire=mini-full&depuis={previous}"
    )
    page = text(client.get(response.headers["location"]))
    assert len(rows(app, Assessment)) == 1  # nothing written yet

    assert "Reprendre les réponses de l'autoévaluation précédente" in page
    assert "1 réponse reprise telle quelle, 3 à revoir, 1 abandonnée" in page
    assert "Repris" in line(page, "DEO-01")
    assert "Même critère, inchangé." in line(page, "DEO-01")
    assert "À revoir" in line(page, "DEO-03")
    assert "Remplace DEO-02 (version 2.0.0)." in line(page, "DEO-03")
    assert "Critère modifié dans la version 2.0.0 : exigence, description des niveaux." in line(
        page, "PRO-01"
    )
    merged = line(page, "STR-02")
    assert "PRO-02, STR-01" in merged
    assert (
        "Fusion de PRO-02, STR-01 dans ce critère (version 2.0.0) : la réponse la plus prudente est reprise."
        in merged
    )
    assert "<td>2</td>" in merged  # both pieces come along
    assert "Abandonné" in line(page, "EVA-01")
    assert "Retiré dans mini@2.0.0 sans successeur." in line(page, "EVA-01")

    created = post(client, f"/structures/{structure}/reprise", form)
    assert created.status_code == 303
    new_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert created.headers["location"] == f"/autoevaluations/{new_id}"
    assert assessment_of(app, new_id).criteria_ref == "mini@2.0.0"
    carried = answers_of(app, new_id)
    assert {cid: a.level for cid, a in carried.items()} == {
        "DEO-01": 3,
        "DEO-03": 2,
        "PRO-01": 2,
        "STR-02": 1,
    }
    assert all(a.carried_over for a in carried.values())
    assert carried["STR-02"].comment == "Note PRO-02 / Note STR-01"
    with Session(app.state.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "assessment.start")).all()[-1]
    assert entry.after is not None
    assert entry.after["dropped"] == {"EVA-01": "retiré dans mini@2.0.0 sans successeur"}


def test_the_express_questionnaire_drops_what_it_does_not_ask_and_says_so(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    previous = on_old_version(app, structure)
    page = text(client.get(f"/structures/{structure}/reprise?questionnaire=mini-express&depuis={previous}"))
    assert "Non posé par le questionnaire « Questionnaire express de test »." in line(page, "DEO-03")
    assert "Abandonné" in line(page, "STR-02")
    created = post(
        client, f"/structures/{structure}/reprise", {"questionnaire": "mini-express", "depuis": str(previous)}
    )
    assert set(answers_of(app, int(created.headers["location"].rsplit("/", 1)[1]))) == {"DEO-01", "PRO-01"}


def test_the_preview_starts_by_default_from_the_latest_submitted_assessment(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    submitted = on_old_version(app, structure, submitted=True)
    on_old_version(app, structure)  # a later draft
    page = text(client.get(f"/structures/{structure}/reprise"))
    assert f'name="depuis" value="{submitted}"' in page
    assert "Remplace DEO-02 (version 2.0.0)." in line(page, "DEO-03")


def test_the_same_version_goes_through_the_same_preview(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    first = post(client, f"/structures/{structure}/autoevaluations", {"questionnaire": "mini-full"})
    first_id = int(first.headers["location"].rsplit("/", 1)[1])
    form = {"niveau": "2", "revision": "0", "justification": "", "commentaire": ""}
    assert post(client, f"/autoevaluations/{first_id}/reponses/DEO-01", form).status_code == 303
    page = text(client.get(f"/structures/{structure}/reprise?questionnaire=mini-full&depuis={first_id}"))
    assert "Repris" in line(page, "DEO-01")
    assert "Même critère, même version." in line(page, "DEO-01")


def test_copied_evidence_keeps_the_items_it_covers_mapped_to_the_new_criteria(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    previous = on_old_version(app, structure)
    created = post(
        client, f"/structures/{structure}/reprise", {"questionnaire": "mini-full", "depuis": str(previous)}
    )
    assert covers_of(app, int(created.headers["location"].rsplit("/", 1)[1])) == {
        ("DEO-01", "Charte"): "charte,registre",
        ("DEO-03", "Feuilles de présence"): "presence",  # the same item id in the successor
        ("STR-02", "Procédure de nuit"): "procedure-nuit",
        ("STR-02", "Procédure B"): "",  # STR-02 does not expect the procedure B
    }


# --- Moving a draft ---------------------------------------------------------------------------


def test_a_director_moves_a_draft_in_place_through_the_preview(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    draft = on_old_version(app, structure)
    assert "La version 2.0.0 du référentiel est publiée." in text(client.get(f"/autoevaluations/{draft}"))
    page = text(client.get(move_url(draft)))
    assert "Passer à la version 2.0.0 du référentiel" in page
    assert "Remplace DEO-02 (version 2.0.0)." in line(page, "DEO-03")
    assert assessment_of(app, draft).criteria_ref == "mini@1.0.0"  # a preview writes nothing

    response = post(client, move_url(draft), {"version": "mini@2.0.0"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/autoevaluations/{draft}"
    moved = assessment_of(app, draft)
    assert (moved.questionnaire_ref, moved.criteria_ref) == ("mini-full@2.0.0", "mini@2.0.0")
    assert moved.questionnaire_sha256 == app.state.catalog.questionnaire_hashes["mini-full@2.0.0"]
    answers = answers_of(app, draft)
    assert {cid: (a.level, a.carried_over) for cid, a in answers.items()} == {
        "DEO-01": (3, False),  # unchanged: stays as the director left it
        "DEO-03": (2, True),
        "PRO-01": (2, True),
        "STR-02": (1, True),
    }
    assert covers_of(app, draft)[("DEO-01", "Charte")] == "charte,registre"
    assert covers_of(app, draft)[("STR-02", "Procédure de nuit")] == "procedure-nuit"
    with Session(app.state.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "assessment.migrate")).one()
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["criteria"] == "mini@1.0.0"
    assert entry.before["answers"]["EVA-01"]["level"] == 3  # the earlier answers stay in the audit log
    assert {link["criterion"] for link in entry.before["links"]} == {"DEO-01", "DEO-02", "PRO-02", "STR-01"}
    assert entry.after["criteria"] == "mini@2.0.0"
    overview = text(client.get(f"/autoevaluations/{draft}"))
    assert "3 réponses reprises sont à reconfirmer" in overview
    assert "La version 2.0.0 du référentiel est publiée." not in overview
    assert "EVA-02" in text(client.get(f"/autoevaluations/{draft}/resultats"))  # now scored on 2.0.0
    latest = client.get(move_url(draft))
    assert latest.status_code == 200
    assert "suit la dernière version publiée du référentiel, la version 2.0.0" in text(latest)


def test_a_submitted_assessment_never_moves_and_keeps_its_own_version(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    submitted = on_old_version(app, structure, submitted=True)
    before = audit_count(app)
    assert client.get(move_url(submitted)).status_code == 409
    response = post(client, move_url(submitted), {"version": "mini@2.0.0"})
    assert response.status_code == 409
    assert "elle ne peut plus être modifiée" in text(response)
    assert audit_count(app) == before
    kept = assessment_of(app, submitted)
    assert (kept.criteria_ref, kept.status) == ("mini@1.0.0", AssessmentStatus.SUBMITTED)
    assert set(answers_of(app, submitted)) == set(ANSWERS)
    with Session(app.state.engine) as session:
        stored = session.exec(select(Snapshot).where(Snapshot.assessment_id == submitted)).one()
        found = session.get(Structure, structure)
        assert found is not None
        result = service.evaluate(session, catalog=app.state.catalog, assessment=kept, structure=found)
    assert '"criteria":{"ref":"mini@1.0.0"' in stored.canonical_json
    assert (result.criteria_ref, result.scoring_version) == ("mini@1.0.0", "t1")
    assert "EVA-01" in {r.criterion for r in result.criteria}  # withdrawn in 2.0.0, still scored here
    results = text(client.get(f"/autoevaluations/{submitted}/resultats"))
    assert "EVA-02" not in results  # critical and unanswered, it would be a gap if 2.0.0 scored it


@pytest.mark.parametrize(
    ("version", "status", "message"),
    [
        ("mini@9.9.9", 422, "Cette version du référentiel n'existe pas."),
        ("autre@1.0.0", 422, "Cette version du référentiel n'existe pas."),
        ("mini@1.1.0", 422, "La version 1.1.0 n'est pas publiée"),
        ("mini@1.0.0", 409, "Cette autoévaluation suit déjà la version 1.0.0"),
    ],
)
def test_a_bad_target_version_is_refused_and_changes_nothing(
    app: FastAPI, client: TestClient, structure: int, version: str, status: int, message: str
) -> None:
    draft = on_old_version(app, structure)
    before = audit_count(app)
    shown = client.get(move_url(draft), params={"version": version})
    assert (shown.status_code, message in text(shown)) == (status, True)
    response = post(client, move_url(draft), {"version": version})
    assert (response.status_code, message in text(response)) == (status, True)
    assert audit_count(app) == before
    assert assessment_of(app, draft).criteria_ref == "mini@1.0.0"


def test_someone_without_write_access_gets_404_everywhere(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    draft = on_old_version(app, structure)
    with Session(app.state.engine) as session:
        other = create_user(
            session, email="autre@example.org", name="B", role=Role.DIRECTOR, password=PASSWORD
        )
        trainer = create_user(
            session, email="coach@example.org", name="C", role=Role.TRAINER, password=PASSWORD
        )
        found = session.get(Structure, structure)
        assert found is not None
        assert other.id
        make_cohort(session, trainers=[trainer], structures=[found])  # the trainer reads, never writes
    for email in ("autre@example.org", "coach@example.org"):
        client.cookies.clear()
        sign_in(client, email)
        before = audit_count(app)
        calls: list[Any] = [
            client.get(move_url(draft)),
            post(client, move_url(draft), {"version": "mini@2.0.0"}),
            post(client, f"/autoevaluations/{draft}/sections/tout/confirmer"),
            client.get(f"/structures/{structure}/reprise?questionnaire=mini-full&depuis={draft}"),
            post(
                client,
                f"/structures/{structure}/reprise",
                {"questionnaire": "mini-full", "depuis": str(draft)},
            ),
        ]
        assert [call.status_code for call in calls] == [404] * 5
        assert audit_count(app) == before
    assert assessment_of(app, draft).criteria_ref == "mini@1.0.0"


# --- Re-confirming before submission ----------------------------------------------------------


def test_carried_answers_must_be_reconfirmed_before_submission_a_section_at_a_time(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    draft = on_old_version(app, structure)
    assert post(client, move_url(draft), {"version": "mini@2.0.0"}).status_code == 303

    review = text(client.get(f"/autoevaluations/{draft}/verification"))
    assert "Réponses reprises à reconfirmer (3)" in review
    assert "Soumission impossible : 3 réponses reprises restent à reconfirmer." in review
    refused = post(client, f"/autoevaluations/{draft}/soumettre", {"confirmation": "oui"})
    assert refused.status_code == 422
    assert "Des réponses reprises restent à reconfirmer (DEO-03, PRO-01, STR-02)" in text(refused)
    assert assessment_of(app, draft).status == AssessmentStatus.DRAFT

    section = text(client.get(f"/autoevaluations/{draft}/sections/principes"))
    assert "1 réponse de cette section est reprise et reste à reconfirmer." in section
    assert "Tout confirmer dans cette section" in section
    revision = answers_of(app, draft)["DEO-03"].revision
    confirmed = post(client, f"/autoevaluations/{draft}/sections/principes/confirmer", htmx=True)
    assert confirmed.status_code == 200
    assert "1 réponse confirmée dans cette section." in text(confirmed)
    assert "Tout confirmer dans cette section" not in text(confirmed)
    assert answers_of(app, draft)["DEO-03"].carried_over is False
    assert answers_of(app, draft)["DEO-03"].revision == revision + 1  # forms loaded before are stale now
    assert answers_of(app, draft)["PRO-01"].carried_over is True  # another section

    without_js = post(client, f"/autoevaluations/{draft}/sections/pratiques/confirmer")
    assert without_js.status_code == 303
    assert without_js.headers["location"] == f"/autoevaluations/{draft}/sections/pratiques"
    assert not any(a.carried_over for a in answers_of(app, draft).values())
    with Session(app.state.engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "answers.confirm")).all()
    assert [e.after for e in entries] == [
        {"section": "principes", "criteria": ["DEO-03"]},
        {"section": "pratiques", "criteria": ["PRO-01", "STR-02"]},
    ]
    assert "Réponses reprises à reconfirmer (0)" in text(client.get(f"/autoevaluations/{draft}/verification"))
    submitted = post(client, f"/autoevaluations/{draft}/soumettre", submission(client, draft))
    assert submitted.status_code == 303


def test_confirming_a_section_is_refused_on_a_submitted_assessment_or_an_unknown_section(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    submitted = on_old_version(app, structure, submitted=True)
    assert post(client, f"/autoevaluations/{submitted}/sections/tout/confirmer").status_code == 409
    draft = on_old_version(app, structure)
    assert post(client, f"/autoevaluations/{draft}/sections/inconnue/confirmer").status_code == 404


def test_a_draft_returned_for_changes_stays_on_the_version_its_snapshot_was_made_on(
    app: FastAPI, client: TestClient, structure: int
) -> None:
    from app.reviews.decisions import decide
    from app.reviews.models import Decision

    returned = on_old_version(app, structure, submitted=True)
    with Session(app.state.engine) as session:
        trainer = create_user(
            session, email="coach@example.org", name="C", role=Role.TRAINER, password=PASSWORD
        )
        found, assessment = session.get(Structure, structure), session.get(Assessment, returned)
        assert found is not None
        assert assessment is not None
        make_cohort(session, trainers=[trainer], structures=[found])
        decide(session, assessment=assessment, user=trainer, decision=Decision.RETURNED, comment="À revoir")
    assert assessment_of(app, returned).status == AssessmentStatus.DRAFT
    assert "La version 2.0.0 du référentiel est publiée." not in text(
        client.get(f"/autoevaluations/{returned}")
    )
    response = post(client, move_url(returned), {"version": "mini@2.0.0"})
    assert response.status_code == 409
    assert "soumise puis retournée pour modifications : elle reste sur sa version" in text(response)
    assert assessment_of(app, returned).criteria_ref == "mini@1.0.0"
