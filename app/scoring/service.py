"""Score an assessment and analyse its gaps: pure functions of the criteria version and answers.

Nothing here reads a clock, a database or a request, so the same inputs always give the same
result, byte for byte once serialised (see `as_dict`). The scoring parameters come from the
criteria file's `scoring` block; the method is described in design §4 and the README.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from operator import itemgetter

from app.catalog.models import AREA_IDS, CriteriaVersion, Criterion
from app.scoring.models import (
    NO_PARAMS,
    Action,
    Answer,
    AreaScore,
    CriterionResult,
    Finding,
    Gap,
    Params,
    Profile,
    Progress,
    Reason,
    Result,
    Verdict,
)
from app.scoring.plan import Item, plan

# Re-exported: the structures and assessments domains import them from here.

_UNANSWERED, _MAJOR, _MINOR = Finding.NON_RENSEIGNE, Finding.ECART_MAJEUR, Finding.ECART_MINEUR
_NOT_APPLICABLE = Finding.NON_APPLICABLE
_SEVERITY_RANK = {Finding.ECART_MAJEUR: 0, Finding.NON_RENSEIGNE: 1, Finding.ECART_MINEUR: 2}


def score(
    version: CriteriaVersion,
    *,
    profile: Profile,
    answers: Mapping[str, Answer],
    scope: Collection[str] | None = None,
) -> Result:
    """Score `answers` against `version` for a structure with `profile`.

    `scope` limits scoring to the criteria a partial questionnaire asks; the result says partial.
    Area scores are weighted means of effective levels (unanswered counts as 0, N/A is left out).
    An unanswered criterion weighs on the verdict as it would at level 0.
    """
    items = plan(version).items
    asked = items if scope is None else [item for item in items if item.criterion.id in scope]
    results = [_judge(item, profile, answers.get(item.criterion.id)) for item in asked]
    majors, minors = _count_gaps(results)
    areas = area_scores(version, zip((item.weight for item in asked), results, strict=True))
    return Result(
        criteria_ref=version.ref,
        scoring_version=version.scoring.version,
        partial=scope is not None,
        verdict=_verdict(version, majors, minors),
        majors=majors,
        minors=minors,
        progress=progress_of(areas),
        areas=areas,
        criteria=tuple(results),
        gaps=_gaps(version, asked, results),
    )


def _judge(item: Item, profile: Profile, answer: Answer | None) -> CriterionResult:
    """One criterion's finding: out of the profile, unanswered, declared N/A, or judged on its level."""
    c = item.criterion
    if item.applies is not None and not item.applies(profile):
        return _without_level(c, False, _NOT_APPLICABLE, Reason.OUT_OF_PROFILE)
    if answer is None or (answer.level is None and not answer.not_applicable):
        return _without_level(c, True, _UNANSWERED, Reason.UNANSWERED)
    if answer.not_applicable:
        justification = answer.justification.strip()
        if not justification:  # N/A counts only when justified; until then it is not an answer
            return _without_level(c, True, _UNANSWERED, Reason.UNJUSTIFIED_NOT_APPLICABLE)
        said = {"justification": justification}
        return _without_level(c, True, _NOT_APPLICABLE, Reason.DECLARED_NOT_APPLICABLE, said)
    return _judge_level(item, answer)


def _without_level(
    c: Criterion, applicable: bool, finding: Finding, reason: Reason, params: Params = NO_PARAMS
) -> CriterionResult:
    return CriterionResult(
        c.id, c.area, c.workshop, c.critical, applicable, None, None, finding, reason, params
    )


def _judge_level(item: Item, answer: Answer) -> CriterionResult:
    """A declared level, capped when the criterion requires evidence and none is attached."""
    c, level = item.criterion, answer.level
    assert level is not None
    if answer.evidence or item.capped is None or level < item.target:
        finding, reason, params = item.judged[level]
        missing = _missing_evidence(item, answer) if answer.evidence else item.labels
        return CriterionResult(
            c.id, c.area, c.workshop, c.critical, True, level, level, finding, reason, params, False, missing
        )
    return CriterionResult(
        c.id,
        c.area,
        c.workshop,
        c.critical,
        applicable=True,
        level=level,
        effective_level=item.cap,
        finding=item.capped,
        reason_code=Reason.UNPROVEN,
        reason_params={"level": level, "cap": item.cap},
        capped=True,
        missing_evidence=item.labels,
    )


