"""Score an assessment and analyse its gaps: pure functions of the criteria version and answers.

Nothing here reads a clock, a database or a request, so the same inputs always give the same
result, byte for byte once serialised (see `as_dict`). The scoring parameters come from the
criteria file's `scoring` block; the method is described in design §4 and the README.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from app.catalog.models import AREA_IDS, CriteriaVersion
from app.scoring.codes import Finding, Params, Reason, Verdict
from app.scoring.evidence import Proof, proof, shortfall
from app.scoring.models import Answer, AreaScore, CriterionResult, Gap, Profile, Progress, Result
from app.scoring.plan import GapParts, Item, Plan, at_level, gap_parts, plan

# Re-exported: the structures and assessments domains import them from here.

_UNANSWERED, _MAJOR, _MINOR = Finding.NON_RENSEIGNE, Finding.ECART_MAJEUR, Finding.ECART_MINEUR
_NOT_APPLICABLE = Finding.NON_APPLICABLE
_new = tuple.__new__  # builds a named tuple without a Python-level call: gaps are built by the thousand


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
    prepared = plan(version)
    asked = prepared.items if scope is None else [item for item in prepared.items if item.id in scope]
    results = [_judge(prepared, item, profile, answers.get(item.id), reference_date) for item in asked]
    tally = _tally(prepared, asked, results)
    folded = prepared.folded
    majors = tally.majors if folded else tally.found_majors
    minors = tally.gaps - tally.majors if folded else tally.found_minors
    areas = _area_scores(version, *tally.areas)
    gaps = _gaps(tally.ranked)
    return Result(
        criteria_ref=prepared.ref,
        scoring_version=prepared.scoring_version,
        partial=scope is not None,
        verdict=_verdict(version, tally, partial=scope is not None),
        majors=majors,
        minors=minors,
        progress=progress_of(areas),
        areas=areas,
        criteria=tuple(results),
        gaps=gaps,
        unanswered=tally.unanswered,
        blocking=tuple([gap.result.criterion for gap in gaps if gap.blocking]),
        unanswered_folded=folded,
    )


def _judge(
    prepared: Plan, item: Item, profile: Profile, answer: Answer | None, reference: date | None
) -> CriterionResult:
    """One criterion's finding: out of the profile, unanswered, declared N/A, or judged on its level.

    What depends on the criterion and level alone was built once (`Item.fixed`), so an answer
    without evidence builds nothing.
    """
    fixed = item.fixed
    assert fixed is not None
    if item.applies is not None and not item.applies(profile):
        return fixed.out_of_profile
    if answer is None or (answer.level is None and not answer.not_applicable):
        return fixed.unanswered
    if answer.not_applicable:
        return _not_applicable(item, answer)
    level = answer.level
    assert level is not None
    if answer.evidence:
        return _judge_evidence(prepared, item, answer, level, reference)
    if item.capped is not None and level >= item.target:
        return _capped(item, level, Reason.UNPROVEN, {"level": level, "cap": item.cap}, item.unproven)
    return fixed.bare[level]


def _not_applicable(item: Item, answer: Answer) -> CriterionResult:
    fixed = item.fixed
    assert fixed is not None
    if not item.allows_na:  # only the profile may set a deontology or critical criterion aside
        return fixed.refused
    justification = answer.justification.strip()
    if not justification:  # N/A counts only when justified; until then it is not an answer
        return fixed.unjustified
    c = item.criterion
    said = {"justification": justification}
    return CriterionResult(
        c.id, c.area, c.workshop, c.critical, True, None, None, _NOT_APPLICABLE,
        Reason.DECLARED_NOT_APPLICABLE, said, False, (), c.confidence,
    )  # fmt: skip


def _judge_evidence(
    prepared: Plan, item: Item, answer: Answer, level: int, reference: date | None
) -> CriterionResult:
    """A declared level with evidence, capped when it does not prove the target level.

    Scoring v1 asks for one piece at the target level; v2 (`item.required`) asks valid pieces
    covering every required item, and names what is missing, out of date or undated. Undated
    rules aside, what the pieces cover is summed as bits (`Item.bits`).
    """
    proves = item.strict_evidence and item.capped is not None and level >= item.target
    if reference is not None and item.validity:
        found = proof(item, answer.evidence, reference)
        covered = sum([bit for eid, bit in item.bits.items() if eid in found.covered])
    else:
        covered = 0
        bits, titles, folded = item.bits, item.title_bits, item.folded_bits
        for piece in answer.evidence:
            for eid in piece.covers:
                covered |= bits.get(eid, 0)
            bit = titles.get(piece.title)
            covered |= folded.get(piece.title.strip().casefold(), 0) if bit is None else bit
        found = None
    if proves and covered & item.required_mask != item.required_mask:
        if found is None:
            found = Proof(frozenset(eid for eid, bit in item.bits.items() if covered & bit))
        short = shortfall(item, answer, found)
        if short is not None:
            return _capped(item, level, *short)
    if item.by_mask and covered:
        result = item.by_mask[level].get(covered)  # the usual case: built by an earlier assessment
        if result is not None:
            return result
    return at_level(prepared, item, level, covered)


def _capped(
    item: Item, level: int, reason: Reason, params: Params, missing: tuple[str, ...]
) -> CriterionResult:
    c = item.criterion
    assert item.capped is not None
    return CriterionResult(
        c.id, c.area, c.workshop, c.critical, True, level, item.cap, item.capped, reason, params, True,
        missing, c.confidence,
    )  # fmt: skip


class _Tally(NamedTuple):
    """What the verdict, the counts, the area scores and the gaps need, summed in one pass."""

    majors: int
    """Major gaps as the verdict weighs them: an unanswered criterion as it would be at level 0."""
    gaps: int
    """Gaps (major or minor) weighed the same way."""
    blocked: bool
    """A weighed major gap on a blocking criterion or area."""
    found_majors: int
    found_minors: int
    unanswered: int
    areas: tuple[list[float], list[float], list[int], list[int]]
    """Reached and possible weighted levels, applicable and answered criteria, by area position."""
    ranked: dict[int, tuple[Item, CriterionResult, GapParts]]
    """Each gap by its rank among all the gaps the version can have (`Item.ranks`)."""


def _tally(prepared: Plan, asked: Sequence[Item], results: Sequence[CriterionResult]) -> _Tally:
    """Sum in one pass over the results what the verdict, the counts, the areas and the gaps need."""
    majors = gaps = found_majors = found_minors = unanswered = 0
    blocked = False
    reached, possible = [0.0] * len(AREA_IDS), [0.0] * len(AREA_IDS)
    applicable, answered = [0] * len(AREA_IDS), [0] * len(AREA_IDS)
    ranked: dict[int, tuple[Item, CriterionResult, GapParts]] = {}
    for item, r in zip(asked, results, strict=True):
        finding = r.finding
        weighed = finding
        if finding is _UNANSWERED:
            unanswered += 1
            weighed = item.judged[0][0]
        elif finding is _MAJOR:
            found_majors += 1
        elif finding is _MINOR:
            found_minors += 1
        if weighed is _MAJOR:
            majors += 1
            blocked = blocked or item.blocks
            gaps += 1
        elif weighed is _MINOR:
            gaps += 1
        if not r.applicable:
            continue
        area = item.area
        applicable[area] += 1
        if finding is not _UNANSWERED:
            answered[area] += 1
            if finding is _NOT_APPLICABLE:
                continue
            reached[area] += item.weight * (r.effective_level or 0)
        possible[area] += item.weight
        if finding is _UNANSWERED or finding is _MAJOR or finding is _MINOR:
            parts = item.gap_parts.get(id(r)) or gap_parts(prepared, item, r)
            assert parts is not None
            ranked[parts.rank] = (item, r, parts)
    areas = (reached, possible, applicable, answered)
    return _Tally(majors, gaps, blocked, found_majors, found_minors, unanswered, areas, ranked)


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
    return _area_scores(
        version,
        [reached[area] for area in AREA_IDS],
        [possible[area] for area in AREA_IDS],
        [applicable[area] for area in AREA_IDS],
        [answered[area] for area in AREA_IDS],
    )


def _area_scores(
    version: CriteriaVersion,
    reached: Sequence[float],
    possible: Sequence[float],
    applicable: Sequence[int],
    answered: Sequence[int],
) -> tuple[AreaScore, ...]:
    """Each area's score out of 100 from its sums, in `AREA_IDS` order."""
    target = version.scoring.target_level
    return tuple(
        [
            AreaScore(
                area=area,
                score=round(100 * reached[i] / (possible[i] * target), 1) if possible[i] else None,
                applicable=applicable[i],
                answered=answered[i],
            )
            for i, area in enumerate(AREA_IDS)
        ]
    )


def _verdict(version: CriteriaVersion, weighed: _Tally, *, partial: bool) -> Verdict:
    """The verdict the gap counts allow; a blocking major gives « pas prêt », a partial
    questionnaire at best `partial_best`."""
    rules = version.scoring
    if weighed.blocked:
        return Verdict.PAS_PRET
    majors = weighed.majors
    for rule, verdict in ((rules.ready, Verdict.PRET), (rules.almost_ready, Verdict.PRESQUE_PRET)):
        if majors <= rule.max_major and weighed.gaps <= rule.max_gaps:
            if verdict is Verdict.PRET and partial:
                return Verdict(rules.partial_best)
            return verdict
    return Verdict.PAS_PRET


def _gaps(ranked: Mapping[int, tuple[Item, CriterionResult, GapParts]]) -> tuple[Gap, ...]:
    """Every non-conforming applicable criterion, by severity then weight × distance to target.

    Each possible gap's rank was numbered once per version (`Item.ranks`): sorting them is sorting ints.
    """
    return tuple(
        [
            _new(Gap, (r, item.title, priority, p[1], p[2], p[3], p[4], item.action, p[5]))
            for priority, (item, r, p) in enumerate([ranked[rank] for rank in sorted(ranked)], start=1)
        ]
    )
