"""A trainer's review (« audit blanc ») through HTTP: writes, conflicts, decisions, who sees what."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from app.accounts.models import Role, User
from app.assessments import evidence
from app.assessments import service as assessments
from app.assessments.models import Answer, Assessment, AssessmentStatus, Snapshot
from app.assessments.snapshot import load_or_create_signer, submit
from app.db import AuditEntry, pk
from app.reviews.models import EvidenceRating, ReviewDecision, ReviewItem
from app.structures.models import AuditorGrant
from tests.factories import make_cohort
from tests.reports.helpers import answer, csrf_from, member, signed_in

HTMX = {"HX-Request": "true"}
# DEO-01 declared in place with a document, DEO-02 partial, DEO-04 in place; the rest unanswered.
LEVELS = {"DEO-01": 3, "DEO-02": 2, "DEO-04": 3}


@pytest.fixture
def world(app: FastAPI) -> dict[str, Any]:
    """A director's submitted assessment with a document on DEO-01, reviewed by the cohort's trainer."""
    director, structure = member(app, "nadia@example.org", structure_name="Médiation Horizon")
    trainer, _ = member(app, "julien@example.org", role=Role.TRAINER)
    member(app, "lea@example.org", role=Role.TRAINER)  # runs another cohort
    member(app, "claire@example.org", role=Role.AUDITOR)
    catalog = app.state.catalog
    with Session(app.state.engine, expire_on_commit=False) as session:
        director, structure, trainer = (
            session.merge(director),
            session.merge(structure),
            session.merge(trainer),
        )
        assessment = assessments.start(
            session, catalog=catalog, structure=structure, user=director, questionnaire_ref="full"
        )
        for criterion_id, level in LEVELS.items():
            answer(
                session, catalog, assessment=assessment, user=director, criterion_id=criterion_id, level=level
            )
        piece = evidence.add(session, structure=structure, user=director, title="Charte signée 2025")
        link = evidence.attach(
            session,
            assessment=assessment,
            evidence=piece,
            criterion_id="DEO-01",
            covers=["charte"],
            user=director,
        )
        draft = assessments.start(
            session, catalog=catalog, structure=structure, user=director, questionnaire_ref="express"
        )
        draft_link = evidence.attach(
            session, assessment=draft, evidence=piece, criterion_id="DEO-01", covers=[], user=director
        )
        signer = load_or_create_signer(app.state.settings.data_dir)
        submit(
            session, catalog=catalog, assessment=assessment, structure=structure, user=director, signer=signer
        )
        cohort = make_cohort(session, trainers=[trainer], structures=[structure])
    return {
        "assessment": pk(assessment),
        "draft": pk(draft),
        "link": pk(link),
        "draft_link": pk(draft_link),
        "structure": pk(structure),
        "cohort": pk(cohort),
        "director": pk(director),
    }


def text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def post(client: TestClient, url: str, data: dict[str, Any], *, htmx: bool = False) -> httpx.Response:
    token = csrf_from(client.get("/").text)
    if htmx:
        return client.post(url, data=data, headers={**HTMX, "X-CSRF-Token": token})
    return client.post(url, data={**data, "csrf_token": token})


def submission(client: TestClient, assessment: int) -> dict[str, str]:
    """The submit form as ticked on the page: confirmed, and below 100 % the count it states."""
    page = client.get(f"/autoevaluations/{assessment}/verification").text
    found = re.search(r'name="incomplet" value="(\d+)"', page)
    return {"confirmation": "oui"} | ({"incomplet": found.group(1)} if found else {})


def validate(client: TestClient, assessment: int, data: dict[str, Any] | None = None) -> httpx.Response:
    """Validate as the page does: ticking the box that states how many criteria were not reviewed."""
    page = client.get(f"/autoevaluations/{assessment}/relecture").text
    found = re.search(r'name="confirmation" value="(\d+)"', page)
    form = (data or {}) | ({"confirmation": found.group(1)} if found else {})
    return post(client, f"/autoevaluations/{assessment}/relecture/validation", form)


def review(
    client: TestClient,
    assessment: int,
    criterion: str,
    niveau: str,
    *,
    revision: int = 0,
    htmx: bool = True,
    **more: str,
) -> httpx.Response:
    form = {"niveau": niveau, "commentaire": "", "constat": "", "revision": str(revision)} | more
    return post(client, f"/autoevaluations/{assessment}/relecture/criteres/{criterion}", form, htmx=htmx)


def rate(
    client: TestClient,
    assessment: int,
    link: int,
    appreciation: str,
    *,
    revision: int = 0,
    commentaire: str = "",
) -> httpx.Response:
    form = {"appreciation": appreciation, "commentaire": commentaire, "revision": str(revision)}
    return post(client, f"/autoevaluations/{assessment}/relecture/preuves/{link}", form, htmx=True)


def items(app: FastAPI) -> list[tuple[str, int, bool | None, int | None, bool, str, str | None, int]]:
    with Session(app.state.engine) as session:
        rows = session.exec(select(ReviewItem).order_by(ReviewItem.id))  # type: ignore[arg-type]
        return [
            (
                r.criterion_id,
                r.assessment_revision,
                r.agrees,
                r.proposed_level,
                r.proposed_not_applicable,
                r.comment,
                r.finding.value if r.finding else None,
                r.revision,
            )
            for r in rows
        ]


def counts(app: FastAPI) -> tuple[int, ...]:
    """Rows of the review tables, the answers' revisions and the audit log: what a refusal leaves alone."""
    with Session(app.state.engine) as session:
        tables = [
            session.exec(select(func.count()).select_from(model)).one()
            for model in (ReviewItem, EvidenceRating, ReviewDecision, Snapshot, AuditEntry)
        ]
        revisions = session.exec(select(func.sum(Answer.revision))).one()
        return (*tables, revisions or 0)


