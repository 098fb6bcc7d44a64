"""Gap cards are kept once rendered (`app.reports.cards`): a kept card is never shown for a gap,
language, due date or day it was not rendered for."""

from __future__ import annotations

import html
from collections import OrderedDict
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import Session, col

from app.accounts.models import User
from app.assessments.models import Assessment
from app.reports import cards
from app.structures.models import Structure
from tests.reports.helpers import LEVELS, answer, assessment_with_answers, signed_in


def card(page: str, criterion: str) -> str:
    shown = html.unescape(page)
    start = shown.index(f'id="ecart-{criterion}"')
    return shown[start : shown.index("</li>\n", start)]


def test_a_gap_changed_by_an_answer_shows_its_new_card(
    app: FastAPI, director: tuple[User, Structure]
) -> None:
    user, structure = director
    draft = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS)
    client = signed_in(app, "directrice@example.org")
    before = card(client.get(f"/autoevaluations/{draft.id}/resultats").text, "DEO-01")
    assert "Déclaré au niveau 3 sans preuve jointe" in before
    with Session(app.state.engine, expire_on_commit=False) as session:
        answer(
            session,
            app.state.catalog,
            assessment=session.merge(draft),
            user=session.merge(user),
            criterion_id="DEO-01",
            level=1,
            base_revision=1,
        )
    after = card(client.get(f"/autoevaluations/{draft.id}/resultats").text, "DEO-01")
    assert "Déclaré au niveau 3" not in after
    assert after != before


def test_a_card_follows_the_language_and_the_due_date(app: FastAPI, director: tuple[User, Structure]) -> None:
    user, structure = director
    submitted = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS, submit=True)
    client = signed_in(app, "directrice@example.org")
    path = f"/autoevaluations/{submitted.id}/resultats"
    french = card(client.get(path).text, "DEO-02")
    assert "<dt>Pourquoi</dt>" in french
    assert "En retard" not in french
    english = card(client.get(path, headers={"Accept-Language": "en"}).text, "DEO-02")
    assert "<dt>Why</dt>" in english
    assert card(client.get(path).text, "DEO-02") == french
    assert submitted.submitted_at is not None
    long_ago = submitted.submitted_at - timedelta(days=400)  # every deadline passed
    with Session(app.state.engine) as session:
        session.execute(
            update(Assessment).where(col(Assessment.id) == submitted.id).values(submitted_at=long_ago)
        )
        session.commit()
    overdue = card(client.get(path).text, "DEO-02")
    assert "En retard" in overdue
    assert f'<time datetime="{(long_ago.date() + timedelta(days=90)).isoformat()}">' in overdue


def test_the_cards_kept_are_bounded(
    app: FastAPI, director: tuple[User, Structure], monkeypatch: pytest.MonkeyPatch
) -> None:
    user, structure = director
    draft = assessment_with_answers(app, user=user, structure=structure, levels=LEVELS)
    monkeypatch.setattr(cards, "_rendered", OrderedDict())
    monkeypatch.setattr(cards, "KEPT", 2)
    page = signed_in(app, "directrice@example.org").get(f"/autoevaluations/{draft.id}/resultats").text
    assert page.count('<li class="gap"') > 2  # every card shown, though only two are kept
    assert len(cards._rendered) <= 2
