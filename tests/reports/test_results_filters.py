"""The results page's gap filters and wording through HTTP (rendering only: SQLite)."""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.accounts.models import Role
from app.structures.models import Structure
from tests.factories import make_cohort
from tests.reports.helpers import LEVELS, assessment_with_answers, member, signed_in

pytestmark = pytest.mark.sqlite_only
HTMX = {"HX-Request": "true"}


@pytest.fixture
def results_url(app: FastAPI) -> str:
    user, structure = member(app, "directrice@example.org", structure_name="Médiation du Nord")
    assert structure is not None
    assessment = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS)
    return f"/autoevaluations/{assessment.id}/resultats"


def gap_ids(page: str) -> list[str]:
    return re.findall(r'<li class="gap" id="ecart-([A-Z]+-\d+)"', page)


def test_workshops_are_folded_with_their_counts_by_severity(app: FastAPI, results_url: str) -> None:
    page = html.unescape(signed_in(app, "directrice@example.org").get(results_url).text)
    heading = page[page.index('<h3 id="atelier-politique_qualite">') :]
    heading = heading[: heading.index("</h3>")]
    assert re.search(
        r"\(\d+ écarts · 1 écart majeur · \d+ non renseigné · \d+ écart mineur\)", " ".join(heading.split())
    )
    assert '<details class="workshop-gaps">' in page  # folded
    assert "Voir les " in page


def test_gaps_are_filtered_by_severity_and_workshop(app: FastAPI, results_url: str) -> None:
    client = signed_in(app, "directrice@example.org")
    everything = gap_ids(client.get(results_url).text)
    majors = client.get(f"{results_url}?gravite=ecart_majeur")
    assert majors.status_code == 200
    assert gap_ids(majors.text) == ["DEO-02"]
    assert '<details class="workshop-gaps" open>' in majors.text
    assert "1 écart affiché." in html.unescape(majors.text)
    one = gap_ids(client.get(f"{results_url}?atelier=politique_qualite").text)
    assert 0 < len(one) < len(everything)
    fragment = client.get(f"{results_url}?gravite=ecart_mineur", headers=HTMX)
    assert '<section id="gaps-section"' in fragment.text
    assert "<html" not in fragment.text


def test_unknown_filter_values_are_named_with_422(app: FastAPI, results_url: str) -> None:
    response = signed_in(app, "directrice@example.org").get(f"{results_url}?gravite=grave&atelier=cuisine")
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "Choisissez une gravité : écart majeur, non renseigné ou écart mineur." in page
    assert "Cet atelier n'existe pas dans ce référentiel" in page
    assert "DEO-02" in page  # every gap, unfiltered


def test_a_trainer_reads_la_structure_and_a_member_votre_structure(app: FastAPI, results_url: str) -> None:
    trainer, _ = member(app, "julien@example.org", role=Role.TRAINER)
    with Session(app.state.engine) as session:
        structure = session.exec(select(Structure)).one()
        make_cohort(session, trainers=[session.merge(trainer)], structures=[structure])
        structure_url = f"/structures/{structure.id}"
    director = html.unescape(signed_in(app, "directrice@example.org").get(results_url).text)
    assert "les résultats suivent vos réponses" in " ".join(director.split())
    reader = signed_in(app, "julien@example.org")
    page = " ".join(html.unescape(reader.get(results_url).text).split())
    assert "suivent les réponses de la structure" in page
    assert "vos réponses" not in page
    profile = " ".join(html.unescape(reader.get(structure_url).text).split())
    assert "s'appliquent à la structure." in profile
    assert "votre structure" not in profile
