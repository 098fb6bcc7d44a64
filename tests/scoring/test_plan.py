"""The prepared plan a version is scored by (`app.scoring.plan`): cached per version, never changing a result."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog
from app.scoring.codes import Finding
from app.scoring.models import Answer, Evidence
from app.scoring.plan import plan
from app.scoring.service import area_scores, score
from tests.scoring.test_properties import DAY, FIXTURE, MINI_V2, scenario


def cold(version: CriteriaVersion) -> CriteriaVersion:
    """An equal version that no plan was prepared for yet (plans are cached per object)."""
    return version.model_copy()


@settings(FIXTURE, max_examples=25)  # each example prepares three plans from nothing
@given(data=st.data())
def test_versions_scored_alternately_give_what_each_gives_alone(
    catalog: Catalog, data: st.DataObject
) -> None:
    versions = [catalog.criteria_version("x60-600@1.0.0"), catalog.criteria_version("x60-600@1.1.0"), MINI_V2]
    cases = [(v, *data.draw(scenario(v))) for v in versions for _ in range(3)]
    warm = [
        score(v, profile=profile, answers=answers, reference_date=day)
        for v, profile, answers in cases
        for day in (None, DAY)
    ]
    fresh = {id(v): cold(v) for v in versions}  # plans that saw no other version's assessments
    alone = [
        score(fresh[id(v)], profile=profile, answers=answers, reference_date=day)
        for v, profile, answers in cases
        for day in (None, DAY)
    ]
    assert warm == alone
    assert [r.as_dict() for r in warm] == [r.as_dict() for r in alone]


def test_a_plan_is_prepared_once_per_version_object(catalog: Catalog) -> None:
    version = catalog.criteria_version("x60-600@1.1.0")
    assert plan(version) is plan(version)
    assert plan(cold(version)) is not plan(version)


def test_results_held_by_the_plan_are_the_same_for_every_assessment(catalog: Catalog) -> None:
    version = catalog.criteria_version("x60-600@1.1.0")
    criterion = next(c for c in version.active if len(c.expected_evidence) >= 2 and c.applies_if is None)
    first, second = criterion.expected_evidence[:2]
    partly = {criterion.id: Answer(level=1, evidence=(Evidence(first.label),))}
    fully = {
        criterion.id: Answer(level=1, evidence=(Evidence(first.id), Evidence(f" {second.label.upper()} ")))
    }
    for answers in (partly, fully, partly):
        result = next(
            r for r in score(version, profile={}, answers=answers).criteria if r.criterion == criterion.id
        )
        covered = {first.label} if answers is partly else {first.label, second.label}
        expected = tuple(e.label for e in criterion.expected_evidence if e.label not in covered)
        assert (result.level, result.missing_evidence) == (1, expected)
        assert result.finding in (Finding.ECART_MINEUR, Finding.ECART_MAJEUR)


@FIXTURE
@given(data=st.data())
def test_area_scores_of_all_results_are_the_assessment_area_scores(
    catalog: Catalog, data: st.DataObject
) -> None:
    version = catalog.criteria_version("x60-600@1.1.0")
    profile, answers = data.draw(scenario(version))
    result = score(version, profile=profile, answers=answers, reference_date=date(2026, 6, 30))
    weights = {c.id: c.weight for c in version.active}
    assert area_scores(version, [(weights[r.criterion], r) for r in result.criteria]) == result.areas


@pytest.mark.parametrize("level", [-1, 4])
def test_an_answer_level_outside_0_to_3_is_refused(level: int) -> None:
    with pytest.raises(ValueError, match=f"not {level}"):
        Answer(level=level)