def assessment_row(app: FastAPI, assessment_id: int) -> Assessment:
    with Session(app.state.engine) as session:
        found = session.get(Assessment, assessment_id)
        assert found is not None
        return found


def audited(app: FastAPI, prefix: str) -> list[str]:
    with Session(app.state.engine) as session:
        query = select(AuditEntry.action).where(AuditEntry.action.startswith(prefix))  # type: ignore[attr-defined]
        return list(session.exec(query.order_by(AuditEntry.id)))  # type: ignore[arg-type]


# --- Writing a review ---------------------------------------------------------------------------


def test_the_trainer_agrees_proposes_comments_and_records_a_finding_each_saved_in_place(
    app: FastAPI, world: dict[str, Any]
) -> None:
    julien = signed_in(app, "julien@example.org")
    agreed = review(julien, world["assessment"], "DEO-01", "accord")
    assert agreed.status_code == 200
    assert 'id="r-DEO-01"' in agreed.text
    assert "<html" not in agreed.text
    assert "Relecture enregistrée." in text(agreed)
    proposed = review(
        julien,
        world["assessment"],
        "DEO-02",
        "1",
        commentaire="Pas de trace des horaires examinés.",
        constat="point_sensible",
    )
    assert proposed.status_code == 200
    same = review(julien, world["assessment"], "DEO-04", "3")  # the director's own level is agreement
    assert same.status_code == 200
    assert items(app) == [
        ("DEO-01", 1, True, None, False, "", None, 1),
        ("DEO-02", 1, False, 1, False, "Pas de trace des horaires examinés.", "point_sensible", 1),
        ("DEO-04", 1, True, None, False, "", None, 1),
    ]
    assert audited(app, "review.") == ["review.save"] * 3
    with Session(app.state.engine) as session:  # the director's answers are never touched
        stored = {a.criterion_id: (a.level, a.revision) for a in session.exec(select(Answer))}
    assert stored == {"DEO-01": (3, 1), "DEO-02": (2, 1), "DEO-04": (3, 1)}