def _missing_evidence(item: Item, answer: Answer) -> tuple[str, ...]:
    """Expected evidence that no attached piece covers, by label.

    A piece covers an expected item when it names its id in `covers`, or when its title is the
    item's id or label (so a plain answers file can say `evidence: [charte-signee]`).
    """
    covered: set[str] = set()
    by_title = item.by_title
    for piece in answer.evidence:
        if piece.covers:
            covered |= piece.covers
        match = by_title.get(piece.title.strip().casefold())
        if match is not None:
            covered.add(match)
    if not covered:
        return item.labels
    return tuple([label for eid, label in item.pairs if eid not in covered])


def _count_gaps(results: Sequence[CriterionResult]) -> tuple[int, int]:
    """Major and minor gaps; an unanswered criterion counts as at level 0, major when critical."""
    majors = minors = 0
    for r in results:
        finding = r.finding
        if finding is _MAJOR or (finding is _UNANSWERED and r.critical):
            majors += 1
        elif finding is _MINOR or finding is _UNANSWERED:
            minors += 1
    return majors, minors


def progress_of(areas: Sequence[AreaScore]) -> Progress:
    """Questions answered out of those that apply, over the areas given."""
    return Progress(answered=sum(a.answered for a in areas), applicable=sum(a.applicable for a in areas))


def area_scores(
    version: CriteriaVersion, weighted: Iterable[tuple[float, CriterionResult]]
) -> tuple[AreaScore, ...]:
    """Each area's weighted mean of effective levels, out of 100, with what it counts.

    `weighted` pairs each criterion's weight with its result: all of an assessment's (`score`), or
    one section's, summed the same way, so a section's score never needs a second scoring.
    """
    reached: dict[str, float] = dict.fromkeys(AREA_IDS, 0.0)
    possible: dict[str, float] = dict.fromkeys(AREA_IDS, 0.0)
    applicable: dict[str, int] = dict.fromkeys(AREA_IDS, 0)
    answered: dict[str, int] = dict.fromkeys(AREA_IDS, 0)
    for weight, r in weighted:
        if not r.applicable:
            continue
        area, finding = r.area, r.finding
        applicable[area] += 1
        if finding is not _UNANSWERED:
            answered[area] += 1
            if finding is _NOT_APPLICABLE:
                continue
            reached[area] += weight * (r.effective_level or 0)
        possible[area] += weight
    target = version.scoring.target_level
    return tuple(
        AreaScore(
            area=area,
            score=round(100 * reached[area] / (possible[area] * target), 1) if possible[area] else None,
            applicable=applicable[area],
            answered=answered[area],
        )
        for area in AREA_IDS
    )


def _verdict(version: CriteriaVersion, majors: int, minors: int) -> Verdict:
    rules = version.scoring
    for rule, verdict in ((rules.ready, Verdict.PRET), (rules.almost_ready, Verdict.PRESQUE_PRET)):
        if majors <= rule.max_major and majors + minors <= rule.max_gaps:
            return verdict
    return Verdict.PAS_PRET


def _gaps(
    version: CriteriaVersion, asked: Sequence[Item], results: Sequence[CriterionResult]
) -> tuple[Gap, ...]:
    """Every non-conforming applicable criterion, by severity then weight × distance to target."""
    target, deadlines = version.scoring.target_level, plan(version).deadlines
    found = [
        ((_SEVERITY_RANK[r.finding], -item.weight * (target - (r.effective_level or 0)), item.index), item, r)
        for item, r in zip(asked, results, strict=True)
        if r.applicable and r.finding in _SEVERITY_RANK
    ]
    found.sort(key=itemgetter(0))
    return tuple(
        Gap(
            r,
            item.criterion.title,
            priority,
            deadlines[r.finding],
            r.missing_evidence or (item.labels if r.level is None else ()),
            *_action(r),
            item.criterion.action,
        )
        for priority, (_, item, r) in enumerate(found, start=1)
    )


def _action(result: CriterionResult) -> tuple[Action, Params]:
    """What to do first: answer, prove the level declared, or else what the criterion suggests."""
    if result.finding is Finding.NON_RENSEIGNE:
        return Action.ANSWER, NO_PARAMS
    if result.capped:
        return Action.ATTACH_EVIDENCE, {"evidence": " ; ".join(result.missing_evidence)}
    return Action.CRITERION, NO_PARAMS
