"""The file formats of `criteria/` and `questionnaires/`, as pydantic models.

These models are the single definition of both formats: the loader validates every file against
them, and `autodiag criteria schema` turns them into the JSON Schemas committed for editors.
Unknown keys are refused everywhere, so a misspelt field is an error instead of a silent default.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Literal

from pydantic import Field, model_validator

from app.catalog.base import (
    AREA_IDS,
    SEMVER,
    WORKSHOP_IDS,
    AllOf,
    AnyOf,
    AreaId,
    Condition,
    Confidence,
    CriterionId,
    Equals,
    Includes,
    Level,
    Slug,
    Status,
    Strict,
    Text,
    Version,
    WorkshopId,
)
from app.catalog.questionnaires import CriteriaRef, ProfileQuestion, Question, Questionnaire, Section
from app.catalog.scoring_rules import (
    CountsRule,
    Deadlines,
    EvidenceRule,
    NotApplicableRule,
    PartialBest,
    Scoring,
    VerdictRule,
)

__all__ = [
    "AREA_IDS",
    "SEMVER",
    "WORKSHOP_IDS",
    "AllOf",
    "AnyOf",
    "Area",
    "AreaId",
    "ChangelogEntry",
    "Condition",
    "Confidence",
    "CountsRule",
    "CriteriaRef",
    "CriteriaVersion",
    "Criterion",
    "CriterionId",
    "CycleDurations",
    "Deadlines",
    "Equals",
    "EvidenceRule",
    "ExpectedEvidence",
    "Fact",
    "Includes",
    "Level",
    "NotApplicableRule",
    "PartialBest",
    "ProfileField",
    "ProfileOption",
    "ProfileQuestion",
    "Question",
    "Questionnaire",
    "ScaleLevel",
    "Scoring",
    "Section",
    "Slug",
    "Status",
    "Strict",
    "Text",
    "VerdictRule",
    "Version",
    "WorkshopId",
]


class Area(Strict):
    id: AreaId
    title: Text
    description: Text


class Workshop(Strict):
    id: WorkshopId
    title: Text
    description: Text


class ScaleLevel(Strict):
    level: Level
    label: Text
    description: Text


class ProfileOption(Strict):
    value: Slug
    label: Text
    confidence: Confidence | None = Field(
        None, description="How sure the option's name is (the norm's register names are not all public)."
    )
    sources: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _sourced(self) -> ProfileOption:
        if self.confidence is not None and not self.sources:
            raise ValueError("an option with a confidence needs its sources")
        return self


class ProfileField(Strict):
    """One fact about the structure that decides which criteria apply."""

    id: Slug
    kind: Literal["choice", "multi", "boolean"]
    label: Text
    options: tuple[ProfileOption, ...] = ()

    @model_validator(mode="after")
    def _options_match_kind(self) -> ProfileField:
        if self.kind == "boolean" and self.options:
            raise ValueError("a boolean field takes no options")
        if self.kind != "boolean" and not self.options:
            raise ValueError(f"a {self.kind} field needs options")
        values = [option.value for option in self.options]
        if len(set(values)) != len(values):
            raise ValueError("option values must be unique")
        return self


class ExpectedEvidence(Strict):
    id: Slug
    label: Text
    required: bool = Field(
        True, description="Scoring v2: the target level needs evidence covering every required item."
    )
    validity_months: int | None = Field(
        None,
        ge=1,
        le=120,
        description="Evidence dated earlier than this before the reference date is « périmée ».",
    )


class Criterion(Strict):
    id: CriterionId
    status: Literal["active", "withdrawn"] = "active"
    area: AreaId
    workshop: WorkshopId
    title: Text
    requirement: Text = Field(description="What the structure must show.")
    guidance: Text = Field(description="What an auditor looks for.")
    expected_evidence: tuple[ExpectedEvidence, ...] = Field(min_length=1)
    evidence_required: bool = Field(
        True, description="Answered at the target level with no evidence, the level is capped."
    )
    action: Text = Field(description="Suggested action when the criterion is a gap.")
    critical: bool = False
    blocking: bool = Field(
        False, description="Scoring v2: an écart majeur here gives « pas prêt » (to clear before the audit)."
    )
    na_allowed: bool | None = Field(
        None,
        description="Whether N/A may be answered (scoring v2); default: not for deontology or critical "
        "criteria, which only the profile can make not applicable.",
    )
    weight: float = Field(gt=0, le=10)
    levels: dict[Level, Text] = Field(
        default_factory=dict, description="Per-level descriptions overriding the scale's."
    )
    applies_if: Condition | None = None
    sources: tuple[Text, ...] = Field(min_length=1)
    confidence: Confidence
    replaced_by: tuple[CriterionId, ...] = ()
    merged_into: CriterionId | None = None

    @model_validator(mode="after")
    def _links_only_when_withdrawn(self) -> Criterion:
        if self.status == "active" and (self.replaced_by or self.merged_into):
            raise ValueError("only a withdrawn criterion may have replaced_by or merged_into")
        if self.replaced_by and self.merged_into:
            raise ValueError("use replaced_by or merged_into, not both")
        ids = [item.id for item in self.expected_evidence]
        if len(set(ids)) != len(ids):
            raise ValueError("expected_evidence ids must be unique")
        if self.na_allowed and (self.area == "deontologie" or self.critical):
            kind = "a deontology" if self.area == "deontologie" else "a critical"
            raise ValueError(
                f"na_allowed: true is refused on {kind} criterion: only the profile (applies_if) "
                "can make it not applicable"
            )
        return self

    @property
    def allows_na(self) -> bool:
        """Whether N/A may be answered under rules that check it."""
        if self.na_allowed is not None:
            return self.na_allowed
        return not (self.area == "deontologie" or self.critical)


class ChangelogEntry(Strict):
    """What one version changed, in a few sentences."""

    version: Version
    changes: tuple[Text, ...] = Field(min_length=1)


class CycleDurations(Strict):
    """The certification cycle in months, stated by the fact that carries it (and its sources)."""

    certificate_months: int = Field(ge=1, le=120, description="How long a certificate is valid.")
    surveillance_months: int = Field(
        ge=1, le=120, description="When the surveillance audit falls, counted from the certificate."
    )

    @model_validator(mode="after")
    def _surveillance_within(self) -> CycleDurations:
        if self.surveillance_months >= self.certificate_months:
            raise ValueError("surveillance_months must fall before certificate_months")
        return self


class Fact(Strict):
    """A sourced fact shown beside the criteria, for instance about the certification cycle."""

    id: Slug
    title: Text
    text: Text
    sources: tuple[Text, ...] = Field(min_length=1)
    confidence: Confidence
    cycle: CycleDurations | None = Field(
        None, description="The cycle's durations, when this fact states them (one fact at most)."
    )


class CriteriaVersion(Strict):
    """One released (or draft) version of a referential: the whole content of one file."""

    referential: Slug
    version: Version
    title: Text
    status: Status
    published: date | None = None
    provenance: Text
    areas: tuple[Area, ...]
    workshops: tuple[Workshop, ...]
    scale: tuple[ScaleLevel, ...]
    scoring: Scoring
    profile_fields: tuple[ProfileField, ...] = ()
    certification: tuple[Fact, ...] = Field(
        (), description="Sourced facts about the certification (cycle, audits, the norm's revision)."
    )
    changelog: tuple[ChangelogEntry, ...] = ()
    criteria: tuple[Criterion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete_vocabularies(self) -> CriteriaVersion:
        if tuple(sorted(a.id for a in self.areas)) != tuple(sorted(AREA_IDS)):
            raise ValueError(f"areas must define exactly {', '.join(AREA_IDS)}")
        if tuple(sorted(w.id for w in self.workshops)) != tuple(sorted(WORKSHOP_IDS)):
            raise ValueError(f"workshops must define exactly {', '.join(WORKSHOP_IDS)}")
        if [s.level for s in self.scale] != [0, 1, 2, 3]:
            raise ValueError("scale must list levels 0, 1, 2, 3 in order")
        if self.status == Status.RELEASED and self.published is None:
            raise ValueError("a released version needs a published date")
        if sum(fact.cycle is not None for fact in self.certification) > 1:
            raise ValueError("certification: only one fact may state the cycle's durations")
        return self

    @property
    def cycle(self) -> CycleDurations | None:
        """The certification cycle's durations, when the version's certification block states them."""
        return next((fact.cycle for fact in self.certification if fact.cycle is not None), None)

    @property
    def ref(self) -> str:
        return f"{self.referential}@{self.version}"

    @cached_property
    def by_id(self) -> dict[str, Criterion]:
        return {criterion.id: criterion for criterion in self.criteria}

    @cached_property
    def active(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.status == "active")

    @cached_property
    def fields_by_id(self) -> dict[str, ProfileField]:
        return {field.id: field for field in self.profile_fields}

    def allows_na(self, criterion: Criterion) -> bool:
        """Whether N/A may be answered on `criterion` under this version's scoring rules."""
        return self.scoring.not_applicable == "anywhere" or criterion.allows_na

    def area(self, area_id: str) -> Area:
        return next(a for a in self.areas if a.id == area_id)

    def workshop(self, workshop_id: str) -> Workshop:
        return next(w for w in self.workshops if w.id == workshop_id)