def test_the_review_page_lists_divergences_first_then_each_section_beside_the_directors_answers(
    app: FastAPI, world: dict[str, Any]
) -> None:
    julien = signed_in(app, "julien@example.org")
    review(julien, world["assessment"], "EVA-02", "0", commentaire="Aucun indicateur.")
    page = text(julien.get(f"/autoevaluations/{world['assessment']}/relecture"))
    assert (
        page.index("Divergences (1)") < page.index('id="r-EVA-02"') < page.index("Relire section par section")
    )
    assert page.count('<article id="r-') == 1  # only the divergence: the other criteria are in their sections
    section = text(julien.get(f"/autoevaluations/{world['assessment']}/relecture/sections/deontologie"))
    assert section.index('id="r-DEO-01"') < section.index('id="r-DEO-02"')
    assert "Niveau déclaré :</strong> 3 · En place et formalisé" in section
    assert "Charte signée 2025" in section
    assert 'id="r-EVA-02"' not in section
    assert (
        julien.get(f"/autoevaluations/{world['assessment']}/relecture/sections/inconnue").status_code == 404
    )


def test_without_javascript_a_review_posts_and_comes_back_to_the_criterion(
    app: FastAPI, world: dict[str, Any]
) -> None:
    julien = signed_in(app, "julien@example.org")
    response = review(
        julien, world["assessment"], "DEO-01", "2", htmx=False, commentaire="Signatures incomplètes."
    )
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/autoevaluations/{world['assessment']}/relecture/sections/deontologie#r-DEO-01",
    )
    refused = review(julien, world["assessment"], "DEO-01", "7", htmx=False, revision=1)
    assert refused.status_code == 422
    assert "<html" in refused.text
    assert "Choisissez d'accord, un niveau de 0 à 3" in text(refused)


@pytest.mark.parametrize(
    ("criterion", "change", "status", "message"),
    [
        ("DEO-01", {"niveau": "5"}, 422, "Choisissez d'accord, un niveau de 0 à 3 ou « Non applicable »."),
        (
            "DEO-03",
            {"niveau": "accord"},
            422,
            "La structure n'a pas répondu à ce critère : proposez un niveau.",
        ),
        ("DEO-01", {"niveau": "na"}, 422, "Dites dans le commentaire pourquoi ce critère ne s'applique pas."),
        ("DEO-01", {"constat": "nc_enorme"}, 422, "Choisissez un constat de l'échelle AFNOR proposée."),
        (
            "DEO-01",
            {"commentaire": "x" * 5001},
            422,
            "Ce commentaire est trop long : 5 000 caractères au plus.",
        ),
        ("DEO-01", {"revision": "deux"}, 422, "Le formulaire est incomplet"),
        ("DEO-01", {"revision": "3"}, 409, "Cette relecture a été modifiée entre-temps"),
        ("ZZZ-99", {}, 404, "Cette question n'existe pas dans ce questionnaire."),
    ],
)
def test_a_bad_review_is_refused_with_a_french_message_and_changes_nothing(
    app: FastAPI, world: dict[str, Any], criterion: str, change: dict[str, str], status: int, message: str
) -> None:
    julien = signed_in(app, "julien@example.org")
    before = counts(app)
    form = {"niveau": "2", "commentaire": "", "constat": "", "revision": "0"} | change
    response = post(
        julien, f"/autoevaluations/{world['assessment']}/relecture/criteres/{criterion}", form, htmx=True
    )
    assert response.status_code == status
    assert message in text(response)
    assert counts(app) == before


def test_a_stale_review_gets_409_with_the_newer_version_and_is_not_lost(
    app: FastAPI, world: dict[str, Any]
) -> None:
    julien = signed_in(app, "julien@example.org")
    other_tab = signed_in(app, "julien@example.org")  # another tab
    review(julien, world["assessment"], "DEO-01", "2", commentaire="Première lecture.")
    stale = review(other_tab, world["assessment"], "DEO-01", "1", commentaire="Deuxième onglet.")
    assert stale.status_code == 409
    page = text(stale)
    assert "Version enregistrée : Propose : 2 · Partiel" in page
    assert "« Première lecture. »" in page
    assert '<input type="hidden" name="revision" value="1">' in page  # saving again overrides knowingly
    assert items(app)[0][5] == "Première lecture."
    assert review(other_tab, world["assessment"], "DEO-01", "1", revision=1).status_code == 200
    assert items(app)[0][3:4] == (1,)


