"""A criteria version prepared for scoring, once: what each criterion's answer will be judged by.

Scoring an assessment then only looks things up: whether the criterion applies to the profile
(its condition compiled to a function), which titles cover which expected evidence, the result an
answer without evidence, or covering a given set of expected items, gives (built once, then shared
by every assessment: results are immutable), the gap each such result makes, and where each
possible gap ranks among all the others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from app.catalog.models import AREA_IDS, AllOf, AnyOf, Condition, CriteriaVersion, Criterion, Equals
from app.scoring.codes import NO_PARAMS, Action, Finding, Params, Reason
from app.scoring.models import CriterionResult, Profile

SEVERITY_RANK = {Finding.ECART_MAJEUR: 0, Finding.NON_RENSEIGNE: 1, Finding.ECART_MINEUR: 2}
"""Gaps come by severity first: major, then unanswered, then minor."""


@dataclass(frozen=True, slots=True)
class Item:
    """A criterion prepared once per version, so the per-assessment loop only looks things up."""

    criterion: Criterion
    index: int
    applies: Callable[[Profile], bool] | None
    weight: float
    labels: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    by_title: dict[str, str]
    judged: tuple[tuple[Finding, Reason, Params], ...]
    capped: Finding | None
    target: int
    cap: int
    required: tuple[str, ...] = ()
    """Expected-evidence ids the target level needs covered (scoring v2's `required_items`)."""
    validity: Mapping[str, int] = field(default_factory=dict)
    """Months an expected item's evidence stays valid, by id."""
    strict_evidence: bool = False
    """Scoring v2: the target level needs valid evidence for every required item, not one piece."""
    allows_na: bool = True
    blocks: bool = False
    """A major gap here gives « pas prêt » (a blocking criterion, or one of a blocking area)."""
    id: str = ""
    title: str = ""
    action: str = ""
    """The criterion's own suggested action, for its gaps."""
    area: int = 0
    """The criterion's area, as its position in `AREA_IDS`."""
    unproven: tuple[str, ...] = ()
    """What a target-level answer without any evidence lacks: the required items, else every item."""
    bits: Mapping[str, int] = field(default_factory=dict)
    """One bit per expected-evidence id: what a piece covers is a number, missing items a look-up."""
    title_bits: Mapping[str, int] = field(default_factory=dict)
    """The bit of a piece titled exactly as an expected item's id or label (no strip and casefold)."""
    folded_bits: Mapping[str, int] = field(default_factory=dict)
    """The bit of a piece's title once stripped and casefolded (`by_title`)."""
    required_mask: int = 0
    fixed: Fixed | None = None
    ranks: Mapping[tuple[Finding, int], int] = field(default_factory=dict)
    """Where this criterion's gap ranks among every gap the version can have, by finding and
    effective level: sorting these numbers sorts by severity, then weight × distance to target,
    then file order."""
    by_mask: tuple[dict[int, CriterionResult], ...] = ()
    """By level, then by covered items (`bits`): the uncapped result, built on first use. It
    depends on nothing else, so every assessment shares it (results are immutable); at most
    levels × 2^items entries, and only for criteria with few expected items (`MEMO_ITEMS`)."""
    gap_parts: dict[int, GapParts] = field(default_factory=dict)
    """The gap of each result this item holds (`fixed`, `by_mask`), by the result's id: those
    results live as long as the plan, so an id here always means the same result."""


MEMO_ITEMS = 8
"""Criteria with more expected items build each result with evidence afresh (2^items masks)."""


class GapParts(NamedTuple):
    """What a result's gap says besides its title, priority and the criterion's action."""

    rank: int
    deadline_days: int
    missing_evidence: tuple[str, ...]
    action_code: Action
    action_params: Params
    blocking: bool


class Fixed(NamedTuple):
    """The results that depend on nothing but the criterion (and the level declared)."""

    out_of_profile: CriterionResult
    unanswered: CriterionResult
    refused: CriterionResult
    unjustified: CriterionResult
    bare: tuple[CriterionResult, ...]
    """By level: the answer without evidence, when no cap applies (every expected item missing)."""


class Plan(NamedTuple):
    version: CriteriaVersion
    items: tuple[Item, ...]
    deadlines: dict[Finding, int]
    ref: str
    """The version's `ref`, and below its scoring rules, read once rather than per assessment."""
    scoring_version: str
    folded: bool
    """Scoring v1's counts: unanswered criteria folded into majors and minors as at level 0."""


_PLANS: dict[int, Plan] = {}


def plan(version: CriteriaVersion) -> Plan:
    """Prepare a version once, cached by identity.

    A loaded criteria version is a frozen model that nothing changes once the catalog is loaded (a
    translated catalog holds other objects, prepared apart), so a plan depends only on the object;
    it keeps a reference to it, so its id cannot be reused while the entry lives. Versions are few,
    so the cache stays small.
    """
    cached = _PLANS.get(id(version))
    if cached is None or cached.version is not version:
        ranks = _ranks(version)
        items = tuple(_prepare(version, index, c, ranks[index]) for index, c in enumerate(version.active))
        deadlines = {Finding(name): days for name, days in version.scoring.deadlines_days}
        folded = version.scoring.counts == "unanswered_folded"
        cached = Plan(version, items, deadlines, version.ref, version.scoring.version, folded)
        for item in items:
            assert item.fixed is not None
            for result in (*item.fixed[:4], *item.fixed.bare):
                _hold(cached, item, result)
        _PLANS[id(version)] = cached
    return cached


def _ranks(version: CriteriaVersion) -> list[dict[tuple[Finding, int], int]]:
    """Each criterion's possible gaps numbered in the order of (severity, -weight × distance, index)."""
    target = version.scoring.target_level
    keys = [
        (severity, -c.weight * (target - level), index, finding, level)
        for index, c in enumerate(version.active)
        for finding, severity in SEVERITY_RANK.items()
        for level in range(len(version.scale))
    ]
    keys.sort(key=lambda key: key[:3])  # the index makes every key distinct
    ranks: list[dict[tuple[Finding, int], int]] = [{} for _ in version.active]
    for rank, (_, _, index, finding, level) in enumerate(keys):
        ranks[index][finding, level] = rank
    return ranks


def _prepare(
    version: CriteriaVersion, index: int, criterion: Criterion, ranks: dict[tuple[Finding, int], int]
) -> Item:
    rules = version.scoring
    judged = tuple(_finding(version, criterion, level) for level in range(len(version.scale)))
    cap = rules.evidence_cap_level
    evidence = criterion.expected_evidence
    by_title = {e.id.casefold(): e.id for e in evidence}
    by_title |= {e.label.casefold(): e.id for e in evidence}
    pairs = tuple((e.id, e.label) for e in evidence)
    labels = tuple(label for _, label in pairs)
    validity = {e.id: e.validity_months for e in evidence if e.validity_months is not None}
    v2_evidence = rules.evidence == "required_items"
    required = tuple(e.id for e in evidence if e.required) if v2_evidence else ()
    bits: dict[str, int] = {}
    for eid, _ in pairs:
        bits.setdefault(eid, 1 << len(bits))
    return Item(
        criterion=criterion,
        index=index,
        applies=_compile(criterion.applies_if) if criterion.applies_if is not None else None,
        weight=criterion.weight,
        labels=labels,
        pairs=pairs,
        by_title=by_title,
        judged=judged,
        capped=judged[cap][0] if criterion.evidence_required else None,
        target=rules.target_level,
        cap=cap,
        required=required,
        validity=MappingProxyType(validity if v2_evidence else {}),
        strict_evidence=v2_evidence,
        allows_na=version.allows_na(criterion),
        blocks=criterion.blocking or criterion.area in rules.blocking_areas,
        id=criterion.id,
        title=criterion.title,
        action=criterion.action,
        area=AREA_IDS.index(criterion.area),
        unproven=tuple(label for eid, label in pairs if eid in required) or labels,
        bits=bits,
        title_bits={t: bits[by_title[t.casefold()]] for e in evidence for t in (e.id, e.label)},
        folded_bits={title: bits[eid] for title, eid in by_title.items()},
        required_mask=sum(bits[eid] for eid in set(required)),
        fixed=_fixed(criterion, judged, labels),
        ranks=ranks,
        by_mask=tuple({} for _ in judged) if len(bits) <= MEMO_ITEMS else (),
    )


def _fixed(
    c: Criterion, judged: tuple[tuple[Finding, Reason, Params], ...], labels: tuple[str, ...]
) -> Fixed:
    def without_level(applicable: bool, finding: Finding, reason: Reason) -> CriterionResult:
        return CriterionResult(
            c.id, c.area, c.workshop, c.critical, applicable, None, None, finding, reason, NO_PARAMS,
            confidence=c.confidence,
        )  # fmt: skip

    return Fixed(
        out_of_profile=without_level(False, Finding.NON_APPLICABLE, Reason.OUT_OF_PROFILE),
        unanswered=without_level(True, Finding.NON_RENSEIGNE, Reason.UNANSWERED),
        refused=without_level(True, Finding.NON_RENSEIGNE, Reason.NOT_APPLICABLE_REFUSED),
        unjustified=without_level(True, Finding.NON_RENSEIGNE, Reason.UNJUSTIFIED_NOT_APPLICABLE),
        bare=tuple(_at(c, level, judged[level], labels) for level in range(len(judged))),
    )


def _at(
    c: Criterion, level: int, judged: tuple[Finding, Reason, Params], missing: tuple[str, ...]
) -> CriterionResult:
    """The uncapped result of a declared level, with the expected evidence still missing."""
    finding, reason, params = judged
    return CriterionResult(
        c.id, c.area, c.workshop, c.critical, True, level, level, finding, reason, params, False, missing,
        c.confidence,
    )  # fmt: skip


def at_level(prepared: Plan, item: Item, level: int, covered: int) -> CriterionResult:
    """The uncapped result of `level` with the expected items whose bits are in `covered`."""
    assert item.fixed is not None
    if not covered:
        return item.fixed.bare[level]
    held = item.by_mask[level] if item.by_mask else None
    result = held.get(covered) if held is not None else None
    if result is None:
        missing = tuple([label for eid, label in item.pairs if not covered & item.bits[eid]])
        result = built = _at(item.criterion, level, item.judged[level], missing)
        if held is not None:
            result = held.setdefault(covered, built)  # another thread may have got there first
            if result is built:
                _hold(prepared, item, result)
    return result


def gap_parts(prepared: Plan, item: Item, result: CriterionResult) -> GapParts | None:
    """The gap a result makes (None when it makes none): held results' were worked out once."""
    held = item.gap_parts.get(id(result))
    if held is not None:
        return held
    finding = result.finding
    if not result.applicable or finding not in SEVERITY_RANK:
        return None
    weighed = item.judged[0][0] if finding is Finding.NON_RENSEIGNE else finding
    if finding is Finding.NON_RENSEIGNE:
        action, params = Action.ANSWER, NO_PARAMS
    elif result.capped:
        action, params = Action.ATTACH_EVIDENCE, {"evidence": " ; ".join(result.missing_evidence)}
    else:
        action, params = Action.CRITERION, NO_PARAMS
    return GapParts(
        item.ranks[finding, result.effective_level or 0],
        prepared.deadlines[finding],
        result.missing_evidence or (item.labels if result.level is None else ()),
        action,
        params,
        weighed is Finding.ECART_MAJEUR,
    )


def _hold(prepared: Plan, item: Item, result: CriterionResult) -> None:
    """Work out once the gap of a result the item keeps."""
    parts = gap_parts(prepared, item, result)
    if parts is not None:
        item.gap_parts[id(result)] = parts


def _finding(version: CriteriaVersion, criterion: Criterion, level: int) -> tuple[Finding, Reason, Params]:
    """The finding a level gives, with why; every result at that level shares these parameters."""
    rules = version.scoring
    params: dict[str, str | int] = {"level": level, "label": version.scale[level].label}
    if level >= rules.target_level:
        return Finding.CONFORME, Reason.LEVEL_REACHED, MappingProxyType(params)
    if criterion.critical and level <= rules.major_at_or_below:
        if criterion.confidence not in rules.major_confidence:  # inferred: never a major gap
            return Finding.ECART_MINEUR, Reason.CRITICAL_INFERRED, MappingProxyType(params)
        return Finding.ECART_MAJEUR, Reason.CRITICAL_TOO_LOW, MappingProxyType(params)
    params["target"] = rules.target_level
    return Finding.ECART_MINEUR, Reason.BELOW_TARGET, MappingProxyType(params)


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
