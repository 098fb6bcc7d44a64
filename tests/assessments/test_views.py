"""The questionnaire pages' view models: section scores from the one scoring of the assessment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.assessments import views
from app.catalog.service import Catalog
from app.scoring import models as scoring
from app.scoring.service import score

ASSESSMENTS = Path(__file__).parents[2] / "app" / "assessments"


def answers(catalog: Catalog) -> dict[str, scoring.Answer]:
    """Every kind of answer, spread over every section: levels, N/A with and without a reason,
    level 3 with and without evidence, unanswered questions."""
    version = catalog.criteria_version("x60-600")
    kinds = [
        scoring.Answer(3),
        scoring.Answer(2),
        scoring.Answer(None, True, "Aucun médiateur de nuit"),
        scoring.Answer(None, True),
        scoring.Answer(3, evidence=(scoring.Evidence("Charte", frozenset({"charte-signee"})),)),
        scoring.Answer(0),
        scoring.Answer(1),
    ]
    return {c.id: kinds[i % len(kinds)] for i, c in enumerate(version.active) if i % 9 != 8}


@pytest.mark.parametrize("questionnaire_id", ["full", "express"])
@pytest.mark.parametrize("profile", [{}, {"travail_isole": False, "presence_nocturne": False}])
def test_section_scores_are_those_of_scoring_each_section_on_its_own(
    catalog: Catalog, questionnaire_id: str, profile: dict[str, object]
) -> None:
    questionnaire = catalog.questionnaire(questionnaire_id)
    version = catalog.criteria[questionnaire.criteria]
    given = answers(catalog)
    scope = questionnaire.criterion_ids if questionnaire.partial else None
    result = score(version, profile=profile, answers=given, scope=scope)  # type: ignore[arg-type]
    found = views.section_scores(version, questionnaire, result)
    assert list(found) == [s.id for s in questionnaire.sections]
    for section in questionnaire.sections:
        alone = score(
            version,
            profile=profile,  # type: ignore[arg-type]
            answers=given,
            scope={q.criterion for q in section.questions},
        )
        assert found[section.id].progress == alone.progress, section.id
        assert found[section.id].areas == alone.areas, section.id


def test_the_assessments_domain_imports_nothing_from_the_reviews_domain() -> None:
    """The trainer's remarks reach the questionnaire pages through a dependency (`app.deps`)."""
    for path in ASSESSMENTS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            assert not any(name.startswith("app.reviews") for name in names), path.name
