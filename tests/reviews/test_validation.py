"""Validating a review through HTTP: only applicable criteria count, and the unreviewed ones are confirmed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session, func, select

from app.accounts.models import Role
from app.assessments import service as assessments
from app.assessments.snapshot import load_or_create_signer, submit
from app.db import pk
from app.reviews.models import ReviewDecision
from tests.factories import make_cohort
from tests.reports.helpers import answer, member, signed_in
from tests.reviews.test_routes import post, review, text

# A structure doing only street presence: the criteria of the other registers do not apply to it.
PROFILE = {"registres": ["presence_proximite"]}


@pytest.fixture
def submitted(app: FastAPI) -> dict[str, Any]:
    director, structure = member(app, "nadia@example.org", structure_name="Médiation Horizon")
    trainer, _ = member(app, "julien@example.org", role=Role.TRAINER)
    catalog = app.state.catalog
    with Session(app.state.engine, expire_on_commit=False) as session:
        director, structure, trainer = (
            session.merge(director),
            session.merge(structure),
            session.merge(trainer),
        )
        structure.profile = PROFILE
        session.add(structure)
        session.commit()
        assessment = assessments.start(
            session, catalog=catalog, structure=structure, user=director, questionnaire_ref="full"
        )
        answer(session, catalog, assessment=assessment, user=director, criterion_id="DEO-01", level=2)
        signer = load_or_create_signer(app.state.settings.data_dir)
        submit(
            session, catalog=catalog, assessment=assessment, structure=structure, user=director, signer=signer
        )
        result = assessments.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
        make_cohort(session, trainers=[trainer], structures=[structure])
    applicable = [r.criterion for r in result.criteria if r.applicable]
    return {"assessment": pk(assessment), "applicable": len(applicable), "asked": len(result.criteria)}


def decisions(app: FastAPI) -> int:
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(ReviewDecision)).one()


def test_the_review_counts_only_the_criteria_that_apply(app: FastAPI, submitted: dict[str, Any]) -> None:
    assert submitted["applicable"] < submitted["asked"]  # the profile rules some out
    julien = signed_in(app, "julien@example.org")
    page = re.sub(r"\s+", " ", text(julien.get(f"/autoevaluations/{submitted['assessment']}/relecture")))
    assert f"<dt>Critères relus</dt><dd>0 sur {submitted['applicable']}" in page
    excluded = submitted["asked"] - submitted["applicable"]
    assert f"({excluded} critères ne s'appliquent pas à la structure)" in page
    review(julien, submitted["assessment"], "DEO-01", "2")
    page = re.sub(r"\s+", " ", text(julien.get(f"/autoevaluations/{submitted['assessment']}/relecture")))
    assert f"<dt>Critères relus</dt><dd>1 sur {submitted['applicable']}" in page


@pytest.mark.parametrize(
    "confirmation", [{}, {"confirmation": ""}, {"confirmation": "1"}, {"confirmation": "tous"}]
)
def test_validating_without_confirming_the_unreviewed_count_is_refused(
    app: FastAPI, submitted: dict[str, Any], confirmation: dict[str, str]
) -> None:
    julien = signed_in(app, "julien@example.org")
    url = f"/autoevaluations/{submitted['assessment']}/relecture/validation"
    refused = post(julien, url, {"message": "Prête."} | confirmation)
    assert refused.status_code == 422
    page = text(refused)
    count = submitted["applicable"]
    assert f"{count} critères applicables n'ont pas été relus" in page
    assert "Rien n'a été décidé." in page
    assert f'name="confirmation" value="{count}"' in page
    assert decisions(app) == 0


def test_the_confirmation_must_state_the_current_count(app: FastAPI, submitted: dict[str, Any]) -> None:
    julien = signed_in(app, "julien@example.org")
    assessment, count = submitted["assessment"], submitted["applicable"]
    stated = str(count)
    review(julien, assessment, "DEO-01", "2")  # reviewed meanwhile: one fewer left
    url = f"/autoevaluations/{assessment}/relecture/validation"
    stale = post(julien, url, {"confirmation": stated})
    assert stale.status_code == 422
    assert f"{count - 1} critères applicables n'ont pas été relus" in text(stale)
    assert decisions(app) == 0
    assert post(julien, url, {"confirmation": str(count - 1)}).status_code == 303
    assert decisions(app) == 1


def test_returning_needs_no_confirmation(app: FastAPI, submitted: dict[str, Any]) -> None:
    julien = signed_in(app, "julien@example.org")
    url = f"/autoevaluations/{submitted['assessment']}/relecture/retour"
    assert post(julien, url, {"message": "À compléter."}).status_code == 303
    assert decisions(app) == 1


def test_review_sections_repeat_no_landmark_name(app: FastAPI, submitted: dict[str, Any]) -> None:
    julien = signed_in(app, "julien@example.org")
    page = julien.get(f"/autoevaluations/{submitted['assessment']}/relecture/sections/deontologie").text
    assert 'class="review-side"' in page
    assert '<section class="review-side"' not in page
    assert "data-autosave" in page
