"""The file formats of `criteria/` and `questionnaires/`, as pydantic models.

These models are the single definition of both formats: the loader validates every file against
them, and `autodiag criteria schema` turns them into the JSON Schemas committed for editors.
Unknown keys are refused everywhere, so a misspelt field is an error instead of a silent default.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

AreaId = Literal["deontologie", "processus", "structuration", "evaluation"]
WorkshopId = Literal["politique_qualite", "gestion_activite", "formation_equipes", "utilite_sociale"]
AREA_IDS: tuple[AreaId, ...] = ("deontologie", "processus", "structuration", "evaluation")
WORKSHOP_IDS: tuple[WorkshopId, ...] = (
    "politique_qualite",
    "gestion_activite",
    "formation_equipes",
    "utilite_sociale",
)

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
Version = Annotated[str, StringConstraints(pattern=SEMVER.pattern)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
CriterionId = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,5}-\d{2,3}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Level = Literal[0, 1, 2, 3]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Status(StrEnum):
    DRAFT = "draft"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"


class Confidence(StrEnum):
    """How sure we are that the criterion reflects the norm (see shared/domain/norm.md legend)."""

    HIGH = "H"
    MEDIUM = "M"
    LOW = "L"


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


class Scoring(Strict):
    version: Text = Field(description="Version of the scoring rules, recorded with every result.")
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


class ProfileOption(Strict):
    value: Slug
    label: Text


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


class Equals(Strict):
    field: Slug
    equals: bool | Slug


class Includes(Strict):
    field: Slug
    includes: Slug


class AnyOf(Strict):
    any: tuple[Condition, ...] = Field(min_length=1)


class AllOf(Strict):
    all: tuple[Condition, ...] = Field(min_length=1)


def _condition_kind(value: object) -> str | None:
    """Pick the condition model by its operator key, so errors name the right fields."""
    keys = (
        value.keys()
        if isinstance(value, dict)
        else type(value).model_fields.keys()
        if isinstance(value, BaseModel)
        else ()
    )
    return next((key for key in ("equals", "includes", "any", "all") if key in keys), None)


Condition = Annotated[
    Annotated[Equals, Tag("equals")]
    | Annotated[Includes, Tag("includes")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[AllOf, Tag("all")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message=(
            "a condition is {field, equals}, {field, includes}, {any: [...]} or {all: [...]}"
        ),
    ),
]
AnyOf.model_rebuild()
AllOf.model_rebuild()


class ExpectedEvidence(Strict):
    id: Slug
    label: Text


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
        return self


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
        return self

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

    def area(self, area_id: str) -> Area:
        return next(a for a in self.areas if a.id == area_id)

    def workshop(self, workshop_id: str) -> Workshop:
        return next(w for w in self.workshops if w.id == workshop_id)


class ProfileQuestion(Strict):
    field: Slug
    text: Text
    help: str = ""
    show_if: Condition | None = None


class Question(Strict):
    criterion: CriterionId
    text: Text
    help: str = ""


class Section(Strict):
    id: Slug
    title: Text
    intro: str = ""
    questions: tuple[Question, ...] = Field(min_length=1)


CriteriaRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*@" + SEMVER.pattern[1:])]


class Questionnaire(Strict):
    id: Slug
    version: Version
    title: Text
    description: Text
    status: Status
    partial: bool = Field(
        description="True when it asks only part of the criteria: its results are an estimate."
    )
    criteria: CriteriaRef = Field(description="The criteria version asked, as referential@version.")
    profile: tuple[ProfileQuestion, ...] = ()
    sections: tuple[Section, ...] = Field(min_length=1)

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @cached_property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(q.criterion for s in self.sections for q in s.questions)
