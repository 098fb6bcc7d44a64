"""The questionnaire pages through HTTP, signed in as a director, on SQLite and on PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlmodel import Session, func, select

from app import deps
from app.accounts.models import Role, User
from app.accounts.permissions import can
from app.accounts.service import create_user
from app.assessments import service
from app.assessments.models import Answer, Assessment, AssessmentStatus, Evidence, EvidenceLink, Snapshot
from app.assessments.snapshot import verify
from app.config import Settings
from app.db import AuditEntry
from app.main import create_app
from app.scoring.service import score
from app.structures import service as structures
from app.structures.models import Structure

FILES = Path(__file__).parent.parent / "fixtures" / "files"
PDF = (FILES / "charte.pdf").read_bytes()
DISGUISED = (FILES / "texte-deguise.pdf").read_bytes()
PASSWORD = "une phrase de passe solide"
DIRECTOR = "directrice@example.org"
STRANGER = "autre-directeur@example.org"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}
STALE = "Cette réponse a été modifiée entre-temps"
SUBMITTED = "Cette autoévaluation a été soumise : elle ne peut plus être modifiée."


# --- The app, people and requests -------------------------------------------------------------


def make_app(database_url: str, data_dir: Path, **settings: Any) -> FastAPI:
    return create_app(Settings(database_url=database_url, data_dir=data_dir, environment="test", **settings))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def director(app: FastAPI, email: str = DIRECTOR, structure_name: str = "Médiation Lille Sud") -> int:
    """A director and their structure; return the structure's id."""
    with Session(app.state.engine) as session:
        user = create_user(session, email=email, name="Camille Martin", role=Role.DIRECTOR, password=PASSWORD)
        structure = structures.create(session, name=structure_name, city="Lille")
        structures.add_member(session, structure=structure, user=user)
        assert structure.id is not None
        return structure.id


def sign_in(client: TestClient, email: str = DIRECTOR) -> None:
    token = CSRF_FIELD.search(client.get("/connexion").text).group(1)  # type: ignore[union-attr]
    form = {"email": email, "password": PASSWORD, "suivant": "/", "csrf_token": token}
    assert client.post("/connexion", data=form).status_code == 303


def csrf(client: TestClient) -> str:
    return CSRF_FIELD.search(client.get("/").text).group(1)  # type: ignore[union-attr]


def post(
    client: TestClient, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False, **kwargs: Any
):
    """POST like the page does: the token in the form, or in htmx's header."""
    token = csrf(client)
    if htmx:
        return client.post(url, data=data or {}, headers={**HTMX, "X-CSRF-Token": token}, **kwargs)
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def start(
    client: TestClient,
    structure_id: int,
    questionnaire: str = "full",
    depuis: int | None = None,
    *,
    second: bool = False,
) -> int:
    """Start as the structure page does; from an earlier assessment, through the preview's form
    (starting anew although that one may be an open draft of the same questionnaire); `second`
    confirms starting another draft beside an open one, as the warning page's button does."""
    form = {"questionnaire": questionnaire} | ({"depuis": str(depuis), "nouveau": "1"} if depuis else {})
    form |= {"nouveau": "1"} if second else {}
    response = post(client, f"/structures/{structure_id}/autoevaluations", form)
    assert response.status_code == 303, text(response)
    if depuis:
        assert response.headers["location"].startswith(f"/structures/{structure_id}/reprise?")
        response = post(client, f"/structures/{structure_id}/reprise", form)
        assert response.status_code == 303, text(response)
    return int(response.headers["location"].rsplit("/", 1)[1])


def answer(
    client: TestClient,
    assessment: int,
    criterion: str,
    niveau: str,
    *,
    revision: int = 0,
    htmx: bool = False,
    **more: str,
):
    form = {"niveau": niveau, "revision": str(revision), "justification": "", "commentaire": ""} | more
    return post(client, f"/autoevaluations/{assessment}/reponses/{criterion}", form, htmx=htmx)


def add_evidence(
    client: TestClient,
    assessment: int,
    criterion: str,
    *,
    content: bytes | None = None,
    name: str = "charte.pdf",
    htmx: bool = False,
    **form: Any,
):
    data = {"critere": criterion} | form
    files = {"fichier": (name, content, "application/pdf")} if content is not None else None
    return post(client, f"/autoevaluations/{assessment}/preuves", data, htmx=htmx, files=files)


def submission(client: TestClient, assessment: int) -> dict[str, str]:
    """The submit form as ticked on the page: confirmed, and below 100 % the count it states."""
    page = client.get(f"/autoevaluations/{assessment}/verification").text
    found = re.search(r'name="incomplet" value="(\d+)"', page)
    return {"confirmation": "oui"} | ({"incomplet": found.group(1)} if found else {})


def text(response: Any) -> str:
    """The page as a person reads it: entities decoded, each run of white space as one space."""
    return re.sub(r"\s+", " ", html.unescape(response.text))


def section_url(assessment: int, section: str = "deontologie") -> str:
    return f"/autoevaluations/{assessment}/sections/{section}"


# --- Looking in the database --------------------------------------------------------------------


def audit_count(app: FastAPI) -> int:
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(AuditEntry)).one()


