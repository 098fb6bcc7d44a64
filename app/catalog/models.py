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
MAX_TEXT = 4000
"""The longest text a criteria or questionnaire file may hold in one field (the longest today: ~950)."""
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
Level = Literal[0, 1, 2, 3]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=MAX_TEXT)


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


class Fact(Strict):
    """A sourced fact shown beside the criteria, for instance about the certification cycle."""

    id: Slug
    title: Text
    text: Text
    sources: tuple[Text, ...] = Field(min_length=1)
    confidence: Confidence


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

    def allows_na(self, criterion: Criterion) -> bool:
        """Whether N/A may be answered on `criterion` under this version's scoring rules."""
        return self.scoring.not_applicable == "anywhere" or criterion.allows_na

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
