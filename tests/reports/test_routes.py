"""Results page and action plan through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import NamedTuple

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import User
from app.assessments import service
from app.assessments.models import ActionItem, ActionStatus, Assessment
from app.db import AuditEntry
from app.structures.models import Structure
from tests.reports.helpers import assessment_with_answers, audit_count, csrf_from, member, signed_in

WORKSHOPS = (
    "Politique Qualité",
    "Gestion de l'activité et de ses moyens",
    "Formation des équipes",
    "Évaluation de l'utilité sociale",
)
# DEO-01 declared in place with no evidence (capped), DEO-02 absent although critical (major gap).
LEVELS = {"DEO-01": 3, "DEO-02": 0, "DEO-04": 3}


@pytest.fixture
def director(app: FastAPI) -> tuple[User, Structure]:
    user, structure = member(app, "directrice@example.org", structure_name="Médiation du Nord")
    assert structure is not None
    return user, structure


def items_of(app: FastAPI, assessment: Assessment) -> list[ActionItem]:
    with Session(app.state.engine) as session:
        query = select(ActionItem).where(ActionItem.assessment_id == assessment.id)
        return list(session.exec(query.order_by(ActionItem.id)))  # type: ignore[arg-type]


def gap_count(app: FastAPI, assessment: Assessment) -> int:
    with Session(app.state.engine) as session:
        structure = session.get(Structure, assessment.structure_id)
        assert structure is not None
        result = service.evaluate(
            session, catalog=app.state.catalog, assessment=assessment, structure=structure
        )
        return len(result.gaps)


class OpenedPlan(NamedTuple):
    assessment: Assessment
    client: TestClient
    token: str
    item: ActionItem


def opened_plan(app: FastAPI, director: tuple[User, Structure], *, submit: bool = False) -> OpenedPlan:
    """An assessment whose plan the director has opened (so it has its items), and the first item."""
    user, structure = director
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS, submit=submit)
    client = signed_in(app, "directrice@example.org")
    token = csrf_from(client.get(f"/autoevaluations/{assessment.id}/plan").text)
    return OpenedPlan(assessment, client, token, items_of(app, assessment)[0])


def test_the_results_page_shows_the_verdict_radar_and_gaps_by_workshop(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    user, structure = director
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS, submit=True)
    response = signed_in(app, "directrice@example.org").get(f"/autoevaluations/{assessment.id}/resultats")
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert "Résultat prévu à l'audit : Pas prêt" in page
    assert "<dt>Écarts majeurs prévus</dt>" in page
    assert "Aperçu provisoire" not in page
    assert "Estimation partielle" not in page
    radar = page[page.index('<svg class="radar"') : page.index("</svg>", page.index('<svg class="radar"'))]
    for title in ("Déontologie", "Processus de la", "Structuration", "Évaluation"):
        assert f">{title}</tspan>" in radar
    assert 'class="radar-value">0 / 100</tspan>' in radar
    assert "Déontologie : " in radar
    assert " sur 100." in radar
    assert '<th scope="row">Déontologie</th>' in page  # the same scores in a table
    for workshop in WORKSHOPS:
        assert f">{workshop}\n" in page
    gap = page[page.index('id="ecart-DEO-01"') :]
    gap = gap[: gap.index("</li>\n")]
    assert f'href="/autoevaluations/{assessment.id}/questions/DEO-01"' in gap
    assert "Déclaré au niveau 3 sans preuve jointe : plafonné au niveau 2 (déclaré, non prouvé)" in gap
    assert "Charte déontologique signée par chaque médiateur en poste" in gap  # missing evidence
    assert "Joindre les preuves attendues" in gap  # the suggested action
    assert "Écart mineur" in gap
    major = page[page.index('id="ecart-DEO-02"') :]
    major = major[: major.index("</li>\n")]
    assert "Écart majeur" in major
    assert "Critère critique au niveau 0 (Absent)" in major
    submitted = assessment.submitted_at
    assert submitted is not None
    due = (submitted.date() + timedelta(days=90)).isoformat()
    assert f'90 jours, soit le <time datetime="{due}">' in major


def test_a_draft_is_a_provisional_preview_and_the_express_questionnaire_a_partial_estimate(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    user, structure = director
    draft = assessment_with_answers(app, user=user, structure=structure, levels={}, questionnaire="express")
    page = html.unescape(
        signed_in(app, "directrice@example.org").get(f"/autoevaluations/{draft.id}/resultats").text
    )
    assert "Aperçu provisoire." in page
    assert "Estimation partielle." in page
    assert "d'aujourd'hui" in page
    assert "0 % (0 sur" in page


def test_the_action_plan_has_one_item_per_gap_created_once(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    user, structure = director
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS, submit=True)
    client = signed_in(app, "directrice@example.org")
    first = client.get(f"/autoevaluations/{assessment.id}/plan")
    assert first.status_code == 200
    items = items_of(app, assessment)
    assert len(items) == gap_count(app, assessment) > 0
    assert audit_count(app, "action_item.create") == len(items)
    second = client.get(f"/autoevaluations/{assessment.id}/plan")
    assert second.status_code == 200
    assert len(items_of(app, assessment)) == len(items)
    assert audit_count(app, "action_item.create") == len(items)
    deo02 = next(item for item in items if item.criterion_id == "DEO-02")
    assert deo02.title.startswith("Inscrivez le principe d'accès de tous")
    assert assessment.submitted_at is not None
    assert deo02.due_on == assessment.submitted_at.date() + timedelta(days=90)
    assert deo02.status == ActionStatus.TODO
    page = html.unescape(second.text)
    row = page[page.index(f'<tr id="action-{deo02.id}"') :]
    row = row[: row.index("</tr>")]
    assert "Écart majeur" in row
    assert "Politique Qualité" in row
    assert f'value="{deo02.due_on.isoformat()}"' in row
    assert f'for="responsable-{deo02.id}"' in row
    # The most urgent gap comes first.
    assert page.startswith(
        f'<tr id="action-{deo02.id}"', page.index('<tr id="action-', page.index("<tbody>"))
    )


def test_an_item_is_edited_through_the_form_and_audited(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, item = opened_plan(app, director, submit=True)
    form = {
        "responsable": "  Inès Martin ",
        "echeance": "2030-06-30",
        "statut": "en_cours",
        "revision": str(item.revision),
        "csrf_token": token,
    }
    response = client.post(f"/autoevaluations/{assessment.id}/plan/{item.id}", data=form)
    assert response.status_code == 303  # the plan stays editable after submission
    assert response.headers["location"] == f"/autoevaluations/{assessment.id}/plan#action-{item.id}"
    saved = next(i for i in items_of(app, assessment) if i.id == item.id)
    assert (saved.owner, saved.due_on, saved.status) == (
        "Inès Martin",
        date(2030, 6, 30),
        ActionStatus.IN_PROGRESS,
    )
    with Session(app.state.engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "action_item.update")).one()
    assert entry.actor_id == director[0].id
    assert entry.structure_id == director[1].id
    assert entry.before == {
        "owner": "",
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "status": "a_faire",
    }
    assert entry.after == {"owner": "Inès Martin", "due_on": "2030-06-30", "status": "en_cours"}
    # Posting the same values again writes nothing.
    client.post(f"/autoevaluations/{assessment.id}/plan/{item.id}", data=form)
    assert audit_count(app, "action_item.update") == 1


def test_a_bad_edit_names_each_field_with_422_and_changes_nothing(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, item = opened_plan(app, director)
    form = {
        "responsable": "x" * 121,
        "echeance": "31/12/2030",
        "statut": "abandonne",
        "revision": str(item.revision),
        "csrf_token": token,
    }
    response = client.post(f"/autoevaluations/{assessment.id}/plan/{item.id}", data=form)
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert f"L'action {item.criterion_id} n'a pas été modifiée" in page
    for name, message in (
        ("responsable", "Le nom du responsable ne doit pas dépasser 120 caractères (il en compte 121)."),
        ("echeance", "Saisissez une date valide, par exemple 2025-09-30 (année-mois-jour)."),
        ("statut", "Choisissez un statut : à faire, en cours ou fait."),
    ):
        assert f'<p class="field-error" id="{name}-{item.id}-erreur">{message}</p>' in page
        assert f'href="#{name}-{item.id}"' in page
    assert 'value="31/12/2030"' in page  # what was typed is kept
    unchanged = next(i for i in items_of(app, assessment) if i.id == item.id)
    assert (unchanged.owner, unchanged.due_on, unchanged.status) == (item.owner, item.due_on, item.status)
    assert audit_count(app, "action_item.update") == 0


def test_with_htmx_the_row_is_swapped_in_place(app: FastAPI, director: tuple[User, Structure]) -> None:
    assessment, client, token, item = opened_plan(app, director)
    path = f"/autoevaluations/{assessment.id}/plan/{item.id}"
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    form = {"responsable": "Inès", "echeance": "", "statut": "fait", "revision": str(item.revision)}
    done = client.post(path, data=form, headers=headers)
    assert done.status_code == 200
    assert done.text.lstrip().startswith(f'<tr id="action-{item.id}"')
    assert "<html" not in done.text
    assert "Enregistré" in done.text
    assert items_of(app, assessment)[0].due_on is None  # an emptied date means no deadline
    refused = client.post(path, data=form | {"echeance": "demain", "revision": "2"}, headers=headers)
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith(f'<tr id="action-{item.id}" class="row-invalid"')
    assert 'value="demain"' in refused.text


def test_a_stale_edit_gets_409_with_the_newer_values_and_keeps_what_was_typed(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, item = opened_plan(app, director)
    other_tab = signed_in(app, "directrice@example.org")
    other_token = csrf_from(other_tab.get(f"/autoevaluations/{assessment.id}/plan").text)
    path = f"/autoevaluations/{assessment.id}/plan/{item.id}"
    first = {"responsable": "Inès Martin", "echeance": "2030-06-30", "statut": "en_cours", "revision": "1"}
    assert client.post(path, data=first | {"csrf_token": token}).status_code == 303
    late = {"responsable": "Karim", "echeance": "", "statut": "fait", "revision": "1"}
    stale = other_tab.post(path, data=late | {"csrf_token": other_token})
    assert stale.status_code == 409
    page = html.unescape(stale.text)
    assert f"L'action {item.criterion_id} n'a pas été modifiée" in page
    assert "Cette action a été modifiée entre-temps (autre onglet ou autre personne)." in page
    assert "Version enregistrée : responsable Inès Martin, échéance" in page
    assert 'datetime="2030-06-30"' in page
    assert ", statut En cours." in page
    row = page[page.index(f'<tr id="action-{item.id}"') :]
    row = row[: row.index("</tr>")]
    assert 'value="Karim"' in row  # what was typed is kept
    assert '<input type="hidden" name="revision" value="2">' in row  # saving again overrides knowingly
    saved = items_of(app, assessment)[0]
    assert (saved.owner, saved.status, saved.revision) == ("Inès Martin", ActionStatus.IN_PROGRESS, 2)
    assert audit_count(app, "action_item.update") == 1
    again = other_tab.post(path, data=late | {"revision": "2", "csrf_token": other_token})
    assert again.status_code == 303
    saved = items_of(app, assessment)[0]
    assert (saved.owner, saved.due_on, saved.status, saved.revision) == ("Karim", None, ActionStatus.DONE, 3)


def test_with_htmx_a_stale_edit_swaps_the_row_with_the_newer_values(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, item = opened_plan(app, director)
    path = f"/autoevaluations/{assessment.id}/plan/{item.id}"
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    form = {"responsable": "Inès", "echeance": "", "statut": "fait", "revision": "1"}
    assert client.post(path, data=form, headers=headers).status_code == 200
    stale = client.post(path, data=form | {"responsable": "Karim"}, headers=headers)
    assert stale.status_code == 409
    assert stale.text.lstrip().startswith(f'<tr id="action-{item.id}" class="row-invalid"')
    fragment = html.unescape(stale.text)
    assert "Version enregistrée : responsable Inès, échéance —, statut Fait." in fragment
    assert 'value="Karim"' in fragment
    assert items_of(app, assessment)[0].owner == "Inès"


def test_an_edit_without_its_revision_is_refused_and_changes_nothing(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, item = opened_plan(app, director)
    form = {"responsable": "Inès", "echeance": "", "statut": "fait", "csrf_token": token}
    for revision in ({}, {"revision": "deux"}):
        response = client.post(f"/autoevaluations/{assessment.id}/plan/{item.id}", data=form | revision)
        assert response.status_code == 422
        assert "Le formulaire est incomplet : rechargez la page, puis recommencez." in html.unescape(
            response.text
        )
    assert items_of(app, assessment)[0].owner == ""
    assert audit_count(app, "action_item.update") == 0


def test_an_item_of_another_assessment_is_404(app: FastAPI, director: tuple[User, Structure]) -> None:
    user, structure = director
    first = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS)
    second = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS)
    client = signed_in(app, "directrice@example.org")
    token = csrf_from(client.get(f"/autoevaluations/{first.id}/plan").text)
    item = items_of(app, first)[0]
    form = {"responsable": "Inès", "echeance": "", "statut": "fait", "csrf_token": token}
    assert client.post(f"/autoevaluations/{second.id}/plan/{item.id}", data=form).status_code == 404
    assert client.post(f"/autoevaluations/{first.id}/plan/999999", data=form).status_code == 404


def test_a_director_of_another_structure_gets_404_and_nothing_changes(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    user, structure = director
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS, submit=True)
    signed_in(app, "directrice@example.org").get(f"/autoevaluations/{assessment.id}/plan")
    item = items_of(app, assessment)[0]
    member(app, "intrus@example.org", structure_name="Médiation du Sud")
    intruder = signed_in(app, "intrus@example.org")
    token = csrf_from(intruder.get("/structures").text)
    for path in (f"/autoevaluations/{assessment.id}/resultats", f"/autoevaluations/{assessment.id}/plan"):
        response = intruder.get(path)
        assert response.status_code == 404
        assert "Médiation du Nord" not in response.text
    form = {"responsable": "Intrus", "echeance": "", "statut": "fait", "csrf_token": token}
    assert intruder.post(f"/autoevaluations/{assessment.id}/plan/{item.id}", data=form).status_code == 404
    after = items_of(app, assessment)[0]
    assert (after.owner, after.status) == ("", ActionStatus.TODO)
    assert audit_count(app, "action_item.update") == 0


def test_a_forged_csrf_token_is_refused_and_changes_nothing(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    user, structure = director
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS)
    client = signed_in(app, "directrice@example.org")
    client.get(f"/autoevaluations/{assessment.id}/plan")
    item = items_of(app, assessment)[0]
    form = {"responsable": "Inès", "echeance": "", "statut": "fait", "csrf_token": "forged"}
    assert client.post(f"/autoevaluations/{assessment.id}/plan/{item.id}", data=form).status_code == 403
    assert items_of(app, assessment)[0].status == ActionStatus.TODO


def test_results_and_plan_list_blocking_criteria_inferred_gaps_and_unanswered_apart(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    user, structure = director
    levels = {"DEO-01": 0, "PRO-12": 0}
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=levels)
    client = signed_in(app, "directrice@example.org")
    page = html.unescape(client.get(f"/autoevaluations/{assessment.id}/resultats").text)
    assert "Résultat prévu à l'audit : Pas prêt" in page  # a major gap on deontology
    blocking = page[page.index('id="a-lever"') :]
    blocking = blocking[: blocking.index("</section>")]
    assert 'href="#ecart-DEO-01"' in blocking
    assert "PRO-12" not in blocking  # inferred: at most a minor gap
    assert "<dt>Critères non renseignés</dt><dd>74</dd>" in page  # 76 asked, 2 answered
    assert "<dt>Écarts majeurs prévus</dt><dd>1</dd>" in page
    inferred = page[page.index('id="ecart-PRO-12"') :]
    inferred = inferred[: inferred.index("</li>\n")]
    assert "Critère déduit, à vérifier (confiance L)" in inferred
    assert "mais déduit (confiance L) : écart mineur à confirmer sur le texte de la norme" in inferred
    plan = html.unescape(client.get(f"/autoevaluations/{assessment.id}/plan").text)
    row = plan[plan.index('id="action-') :]
    assert "À lever avant l'audit" in row
    assert "Critère déduit, à vérifier (confiance L)" in plan