def saved(app: FastAPI, assessment: int, criterion: str) -> Answer | None:
    with Session(app.state.engine) as session:
        query = select(Answer).where(Answer.assessment_id == assessment, Answer.criterion_id == criterion)
        return session.exec(query).first()


def rows(app: FastAPI, model: type) -> list[Any]:
    with Session(app.state.engine) as session:
        return list(session.exec(select(model).order_by(model.id)))


def stored_files(app: FastAPI) -> list[Path]:
    store = app.state.settings.evidence_dir
    return [p for p in store.rglob("*") if p.is_file()] if store.exists() else []


def question(page: str, criterion: str) -> str:
    """The markup of one question on a page (up to the next question)."""
    found = re.search(rf'<section id="q-{criterion}".*?(?=<section id="q-|\Z)', page, re.DOTALL)
    assert found, f"no question {criterion} on the page"
    return found.group(0)


@pytest.fixture
def assessment(app: FastAPI, client: TestClient) -> int:
    """A signed-in director's draft of the full questionnaire."""
    structure_id = director(app)
    sign_in(client)
    return start(client, structure_id)


# --- Starting -----------------------------------------------------------------------------------


def test_starting_the_full_questionnaire_opens_its_overview(app: FastAPI, client: TestClient) -> None:
    structure_id = director(app)
    sign_in(client)
    assessment = start(client, structure_id)
    page = text(client.get(f"/autoevaluations/{assessment}"))
    assert re.search(
        r"<h1>Autoévaluation complète — \w+ \d{4}</h1> <p class=\"muted\">Médiation Lille Sud · Questionnaire complet",
        page,
    )
    assert "Brouillon" in page
    assert "Estimation partielle" not in page
    assert "0 question renseignée sur 76</strong> applicables (0 %)" in page
    for section in ("deontologie", "processus", "structuration", "evaluation"):
        assert f'href="/autoevaluations/{assessment}/sections/{section}"' in page
    assert "Verdict provisoire : Pas prêt" in page
    assert f'href="/autoevaluations/{assessment}/verification"' in page
    assert f'href="/autoevaluations/{assessment}/resultats"' in page
    assert f'href="/autoevaluations/{assessment}/plan"' in page


def test_the_express_questionnaire_is_labelled_a_partial_estimate(app: FastAPI, client: TestClient) -> None:
    structure_id = director(app)
    sign_in(client)
    page = text(client.get(f"/autoevaluations/{start(client, structure_id, 'express')}"))
    assert re.search(
        r"<h1>Autoévaluation express — \w+ \d{4}</h1> <p class=\"muted\">Médiation Lille Sud · Questionnaire express",
        page,
    )
    assert '<span class="badge badge-partial">Estimation partielle</span>' in page
    assert "0 question renseignée sur 18</strong> applicables" in page


def test_starting_from_a_previous_assessment_carries_answers_and_evidence_to_reconfirm(
    app: FastAPI, client: TestClient
) -> None:
    structure_id = director(app)
    sign_in(client)
    first = start(client, structure_id)
    answer(client, first, "DEO-01", "3", commentaire="Charte signée en 2024")
    add_evidence(client, first, "DEO-01", titre="Charte signée", couvre=["charte-signee"])
    second = start(client, structure_id, depuis=first)

    carried = saved(app, second, "DEO-01")
    assert carried is not None
    assert (carried.level, carried.comment, carried.carried_over) == (3, "Charte signée en 2024", True)
    copied = [link for link in rows(app, EvidenceLink) if link.assessment_id == second]
    assert [(link.criterion_id, link.covers, link.carried_over) for link in copied] == [
        ("DEO-01", "charte-signee", True)  # the expected evidence it covers comes along
    ]
    assert "1 réponse reprise est à reconfirmer" in text(client.get(f"/autoevaluations/{second}"))
    card = question(text(client.get(section_url(second))), "DEO-01")
    assert "À reconfirmer" in card
    assert "Confirmer cette réponse" in card
    assert "Reprise de l'autoévaluation précédente" in card
    assert "Charte signée en 2024" in card

    confirmed = answer(
        client, second, "DEO-01", "3", revision=carried.revision, commentaire="Charte signée en 2024"
    )
    assert confirmed.status_code == 303
    assert saved(app, second, "DEO-01").carried_over is False  # type: ignore[union-attr]
    assert "À reconfirmer" not in question(text(client.get(section_url(second))), "DEO-01")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"questionnaire": "inconnu"}, "Choisissez le questionnaire complet ou le questionnaire express."),
        pytest.param(  # PostgreSQL runs the first case and the one looked up in the database
            {"questionnaire": "full@9.9.9"},
            "Choisissez le questionnaire complet ou le questionnaire express.",
            marks=pytest.mark.sqlite_only,
        ),
        pytest.param(
            {"questionnaire": "full", "depuis": "abc"},
            "L'autoévaluation de départ n'existe pas pour cette structure.",
            marks=pytest.mark.sqlite_only,
        ),
        ({"questionnaire": "full", "depuis": "999999"}, "L'autoévaluation de départ n'existe pas"),
    ],
)
def test_a_bad_start_form_is_422_in_french_and_creates_nothing(
    app: FastAPI, client: TestClient, form: dict[str, str], message: str
) -> None:
    structure_id = director(app)
    sign_in(client)
    before = audit_count(app)
    response = post(client, f"/structures/{structure_id}/autoevaluations", form)
    assert response.status_code == 422
    assert message in text(response)
    assert rows(app, Assessment) == []
    assert audit_count(app) == before


