"""Score an assessment and analyse its gaps: pure functions of the criteria version and answers.

Nothing here reads a clock, a database or a request, so the same inputs always give the same
result, byte for byte once serialised (see `as_dict`). The scoring parameters come from the
criteria file's `scoring` block; the method is described in design §4 and the README.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from operator import itemgetter
from typing import NamedTuple

from app.catalog.models import AREA_IDS, CriteriaVersion, Criterion
from app.scoring.evidence import shortfall, uncovered
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
    reference_date: date | None = None,
) -> Result:
    """Score `answers` against `version` for a structure with `profile`.

    `scope` limits scoring to the criteria a partial questionnaire asks; the result says partial.
    `reference_date` is the day evidence validity is counted to (the submission date of a submitted
    assessment, today for a draft): the core reads no clock, and without it no evidence expires.
    Area scores are weighted means of effective levels (unanswered counts as 0, N/A is left out).
    An unanswered criterion weighs on the verdict as it would at level 0.
    """
    items = plan(version).items
    asked = items if scope is None else [item for item in items if item.criterion.id in scope]
    results = [_judge(item, profile, answers.get(item.criterion.id), reference_date) for item in asked]
    weighed = _weigh(asked, results)
    majors, minors, unanswered = _counts(version, results, weighed)
    areas = area_scores(version, zip((item.weight for item in asked), results, strict=True))
    blocking = frozenset(weighed.majors)
    gaps = _gaps(version, asked, results, blocking)
    return Result(
        criteria_ref=version.ref,
        scoring_version=version.scoring.version,
        partial=scope is not None,
        verdict=_verdict(version, weighed, partial=scope is not None),
        majors=majors,
        minors=minors,
        progress=progress_of(areas),
        areas=areas,
        criteria=tuple(results),
        gaps=gaps,
        unanswered=unanswered,
        blocking=tuple(gap.criterion for gap in gaps if gap.blocking),
        unanswered_folded=version.scoring.counts == "unanswered_folded",
    )


def _judge(item: Item, profile: Profile, answer: Answer | None, reference: date | None) -> CriterionResult:
    """One criterion's finding: out of the profile, unanswered, declared N/A, or judged on its level."""
    c = item.criterion
    if item.applies is not None and not item.applies(profile):
        return _without_level(c, False, _NOT_APPLICABLE, Reason.OUT_OF_PROFILE)
    if answer is None or (answer.level is None and not answer.not_applicable):
        return _without_level(c, True, _UNANSWERED, Reason.UNANSWERED)
    if answer.not_applicable:
        if not item.allows_na:  # only the profile may set a deontology or critical criterion aside
            return _without_level(c, True, _UNANSWERED, Reason.NOT_APPLICABLE_REFUSED)
        justification = answer.justification.strip()
        if not justification:  # N/A counts only when justified; until then it is not an answer
            return _without_level(c, True, _UNANSWERED, Reason.UNJUSTIFIED_NOT_APPLICABLE)
        said = {"justification": justification}
        return _without_level(c, True, _NOT_APPLICABLE, Reason.DECLARED_NOT_APPLICABLE, said)
    return _judge_level(item, answer, reference)


def _without_level(
    c: Criterion, applicable: bool, finding: Finding, reason: Reason, params: Params = NO_PARAMS
) -> CriterionResult:
    return CriterionResult(
        c.id,
        c.area,
        c.workshop,
        c.critical,
        applicable,
        None,
        None,
        finding,
        reason,
        params,
        False,
        (),
        c.confidence,
    )


def _judge_level(item: Item, answer: Answer, reference: date | None) -> CriterionResult:
    """A declared level, capped when the criterion requires evidence the answer does not give.

    Scoring v1 asks for one piece at the target level; v2 (`item.required`) asks valid pieces
    covering every required item, and names what is missing, out of date or undated.
    """
    c, level = item.criterion, answer.level
    assert level is not None
    short = None
    if item.capped is not None and level >= item.target:
        if item.strict_evidence:
            short = shortfall(item, answer, reference)
        elif not answer.evidence:
            short = (Reason.UNPROVEN, {"level": level, "cap": item.cap}, item.labels)
    if short is None:
        finding, reason, params = item.judged[level]
        missing = uncovered(item, answer, reference)
        return CriterionResult(
            c.id,
            c.area,
            c.workshop,
            c.critical,
            True,
            level,
            level,
            finding,
            reason,
            params,
            False,
            missing,
            c.confidence,
        )
    reason, params, missing = short
    assert item.capped is not None
    return CriterionResult(
        c.id,
        c.area,
        c.workshop,
        c.critical,
        applicable=True,
        level=level,
        effective_level=item.cap,
        finding=item.capped,
        reason_code=reason,
        reason_params=params,
        capped=True,
        missing_evidence=missing,
        confidence=c.confidence,
    )


class _Weighed(NamedTuple):
    """Gaps as the verdict weighs them: an unanswered criterion as it would be at level 0."""

    majors: tuple[str, ...]
    gaps: int
    blocked: bool
    """A major gap on a blocking criterion or area."""


def _weigh(asked: Sequence[Item], results: Sequence[CriterionResult]) -> _Weighed:
    majors: list[str] = []
    gaps = 0
    blocked = False
    for item, r in zip(asked, results, strict=True):
        finding = item.judged[0][0] if r.finding is _UNANSWERED else r.finding
        if finding is _MAJOR:
            majors.append(r.criterion)
            blocked = blocked or item.blocks
        if finding is _MAJOR or finding is _MINOR:
            gaps += 1
    return _Weighed(tuple(majors), gaps, blocked)


def _counts(
    version: CriteriaVersion, results: Sequence[CriterionResult], weighed: _Weighed
) -> tuple[int, int, int]:
    """Majors, minors and unanswered; v1 folds unanswered criteria into the first two as at level 0."""
    unanswered = sum(1 for r in results if r.finding is _UNANSWERED)
    if version.scoring.counts == "unanswered_folded":
        return len(weighed.majors), weighed.gaps - len(weighed.majors), unanswered
    majors = sum(1 for r in results if r.finding is _MAJOR)
    minors = sum(1 for r in results if r.finding is _MINOR)
    return majors, minors, unanswered


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


def _verdict(version: CriteriaVersion, weighed: _Weighed, *, partial: bool) -> Verdict:
    """The verdict the gap counts allow; a blocking major gives « pas prêt », a partial
    questionnaire at best `partial_best`."""
    rules = version.scoring
    if weighed.blocked:
        return Verdict.PAS_PRET
    majors = len(weighed.majors)
    for rule, verdict in ((rules.ready, Verdict.PRET), (rules.almost_ready, Verdict.PRESQUE_PRET)):
        if majors <= rule.max_major and weighed.gaps <= rule.max_gaps:
            if verdict is Verdict.PRET and partial:
                return Verdict(rules.partial_best)
            return verdict
    return Verdict.PAS_PRET


def _gaps(
    version: CriteriaVersion,
    asked: Sequence[Item],
    results: Sequence[CriterionResult],
    blocking: Collection[str],
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
            r.criterion in blocking,
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