def test_reviews_are_written_only_on_submitted_assessments(app: FastAPI, world: dict[str, Any]) -> None:
    julien = signed_in(app, "julien@example.org")
    before = counts(app)
    response = review(julien, world["draft"], "DEO-01", "2")
    assert response.status_code == 409
    assert "Cette autoévaluation n'est pas soumise" in text(response)
    assert rate(julien, world["draft"], world["draft_link"], "suffisante").status_code == 409
    for decision in ("retour", "validation"):
        refused = post(julien, f"/autoevaluations/{world['draft']}/relecture/{decision}", {"message": "x"})
        assert refused.status_code == 409
    assert counts(app) == before
    page = text(julien.get(f"/autoevaluations/{world['draft']}/relecture"))
    assert "n'est pas encore soumise" in page
    assert "Retourner pour modifications" not in page


# --- Rating evidence ----------------------------------------------------------------------------


def test_the_trainer_rates_a_piece_of_evidence_of_that_assessment_only(
    app: FastAPI, world: dict[str, Any]
) -> None:
    julien = signed_in(app, "julien@example.org")
    saved = rate(julien, world["assessment"], world["link"], "a_completer", commentaire="Manque la date.")
    assert saved.status_code == 200
    assert "Appréciation enregistrée." in text(saved)
    assert rate(julien, world["assessment"], world["link"], "insuffisante", revision=1).status_code == 200
    stale = rate(julien, world["assessment"], world["link"], "suffisante", revision=1)
    assert stale.status_code == 409
    assert "Version enregistrée : insuffisante" in text(stale)
    before = counts(app)
    bad = rate(julien, world["assessment"], world["link"], "parfaite", revision=2)
    assert bad.status_code == 422
    assert "Choisissez : suffisante, insuffisante ou à compléter." in text(bad)
    other = rate(
        julien, world["assessment"], world["draft_link"], "suffisante"
    )  # a link of another assessment
    assert other.status_code == 404
    assert counts(app) == before
    with Session(app.state.engine) as session:
        rating = session.exec(select(EvidenceRating)).one()
    assert (rating.rating.value, rating.comment, rating.revision) == ("insuffisante", "", 2)
    assert audited(app, "review.rate") == ["review.rate_evidence"] * 2


# --- Decisions ----------------------------------------------------------------------------------


