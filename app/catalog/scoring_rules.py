"""The `scoring:` block of a criteria version: the rules a result is computed by."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.catalog.base import AreaId, Confidence, Level, Strict, Text


class VerdictRule(Strict):
    """Largest gap counts a verdict tolerates; unanswered criteria count as at level 0.

    `max_gaps` counts gaps of every severity, majors included, so that turning a major gap into a
    minor one can never make the verdict worse.
    """

    max_major: int = Field(ge=0)
    max_gaps: int = Field(ge=0)

    @model_validator(mode="after")
    def _majors_within_gaps(self) -> VerdictRule:
        if self.max_major > self.max_gaps:
            raise ValueError("max_major cannot exceed max_gaps")
        return self


class Deadlines(Strict):
    """Suggested days to close a gap, per severity."""

    ecart_majeur: int = Field(gt=0)
    ecart_mineur: int = Field(gt=0)
    non_renseigne: int = Field(gt=0)


NotApplicableRule = Literal["anywhere", "where_allowed"]
EvidenceRule = Literal["any_piece", "required_items"]
CountsRule = Literal["unanswered_folded", "separate"]
PartialBest = Literal["pret", "estimation_favorable"]


class Scoring(Strict):
    """The scoring rules of a version. Fields after `deadlines_days` are scoring v2's; their
    defaults are v1's behaviour, so a file written before v2 scores as it always did."""

    version: Text = Field(
        description="Version of the scoring rules, recorded with every result; 2.x enables the v2 rules."
    )
    target_level: Level = 3
    evidence_cap_level: Level = Field(
        2, description="Level a criterion answered at the target is capped to without evidence."
    )
    major_at_or_below: Level = Field(
        1, description="A critical criterion at this effective level or below is an écart majeur."
    )
    ready: VerdictRule
    almost_ready: VerdictRule
    deadlines_days: Deadlines
    audit_lead_days: int | None = Field(
        None,
        ge=0,
        le=365,
        description="With an audit date, suggested deadlines fall this many days before the audit "
        "(none: deadlines count from the assessment only).",
    )
    not_applicable: NotApplicableRule = Field(
        "anywhere", description="where_allowed: N/A only on criteria whose na_allowed holds."
    )
    evidence: EvidenceRule = Field(
        "any_piece",
        description="required_items: the target level counts only when valid evidence covers every "
        "required expected-evidence item; partial cover caps the level.",
    )
    major_confidence: tuple[Confidence, ...] = Field(
        (Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW),
        description="Confidence levels whose criteria may give an écart majeur.",
    )
    blocking_areas: tuple[AreaId, ...] = Field(
        (), description="An écart majeur on a criterion of these areas gives « pas prêt »."
    )
    partial_best: PartialBest = Field(
        "pret", description="The best verdict a partial questionnaire can give."
    )
    counts: CountsRule = Field(
        "unanswered_folded",
        description="separate: majors and minors count findings only, unanswered apart; "
        "unanswered_folded (v1): unanswered criteria are counted in them as if at level 0.",
    )

    @property
    def generation(self) -> int:
        """The major number of the rules' version (1 for a version that is not a number)."""
        head = self.version.split(".")[0]
        return int(head) if head.isdigit() else 1

    @model_validator(mode="after")
    def _generation(self) -> Scoring:
        v2_rules = {
            "not_applicable",
            "evidence",
            "major_confidence",
            "blocking_areas",
            "partial_best",
            "counts",
        }
        if self.generation > 2:
            raise ValueError(f"unknown scoring rules version {self.version} (known: 1.x, 2.x)")
        if self.generation < 2 and v2_rules & self.model_fields_set:
            set_here = ", ".join(sorted(v2_rules & self.model_fields_set))
            raise ValueError(f"{set_here}: scoring v2 rules need scoring version 2.x")
        if self.generation == 2 and self.ready.max_major > 0:
            raise ValueError("scoring v2: a major gap never allows « prêt » (ready.max_major must be 0)")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> Scoring:
        if self.evidence_cap_level >= self.target_level:
            raise ValueError("evidence_cap_level must be below target_level")
        if self.major_at_or_below >= self.target_level:
            raise ValueError("major_at_or_below must be below target_level")
        ready, almost = self.ready, self.almost_ready
        if ready.max_major > almost.max_major or ready.max_gaps > almost.max_gaps:
            raise ValueError("ready must not tolerate more gaps than almost_ready")
        return self
