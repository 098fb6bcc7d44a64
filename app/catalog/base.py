"""The shared pieces of the catalog's file formats: identifiers, vocabularies, the strict base model, conditions."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag

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
