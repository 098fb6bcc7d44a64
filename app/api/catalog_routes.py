"""The API's catalog operations and scoring: what the criteria and questionnaire files say, no database.

Every operation needs the scope read:catalog. `router` holds the catalog, `scoring` the one
operation that scores an answers document; `app/api/routes.py` mounts them in the document's order.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api import service, views
from app.api.auth import READ, READ_ONE, ApiError, CatalogReader, errors
from app.api.models import (
    AfterKey,
    CriterionPage,
    Limit,
    QuestionnaireDetailOut,
    QuestionnairePage,
    ReferentialPage,
    ScoreOut,
    Slug,
    VersionDetailOut,
)
from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog
from app.deps import CanonicalCatalogDep
from app.scoring.answers import AnswersError

MAX_SCORE_BYTES = 1024 * 1024

router = APIRouter()
scoring = APIRouter()


@router.get("/referentials", tags=["catalog"], summary="List referentials and their versions", responses=READ)
def referentials(
    request: Request,
    catalog: CanonicalCatalogDep,
    _caller: CatalogReader,
    limit: Limit = 50,
    after: AfterKey = "",
) -> ReferentialPage:
    found = [r for r in views.referentials(catalog) if r.id > after]
    return ReferentialPage.of(request, found, limit=limit, key="id")


@router.get(
    "/referentials/{referential}/versions/{version}",
    tags=["catalog"],
    summary="One criteria version: areas, workshops, scale, scoring rules, profile questions",
    responses=READ_ONE,
)
def criteria_version(
    catalog: CanonicalCatalogDep, _caller: CatalogReader, referential: Slug, version: Slug
) -> VersionDetailOut:
    return views.version_detail(catalog, _version(catalog, referential, version))


@router.get(
    "/referentials/{referential}/versions/{version}/criteria",
    tags=["catalog"],
    summary="The criteria of a version, by id: area, workshop, critical, expected evidence, sources",
    responses=READ_ONE,
)
def criteria(
    request: Request,
    *,
    catalog: CanonicalCatalogDep,
    _caller: CatalogReader,
    referential: Slug,
    version: Slug,
    limit: Limit = 50,
    after: AfterKey = "",
) -> CriterionPage:
    found = sorted(
        (c for c in _version(catalog, referential, version).criteria if c.id > after), key=lambda c: c.id
    )
    return CriterionPage.of(request, found, limit=limit, key="id")


@router.get("/questionnaires", tags=["catalog"], summary="List questionnaires, by reference", responses=READ)
def questionnaires(
    request: Request,
    catalog: CanonicalCatalogDep,
    _caller: CatalogReader,
    limit: Limit = 50,
    after: AfterKey = "",
) -> QuestionnairePage:
    found = views.questionnaires(catalog, after=after)
    return QuestionnairePage.of(request, found, limit=limit, key="ref")


@router.get(
    "/questionnaires/{questionnaire_id}/versions/{version}",
    tags=["catalog"],
    summary="One questionnaire: its sections and questions",
    responses=READ_ONE,
)
def questionnaire(
    catalog: CanonicalCatalogDep, _caller: CatalogReader, questionnaire_id: Slug, version: Slug
) -> QuestionnaireDetailOut:
    found = catalog.questionnaires.get(f"{questionnaire_id}@{version}")
    if found is None:
        raise ApiError(404, f"No questionnaire {questionnaire_id}@{version}.")
    return views.questionnaire_out(catalog, found)


def _version(catalog: Catalog, referential: str, version: str) -> CriteriaVersion:
    found = catalog.criteria.get(f"{referential}@{version}")
    if found is None:
        raise ApiError(404, f"No criteria version {referential}@{version}.")
    return found


@scoring.post(
    "/score",
    tags=["scoring"],
    summary="Score an answers document (as `autodiag score`) against its questionnaire; nothing is stored",
    responses=errors(401, 403, 413, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnswersDocument"}}},
        }
    },
)
def score(
    catalog: CanonicalCatalogDep, _caller: CatalogReader, text: Annotated[str, Depends(answers_text)]
) -> ScoreOut:
    # A plain function: FastAPI runs it in a thread, so scoring never holds up the event loop.
    try:
        return service.score_document(catalog, text)
    except AnswersError as error:
        raise ApiError(422, problems=[_problem(text) for text in error.problems]) from None


async def answers_text(request: Request) -> str:
    """The request's body as text: at most 1 MB (`app.limits.BodyLimit` stops it as it arrives)."""
    body = await request.body()
    if len(body) > MAX_SCORE_BYTES:
        raise ApiError(413, "The answers document is larger than 1 MB.")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, problems=[{"field": "body", "message": "not UTF-8 text"}]) from None


def _problem(text: str) -> dict[str, str]:
    """`answers.DEO-01.level: must be …` → field and message."""
    field, found, message = text.partition(": ")
    return (
        {"field": field, "message": message}
        if found and " " not in field
        else {"field": "body", "message": text}
    )
