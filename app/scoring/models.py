"""What the scoring core takes and returns: plain frozen dataclasses, cheap to build and compare.

Its findings, verdicts, reasons and actions are codes with French msgids (`app.scoring.codes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from app.scoring.codes import Action, Finding, Params, Reason, Verdict

ProfileValue = bool | str | Sequence[str]
Profile = Mapping[str, ProfileValue]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A piece of evidence attached to an answer; `covers` names expected-evidence ids it proves."""

    title: str
    covers: frozenset[str] = frozenset()
    document_date: date | None = None
    """The date the document bears; an expected item's `validity_months` is counted from it."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A director's answer: a level 0–3, or N/A with a justification, or nothing yet."""

    level: int | None = None
    not_applicable: bool = False
    justification: str = ""
    evidence: tuple[Evidence, ...] = ()

    def __post_init__(self) -> None:
        # The scoring plan's tables are indexed by level: a level outside 0–3 must not reach them.
        if self.level is not None and not 0 <= self.level <= 3:
            raise ValueError(f"an answer's level is 0 to 3, not {self.level}")


class CriterionResult(NamedTuple):
    """One criterion's outcome (a named tuple: thousands are built per second)."""

    criterion: str
    area: str
    workshop: str
    critical: bool
    applicable: bool
    level: int | None
    effective_level: int | None
    finding: Finding
    reason_code: Reason
    reason_params: Params
    capped: bool = False
    missing_evidence: tuple[str, ...] = ()
    confidence: str = "H"
    """The criterion's confidence (H, M, L): an inferred (L) criterion's gaps say so everywhere."""

    @property
    def reason(self) -> str:
        """Why this finding, in French (snapshots, the API, the CLI); pages translate the code."""
        return self.reason_code.msgid % self.reason_params


class Gap(NamedTuple):
    """A criterion to work on: its result, rank, suggested deadline, missing evidence and action."""

    result: CriterionResult
    title: str
    priority: int
    deadline_days: int
    missing_evidence: tuple[str, ...]
    action_code: Action
    action_params: Params
    criterion_action: str
    """The criterion's own suggested action, as its criteria file words it."""
    blocking: bool = False
    """To clear before the audit: this gap alone keeps the verdict from « prêt »."""

    @property
    def action(self) -> str:
        """The suggested action in French: the criterion's own, or the core's when it is to answer or prove."""
        if self.action_code is Action.CRITERION:
            return self.criterion_action
        return self.action_code.msgid % self.action_params

    @property
    def criterion(self) -> str:
        return self.result.criterion

    @property
    def area(self) -> str:
        return self.result.area

    @property
    def workshop(self) -> str:
        return self.result.workshop

    @property
    def severity(self) -> Finding:
        return self.result.finding

    @property
    def critical(self) -> bool:
        return self.result.critical

    @property
    def effective_level(self) -> int | None:
        return self.result.effective_level

    @property
    def confidence(self) -> str:
        return self.result.confidence

    @property
    def reason_code(self) -> Reason:
        return self.result.reason_code

    @property
    def reason_params(self) -> Params:
        return self.result.reason_params

    @property
    def reason(self) -> str:
        return self.result.reason


@dataclass(frozen=True, slots=True)
class AreaScore:
    area: str
    score: float | None
    applicable: int
    answered: int


@dataclass(frozen=True, slots=True)
class Progress:
    answered: int
    applicable: int

    @property
    def percent(self) -> int:
        return 100 if self.applicable == 0 else self.answered * 100 // self.applicable


@dataclass(frozen=True, slots=True)
class Result:
    """Everything an assessment's results page, report or API answer shows."""

    criteria_ref: str
    scoring_version: str
    partial: bool
    verdict: Verdict
    majors: int
    minors: int
    progress: Progress
    areas: tuple[AreaScore, ...]
    criteria: tuple[CriterionResult, ...]
    gaps: tuple[Gap, ...] = field(default=())
    unanswered: int = 0
    """Applicable criteria not answered yet; under scoring v1 they are also folded into majors/minors."""
    blocking: tuple[str, ...] = ()
    """Criteria whose gap keeps the verdict from « prêt » (« à lever avant l'audit »), by priority."""
    unanswered_folded: bool = False
    """True under scoring v1, whose majors and minors count unanswered criteria as at level 0."""

    @property
    def blocking_gaps(self) -> tuple[Gap, ...]:
        return tuple(gap for gap in self.gaps if gap.blocking)

    def gaps_by_workshop(self, workshop_ids: Sequence[str]) -> dict[str, list[Gap]]:
        """Gaps grouped under each workshop (in the given order), each group by priority."""
        grouped: dict[str, list[Gap]] = {workshop: [] for workshop in workshop_ids}
        for gap in self.gaps:
            grouped.setdefault(gap.workshop, []).append(gap)
        return grouped

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data, in a stable order."""
        return {
            "criteria": self.criteria_ref,
            "scoring_version": self.scoring_version,
            "partial": self.partial,
            "verdict": self.verdict.value,
            "verdict_label": self.verdict.label,
            "counts": {
                "ecart_majeur": self.majors,
                "ecart_mineur": self.minors,
                "non_renseigne": self.unanswered,
            },
            "blocking": list(self.blocking),
            "progress": {
                "answered": self.progress.answered,
                "applicable": self.progress.applicable,
                "percent": self.progress.percent,
            },
            "areas": {area.area: area.score for area in self.areas},
            "gaps": [
                {
                    "criterion": gap.criterion,
                    "title": gap.title,
                    "severity": gap.severity.value,
                    "area": gap.area,
                    "workshop": gap.workshop,
                    "priority": gap.priority,
                    "effective_level": gap.effective_level,
                    "deadline_days": gap.deadline_days,
                    "missing_evidence": list(gap.missing_evidence),
                    "action": gap.action,
                    "reason": gap.reason,
                    "confidence": gap.confidence,
                    "blocking": gap.blocking,
                }
                for gap in self.gaps
            ],
            "findings": {r.criterion: r.finding.value for r in self.criteria},
        }