def test_the_previous_assessment_must_belong_to_the_same_structure(app: FastAPI, client: TestClient) -> None:
    structure_id = director(app)
    with Session(app.state.engine) as session:
        other = structures.create(session, name="Autre structure du même directeur")
        user = session.exec(select(User).where(User.email == DIRECTOR)).one()
        structures.add_member(session, structure=other, user=user)
        other_id = other.id
    sign_in(client)
    elsewhere = start(client, other_id)  # type: ignore[arg-type]
    response = post(
        client,
        f"/structures/{structure_id}/autoevaluations",
        {"questionnaire": "full", "depuis": str(elsewhere)},
    )
    assert response.status_code == 422
    assert len(rows(app, Assessment)) == 1


# --- The section page ---------------------------------------------------------------------------


def test_a_section_shows_each_question_with_its_levels_guidance_and_forms(
    client: TestClient, assessment: int
) -> None:
    page = text(client.get(section_url(assessment)))
    card = question(page, "DEO-01")
    assert (
        "Votre structure a-t-elle adopté la Charte de référence de la médiation sociale (2001) et une charte déontologique signée par chaque médiateur ?"
        in card
    )
    assert "reprendre tous les principes de la norme" in card  # the question's help
    assert "<summary>Ce que l'auditeur regarde</summary>" in card
    assert (
        "L'auditeur vérifie que la structure a adopté la Charte de référence" in card
    )  # the criterion's guidance
    assert "0 · Absent" in card
    assert "3 · En place et formalisé" in card
    assert "Aucun texte déontologique propre à la structure." in card  # the criterion's own level 0
    assert 'value="na"' not in card  # a deontology principle is never « non applicable » (scoring v2)
    assert "« Non applicable » n'est pas proposé" in card
    assert 'name="justification"' in card
    assert 'name="commentaire"' in card
    assert f'action="/autoevaluations/{assessment}/reponses/DEO-01"' in card
    assert f'hx-post="/autoevaluations/{assessment}/reponses/DEO-01"' in card
    assert 'hx-trigger="submit, change from:find .levels, input changed delay:800ms from:find .notes"' in card
    assert '<input type="hidden" name="revision" value="0">' in card
    assert 'name="csrf_token"' in card
    assert '<noscript><button class="button" type="submit">Enregistrer</button></noscript>' in card
    assert f'href="/autoevaluations/{assessment}/questions/DEO-01/preuves"' in card  # « Ajouter une preuve »
    assert 'enctype="multipart/form-data"' not in card  # the form is fetched when asked for
    assert "Aucune preuve jointe." in card
    assert "Résultat prévu" in card
    assert "Non renseigné" in card
    assert 'id="progression-section-deontologie"' in page
    assert 'id="progression-globale"' in page
    assert 'id="score-section-deontologie"' in page
    assert "Critère déduit, à vérifier" not in card


