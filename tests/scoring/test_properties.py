"""Properties the scoring must keep for any profile and answers, on the real and the mini referential."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog
from app.scoring.codes import Finding, Reason, Verdict
from app.scoring.models import Answer, Evidence, Result
from app.scoring.service import score
from tests.scoring.v2_mini import mini_v2

MINI_V2 = mini_v2()

VERDICT_RANK = {
    Verdict.PAS_PRET: 0,
    Verdict.PRESQUE_PRET: 1,
    Verdict.ESTIMATION_FAVORABLE: 2,
    Verdict.PRET: 3,
}
DAY = date(2026, 6, 30)
FIXTURE = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(params=["mini", "mini-v2", "x60-600@1.0.0", "x60-600@1.1.0"])
def version(request: pytest.FixtureRequest, catalog: Catalog, mini: CriteriaVersion) -> CriteriaVersion:
    return {"mini": mini, "mini-v2": MINI_V2}.get(request.param) or catalog.criteria_version(request.param)


@pytest.fixture(params=["mini-v2", "x60-600@1.1.0"])
def v2(request: pytest.FixtureRequest, catalog: Catalog) -> CriteriaVersion:
    """Versions scored by the v2 rules."""
    return MINI_V2 if request.param == "mini-v2" else catalog.criteria_version(request.param)


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
    expected = sorted({e.id for c in version.active for e in c.expected_evidence})
    evidence = st.lists(
        st.builds(
            Evidence,
            st.sampled_from(["Charte", "Rapport", "PV"]),
            st.frozensets(st.sampled_from(expected), max_size=4),
            st.one_of(st.none(), st.dates(date(2023, 1, 1), date(2026, 6, 30))),
        ),
        max_size=2,
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
    before = score(version, profile=profile, answers=answers, reference_date=DAY)
    after = score(version, profile=profile, answers=raised, reference_date=DAY)
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
        if result.unanswered_folded:  # scoring v1 counts an unanswered criterion as a gap at level 0
            assert result.majors + result.minors >= 1
        assert result.unanswered >= 1


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


@FIXTURE
@given(data=st.data())
def test_a_major_gap_never_gives_ready(version: CriteriaVersion, data: st.DataObject) -> None:
    profile, answers = data.draw(scenario(version))
    result = score(version, profile=profile, answers=answers, reference_date=DAY)
    if any(r.finding is Finding.ECART_MAJEUR for r in result.criteria):
        assert result.verdict is not Verdict.PRET
        assert result.blocking


@FIXTURE
@given(data=st.data())
def test_a_partial_questionnaire_never_gives_ready(v2: CriteriaVersion, data: st.DataObject) -> None:
    profile, answers = data.draw(scenario(v2))
    ids = [c.id for c in v2.active]
    scope = data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    perfect = {
        cid: Answer(
            level=3,
            evidence=(Evidence("Tout", frozenset(e.id for e in v2.by_id[cid].expected_evidence), DAY),),
        )
        for cid in ids
    }
    for chosen in (answers, perfect):
        result = score(v2, profile=profile, answers=chosen, scope=scope, reference_date=DAY)
        assert result.partial
        assert result.verdict is not Verdict.PRET
    assert (
        score(v2, profile=profile, answers=perfect, scope=scope, reference_date=DAY).verdict
        is Verdict.ESTIMATION_FAVORABLE
    )


@FIXTURE
@given(data=st.data())
def test_not_applicable_is_refused_where_the_criterion_does_not_allow_it(
    v2: CriteriaVersion, data: st.DataObject
) -> None:
    profile, answers = data.draw(scenario(v2))
    refused = [c.id for c in v2.active if not c.allows_na]
    chosen = data.draw(st.sampled_from(refused))
    marked = {**answers, chosen: Answer(not_applicable=True, justification="Hors de notre champ")}
    mine = next(r for r in score(v2, profile=profile, answers=marked).criteria if r.criterion == chosen)
    if mine.applicable:
        assert (mine.finding, mine.reason_code) == (Finding.NON_RENSEIGNE, Reason.NOT_APPLICABLE_REFUSED)
    else:
        assert mine.reason_code is Reason.OUT_OF_PROFILE  # only the profile sets it aside


@FIXTURE
@given(data=st.data())
def test_an_inferred_criterion_is_never_a_major_gap_and_carries_its_confidence(
    v2: CriteriaVersion, data: st.DataObject
) -> None:
    profile, answers = data.draw(scenario(v2))
    result = score(v2, profile=profile, answers=answers, reference_date=DAY)
    inferred = {c.id for c in v2.active if c.confidence == "L"}
    assert inferred
    for r in result.criteria:
        if r.criterion in inferred:
            assert r.finding is not Finding.ECART_MAJEUR
            assert r.confidence == "L"
    assert inferred.isdisjoint(result.blocking)
    assert all(g.confidence == v2.by_id[g.criterion].confidence for g in result.gaps)
