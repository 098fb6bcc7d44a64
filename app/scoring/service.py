"""Score an assessment and analyse its gaps: pure functions of the criteria version and answers.

Nothing here reads a clock, a database or a request, so the same inputs always give the same
result, byte for byte once serialised (see `as_dict`). The scoring parameters come from the
criteria file's `scoring` block; the method is described in design §4 and the README.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

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

_SEVERITY_RANK = {Finding.ECART_MAJEUR: 0, Finding.NON_RENSEIGNE: 1, Finding.ECART_MINEUR: 2}


@dataclass(frozen=True, slots=True)
class _Item:
    """A criterion prepared once per version for the hot loop."""

    criterion: Criterion
    index: int
    expected: tuple[tuple[str, str], ...]


_PLANS: dict[int, tuple[CriteriaVersion, tuple[_Item, ...]]] = {}


def _plan(version: CriteriaVersion) -> tuple[_Item, ...]:
    """Prepare a version once; versions are immutable and few, so the cache stays small."""
    cached = _PLANS.get(id(version))
    if cached is None or cached[0] is not version:
        items = tuple(
            _Item(c, index, tuple((e.id, e.label) for e in c.expected_evidence))
            for index, c in enumerate(version.active)
        )
        cached = _PLANS[id(version)] = (version, items)
    return cached[1]


def holds(condition: Condition, profile: Profile) -> bool:
    """Evaluate an applicability condition; a profile fact not yet given counts as true."""
    if isinstance(condition, AnyOf):
        return any(holds(part, profile) for part in condition.any)
    if isinstance(condition, AllOf):
        return all(holds(part, profile) for part in condition.all)
    value = profile.get(condition.field)
    if value is None:
        return True
    if isinstance(condition, Equals):
        return bool(value == condition.equals)
    return not isinstance(value, bool | str) and condition.includes in value


def score(
    version: CriteriaVersion,
    *,
    profile: Profile,
    answers: Mapping[str, Answer],
    scope: Collection[str] | None = None,
) -> Result:
    """Score `answers` against `version` for a structure with `profile`.

    `scope` limits scoring to the criteria a partial questionnaire asks; the result says partial.
    """
    results = [
        _judge(version, item.criterion, item.expected, profile, answers.get(item.criterion.id))
        for item in _plan(version)
        if scope is None or item.criterion.id in scope
    ]
    applicable = [r for r in results if r.applicable]
    unanswered = sum(r.finding is Finding.NON_RENSEIGNE for r in applicable)
    # An unanswered criterion weighs on the verdict as it would at level 0.
    majors = sum(_counts_as(r) is Finding.ECART_MAJEUR for r in applicable)
    minors = sum(_counts_as(r) is Finding.ECART_MINEUR for r in applicable)
    return Result(
        criteria_ref=version.ref,
        scoring_version=version.scoring.version,
        partial=scope is not None,
        verdict=_verdict(version, majors, minors),
        majors=majors,
        minors=minors,
        progress=Progress(answered=len(applicable) - unanswered, applicable=len(applicable)),
        areas=tuple(_area(version, area, applicable) for area in AREA_IDS),
        criteria=tuple(results),
        gaps=_gaps(version, applicable),
    )


def _judge(
    version: CriteriaVersion,
    criterion: Criterion,
    expected: tuple[tuple[str, str], ...],
    profile: Profile,
    answer: Answer | None,
) -> CriterionResult:
    base = (criterion.id, criterion.area, criterion.workshop, criterion.critical)
    if criterion.applies_if is not None and not holds(criterion.applies_if, profile):
        reason = "Ne s'applique pas au profil de la structure"
        return CriterionResult(*base, False, None, None, Finding.NON_APPLICABLE, reason)
    if answer is None or (answer.level is None and not answer.not_applicable):
        return CriterionResult(*base, True, None, None, Finding.NON_RENSEIGNE, "Non renseigné")
    if answer.not_applicable:
        if not answer.justification.strip():
            reason = "Déclaré non applicable sans justification"
            return CriterionResult(*base, True, None, None, Finding.NON_RENSEIGNE, reason)
        reason = f"Non applicable : {answer.justification.strip()}"
        return CriterionResult(*base, True, None, None, Finding.NON_APPLICABLE, reason)
    rules, level = version.scoring, answer.level
    assert level is not None
    missing = _missing_evidence(expected, answer)
    capped = level >= rules.target_level and criterion.evidence_required and not answer.evidence
    effective = rules.evidence_cap_level if capped else level
    label = version.scale[effective].label
    if effective >= rules.target_level:
        finding, reason = Finding.CONFORME, f"Niveau {effective} ({label})"
    elif criterion.critical and effective <= rules.major_at_or_below:
        finding, reason = Finding.ECART_MAJEUR, f"Critère critique au niveau {effective} ({label})"
    else:
        finding = Finding.ECART_MINEUR
        reason = f"Niveau {effective} ({label}) sur {rules.target_level} attendu"
    if capped:
        reason = f"Déclaré au niveau {level} sans preuve jointe : plafonné au niveau {effective} (déclaré, non prouvé)"
    return CriterionResult(*base, True, level, effective, finding, reason, capped, missing)


def _missing_evidence(expected: tuple[tuple[str, str], ...], answer: Answer) -> tuple[str, ...]:
    """Expected evidence that no attached piece covers, by label.

    A piece covers an expected item when it names its id in `covers`, or when its title is the
    item's id or label (so a plain answers file can say `evidence: [charte-signee]`).
    """
    if not answer.evidence:
        return tuple(label for _, label in expected)
    covered: set[str] = set()
    for piece in answer.evidence:
        covered |= piece.covers
        title = piece.title.strip().casefold()
        covered |= {eid for eid, label in expected if title in (eid, label.casefold())}
    return tuple(label for eid, label in expected if eid not in covered)


def _counts_as(result: CriterionResult) -> Finding:
    if result.finding is Finding.NON_RENSEIGNE:
        return Finding.ECART_MAJEUR if result.critical else Finding.ECART_MINEUR
    return result.finding


def _verdict(version: CriteriaVersion, majors: int, minors: int) -> Verdict:
    rules = version.scoring
    if majors <= rules.ready.max_major and minors <= rules.ready.max_minor:
        return Verdict.PRET
    if majors <= rules.almost_ready.max_major and minors <= rules.almost_ready.max_minor:
        return Verdict.PRESQUE_PRET
    return Verdict.PAS_PRET


def _area(version: CriteriaVersion, area: str, applicable: list[CriterionResult]) -> AreaScore:
    """Weighted mean of effective levels, 0–100; unanswered counts as 0, N/A is left out."""
    mine = [r for r in applicable if r.area == area]
    scored = [r for r in mine if r.finding is not Finding.NON_APPLICABLE]
    by_id = version.by_id
    total = sum(by_id[r.criterion].weight for r in scored)
    reached = sum(by_id[r.criterion].weight * (r.effective_level or 0) for r in scored)
    value = round(100 * reached / (total * version.scoring.target_level), 1) if total else None
    answered = sum(r.finding is not Finding.NON_RENSEIGNE for r in mine)
    return AreaScore(area=area, score=value, applicable=len(mine), answered=answered)


def _gaps(version: CriteriaVersion, applicable: list[CriterionResult]) -> tuple[Gap, ...]:
    """Every non-conforming applicable criterion, by severity then weight × distance to target."""
    target, by_id = version.scoring.target_level, version.by_id
    deadlines = version.scoring.deadlines_days
    found = [r for r in applicable if r.finding in _SEVERITY_RANK]
    order = {c.id: index for index, c in enumerate(version.active)}

    def urgency(r: CriterionResult) -> tuple[int, float, int]:
        distance = target - (r.effective_level or 0)
        return (_SEVERITY_RANK[r.finding], -by_id[r.criterion].weight * distance, order[r.criterion])

    gaps = []
    for priority, r in enumerate(sorted(found, key=urgency), start=1):
        criterion = by_id[r.criterion]
        gaps.append(
            Gap(
                criterion=r.criterion,
                title=criterion.title,
                area=r.area,
                workshop=r.workshop,
                severity=r.finding,
                critical=r.critical,
                priority=priority,
                effective_level=r.effective_level,
                deadline_days=getattr(deadlines, r.finding.value),
                missing_evidence=r.missing_evidence
                or (tuple(e.label for e in criterion.expected_evidence) if r.level is None else ()),
                action=_action(criterion, r),
                reason=r.reason,
            )
        )
    return tuple(gaps)


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
        sources = landed[target]
        migrated[target] = _combine([answer for _, answer in sources])
        reason = _review_reason(from_version, to_version, target, [old for old, _ in sources])
        if reason:
            review.append((target, reason))
        else:
            carried.append(target)
    return Migration(migrated, tuple(carried), tuple(review), tuple(dropped))


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


def _review_reason(
    old: CriteriaVersion, new: CriteriaVersion, target: str, sources: list[str]
) -> str:
    if sources != [target]:
        return "repris de " + ", ".join(sources) + f" (critère remplacé ou fusionné dans {new.ref})"
    before, after = old.by_id.get(target), new.by_id[target]
    if before is None:
        return ""
    changed = [f for f in ("requirement", "levels", "applies_if", "critical") if getattr(before, f) != getattr(after, f)]
    return f"critère modifié dans {new.ref} ({', '.join(changed)})" if changed else ""
