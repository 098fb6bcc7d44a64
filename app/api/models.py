"""The JSON shapes the API answers with, and the parameters it reads (tokens: `app.accounts.models`).

The catalog's own pydantic models (`Criterion`, `Area`, `Section`, …) are reused as they are, so a
criterion reads the same in a criteria file, in `autodiag criteria show --json` and in the API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, Self, TypeVar
from urllib.parse import urlencode

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from app.catalog.models import Area, Criterion, ProfileField, ScaleLevel, Scoring, Section, Workshop

PREFIX = "/api/v1"

# The parameters of the operations: ids, catalog slugs, and the cursor and size of a page.

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Slug = Annotated[str, Path(max_length=100)]
After = Annotated[int, Query(ge=0, le=2**31 - 1, description="Cursor: the `after` of a `next` link.")]
AfterKey = Annotated[str, Query(max_length=100, description="Cursor: the `after` of a `next` link.")]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]

# The API's answers. Field names are the product's vocabulary; ids are integers or catalog ids.


class Problem(BaseModel):
    field: str = Field(description="Where the problem is, e.g. `query.limit` or `answers.DEO-01.level`.")
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: unauthorized, forbidden, not_found, …")
    message: str = Field(description="What went wrong, in plain words.")
    problems: list[Problem] = Field(default_factory=list, description="Each invalid field (422 only).")


class ErrorResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"error": {"code": "not_found", "message": "No such structure.", "problems": []}}]
        }
    )
    error: ErrorDetail


Item = TypeVar("Item", bound=BaseModel)


class Page(BaseModel, Generic[Item]):
    """One page of a list, in a stable order; follow `next` until it is null."""

    items: list[Item]
    next: str | None = Field(description="Path and query of the next page; null on the last page.")

    @classmethod
    def of(cls, request: Request, found: list[Any], *, limit: int, key: str) -> Self:
        """The first `limit` of `found`, fetched one longer to know whether another page follows."""
        shown = found[:limit]
        if len(found) <= limit:
            return cls(items=shown, next=None)
        query = {**request.query_params, "limit": str(limit), "after": str(getattr(shown[-1], key))}
        path = request.url.path.removeprefix(PREFIX)
        return cls(items=shown, next=f"{PREFIX}{path}?{urlencode(query)}")


class VersionOut(BaseModel):
    ref: str = Field(examples=["x60-600@1.0.0"])
    referential: str
    version: str
    title: str
    status: str = Field(description="draft, released or withdrawn.")
    published: date | None
    sha256: str = Field(description="SHA-256 of the criteria file, as recorded with every assessment.")
    scoring_version: str
    criteria_count: int
    questionnaires: list[str] = Field(description="Questionnaires asking this version, as id@version.")


class VersionDetailOut(VersionOut):
    provenance: str
    areas: list[Area]
    workshops: list[Workshop]
    scale: list[ScaleLevel]
    scoring: Scoring
    profile_fields: list[ProfileField]


class ReferentialOut(BaseModel):
    id: str = Field(examples=["x60-600"])
    title: str = Field(description="The title of its latest version.")
    versions: list[VersionOut] = Field(description="Newest first.")


class QuestionnaireOut(BaseModel):
    ref: str = Field(examples=["express@1.0.0"])
    id: str
    version: str
    title: str
    description: str
    status: str
    partial: bool = Field(description="True for a questionnaire that asks only some criteria (an estimate).")
    criteria: str = Field(description="The criteria version asked, as referential@version.")
    sha256: str
    question_count: int


class QuestionnaireDetailOut(QuestionnaireOut):
    sections: list[Section]


class StructureOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": 1, "name": "Médiation Horizon", "city": "Roubaix", "profile": {}}]
        }
    )
    id: int
    name: str
    city: str
    profile: dict[str, bool | str | list[str]] = Field(description="Answers to the profile questions.")


class AssessmentOut(BaseModel):
    id: int
    structure_id: int
    status: Literal["submitted"] = Field(description="The API shows submitted assessments only.")
    revision: int
    questionnaire: str = Field(examples=["express@1.0.0"])
    questionnaire_sha256: str
    criteria: str = Field(examples=["x60-600@1.0.0"])
    criteria_sha256: str
    created_at: datetime
    submitted_at: datetime | None


class GapOut(BaseModel):
    criterion: str = Field(examples=["DEO-08"])
    title: str
    severity: Literal["ecart_majeur", "non_renseigne", "ecart_mineur"]
    area: str
    workshop: str
    priority: int = Field(description="1 is the most urgent.")
    effective_level: int | None
    deadline_days: int
    missing_evidence: list[str]
    action: str
    reason: str
    confidence: Literal["H", "M", "L"] = Field(
        description="The criterion's confidence: L is inferred, to check against the norm's text (never a major gap under scoring v2)."
    )
    blocking: bool = Field(
        description="To clear before the audit: this gap alone keeps the verdict from « prêt »."
    )


class Counts(BaseModel):
    ecart_majeur: int
    ecart_mineur: int
    non_renseigne: int = Field(
        description="Unanswered applicable criteria. Under scoring 1.x they are also counted in the two others."
    )


class ProgressOut(BaseModel):
    answered: int
    applicable: int
    percent: int


class ResultOut(BaseModel):
    """A result as `autodiag score --json` prints it (without the questionnaire)."""

    criteria: str
    scoring_version: str
    partial: bool
    verdict: Literal["pret", "estimation_favorable", "presque_pret", "pas_pret"] = Field(
        description="estimation_favorable: the best a partial questionnaire gives under scoring 2.x."
    )
    verdict_label: str
    counts: Counts
    blocking: list[str] = Field(description="Criteria to clear before the audit, by priority.")
    progress: ProgressOut
    areas: dict[str, float | None] = Field(description="Score 0–100 per area; null when nothing to score.")
    gaps: list[GapOut] = Field(description="By priority.")
    findings: dict[str, str] = Field(description="The predicted finding of each criterion.")


class ScoreOut(ResultOut):
    """The answer of `POST /score`: the same document as `autodiag score --json`."""

    questionnaire: str = Field(examples=["full@1.0.0"])


class AssessmentDetailOut(AssessmentOut):
    result: ResultOut


class EvidenceUse(BaseModel):
    id: int
    covers: list[str] = Field(description="Expected-evidence ids of the criterion this piece proves.")


class AnswerOut(BaseModel):
    criterion: str = Field(examples=["DEO-01"])
    level: int | None
    not_applicable: bool
    justification: str
    comment: str
    finding: str
    effective_level: int | None
    evidence: list[EvidenceUse]


class EvidenceOut(BaseModel):
    id: int
    kind: Literal["file", "reference"]
    title: str
    document_date: date | None
    owner: str
    link: str
    filename: str
    content_type: str
    size: int | None
    sha256: str = Field(description="SHA-256 of the file; empty for a reference.")
    criteria: list[str] = Field(description="The criteria of this assessment it supports.")
    file_url: str | None = Field(description="Where to download the file (scope read:evidence).")


class SnapshotOut(BaseModel):
    id: int
    assessment_id: int
    revision: int
    sha256: str = Field(description="SHA-256 of the canonical JSON bytes.")
    signature: str = Field(description="Ed25519 signature of the canonical JSON bytes, base64.")
    key_id: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    created_at: datetime
    content_url: str = Field(description="Where to download the canonical JSON, byte for byte.")


class KeyOut(BaseModel):
    key_id: str
    algorithm: Literal["Ed25519"] = "Ed25519"
    public_key: str = Field(description="The raw 32-byte Ed25519 public key, base64.")


class KeysOut(BaseModel):
    keys: list[KeyOut]


# One named class per page, so the OpenAPI document names them plainly (not `Page_StructureOut_`).


class ReferentialPage(Page[ReferentialOut]):
    pass


class CriterionPage(Page[Criterion]):
    pass


class QuestionnairePage(Page[QuestionnaireOut]):
    pass


class StructurePage(Page[StructureOut]):
    pass


class AssessmentPage(Page[AssessmentOut]):
    pass


class AnswerPage(Page[AnswerOut]):
    pass


class EvidencePage(Page[EvidenceOut]):
    pass


class SnapshotPage(Page[SnapshotOut]):
    pass
