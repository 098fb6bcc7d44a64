"""What the scoring core takes and returns: plain frozen dataclasses, cheap to build and compare.

The core says why with codes and their parameters (`Reason`, `Action`), never with sentences of its
own: each code's French msgid is here, so `reason` and `action` give the French that snapshots,
the API and the CLI carry, and `app.scoring.views` gives a page the same in its language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple

ProfileValue = bool | str | Sequence[str]
Profile = Mapping[str, ProfileValue]


class Finding(StrEnum):
    """The predicted audit finding for one criterion."""

    CONFORME = "conforme"
    ECART_MINEUR = "ecart_mineur"
    ECART_MAJEUR = "ecart_majeur"
    NON_RENSEIGNE = "non_renseigne"
    NON_APPLICABLE = "non_applicable"

    @property
    def label(self) -> str:
        return FINDING_LABELS[self]


def N_(message: str) -> str:  # noqa: N802 - gettext's usual name for a marker
    """Mark a label for the translation catalogs; pages show it through `_()` (`app.locale`).

    The core stays pure (it imports nothing of the web), so its labels are French msgids.
    """
    return message


FINDING_LABELS = {
    Finding.CONFORME: N_("Conforme"),
    Finding.ECART_MINEUR: N_("Écart mineur"),
    Finding.ECART_MAJEUR: N_("Écart majeur"),
    Finding.NON_RENSEIGNE: N_("Non renseigné"),
    Finding.NON_APPLICABLE: N_("Non applicable"),
}
GAP_FINDINGS = (Finding.ECART_MAJEUR, Finding.NON_RENSEIGNE, Finding.ECART_MINEUR)


class Verdict(StrEnum):
    PRET = "pret"
    ESTIMATION_FAVORABLE = "estimation_favorable"
    """The best a partial questionnaire gives under scoring v2: never « prêt » on part of the criteria."""
    PRESQUE_PRET = "presque_pret"
    PAS_PRET = "pas_pret"

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self]


VERDICT_LABELS = {
    Verdict.PRET: N_("Prêt pour l'audit"),
    Verdict.ESTIMATION_FAVORABLE: N_("Estimation favorable — à confirmer par le questionnaire complet"),
    Verdict.PRESQUE_PRET: N_("Presque prêt"),
    Verdict.PAS_PRET: N_("Pas prêt"),
}


Params = Mapping[str, str | int]
"""The values a code's sentence names (`%(level)s`), so a page can say it in its own language."""
NO_PARAMS: Params = MappingProxyType({})


class Reason(StrEnum):
    """Why a criterion has its finding; `msgid` is the French sentence, filled from `reason_params`."""

    LEVEL_REACHED = "level_reached"
    CRITICAL_TOO_LOW = "critical_too_low"
    BELOW_TARGET = "below_target"
    UNPROVEN = "unproven"
    UNANSWERED = "unanswered"
    UNJUSTIFIED_NOT_APPLICABLE = "unjustified_not_applicable"
    DECLARED_NOT_APPLICABLE = "declared_not_applicable"
    OUT_OF_PROFILE = "out_of_profile"
    NOT_APPLICABLE_REFUSED = "not_applicable_refused"
    CRITICAL_INFERRED = "critical_inferred"
    PARTLY_PROVEN = "partly_proven"
    EXPIRED_EVIDENCE = "expired_evidence"
    UNDATED_EVIDENCE = "undated_evidence"

    @property
    def msgid(self) -> str:
        return REASON_MSGIDS[self]


REASON_MSGIDS = {
    Reason.LEVEL_REACHED: N_("Niveau %(level)s (%(label)s)"),
    Reason.CRITICAL_TOO_LOW: N_("Critère critique au niveau %(level)s (%(label)s)"),
    Reason.BELOW_TARGET: N_("Niveau %(level)s (%(label)s) sur %(target)s attendu"),
    Reason.UNPROVEN: N_(
        "Déclaré au niveau %(level)s sans preuve jointe : plafonné au niveau %(cap)s (déclaré, non prouvé)"
    ),
    Reason.UNANSWERED: N_("Non renseigné"),
    Reason.UNJUSTIFIED_NOT_APPLICABLE: N_("Déclaré non applicable sans justification"),
    Reason.DECLARED_NOT_APPLICABLE: N_("Non applicable : %(justification)s"),
    Reason.OUT_OF_PROFILE: N_("Ne s'applique pas au profil de la structure"),
    Reason.NOT_APPLICABLE_REFUSED: N_(
        "Non applicable refusé : seul le profil de la structure peut écarter ce critère ; indiquez un niveau"
    ),
    Reason.CRITICAL_INFERRED: N_(
        "Critère critique au niveau %(level)s (%(label)s), mais déduit (confiance L) : écart mineur à "
        "confirmer sur le texte de la norme"
    ),
    Reason.PARTLY_PROVEN: N_(
        "Déclaré au niveau %(level)s, preuves incomplètes : plafonné au niveau %(cap)s ; manque : %(missing)s"
    ),
    Reason.EXPIRED_EVIDENCE: N_(
        "Déclaré au niveau %(level)s, plafonné au niveau %(cap)s : preuve périmée pour « %(item)s » "
        "(document du %(date)s, validité %(months)s mois)"
    ),
    Reason.UNDATED_EVIDENCE: N_(
        "Déclaré au niveau %(level)s, plafonné au niveau %(cap)s : « %(item)s » demande un document daté "
        "de moins de %(months)s mois, et la preuve jointe n'a pas de date"
    ),
}


class Action(StrEnum):
    """What a gap's suggested action is: the criterion's own text (criteria-file content), or the core's."""

    CRITERION = "criterion"
    ANSWER = "answer"
    ATTACH_EVIDENCE = "attach_evidence"

    @property
    def msgid(self) -> str:
        """The French sentence of a core action; the criterion's own has none (`Gap.criterion_action`)."""
        return ACTION_MSGIDS[self]


ACTION_MSGIDS = {
    Action.ANSWER: N_("Renseigner ce critère : niveau atteint, ou non applicable avec une justification."),
    Action.ATTACH_EVIDENCE: N_("Joindre les preuves attendues : %(evidence)s."),
}


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