def test_returning_reopens_a_new_revision_and_the_director_sees_the_comments_beside_the_questions(
    app: FastAPI, world: dict[str, Any]
) -> None:
    julien, nadia = signed_in(app, "julien@example.org"), signed_in(app, "nadia@example.org")
    review(
        julien, world["assessment"], "DEO-02", "1", commentaire="Reprenez les horaires.", constat="nc_mineure"
    )
    rate(julien, world["assessment"], world["link"], "insuffisante", commentaire="Non signée.")
    before = counts(app)
    refused = post(julien, f"/autoevaluations/{world['assessment']}/relecture/retour", {"message": " "})
    assert refused.status_code == 422
    assert "Dites à la structure ce qu'elle doit reprendre" in text(refused)
    assert counts(app) == before

    returned = post(
        julien,
        f"/autoevaluations/{world['assessment']}/relecture/retour",
        {"message": "Deux points à reprendre."},
    )
    assert returned.status_code == 303
    reopened = assessment_row(app, world["assessment"])
    assert (reopened.status, reopened.revision, reopened.submitted_at) == (AssessmentStatus.DRAFT, 2, None)
    with Session(app.state.engine) as session:
        assert [
            s.revision
            for s in session.exec(select(Snapshot).where(Snapshot.assessment_id == world["assessment"]))
        ] == [1]
        decision = session.exec(select(ReviewDecision)).one()
    assert (decision.decision.value, decision.assessment_revision) == ("returned", 1)

    overview = text(nadia.get(f"/autoevaluations/{world['assessment']}"))
    assert "Retournée pour modifications par Julien" in overview
    assert "« Deux points à reprendre. »" in overview
    section = text(nadia.get(f"/autoevaluations/{world['assessment']}/sections/deontologie"))
    note = section[section.index('id="q-DEO-02"') : section.index('id="q-DEO-03"')]
    assert "Remarques de la relecture" in note
    assert "« Reprenez les horaires. »" in note
    assert "Niveau proposé : 1 · En projet" in note
    assert "Non-conformité mineure" in note
    charter = section[section.index('id="q-DEO-01"') : section.index('id="q-DEO-02"')]
    assert "Preuve « Charte signée 2025 » : insuffisante — Non signée." in charter

    assert (
        post(
            nadia,
            f"/autoevaluations/{world['assessment']}/reponses/DEO-02",
            {"niveau": "3", "revision": "1", "justification": "", "commentaire": ""},
        ).status_code
        == 303
    )
    submitted = post(
        nadia, f"/autoevaluations/{world['assessment']}/soumettre", submission(nadia, world["assessment"])
    )
    assert submitted.status_code == 303
    with Session(app.state.engine) as session:
        snapshots = session.exec(
            select(Snapshot).where(Snapshot.assessment_id == world["assessment"]).order_by(Snapshot.revision)
        ).all()  # type: ignore[arg-type]
    assert [s.revision for s in snapshots] == [1, 2]
    assert snapshots[0].sha256 != snapshots[1].sha256
    page = text(julien.get(f"/autoevaluations/{world['assessment']}/relecture"))
    assert "À relire" in page
    assert "révision 2" in page
    section = text(julien.get(f"/autoevaluations/{world['assessment']}/relecture/sections/deontologie"))
    assert "Lors de la révision 1 : Propose : 1 · En projet" in section  # the earlier review, as a reminder


def test_validation_records_who_when_and_the_hash_and_must_be_renewed_after_a_later_submission(
    app: FastAPI, world: dict[str, Any]
) -> None:
    julien, nadia = signed_in(app, "julien@example.org"), signed_in(app, "nadia@example.org")
    validated = validate(julien, world["assessment"], {"message": "Prête."})
    assert validated.status_code == 303
    with Session(app.state.engine) as session:
        snapshot = session.exec(select(Snapshot)).one()
        decision = session.exec(select(ReviewDecision)).one()
        trainer_id = session.exec(
            select(AuditEntry.actor_id).where(AuditEntry.action == "review.validated")
        ).one()
    assert (decision.snapshot_id, decision.snapshot_sha256) == (snapshot.id, snapshot.sha256)
    assert decision.decided_by == trainer_id
    assert decision.decided_at is not None
    assert post(julien, f"/autoevaluations/{world['assessment']}/relecture/validation", {}).status_code == 409
    results = text(nadia.get(f"/autoevaluations/{world['assessment']}/resultats"))
    assert "Validée" in results
    assert snapshot.sha256 in results
    dashboard = text(julien.get(f"/cohortes/{world['cohort']}"))
    assert ">Validée<" in dashboard

    post(
        julien,
        f"/autoevaluations/{world['assessment']}/relecture/retour",
        {"message": "Finalement, un point."},
    )
    assert ">Retournée pour modifications<" in text(julien.get(f"/cohortes/{world['cohort']}"))
    post(nadia, f"/autoevaluations/{world['assessment']}/soumettre", submission(nadia, world["assessment"]))
    assert ">Validation à renouveler<" in text(julien.get(f"/cohortes/{world['cohort']}"))
    assert "doit être validée à nouveau" in text(
        nadia.get(f"/autoevaluations/{world['assessment']}/resultats")
    )
    assert validate(julien, world["assessment"]).status_code == 303
    assert ">Validée<" in text(julien.get(f"/cohortes/{world['cohort']}"))
    assert audited(app, "review.") == ["review.validated", "review.returned", "review.validated"]


