"""The action plan through HTTP, on SQLite and PostgreSQL: reading never writes, each field saves itself."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import NamedTuple

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts.models import User
from app.assessments.models import ActionItem, ActionStatus, Assessment
from app.db import AuditEntry
from app.structures.models import Structure
from tests.reports.helpers import LEVELS, assessment_with_answers, audit_count, csrf_from, member, signed_in

HTMX = {"HX-Request": "true"}


def items_of(app: FastAPI, assessment: Assessment) -> list[ActionItem]:
    with Session(app.state.engine) as session:
        query = select(ActionItem).where(ActionItem.assessment_id == assessment.id)
        return list(session.exec(query.order_by(ActionItem.id)))  # type: ignore[arg-type]


class OpenedPlan(NamedTuple):
    assessment: Assessment
    client: TestClient
    token: str
    page: str


def opened_plan(app: FastAPI, director: tuple[User, Structure], *, submit: bool = False) -> OpenedPlan:
    user, structure = director
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS, submit=submit)
    client = signed_in(app, "directrice@example.org")
    response = client.get(f"/autoevaluations/{assessment.id}/plan")
    assert response.status_code == 200
    return OpenedPlan(assessment, client, csrf_from(response.text), html.unescape(response.text))


def row_of(page: str, criterion_id: str) -> str:
    row = page[page.index(f'<tr id="action-{criterion_id}"') :]
    return row[: row.index("</tr>")]


def edit(token: str, **fields: str) -> dict[str, str]:
    return {
        "responsable": "",
        "echeance": "",
        "statut": "a_faire",
        "revision": "0",
        "csrf_token": token,
    } | fields


def test_reading_the_plan_writes_nothing_and_shows_a_suggestion_per_gap(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, _client, _token, page = opened_plan(app, director, submit=True)
    assert items_of(app, assessment) == []
    assert audit_count(app, "action_item.create") == 0
    row = row_of(page, "DEO-02")
    assert "Inscrivez le principe d'accès de tous" in row  # the criterion's own action
    assert "Écart majeur" in row
    assert assessment.submitted_at is not None
    due = assessment.submitted_at.date() + timedelta(days=90)
    assert f'value="{due.isoformat()}"' in row
    assert 'hx-trigger="change"' in row
    assert '<input type="hidden" name="revision" value="0">' in row
    # An unanswered criterion keeps its own action, with answering as the first step.
    unanswered = row_of(page, "DEO-03")
    assert "D'abord : Renseigner ce critère" in unanswered
    assert unanswered.index("D'abord") > unanswered.index('class="plan-action">') + 30
    # Grouped by workshop, each group with its count; the most urgent gap first.
    assert '<h2 id="atelier-politique_qualite">Politique Qualité' in page
    assert "data-autosave" in page
    group = page[page.index('id="atelier-politique_qualite"') :]
    assert group.index('<tr id="action-DEO-02"') < group.index('<tr id="action-DEO-01"')


def test_the_first_save_creates_the_item_and_later_ones_update_it(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, _page = opened_plan(app, director, submit=True)
    path = f"/autoevaluations/{assessment.id}/plan/DEO-02"
    response = client.post(path, data=edit(token, responsable="  Inès Martin ", statut="en_cours"))
    assert response.status_code == 303  # the plan stays editable after submission
    assert response.headers["location"] == f"/autoevaluations/{assessment.id}/plan#action-DEO-02"
    [item] = items_of(app, assessment)
    assert (item.criterion_id, item.owner, item.status, item.revision) == (
        "DEO-02",
        "Inès Martin",
        ActionStatus.IN_PROGRESS,
        1,
    )
    assert item.title.startswith("Inscrivez le principe d'accès de tous")
    assert item.due_on is None  # the emptied date was saved as typed
    with Session(app.state.engine) as session:
        created = session.exec(select(AuditEntry).where(AuditEntry.action == "action_item.create")).one()
    assert (created.actor_id, created.structure_id) == (director[0].id, director[1].id)
    assert created.after is not None
    assert created.after["owner"] == "Inès Martin"
    again = client.post(
        path, data=edit(token, responsable="Inès Martin", echeance="2030-06-30", revision="1")
    )
    assert again.status_code == 303
    [item] = items_of(app, assessment)
    assert (item.due_on, item.status, item.revision) == (date(2030, 6, 30), ActionStatus.TODO, 2)
    assert audit_count(app, "action_item.update") == 1
    client.post(path, data=edit(token, responsable="Inès Martin", echeance="2030-06-30", revision="1"))
    assert audit_count(app, "action_item.update") == 1  # the values already saved: nothing written


def test_posting_a_suggestion_unchanged_writes_nothing(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, page = opened_plan(app, director)
    due = row_of(page, "DEO-02").split('type="date" value="', 1)[1][:10]
    response = client.post(f"/autoevaluations/{assessment.id}/plan/DEO-02", data=edit(token, echeance=due))
    assert response.status_code == 303
    assert items_of(app, assessment) == []


def test_with_htmx_a_field_change_swaps_its_row_in_place(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, _page = opened_plan(app, director)
    path = f"/autoevaluations/{assessment.id}/plan/DEO-02"
    headers = HTMX | {"X-CSRF-Token": token}
    done = client.post(path, data=edit("", statut="fait"), headers=headers)
    assert done.status_code == 200
    assert done.text.lstrip().startswith('<tr id="action-DEO-02" class="plan-row"')
    assert "<html" not in done.text
    assert "Enregistré" in done.text
    assert '<input type="hidden" name="revision" value="1">' in done.text
    refused = client.post(path, data=edit("", echeance="demain", revision="1"), headers=headers)
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith('<tr id="action-DEO-02" class="plan-row row-invalid"')
    assert 'value="demain"' in refused.text
    assert items_of(app, assessment)[0].status == ActionStatus.DONE


def test_a_bad_edit_names_each_field_with_422_and_changes_nothing(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, _page = opened_plan(app, director)
    form = edit(token, responsable="x" * 121, echeance="31/12/2030", statut="abandonne")
    response = client.post(f"/autoevaluations/{assessment.id}/plan/DEO-02", data=form)
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "L'action DEO-02 n'a pas été modifiée" in page
    for name, message in (
        ("responsable", "Le nom du responsable ne doit pas dépasser 120 caractères (il en compte 121)."),
        ("echeance", "Saisissez une date valide, par exemple 2025-09-30 (année-mois-jour)."),
        ("statut", "Choisissez un statut : à faire, en cours ou fait."),
    ):
        assert f'<p class="field-error" id="{name}-DEO-02-erreur">{message}</p>' in page
        assert f'href="#{name}-DEO-02"' in page
    assert 'value="31/12/2030"' in page  # what was typed is kept
    assert items_of(app, assessment) == []
    assert audit_count(app, "action_item.create") == 0


@pytest.mark.parametrize("revision", [{}, {"revision": "deux"}, {"revision": "-1"}])
def test_an_edit_without_a_readable_revision_is_refused(
    app: FastAPI, director: tuple[User, Structure], revision: dict[str, str]
) -> None:
    assessment, client, token, _page = opened_plan(app, director)
    form = {k: v for k, v in edit(token, responsable="Inès").items() if k != "revision"} | revision
    response = client.post(f"/autoevaluations/{assessment.id}/plan/DEO-02", data=form)
    assert response.status_code == 422
    assert "Le formulaire est incomplet : rechargez la page, puis recommencez." in html.unescape(
        response.text
    )
    assert items_of(app, assessment) == []


def test_two_tabs_creating_the_same_item_the_second_gets_409_and_keeps_its_values(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, _page = opened_plan(app, director)
    other_tab = signed_in(app, "directrice@example.org")
    other_token = csrf_from(other_tab.get(f"/autoevaluations/{assessment.id}/plan").text)
    path = f"/autoevaluations/{assessment.id}/plan/DEO-02"
    assert (
        client.post(path, data=edit(token, responsable="Inès Martin", statut="en_cours")).status_code == 303
    )
    stale = other_tab.post(path, data=edit(other_token, responsable="Karim", statut="fait"))
    assert stale.status_code == 409
    page = html.unescape(stale.text)
    assert "Cette action a été modifiée entre-temps (autre onglet ou autre personne)." in page
    assert "Version enregistrée : responsable Inès Martin, échéance" in page
    row = row_of(page, "DEO-02")
    assert 'value="Karim"' in row
    assert '<input type="hidden" name="revision" value="1">' in row  # saving again overrides knowingly
    again = other_tab.post(path, data=edit(other_token, responsable="Karim", statut="fait", revision="1"))
    assert again.status_code == 303
    [item] = items_of(app, assessment)
    assert (item.owner, item.status, item.revision) == ("Karim", ActionStatus.DONE, 2)


def test_an_unknown_criterion_is_404(app: FastAPI, director: tuple[User, Structure]) -> None:
    assessment, client, token, _page = opened_plan(app, director)
    for criterion_id in ("DEO-99", "deo-02", "XYZ"):  # no such criterion, or not spelt as the file does
        response = client.post(f"/autoevaluations/{assessment.id}/plan/{criterion_id}", data=edit(token))
        assert response.status_code == 404
    assert items_of(app, assessment) == []


def test_filters_keep_one_workshop_owner_or_status_and_sorting_orders_each_group(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, token, _page = opened_plan(app, director)
    base = f"/autoevaluations/{assessment.id}/plan"
    client.post(f"{base}/DEO-02", data=edit(token, responsable="Inès", echeance="2031-01-01", statut="fait"))
    client.post(f"{base}/DEO-01", data=edit(token, responsable="Karim", echeance="2030-01-01"))
    mine = html.unescape(client.get(f"{base}?responsable=in%C3%A8s").text)
    assert '<tr id="action-DEO-02"' in mine
    assert '<tr id="action-DEO-01"' not in mine
    assert "1 affichée avec ces filtres." in mine
    assert '<option value="Inès" selected>' in mine
    done = html.unescape(client.get(f"{base}?statut=fait").text)
    assert done.count('<tr id="action-') == 1
    nobody = html.unescape(client.get(f"{base}?responsable=-").text)
    assert '<tr id="action-DEO-01"' not in nobody
    assert '<tr id="action-DEO-03"' in nobody
    workshop = html.unescape(client.get(f"{base}?atelier=politique_qualite").text)
    assert workshop.count('<h2 id="atelier-') == 1
    by_date = html.unescape(client.get(f"{base}?tri=echeance&atelier=politique_qualite").text)
    assert by_date.index('<tr id="action-DEO-01"') < by_date.index('<tr id="action-DEO-02"')
    fragment = client.get(f"{base}?statut=fait", headers=HTMX)
    assert fragment.text.lstrip().startswith('<div id="plan-actions"')
    assert items_of(app, assessment)[0].owner == "Inès"  # filtering wrote nothing more
    assert len(items_of(app, assessment)) == 2


def test_unknown_filter_values_are_named_with_422(app: FastAPI, director: tuple[User, Structure]) -> None:
    assessment, client, _token, _page = opened_plan(app, director)
    response = client.get(f"/autoevaluations/{assessment.id}/plan?atelier=cuisine&statut=perdu&tri=hasard")
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "Cet atelier n'existe pas dans ce référentiel" in page
    assert "Choisissez un statut : à faire, en cours ou fait." in page
    assert "Choisissez un tri : priorité, échéance, responsable ou statut." in page
    assert '<tr id="action-DEO-02"' in page  # the whole plan, unfiltered


def test_a_reader_sees_the_plan_without_fields(app: FastAPI, director: tuple[User, Structure]) -> None:
    user, structure = director
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS, submit=True)
    member(app, "intrus@example.org", structure_name="Médiation du Sud")
    intruder = signed_in(app, "intrus@example.org")
    token = csrf_from(intruder.get("/structures").text)
    assert intruder.get(f"/autoevaluations/{assessment.id}/plan").status_code == 404
    form = edit(token, responsable="Intrus")
    assert intruder.post(f"/autoevaluations/{assessment.id}/plan/DEO-02", data=form).status_code == 404
    assert items_of(app, assessment) == []


def test_a_forged_csrf_token_is_refused_and_changes_nothing(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    assessment, client, _token, _page = opened_plan(app, director)
    form = edit("forged", responsable="Inès")
    assert client.post(f"/autoevaluations/{assessment.id}/plan/DEO-02", data=form).status_code == 403
    assert items_of(app, assessment) == []


def test_no_script_posts_get_a_save_button_in_noscript(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    _assessment, _client, _token, page = opened_plan(app, director)
    row = row_of(page, "DEO-02")
    assert "<noscript><button" in row
    assert 'method="post"' in row
