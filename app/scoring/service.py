"""Score an assessment and analyse its gaps: pure functions of the criteria version and answers.

Nothing here reads a clock, a database or a request, so the same inputs always give the same
result, byte for byte once serialised (see `as_dict`). The scoring parameters come from the
criteria file's `scoring` block; the method is described in design §4 and the README.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from operator import itemgetter

from app.catalog.checks import successors
from app.catalog.models import (
    AREA_IDS,
    AllOf,
    AnyOf,
    Condition,
    CriteriaVersion,
    Criterion,
    Equals,
)
from app.scoring.models import (
    Answer,
    AreaScore,
    CriterionResult,
    Finding,
    Gap,
    Migration,
    Profile,
    Progress,
    Result,
    Verdict,
)

_UNANSWERED, _MAJOR, _MINOR = Finding.NON_RENSEIGNE, Finding.ECART_MAJEUR, Finding.ECART_MINEUR
_NOT_APPLICABLE = Finding.NON_APPLICABLE
_SEVERITY_RANK = {Finding.ECART_MAJEUR: 0, Finding.NON_RENSEIGNE: 1, Finding.ECART_MINEUR: 2}


@dataclass(frozen=True, slots=True)
class _Item:
    """A criterion prepared once per version, so the per-assessment loop only looks things up."""

    criterion: Criterion
    index: int
    applies: Callable[[Profile], bool] | None
    weight: float
    labels: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    by_title: dict[str, str]
    judged: tuple[tuple[Finding, str], ...]
    capped: Finding | None
    target: int
    cap: int


_PLANS: dict[int, tuple[CriteriaVersion, tuple[_Item, ...], dict[Finding, int]]] = {}
NOT_APPLICABLE = "Ne s'applique pas au profil de la structure"


def _plan(version: CriteriaVersion) -> tuple[_Item, ...]:
    """Prepare a version once; versions are immutable and few, so the cache stays small."""
    return _prepared(version)[1]


def _prepared(version: CriteriaVersion) -> tuple[CriteriaVersion, tuple[_Item, ...], dict[Finding, int]]:
    cached = _PLANS.get(id(version))
    if cached is None or cached[0] is not version:
        items = tuple(_prepare(version, index, c) for index, c in enumerate(version.active))
        deadlines = {Finding(name): days for name, days in version.scoring.deadlines_days}
        cached = _PLANS[id(version)] = (version, items, deadlines)
    return cached


def _prepare(version: CriteriaVersion, index: int, criterion: Criterion) -> _Item:
    rules = version.scoring
    judged = tuple(_finding(version, criterion, level) for level in range(len(version.scale)))
    cap = rules.evidence_cap_level
    capped = judged[cap][0] if criterion.evidence_required else None
    by_title = {e.id.casefold(): e.id for e in criterion.expected_evidence}
    by_title |= {e.label.casefold(): e.id for e in criterion.expected_evidence}
    pairs = tuple((e.id, e.label) for e in criterion.expected_evidence)
    labels = tuple(label for _, label in pairs)
    applies = _compile(criterion.applies_if) if criterion.applies_if is not None else None
    return _Item(
        criterion,
        index,
        applies,
        criterion.weight,
        labels,
        pairs,
        by_title,
        judged,
        capped,
        rules.target_level,
        cap,
    )


def _finding(version: CriteriaVersion, criterion: Criterion, level: int) -> tuple[Finding, str]:
    rules, label = version.scoring, version.scale[level].label
    if level >= rules.target_level:
        return Finding.CONFORME, f"Niveau {level} ({label})"
    if criterion.critical and level <= rules.major_at_or_below:
        return Finding.ECART_MAJEUR, f"Critère critique au niveau {level} ({label})"
    return Finding.ECART_MINEUR, f"Niveau {level} ({label}) sur {rules.target_level} attendu"


def holds(condition: Condition, profile: Profile) -> bool:
    """Evaluate an applicability condition; a profile fact not yet given counts as true."""
    return _compile(condition)(profile)


def _compile(condition: Condition) -> Callable[[Profile], bool]:
    """Turn a condition into a function of the profile, once per version."""
    if isinstance(condition, AnyOf | AllOf):
        parts = [
            _compile(part) for part in (condition.any if isinstance(condition, AnyOf) else condition.all)
        ]
        combine = any if isinstance(condition, AnyOf) else all
        return lambda profile: combine(part(profile) for part in parts)
    field = condition.field
    if isinstance(condition, Equals):
        expected = condition.equals
        return lambda profile: (value := profile.get(field)) is None or value == expected
    wanted = condition.includes

    def includes(profile: Profile) -> bool:
        value = profile.get(field)
        return value is None or (not isinstance(value, bool | str) and wanted in value)

    return includes


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
    plan = _plan(version) if scope is None else [i for i in _plan(version) if i.criterion.id in scope]
    results = []
    reached: dict[str, float] = dict.fromkeys(AREA_IDS, 0.0)
    possible: dict[str, float] = dict.fromkeys(AREA_IDS, 0.0)
    counted: dict[str, list[int]] = {area: [0, 0] for area in AREA_IDS}  # applicable, answered
    majors = minors = 0
    for item in plan:
        r = _judge(item, profile, answers.get(item.criterion.id))
        results.append(r)
        if not r.applicable:
            continue
        tally = counted[r.area]
        tally[0] += 1
        finding = r.finding
        if finding is _UNANSWERED:
            if r.critical:
                majors += 1
            else:
                minors += 1
            possible[item.criterion.area] += item.weight
            continue
        tally[1] += 1
        if finding is _MAJOR:
            majors += 1
        elif finding is _MINOR:
            minors += 1
        if finding is not _NOT_APPLICABLE:
            reached[item.criterion.area] += item.weight * (r.effective_level or 0)
            possible[item.criterion.area] += item.weight
    target = version.scoring.target_level
    areas = tuple(
        AreaScore(
            area=area,
            score=round(100 * reached[area] / (possible[area] * target), 1) if possible[area] else None,
            applicable=counted[area][0],
            answered=counted[area][1],
        )
        for area in AREA_IDS
    )
    applicable = sum(c[0] for c in counted.values())
    return Result(
        criteria_ref=version.ref,
        scoring_version=version.scoring.version,
        partial=scope is not None,
        verdict=_verdict(version, majors, minors),
        majors=majors,
        minors=minors,
        progress=Progress(answered=sum(c[1] for c in counted.values()), applicable=applicable),
        areas=areas,
        criteria=tuple(results),
        gaps=_gaps(version, list(plan), results),
    )


def _judge(item: _Item, profile: Profile, answer: Answer | None) -> CriterionResult:
    c = item.criterion
    if item.applies is not None and not item.applies(profile):
        return CriterionResult(
            c.id, c.area, c.workshop, c.critical, False, None, None, Finding.NON_APPLICABLE, NOT_APPLICABLE
        )
    if answer is None or (answer.level is None and not answer.not_applicable):
        return CriterionResult(
            c.id, c.area, c.workshop, c.critical, True, None, None, Finding.NON_RENSEIGNE, "Non renseigné"
        )
    if answer.not_applicable:
        justification = answer.justification.strip()
        if not justification:
            reason = "Déclaré non applicable sans justification"
            return CriterionResult(
                c.id, c.area, c.workshop, c.critical, True, None, None, Finding.NON_RENSEIGNE, reason
            )
        reason = f"Non applicable : {justification}"
        return CriterionResult(
            c.id, c.area, c.workshop, c.critical, True, None, None, Finding.NON_APPLICABLE, reason
        )
    level = answer.level
    assert level is not None
    if answer.evidence:
        missing = _missing_evidence(item, answer)
    else:
        missing = item.labels
        if item.capped is not None and level >= item.target:
            reason = (
                f"Déclaré au niveau {level} sans preuve jointe : "
                f"plafonné au niveau {item.cap} (déclaré, non prouvé)"
            )
            return CriterionResult(
                c.id,
                c.area,
                c.workshop,
                c.critical,
                True,
                level,
                item.cap,
                item.capped,
                reason,
                True,
                missing,
            )
    finding, reason = item.judged[level]
    return CriterionResult(
        c.id, c.area, c.workshop, c.critical, True, level, level, finding, reason, False, missing
    )


def _missing_evidence(item: _Item, answer: Answer) -> tuple[str, ...]:
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


def _verdict(version: CriteriaVersion, majors: int, minors: int) -> Verdict:
    rules = version.scoring
    for rule, verdict in ((rules.ready, Verdict.PRET), (rules.almost_ready, Verdict.PRESQUE_PRET)):
        if majors <= rule.max_major and majors + minors <= rule.max_gaps:
            return verdict
    return Verdict.PAS_PRET


def _gaps(version: CriteriaVersion, plan: list[_Item], results: list[CriterionResult]) -> tuple[Gap, ...]:
    """Every non-conforming applicable criterion, by severity then weight × distance to target."""
    target, deadlines = version.scoring.target_level, _prepared(version)[2]
    found = [
        ((_SEVERITY_RANK[r.finding], -item.weight * (target - (r.effective_level or 0)), item.index), item, r)
        for item, r in zip(plan, results, strict=True)
        if r.applicable and r.finding in _SEVERITY_RANK
    ]
    found.sort(key=itemgetter(0))
    ranked = [(item, r) for _, item, r in found]
    return tuple(
        Gap(
            r,
            item.criterion.title,
            priority,
            deadlines[r.finding],
            r.missing_evidence or (item.labels if r.level is None else ()),
            _action(item.criterion, r),
        )
        for priority, (item, r) in enumerate(ranked, start=1)
    )


def _action(criterion: Criterion, result: CriterionResult) -> str:
    if result.finding is Finding.NON_RENSEIGNE:
        return "Renseigner ce critère : niveau atteint, ou non applicable avec une justification."
    if result.capped:
        return "Joindre les preuves attendues : " + " ; ".join(result.missing_evidence) + "."
    return criterion.action


def migrate_answers(
    from_version: CriteriaVersion, to_version: CriteriaVersion, answers: Mapping[str, Answer]
) -> Migration:
    """Carry answers to another version of the same referential, following the file's links.

    An answer to a criterion that is still active and unchanged is carried as is. One whose
    criterion changed, or was withdrawn with `replaced_by` / `merged_into`, moves to the active
    successors and needs review; when several answers land on one criterion the most cautious
    (lowest) level wins. Anything without an active successor is dropped, with the reason.
    """
    if from_version.referential != to_version.referential:
        raise ValueError(f"cannot migrate {from_version.ref} answers to {to_version.ref}")
    landed: dict[str, list[tuple[str, Answer]]] = {}
    dropped: list[tuple[str, str]] = []
    for old_id in sorted(answers):
        targets, why = _successors_in(to_version, old_id)
        if not targets:
            dropped.append((old_id, why))
        for target in targets:
            landed.setdefault(target, []).append((old_id, answers[old_id]))
    carried: list[str] = []
    review: list[tuple[str, str]] = []
    migrated: dict[str, Answer] = {}
    for target in sorted(landed):
        arrivals = landed[target]
        migrated[target] = _combine([answer for _, answer in arrivals])
        reason = _review_reason(from_version, to_version, target, [old for old, _ in arrivals])
        if reason:
            review.append((target, reason))
        else:
            carried.append(target)
    sources = {target: tuple(old for old, _ in landed[target]) for target in sorted(landed)}
    return Migration(migrated, tuple(carried), tuple(review), tuple(dropped), sources)


def _successors_in(version: CriteriaVersion, criterion_id: str) -> tuple[list[str], str]:
    """Active criteria that take over `criterion_id` in `version`, or none and why."""
    start = version.by_id.get(criterion_id)
    if start is None:
        return [], f"absent de {version.ref}"
    found: list[str] = []
    pending, seen = [start], set()
    while pending:
        current = pending.pop(0)
        if current.id in seen:
            continue
        seen.add(current.id)
        if current.status == "active":
            found.append(current.id)
        else:
            pending += [version.by_id[s] for s in successors(current) if s in version.by_id]
    return found, "" if found else f"retiré dans {version.ref} sans successeur"


def _combine(answers: list[Answer]) -> Answer:
    if len(answers) == 1:
        return answers[0]
    levels = [a.level for a in answers if not a.not_applicable and a.level is not None]
    evidence = tuple(dict.fromkeys(piece for a in answers for piece in a.evidence))
    notes = " / ".join(dict.fromkeys(a.justification for a in answers if a.justification))
    if levels:
        return Answer(level=min(levels), justification=notes, evidence=evidence)
    if all(a.not_applicable for a in answers):
        return Answer(not_applicable=True, justification=notes, evidence=evidence)
    return Answer(justification=notes, evidence=evidence)


def _review_reason(old: CriteriaVersion, new: CriteriaVersion, target: str, sources: list[str]) -> str:
    if sources != [target]:
        return "repris de " + ", ".join(sources) + f" (critère remplacé ou fusionné dans {new.ref})"
    before, after = old.by_id.get(target), new.by_id[target]
    if before is None:
        return ""
    changed = [
        f
        for f in ("requirement", "levels", "applies_if", "critical")
        if getattr(before, f) != getattr(after, f)
    ]
    return f"critère modifié dans {new.ref} ({', '.join(changed)})" if changed else ""
