"""Properties the scoring must keep for any profile and answers, on the real and the mini referential."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog
from app.scoring.models import Answer, Evidence, Finding, Result, Verdict
from app.scoring.service import score

VERDICT_RANK = {Verdict.PAS_PRET: 0, Verdict.PRESQUE_PRET: 1, Verdict.PRET: 2}
FIXTURE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(params=["mini", "x60-600"])
def version(request: pytest.FixtureRequest, catalog: Catalog, mini: CriteriaVersion) -> CriteriaVersion:
    return mini if request.param == "mini" else catalog.criteria_version("x60-600")


def profiles(version: CriteriaVersion) -> st.SearchStrategy[dict[str, Any]]:
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for field in version.profile_fields:
        values = [o.value for o in field.options]
        if field.kind == "boolean":
            parts[field.id] = st.booleans()
        elif field.kind == "choice":
            parts[field.id] = st.sampled_from(values)
        else:
            parts[field.id] = st.lists(st.sampled_from(values), unique=True)
    return st.fixed_dictionaries({}, optional=parts)


def answers_for(version: CriteriaVersion) -> st.SearchStrategy[dict[str, Answer]]:
    evidence = st.lists(
        st.builds(Evidence, st.sampled_from(["Charte", "Rapport", "PV"]), st.just(frozenset())), max_size=2
    ).map(tuple)
    answer = st.one_of(
        st.builds(Answer, level=st.integers(0, 3), evidence=evidence),
        st.builds(
            Answer, not_applicable=st.just(True), justification=st.sampled_from(["", "Sans objet ici"])
        ),
        st.just(Answer(justification="commentaire seul")),
    )
    ids = [c.id for c in version.active]
    return st.dictionaries(st.sampled_from(ids), answer)


def scenario(version: CriteriaVersion) -> st.SearchStrategy[tuple[dict[str, Any], dict[str, Answer]]]:
    return st.tuples(profiles(version), answers_for(version))


def serialised(result: Result) -> bytes:
    return json.dumps(result.as_dict(), ensure_ascii=False, sort_keys=True).encode()


@FIXTURE
@given(data=st.data())
def test_raising_one_level_never_lowers_a_score_nor_adds_a_gap(
    version: CriteriaVersion, data: st.DataObject
) -> None:
    profile, answers = data.draw(scenario(version))
    raisable = sorted(cid for cid, a in answers.items() if a.level is not None and a.level < 3)
    if not raisable:
        return
    chosen = data.draw(st.sampled_from(raisable))
    raised = dict(answers)
    raised[chosen] = Answer(level=answers[chosen].level + 1, evidence=answers[chosen].evidence)  # type: ignore[operator]
    before = score(version, profile=profile, answers=answers)
    after = score(version, profile=profile, answers=raised)
    for old, new in zip(before.areas, after.areas, strict=True):
        assert (old.score is None and new.score is None) or new.score >= old.score  # type: ignore[operator]
    assert {g.criterion for g in after.gaps} <= {g.criterion for g in before.gaps}
    assert VERDICT_RANK[after.verdict] >= VERDICT_RANK[before.verdict]


@FIXTURE
@given(data=st.data())
def test_not_applicable_never_changes_other_criteria_results(
    version: CriteriaVersion, data: st.DataObject
) -> None:
    profile, answers = data.draw(scenario(version))
    chosen = data.draw(st.sampled_from([c.id for c in version.active]))
    marked = {**answers, chosen: Answer(not_applicable=True, justification="Hors de notre champ")}
    before = {r.criterion: r for r in score(version, profile=profile, answers=answers).criteria}
    after = {r.criterion: r for r in score(version, profile=profile, answers=marked).criteria}
    assert {k: v for k, v in before.items() if k != chosen} == {k: v for k, v in after.items() if k != chosen}


@FIXTURE
@given(data=st.data())
def test_same_input_gives_the_same_bytes_whatever_the_answer_order(
    version: CriteriaVersion, data: st.DataObject
) -> None:
    profile, answers = data.draw(scenario(version))
    shuffled = dict(reversed(list(answers.items())))
    first = score(version, profile=profile, answers=answers)
    assert first == score(version, profile=profile, answers=answers)
    assert serialised(first) == serialised(score(version, profile=profile, answers=shuffled))


@FIXTURE
@given(data=st.data())
def test_an_unanswered_criterion_never_counts_as_conforming(
    version: CriteriaVersion, data: st.DataObject
) -> None:
    profile, answers = data.draw(scenario(version))
    chosen = data.draw(st.sampled_from([c.id for c in version.active]))
    answers.pop(chosen, None)
    result = score(version, profile=profile, answers=answers)
    mine = next(r for r in result.criteria if r.criterion == chosen)
    assert mine.finding in (Finding.NON_RENSEIGNE, Finding.NON_APPLICABLE)
    if mine.applicable:
        assert mine.finding is Finding.NON_RENSEIGNE
        assert chosen in {g.criterion for g in result.gaps}
        assert result.majors + result.minors >= 1


@FIXTURE
@given(data=st.data())
def test_scores_stay_between_0_and_100_and_priorities_are_a_ranking(
    version: CriteriaVersion, data: st.DataObject
) -> None:
    profile, answers = data.draw(scenario(version))
    result = score(version, profile=profile, answers=answers)
    assert all(a.score is None or 0 <= a.score <= 100 for a in result.areas)
    assert [g.priority for g in result.gaps] == list(range(1, len(result.gaps) + 1))
    assert 0 <= result.progress.answered <= result.progress.applicable