def test_results_are_computed_from_either_source_with_the_divergences(
    app: FastAPI, world: dict[str, Any]
) -> None:
    """DEO-01 is critical: proposing level 0 instead of the declared 3 adds a major gap."""
    julien = signed_in(app, "julien@example.org")
    url = f"/autoevaluations/{world['assessment']}/relecture/resultats"
    before = text(julien.get(url))
    own, reviewed = re.findall(
        r"Écarts majeurs</th><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>", before
    )[0]
    assert own == reviewed
    review(julien, world["assessment"], "DEO-01", "0", commentaire="Aucune charte signée en réalité.")
    after = text(julien.get(url))
    own2, reviewed2 = re.findall(
        r"Écarts majeurs</th><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td>", after
    )[0]
    assert (int(own2), int(reviewed2)) == (int(own), int(own) + 1)
    assert "Divergences (1)" in after
    assert "Aucune charte signée en réalité." in after
    assert "Écarts par atelier selon la relecture" in after
    assert "Écarts par atelier selon l'autoévaluation" in text(julien.get(url + "?selon=autoevaluation"))


# --- Who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["nadia@example.org", "lea@example.org", "claire@example.org"])
def test_only_the_cohorts_trainers_reach_the_review_pages(
    app: FastAPI, world: dict[str, Any], email: str
) -> None:
    client = signed_in(app, email)
    before = counts(app)
    base = f"/autoevaluations/{world['assessment']}/relecture"
    for url in (base, f"{base}/resultats"):
        assert client.get(url).status_code == 404, url
    assert review(client, world["assessment"], "DEO-01", "2").status_code == 404
    assert rate(client, world["assessment"], world["link"], "suffisante").status_code == 404
    assert post(client, f"{base}/validation", {}).status_code == 404
    assert post(client, f"{base}/retour", {"message": "x"}).status_code == 404
    assert counts(app) == before


def test_an_auditor_under_a_grant_does_not_see_the_mock_audit(app: FastAPI, world: dict[str, Any]) -> None:
    julien = signed_in(app, "julien@example.org")
    review(julien, world["assessment"], "DEO-02", "1", commentaire="Note interne à la préparation.")
    validate(julien, world["assessment"])
    with Session(app.state.engine) as session:
        auditor = session.exec(select(User).where(User.email == "claire@example.org")).one()
        grant = AuditorGrant(
            structure_id=world["structure"],
            auditor_id=pk(auditor),
            granted_by=world["director"],
            expires_on=date(2100, 1, 1),
        )
        session.add(grant)
        session.commit()
    claire, nadia = signed_in(app, "claire@example.org"), signed_in(app, "nadia@example.org")
    results = text(claire.get(f"/autoevaluations/{world['assessment']}/resultats"))
    assert "Relecture par le formateur" not in results
    assert "Relire cette autoévaluation" not in results
    trainers = text(julien.get(f"/autoevaluations/{world['assessment']}/resultats"))
    assert "Relire cette autoévaluation" in trainers
    mine = text(nadia.get(f"/autoevaluations/{world['assessment']}/resultats"))
    assert "Relire cette autoévaluation" not in mine
    assert "Relecture par le formateur" in mine
    assert "Note interne à la préparation." in mine


def test_a_trainer_reads_a_cohort_draft_without_its_answer_forms(app: FastAPI, world: dict[str, Any]) -> None:
    trainer = signed_in(app, "julien@example.org")
    page = text(trainer.get(f"/autoevaluations/{world['draft']}/sections/deontologie"))
    assert 'class="answer-reading"' in page
    assert "hx-post" not in page.split("<main", 1)[1]
    assert "Ajouter une preuve" not in page
    director = signed_in(app, "nadia@example.org")
    assert "hx-post" in text(director.get(f"/autoevaluations/{world['draft']}/sections/deontologie"))
