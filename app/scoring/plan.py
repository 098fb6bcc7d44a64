"""A criteria version prepared for scoring, once: what each criterion's answer will be judged by.

Scoring an assessment then only looks things up: whether the criterion applies to the profile
(its condition compiled to a function), what finding and reason each level gives, which titles
cover which expected evidence, and the deadline of each kind of gap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

from app.catalog.models import AllOf, AnyOf, Condition, CriteriaVersion, Criterion, Equals
from app.scoring.models import Finding, Params, Profile, Reason


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


class Plan(NamedTuple):
    version: CriteriaVersion
    items: tuple[Item, ...]
    deadlines: dict[Finding, int]


_PLANS: dict[int, Plan] = {}


def plan(version: CriteriaVersion) -> Plan:
    """Prepare a version once; versions are immutable and few, so the cache stays small."""
    cached = _PLANS.get(id(version))
    if cached is None or cached.version is not version:
        items = tuple(_prepare(version, index, c) for index, c in enumerate(version.active))
        deadlines = {Finding(name): days for name, days in version.scoring.deadlines_days}
        cached = _PLANS[id(version)] = Plan(version, items, deadlines)
    return cached


def _prepare(version: CriteriaVersion, index: int, criterion: Criterion) -> Item:
    rules = version.scoring
    judged = tuple(_finding(version, criterion, level) for level in range(len(version.scale)))
    cap = rules.evidence_cap_level
    capped = judged[cap][0] if criterion.evidence_required else None
    by_title = {e.id.casefold(): e.id for e in criterion.expected_evidence}
    by_title |= {e.label.casefold(): e.id for e in criterion.expected_evidence}
    pairs = tuple((e.id, e.label) for e in criterion.expected_evidence)
    labels = tuple(label for _, label in pairs)
    applies = _compile(criterion.applies_if) if criterion.applies_if is not None else None
    evidence = criterion.expected_evidence
    validity = {e.id: e.validity_months for e in evidence if e.validity_months is not None}
    v2_evidence = rules.evidence == "required_items"
    return Item(
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
        tuple(e.id for e in evidence if e.required) if v2_evidence else (),
        MappingProxyType(validity if v2_evidence else {}),
        v2_evidence,
        version.allows_na(criterion),
        criterion.blocking or criterion.area in rules.blocking_areas,
    )


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
