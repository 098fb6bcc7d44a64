"""Results page and action plan through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from app.accounts.models import User
from app.structures.models import Structure
from tests.reports.helpers import LEVELS, assessment_with_answers, signed_in

WORKSHOPS = (
    "Politique Qualité",
    "Gestion de l'activité et de ses moyens",
    "Formation des équipes",
    "Évaluation de l'utilité sociale",
)


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


def test_the_results_page_reads_the_membership_and_the_review_once(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    user, structure = director
    draft = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS)
    client = signed_in(app, "directrice@example.org")
    client.get(f"/autoevaluations/{draft.id}/resultats")  # the session's last use noted
    statements: list[str] = []

    def executing(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", executing)
    try:
        response = client.get(f"/autoevaluations/{draft.id}/resultats")
    finally:
        event.remove(app.state.engine, "before_cursor_execute", executing)
    assert response.status_code == 200
    assert "changeront avec elles" in response.text
    assert "suivent vos réponses" in html.unescape(response.text)  # read as the structure's member
    # The session; the assessment with its structure and the membership; the answers; the
    # evidence; the certification record; the review's decisions.
    assert not [s for s in statements if "FROM membership" in s and "JOIN" not in s], statements
    assert len([s for s in statements if "FROM review_decision" in s]) == 1, statements
    assert len(statements) <= 6, statements