def test_the_evidence_form_comes_in_place_for_htmx_and_as_a_page_without_javascript(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    add_evidence(client, assessment, "DEO-01", titre="Livret d'accueil")
    url = f"/autoevaluations/{assessment}/questions/DEO-02/preuves"
    fragment = text(client.get(url, headers=HTMX))
    assert fragment.lstrip().startswith('<div id="q-DEO-02-ajout" class="add-evidence">')
    assert "<html" not in fragment
    assert 'enctype="multipart/form-data"' in fragment
    assert f'hx-post="/autoevaluations/{assessment}/preuves"' in fragment
    assert 'hx-target="#q-DEO-02-preuves"' in fragment
    assert "Livret d'accueil" in fragment  # the structure's library, to attach again
    page = text(client.get(url))
    assert "<h1>Ajouter une preuve</h1>" in page
    assert 'enctype="multipart/form-data"' in page
    assert "hx-post" not in page.split("<main", 1)[1]  # plain forms: back to the question after posting
    assert client.get(f"/autoevaluations/{assessment}/questions/XXX-99/preuves").status_code == 404


def test_a_low_confidence_criterion_carries_a_warning_and_the_scale_describes_levels(
    client: TestClient, assessment: int
) -> None:
    card = question(
        text(client.get(f"/autoevaluations/{assessment}/questions/PRO-10", follow_redirects=True)), "PRO-10"
    )
    assert "Critère déduit, à vérifier." in card
    assert "Rien n'existe aujourd'hui sur ce point : ni pratique organisée, ni document." in card


def test_a_question_the_profile_rules_out_says_so_instead_of_asking(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    with Session(app.state.engine) as session:
        structure = session.get(Structure, rows(app, Assessment)[0].structure_id)
        structure.profile = {"travail_isole": False}  # type: ignore[union-attr]
        session.add(structure)
        session.commit()
    page = text(
        client.get(f"/autoevaluations/{assessment}/questions/STR-13", follow_redirects=True)
    )  # STR-12 on the same page
    card = question(page, "STR-13")
    assert "Cette question ne concerne pas votre structure d'après son profil." in card
    assert "<form" not in card
    assert "<form" in question(page, "STR-12")


def test_an_unknown_section_is_404(client: TestClient, assessment: int) -> None:
    assert client.get(section_url(assessment, "inconnue")).status_code == 404


# --- Autosave -----------------------------------------------------------------------------------


def test_autosave_returns_the_question_with_its_new_revision_and_out_of_band_progress(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    response = answer(client, assessment, "DEO-02", "2", htmx=True, commentaire="Horaires affichés")
    page = text(response)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    assert page.lstrip().startswith('<div id="q-DEO-02-etat" class="answer-state">')
    assert '<div id="q-DEO-02-erreur-niveau">' in page  # the error regions, emptied or filled
    assert "<form" not in page  # never the form itself: what the director is typing stays
    assert "<html" not in page
    assert '<input type="hidden" name="revision" value="1">' in page
    assert "Réponse enregistrée." in page
    assert "Écart mineur" in page
    assert '<div id="progression-globale" class="progress" hx-swap-oob="true">' in page
    assert "1 question renseignée sur 76" in page
    assert '<div id="progression-section-deontologie" class="progress" hx-swap-oob="true">' in page
    assert "1 question renseignée sur 14" in page
    assert '<div id="score-section-deontologie" class="section-score" hx-swap-oob="true">' in page
    stored = saved(app, assessment, "DEO-02")
    assert stored is not None
    assert (stored.level, stored.comment, stored.revision) == (
        2,
        "Horaires affichés",
        1,
    )

    again = answer(client, assessment, "DEO-02", "3", revision=1, htmx=True)
    assert '<input type="hidden" name="revision" value="2">' in text(again)


def test_one_autosave_reads_the_assessment_once_checks_access_once_and_scores_once(
    app: FastAPI, client: TestClient, assessment: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {**HTMX, "X-CSRF-Token": csrf(client)}
    scorings: list[object] = []
    checks: list[object] = []
    statements: list[str] = []

    def scoring(*args: Any, **kwargs: Any) -> Any:
        scorings.append(kwargs.get("scope"))
        return score(*args, **kwargs)

    def checking(*args: Any) -> bool:
        checks.append(args[2])
        return can(*args)

    def executing(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    monkeypatch.setattr(service, "score", scoring)
    monkeypatch.setattr(deps, "can", checking)
    event.listen(app.state.engine, "before_cursor_execute", executing)
    try:
        form = {"niveau": "2", "revision": "0", "justification": "", "commentaire": ""}
        response = client.post(f"/autoevaluations/{assessment}/reponses/DEO-02", data=form, headers=headers)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", executing)
    assert response.status_code == 200
    assert "1 question renseignée sur 14" in text(response)  # the section's progress, from that scoring
    assert scorings == [None]  # the whole questionnaire, once; each section's score comes from it
    assert len(checks) == 1
    assert len([s for s in statements if s.startswith("SELECT assessment.id")]) == 1
    # The user; the assessment with its structure and the membership; the answers under the
    # assessment's lock; the evidence; the write; its audit entry. Nothing read again after commit.
    assert len(statements) <= 6, statements


def test_a_form_without_any_field_is_422_on_the_page_not_a_json_error(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    response = post(client, f"/autoevaluations/{assessment}/reponses/DEO-06", {})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    slot = re.search(r'<div id="q-DEO-06-etat".*?</div>', text(response), re.DOTALL)
    assert slot
    assert "Le formulaire est incomplet : rechargez la page, puis recommencez." in slot.group(0)
    assert saved(app, assessment, "DEO-06") is None


def test_saving_without_javascript_redirects_back_to_the_question(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    response = answer(client, assessment, "DEO-03", "1")
    assert response.status_code == 303
    assert response.headers["location"] == f"/autoevaluations/{assessment}/sections/deontologie#q-DEO-03"
    card = question(text(client.get(response.headers["location"])), "DEO-03")
    assert 'value="1" id="q-DEO-03-niveau-1"' in card
    assert "checked" in card.split('id="q-DEO-03-niveau-1"')[1][:80]
    assert saved(app, assessment, "DEO-03").level == 1  # type: ignore[union-attr]


def test_a_stale_revision_is_409_showing_the_newer_answer_and_keeping_what_was_typed(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "DEO-04", "2", commentaire="Plaquette en cours")
    answer(client, assessment, "DEO-04", "3", revision=1, commentaire="Plaquette distribuée")  # another tab
    before = audit_count(app)
    for htmx in (True, False):
        response = answer(
            client, assessment, "DEO-04", "1", revision=1, htmx=htmx, commentaire="Mon brouillon"
        )
        page = text(response)
        card = page if htmx else question(page, "DEO-04")  # htmx replaces the state region only
        assert response.status_code == 409
        assert STALE in card
        assert "Version enregistrée :" in card
        assert "niveau 3" in card
        assert "« Plaquette distribuée »" in card
        if not htmx:
            assert ">Mon brouillon</textarea>" in card  # what the user typed is still in the form
        assert (
            '<input type="hidden" name="revision" value="2">' in card
        )  # saving again is a deliberate choice
        assert ("<html" in page) is not htmx
    stored = saved(app, assessment, "DEO-04")
    assert stored is not None
    assert (stored.level, stored.comment, stored.revision) == (
        3,
        "Plaquette distribuée",
        2,
    )
    assert audit_count(app) == before


def test_a_first_answer_racing_another_tab_is_409_too(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "DEO-05", "2")
    response = answer(client, assessment, "DEO-05", "0", revision=0, htmx=True)
    assert response.status_code == 409
    assert saved(app, assessment, "DEO-05").level == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"niveau": "7"}, "niveau", "Choisissez un niveau de 0 à 3, ou « Non applicable »."),
        pytest.param(  # on SQLite only: parsing; PostgreSQL runs the others, the long texts among them
            {"niveau": "deux"},
            "niveau",
            "Choisissez un niveau de 0 à 3, ou « Non applicable ».",
            marks=pytest.mark.sqlite_only,
        ),
        (
            {"niveau": "2", "commentaire": "x" * 5001},
            "commentaire",
            "Ce texte est trop long : 5 000 caractères au plus.",
        ),
        ({"niveau": "na", "justification": "x" * 5001}, "justification", "Ce texte est trop long"),
        pytest.param(
            {"niveau": "2", "revision": "abc"},
            "etat",
            "Le formulaire est incomplet : rechargez la page, puis recommencez.",
            marks=pytest.mark.sqlite_only,
        ),
    ],
)
def test_bad_answer_input_is_422_with_the_message_next_to_the_field(
    app: FastAPI, client: TestClient, assessment: int, form: dict[str, str], field: str, message: str
) -> None:
    before = audit_count(app)
    for htmx in (True, False):
        response = answer(client, assessment, "PRO-16", **{"niveau": "", **form}, htmx=htmx)  # type: ignore[arg-type]
        assert response.status_code == 422
        slot = re.search(rf'<div id="q-PRO-16-(?:erreur-)?{field}".*?</div>', text(response), re.DOTALL)
        assert slot
        assert message in slot.group(0)
    assert saved(app, assessment, "PRO-16") is None
    assert audit_count(app) == before


def test_an_unknown_question_is_404_and_saves_nothing(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    assert answer(client, assessment, "ZZZ-99", "2").status_code == 404
    assert answer(client, assessment, "DEO-01", "2").status_code == 303
    assert rows(app, Answer)[0].criterion_id == "DEO-01"


def test_not_applicable_without_a_justification_is_saved_and_flagged_next_to_it(
    client: TestClient, assessment: int
) -> None:
    response = answer(client, assessment, "PRO-16", "na", htmx=True)
    slot = re.search(r'<div id="q-PRO-16-erreur-justification">.*?</div>', text(response), re.DOTALL)
    assert response.status_code == 200
    assert slot
    assert "Justifiez pourquoi ce point ne s'applique pas" in slot.group(0)
    justified = answer(
        client, assessment, "PRO-16", "na", revision=1, htmx=True, justification="Aucun médiateur"
    )
    assert "Justifiez pourquoi" not in text(justified)
    assert "Non applicable : Aucun médiateur" in text(justified)


# --- Evidence -----------------------------------------------------------------------------------


def test_a_pdf_is_uploaded_attached_and_downloaded_back_as_an_attachment(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "DEO-01", "3")
    response = add_evidence(
        client,
        assessment,
        "DEO-01",
        content=PDF,
        name="Charte déontologique.pdf",
        couvre=["adoption-charte-reference", "charte", "charte-signee"],
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/autoevaluations/{assessment}/sections/deontologie#q-DEO-01"
    [piece] = rows(app, Evidence)
    assert (piece.title, piece.filename, piece.content_type, piece.size) == (
        "Charte déontologique",
        "Charte déontologique.pdf",
        "application/pdf",
        len(PDF),
    )
    [link] = rows(app, EvidenceLink)
    assert (link.criterion_id, link.covers) == ("DEO-01", "adoption-charte-reference,charte,charte-signee")

    card = question(text(client.get(section_url(assessment))), "DEO-01")
    assert f'href="/preuves/{piece.id}/fichier"' in card
    shown = card.split("Montre : ")[1].split("</p>")[0]
    assert "Charte déontologique signée par chaque médiateur en poste" in shown
    assert "Conforme" in card
    assert "plafonné" not in card

    download = client.get(f"/preuves/{piece.id}/fichier")
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"Charte deontologique.pdf\"; filename*=UTF-8''Charte%20d%C3%A9ontologique.pdf"
    )
    assert download.headers["x-content-type-options"] == "nosniff"


def test_an_htmx_upload_answers_with_the_question_and_out_of_band_progress(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "DEO-01", "3")
    response = add_evidence(
        client,
        assessment,
        "DEO-01",
        content=PDF,
        htmx=True,
        titre="Charte 2024",
        couvre=["adoption-charte-reference", "charte", "charte-signee"],
    )
    page = text(response)
    assert response.status_code == 200
    assert '<div id="q-DEO-01-preuves" class="evidence">' in page
    assert "Charte 2024" in page
    assert "Preuve ajoutée." in page
    assert 'hx-swap-oob="true"' in page
    assert '<div id="q-DEO-01-etat" class="answer-state">' in page
    assert "Conforme" in page


def test_a_file_larger_than_the_limit_is_413_and_nothing_is_stored(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path, max_upload_bytes=len(PDF) - 1)
    structure_id = director(app)
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client)
        assessment = start(client, structure_id)
        before = audit_count(app)
        for content in (PDF, PDF + b"0" * 200_000):  # refused while reading; refused by Content-Length
            response = add_evidence(client, assessment, "DEO-01", content=content, titre="Trop gros")
            assert response.status_code == 413
            assert "Le fichier dépasse la taille maximale de 587 octets" in text(response)
        assert rows(app, Evidence) == []
        assert rows(app, EvidenceLink) == []
        assert stored_files(app) == []
        assert audit_count(app) == before


def test_a_disguised_file_is_415_and_nothing_is_stored(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    before = audit_count(app)
    for htmx in (False, True):
        response = add_evidence(client, assessment, "DEO-01", content=DISGUISED, name="charte.pdf", htmx=htmx)
        assert response.status_code == 415
        page = text(response)
        assert "Type de fichier refusé" in (page if htmx else question(page, "DEO-01"))
    assert rows(app, Evidence) == []
    assert stored_files(app) == []
    assert audit_count(app) == before


def test_a_reference_without_a_file_supports_a_criterion(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "DEO-01", "3")
    form = {"titre": "Registre des signatures", "date": "2025-03-14", "responsable": "Direction",
            "lien": "https://intranet.example.org/charte", "couvre": ["charte-signee", "charte", "adoption-charte-reference"]}  # fmt: skip
    assert add_evidence(client, assessment, "DEO-01", **form).status_code == 303
    [piece] = rows(app, Evidence)
    assert (piece.kind, piece.title, piece.owner, piece.link) == (
        "reference",
        "Registre des signatures",
        "Direction",
        "https://intranet.example.org/charte",
    )
    assert piece.document_date.isoformat() == "2025-03-14"  # type: ignore[union-attr]
    card = question(text(client.get(section_url(assessment))), "DEO-01")
    assert "Registre des signatures" in card
    assert "14 mars 2025" in card
    assert "responsable : Direction" in card
    assert "Conforme" in card


def test_a_piece_of_the_library_can_support_another_question(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    add_evidence(client, assessment, "DEO-01", titre="Livret d'accueil")
    [piece] = rows(app, Evidence)
    offered = text(client.get(f"/autoevaluations/{assessment}/questions/DEO-02/preuves", headers=HTMX))
    assert "Livret d'accueil" in offered
    response = add_evidence(client, assessment, "DEO-02", preuve=str(piece.id))
    assert response.status_code == 303
    assert sorted(link.criterion_id for link in rows(app, EvidenceLink)) == ["DEO-01", "DEO-02"]
    assert len(rows(app, Evidence)) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Donnez un titre à la preuve."),
        pytest.param(  # on SQLite only: parsing; PostgreSQL runs the others, the long title among them
            {"titre": "Charte", "date": "14/03/2025"},
            "La date du document n'est pas une date valide",
            marks=pytest.mark.sqlite_only,
        ),
        pytest.param(
            {"titre": "Charte", "lien": "javascript:alert(1)"},
            "Le lien doit commencer par http:// ou https://.",
            marks=pytest.mark.sqlite_only,
        ),
        ({"titre": "x" * 301}, "Le titre est trop long : 300 caractères au plus."),
        pytest.param(  # checked against the catalog, not the database
            {"titre": "Charte", "couvre": ["inconnue"]},
            "Cochez seulement des preuves attendues pour ce critère.",
            marks=pytest.mark.sqlite_only,
        ),
        ({"preuve": "999999"}, "Choisissez un document de la bibliothèque de la structure."),
    ],
)
def test_bad_evidence_input_is_422_next_to_the_evidence_form_and_stores_nothing(
    app: FastAPI, client: TestClient, assessment: int, form: dict[str, Any], message: str
) -> None:
    before = audit_count(app)
    response = add_evidence(client, assessment, "DEO-01", **form)
    assert response.status_code == 422
    region = re.search(r'<div id="q-DEO-01-preuves".*', text(response), re.DOTALL)
    assert region
    assert message in region.group(0)
    assert '<div id="q-DEO-01-ajout" class="add-evidence">' in region.group(0)  # the form, open again
    assert rows(app, Evidence) == []
    assert audit_count(app) == before


def test_a_file_for_an_unknown_question_is_404_and_stored_nowhere(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    assert add_evidence(client, assessment, "ZZZ-99", content=PDF).status_code == 404
    assert rows(app, Evidence) == []
    assert stored_files(app) == []


def test_detaching_removes_the_link_but_keeps_the_piece_in_the_library(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    add_evidence(client, assessment, "DEO-01", titre="Charte")
    add_evidence(client, assessment, "DEO-02", titre="Projet de service")
    first, second = rows(app, EvidenceLink)
    response = post(client, f"/autoevaluations/{assessment}/liens/{first.id}/retirer")
    assert response.status_code == 303
    assert response.headers["location"].endswith("#q-DEO-01")
    by_htmx = post(client, f"/autoevaluations/{assessment}/liens/{second.id}/retirer", htmx=True)
    assert by_htmx.status_code == 200
    assert "Preuve retirée de cette question." in text(by_htmx)
    assert text(by_htmx).lstrip().startswith('<div id="q-DEO-02-preuves" class="evidence">')
    assert rows(app, EvidenceLink) == []
    assert len(rows(app, Evidence)) == 2
    assert post(client, f"/autoevaluations/{assessment}/liens/{first.id}/retirer").status_code == 404


def test_deleting_a_piece_removes_it_and_its_links(app: FastAPI, client: TestClient, assessment: int) -> None:
    add_evidence(client, assessment, "DEO-01", content=PDF)
    [piece] = rows(app, Evidence)
    back = f"{section_url(assessment)}#q-DEO-01"
    response = post(client, f"/preuves/{piece.id}/supprimer", {"retour": back})
    assert (response.status_code, response.headers["location"]) == (303, back)
    assert rows(app, Evidence) == []
    assert rows(app, EvidenceLink) == []
    assert client.get(f"/preuves/{piece.id}/fichier").status_code == 404


def test_a_reference_has_no_file_to_download(app: FastAPI, client: TestClient, assessment: int) -> None:
    add_evidence(client, assessment, "DEO-01", titre="Charte papier")
    [piece] = rows(app, Evidence)
    assert client.get(f"/preuves/{piece.id}/fichier").status_code == 404


# --- Review and submission ----------------------------------------------------------------------


def test_the_review_lists_unanswered_unjustified_and_unproven_questions(
    client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "DEO-01", "3")  # level 3 without evidence
    answer(client, assessment, "PRO-16", "na")  # N/A without a justification
    page = text(client.get(f"/autoevaluations/{assessment}/verification"))
    link = f'href="/autoevaluations/{assessment}/questions/'
    unjustified = page.split('id="non-justifiees"')[1].split("</section>")[0]
    unanswered = page.split('id="sans-reponse"')[1].split("</section>")[0]
    unproven = page.split('id="sans-preuve"')[1].split("</section>")[0]
    assert f'href="/autoevaluations/{assessment}/questions/PRO-16"' in unjustified
    assert "DEO-01" not in unjustified
    assert "(74)" in unanswered
    assert f"{link}DEO-03" in unanswered
    assert "PRO-16" not in unanswered
    assert f"{link}DEO-01" in unproven
    assert "Votre structure a-t-elle adopté la Charte de référence" in unproven
    assert "Soumission impossible : 1 réponse « Non applicable » sans justification." in page
    assert 'disabled aria-describedby="soumission-impossible">Soumettre' in page


def test_submitting_with_a_blocking_problem_is_422_on_the_review_page(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "PRO-16", "na")
    response = post(client, f"/autoevaluations/{assessment}/soumettre", {"confirmation": "oui"})
    assert response.status_code == 422
    assert "Des réponses « non applicable » n'ont pas de justification." in text(response)
    assert rows(app, Snapshot) == []


def test_submitting_needs_the_explicit_confirmation(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    response = post(client, f"/autoevaluations/{assessment}/soumettre")
    assert response.status_code == 422
    assert "Cochez la case de confirmation pour soumettre l'autoévaluation." in text(response)
    assert rows(app, Snapshot) == []


@pytest.mark.parametrize("stated", [{}, {"incomplet": ""}, {"incomplet": "3"}, {"incomplet": "tout"}])
def test_submitting_below_100_percent_needs_the_box_stating_how_many_are_unanswered(
    app: FastAPI, client: TestClient, assessment: int, stated: dict[str, str]
) -> None:
    answer(client, assessment, "DEO-01", "2")
    page = text(client.get(f"/autoevaluations/{assessment}/verification"))
    assert "Je soumets en sachant que 75 questions applicables sont sans réponse" in page
    form = {"confirmation": "oui"} | stated
    response = post(client, f"/autoevaluations/{assessment}/soumettre", form)
    assert response.status_code == 422
    assert "75 questions applicables sont sans réponse : répondez-y, ou cochez la case" in text(response)
    assert rows(app, Snapshot) == []
    done = post(
        client, f"/autoevaluations/{assessment}/soumettre", {"confirmation": "oui", "incomplet": "75"}
    )
    assert done.status_code == 303
    assert len(rows(app, Snapshot)) == 1


def test_a_submitted_assessment_is_signed_then_read_only_and_every_write_is_409(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "DEO-01", "3")
    add_evidence(client, assessment, "DEO-01", content=PDF, couvre=["charte-signee"])
    [link], [piece] = rows(app, EvidenceLink), rows(app, Evidence)
    response = post(client, f"/autoevaluations/{assessment}/soumettre", submission(client, assessment))
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/autoevaluations/{assessment}/resultats",
    )
    [snapshot] = rows(app, Snapshot)
    assert verify(app.state.signer.public_bytes, snapshot.canonical_json, snapshot.signature)
    assert rows(app, Assessment)[0].status == AssessmentStatus.SUBMITTED

    before = audit_count(app)
    writes = [
        answer(client, assessment, "DEO-01", "1", revision=1),
        answer(client, assessment, "DEO-02", "1", htmx=True),
        add_evidence(client, assessment, "DEO-02", titre="Trop tard"),
        add_evidence(client, assessment, "DEO-02", content=PDF),
        post(client, f"/autoevaluations/{assessment}/liens/{link.id}/retirer"),
        post(client, f"/preuves/{piece.id}/supprimer"),
        post(client, f"/autoevaluations/{assessment}/soumettre", {"confirmation": "oui"}),
        post(client, f"/autoevaluations/{assessment}/soumettre"),
    ]
    assert [w.status_code for w in writes] == [409] * len(writes)
    assert SUBMITTED in text(writes[0])
    assert "Cette preuve appuie une autoévaluation soumise" in text(writes[5])
    assert audit_count(app) == before
    assert len(rows(app, Evidence)) == 1
    assert len(rows(app, EvidenceLink)) == 1
    assert saved(app, assessment, "DEO-01").level == 3  # type: ignore[union-attr]

    page = text(client.get(section_url(assessment)))
    assert "elle est en lecture seule" in page
    assert "hx-post" not in page
    assert "Ajouter une preuve" not in page
    assert 'class="answer-reading"' in page  # read as sentences, not as a greyed-out form
    assert 'class="answer-form"' not in page
    assert client.get(f"/autoevaluations/{assessment}/questions/DEO-01/preuves").status_code == 409
    assert client.get(f"/preuves/{piece.id}/fichier").content == PDF  # still readable
    review = text(client.get(f"/autoevaluations/{assessment}/verification"))
    assert "Soumettre l'autoévaluation</button>" not in review


# --- Access and CSRF ----------------------------------------------------------------------------


def test_a_director_of_another_structure_gets_404_everywhere_and_changes_nothing(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    answer(client, assessment, "DEO-01", "2")
    add_evidence(client, assessment, "DEO-01", content=PDF)
    [link], [piece] = rows(app, EvidenceLink), rows(app, Evidence)
    own_structure = rows(app, Assessment)[0].structure_id
    director(app, STRANGER, "Une autre structure")
    with TestClient(app, follow_redirects=False) as stranger:
        sign_in(stranger, STRANGER)
        before = audit_count(app)
        base = f"/autoevaluations/{assessment}"
        reads = [base, f"{base}/sections/deontologie", f"{base}/verification", f"/preuves/{piece.id}/fichier"]
        for url in reads:
            assert stranger.get(url).status_code == 404, url
        writes = [
            (f"/structures/{own_structure}/autoevaluations", {"questionnaire": "full"}),
            (f"{base}/reponses/DEO-01", {"niveau": "0", "revision": "1"}),
            (f"{base}/preuves", {"critere": "DEO-01", "titre": "Intrus"}),
            (f"{base}/liens/{link.id}/retirer", {}),
            (f"/preuves/{piece.id}/supprimer", {}),
            (f"{base}/soumettre", {"confirmation": "oui"}),
        ]
        for url, form in writes:
            assert post(stranger, url, form).status_code == 404, url
            assert post(stranger, url, form, htmx=True).status_code == 404, url
    assert audit_count(app) == before
    assert saved(app, assessment, "DEO-01").level == 2  # type: ignore[union-attr]
    assert len(rows(app, Assessment)) == 1
    assert len(rows(app, Evidence)) == 1
    assert len(rows(app, EvidenceLink)) == 1


def test_a_visitor_is_sent_to_sign_in(client: TestClient, app: FastAPI) -> None:
    director(app)
    response = client.get("/autoevaluations/1")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/connexion?suivant=")


@pytest.mark.parametrize("token", ["forged-token", pytest.param("", marks=pytest.mark.sqlite_only)])
def test_a_forged_csrf_token_is_403_and_changes_nothing(
    app: FastAPI, client: TestClient, assessment: int, token: str
) -> None:
    before = audit_count(app)
    form = {"niveau": "3", "revision": "0", "csrf_token": token}
    assert client.post(f"/autoevaluations/{assessment}/reponses/DEO-01", data=form).status_code == 403
    headers = {**HTMX, "X-CSRF-Token": token}
    response = client.post(
        f"/autoevaluations/{assessment}/preuves", data={"critere": "DEO-01", "titre": "x"}, headers=headers
    )
    assert response.status_code == 403
    assert saved(app, assessment, "DEO-01") is None
    assert rows(app, Evidence) == []
    assert audit_count(app) == before


@pytest.mark.sqlite_only  # refused when the address is parsed, before any query
@pytest.mark.parametrize("path", ["/autoevaluations/abc", "/structures/1x/profil", "/preuves/-/fichier"])
def test_a_malformed_id_in_an_address_is_a_french_404_page(
    app: FastAPI, client: TestClient, path: str
) -> None:
    director(app)
    sign_in(client)
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Cette page n'existe pas ou ne vous est pas accessible." in text(response)


def test_not_applicable_is_offered_only_where_the_criterion_allows_it_and_refused_otherwise(
    app: FastAPI, client: TestClient, assessment: int
) -> None:
    processus = text(
        client.get(f"/autoevaluations/{assessment}/questions/PRO-16", follow_redirects=True)
    )  # PRO-13 on its page
    assert 'id="q-PRO-16-niveau-na"' in question(processus, "PRO-16")  # neither deontology nor critical
    assert 'id="q-PRO-13-niveau-na"' not in question(processus, "PRO-13")  # critical
    for htmx in (True, False):
        response = answer(client, assessment, "DEO-06", "na", htmx=htmx, justification="Pas de données")
        assert response.status_code == 422
        slot = re.search(r'<div id="q-DEO-06-erreur-niveau">.*?</div>', text(response), re.DOTALL)
        assert slot
        assert "Ce critère ne peut pas être déclaré non applicable" in slot.group(0)
    assert saved(app, assessment, "DEO-06") is None
