"""Progress over time: full and express apart on the history chart, the comparison page, bad choices."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from sqlmodel import Session

from app.accounts.models import Role, User
from app.assessments import evidence, snapshot
from app.assessments import service as assessments
from app.assessments.models import Assessment
from app.assessments.snapshot import load_or_create_signer
from app.structures.models import Structure
from tests.reports.helpers import answer, assessment_with_answers, member, signed_in

pytestmark = pytest.mark.sqlite_only  # pages and charts: nothing dialect-specific


@pytest.fixture
def nord(app: FastAPI) -> tuple[User, Structure]:
    user, structure = member(app, "d@example.org", structure_name="Nord")
    member(app, "o@example.org", structure_name="Sud")
    assert structure is not None
    return user, structure


def submitted(
    app: FastAPI, user: User, structure: Structure, levels: dict[str, int], proven: str
) -> Assessment:
    """A full assessment answered at `levels`, with evidence covering every expected item of `proven`."""
    catalog = app.state.catalog
    with Session(app.state.engine, expire_on_commit=False) as session:
        user, structure = session.merge(user), session.merge(structure)
        assessment = assessments.start(
            session, catalog=catalog, structure=structure, user=user, questionnaire_ref="full"
        )
        for criterion_id, level in levels.items():
            answer(session, catalog, assessment=assessment, user=user, criterion_id=criterion_id, level=level)
        criterion = catalog.criteria[assessment.criteria_ref].by_id[proven]
        piece = evidence.add(
            session,
            structure=structure,
            user=user,
            title="Preuve",
            link="https://example.org/p",
            document_date=datetime.now(UTC).date(),
        )
        items = [item.id for item in criterion.expected_evidence]
        evidence.attach(
            session, assessment=assessment, evidence=piece, criterion_id=proven, covers=items, user=user
        )
        signer = load_or_create_signer(app.state.settings.data_dir)
        snapshot.submit(
            session, catalog=catalog, assessment=assessment, structure=structure, user=user, signer=signer
        )
        return assessment


def test_the_history_chart_draws_express_results_apart_with_each_point_named(
    app: FastAPI, nord: tuple[User, Structure]
) -> None:
    user, structure = nord
    assessment_with_answers(app, user=user, structure=structure, levels={"DEO-01": 2}, submit=True)
    assessment_with_answers(
        app, user=user, structure=structure, levels={"DEO-01": 1}, questionnaire="express", submit=True
    )
    page = signed_in(app, "d@example.org").get(f"/structures/{structure.id}").text
    chart = page[page.index('<svg class="history"') : page.index("</ul>", page.index('<svg class="history"'))]
    full = re.findall(r'<polyline class="history-line history-line-\d"', chart)
    express = re.findall(r'<polyline class="history-line history-line-\d history-line-express"', chart)
    assert len(full) == len(express) == 4  # one line per area and per kind, never one joining both
    assert "history-dot-express" in chart
    assert "Déontologie (express) : " in chart
    assert re.search(r"— express, soumise le \d\d/\d\d/\d{4}</title>", chart)
    assert re.search(r"— complet, soumise le \d\d/\d\d/\d{4}</title>", chart)


def test_the_comparison_shows_levels_gaps_closed_and_opened_and_area_deltas(
    app: FastAPI, nord: tuple[User, Structure]
) -> None:
    user, structure = nord
    first = submitted(app, user, structure, {"DEO-01": 3, "DEO-02": 0}, proven="DEO-01")
    second = submitted(app, user, structure, {"DEO-01": 0, "DEO-02": 3}, proven="DEO-02")
    client = signed_in(app, "d@example.org")
    assert 'href="/structures/1/comparaison"' in client.get("/structures/1").text
    page = client.get(f"/structures/1/comparaison?avant={second.id}&apres={first.id}").text  # either order
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    closed = text[text.index("Écarts comblés") : text.index("Écarts apparus", text.index("Écarts comblés"))]
    opened = text[
        text.index("Écarts apparus", text.index("Écarts comblés")) : text.index("Critère par critère")
    ]
    assert "DEO-02" in closed
    assert "DEO-01" not in closed
    assert "DEO-01" in opened
    assert "1 écart comblé · 1 écart apparu" in text
    assert re.search(r"DEO-01 — [^<]*? 3 · Conforme 0 · Écart majeur changé", text)
    assert re.search(r"Déontologie \d+,\d \d+,\d [+-]?\d+,\d|Déontologie \d+ \d+ 0", text)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("avant=1&apres=1", 422),
        ("avant=1&apres=999", 404),
        ("avant=x&apres=1", 404),
        ("avant=1&apres=3", 404),
    ],
)
def test_bad_choices_are_refused_with_a_french_message(
    app: FastAPI, nord: tuple[User, Structure], query: str, status: int
) -> None:
    user, structure = nord
    submitted(app, user, structure, {"DEO-01": 1}, proven="DEO-01")
    submitted(app, user, structure, {"DEO-01": 2}, proven="DEO-01")
    with Session(app.state.engine, expire_on_commit=False) as session:
        other = session.get(Structure, 2)
        director = session.exec(
            __import__("sqlmodel").select(User).where(User.email == "o@example.org")
        ).one()
    assessment_with_answers(
        app, user=director, structure=other, levels={"DEO-01": 1}, submit=True
    )  # id 3, Sud's
    response = signed_in(app, "d@example.org").get(f"/structures/1/comparaison?{query}")
    assert response.status_code == status
    assert "Choisissez deux autoévaluations différentes de cette structure." in response.text.replace(
        "&#39;", "'"
    )


def test_an_outsider_cannot_compare_another_structures_assessments(
    app: FastAPI, nord: tuple[User, Structure]
) -> None:
    member(app, "t@example.org", role=Role.TRAINER)
    assert signed_in(app, "t@example.org").get("/structures/1/comparaison").status_code == 404


def test_the_cohort_dashboard_shows_each_structures_trend_since_its_previous_assessment(
    app: FastAPI, nord: tuple[User, Structure]
) -> None:
    from tests.factories import make_cohort

    user, structure = nord
    trainer, _ = member(app, "t@example.org", role=Role.TRAINER)
    with Session(app.state.engine, expire_on_commit=False) as session:
        other = session.get(Structure, 2)
        assert other is not None
        make_cohort(session, trainers=[trainer], structures=[structure, other])
    submitted(app, user, structure, {"DEO-01": 0, "DEO-02": 0}, proven="DEO-01")
    submitted(app, user, structure, {"DEO-01": 3, "DEO-02": 3}, proven="DEO-02")
    page = signed_in(app, "t@example.org").get("/cohortes/1").text
    cells = re.findall(r'<td class="trend">(.*?)</td>', page, flags=re.S)
    text = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    assert re.fullmatch(r"▲ \+\d+,\d pts écarts (\d+) → (\d+)", text[0]), text
    before, after = map(int, re.findall(r"(\d+) → (\d+)", text[0])[0])
    assert after == before - 1  # DEO-02 closed; DEO-01 stays a gap (at 3 without evidence it counts 2)
    assert len(cells) == 1  # « Sud » has no assessment: no trend cell, the row says so
