"""The API at /api/v1: its own FastAPI application, with its own OpenAPI document and JSON errors.

It shares the web app's state (catalog, database engine, signer, settings) and runs none of the
web's session or CSRF dependencies: a bearer token is its only credential (`app/api/auth.py`).
Lists are pages in a stable order (by id, or by catalog id) with a `next` link to follow.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from fastapi.responses import FileResponse
from sqlmodel import Session, SQLModel
from starlette.datastructures import State

from app.api import service
from app.api.auth import (
    ApiError,
    AssessmentReader,
    Caller,
    CatalogReader,
    EvidenceReader,
    RateLimiter,
    add_error_handlers,
    errors,
)
from app.api.models import (
    AnswerPage,
    AssessmentDetailOut,
    AssessmentPage,
    CriterionPage,
    EvidencePage,
    KeysOut,
    QuestionnaireDetailOut,
    QuestionnaireOut,
    QuestionnairePage,
    ReferentialPage,
    ScoreOut,
    SnapshotOut,
    SnapshotPage,
    StructureOut,
    StructurePage,
    VersionDetailOut,
)
from app.assessments import evidence as evidence_store
from app.assessments.models import Assessment, Snapshot
from app.catalog.models import CriteriaVersion, Criterion
from app.catalog.service import Catalog
from app.config import Settings
from app.db import SessionDep, pk
from app.deps import CanonicalCatalogDep
from app.scoring.answers import AnswersDocument, AnswersError
from app.structures.models import Structure

PREFIX = "/api/v1"
MAX_SCORE_BYTES = 1024 * 1024
TAGS = [
    {"name": "catalog", "description": "Referentials, criteria versions, criteria, questionnaires."},
    {
        "name": "structures",
        "description": "Structures the token's user may see, and their submitted assessments.",
    },
    {"name": "assessments", "description": "One submitted assessment: result, answers, evidence."},
    {"name": "snapshots", "description": "Signed snapshots, byte for byte, and the keys to verify them."},
    {"name": "scoring", "description": "Score an answers document without storing anything."},
]
DESCRIPTION = """Read-only access for auditors and tools. Authenticate with a personal API token
(`Authorization: Bearer adm_…`), created on the « Jetons d'API » page or with `autodiag tokens create`.
Every caller sees submitted assessments only, of the structures its user may see on the web
(an auditor: those that granted access). Errors are `{"error": {"code", "message", "problems"}}`.
Lists: `limit` (1–100) items per page in a stable order; follow `next` until it is null."""

Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
After = Annotated[int, Query(ge=0, le=2**31 - 1, description="Cursor: the `after` of a `next` link.")]
AfterKey = Annotated[str, Query(max_length=100, description="Cursor: the `after` of a `next` link.")]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Slug = Annotated[str, Path(max_length=100)]

router = APIRouter()
READ = errors(401, 403, 422, 429)
READ_ONE = errors(401, 403, 404, 422, 429)


def create_api(state: State) -> FastAPI:
    """The API application, to mount at /api/v1; it shares `state` with the web app."""
    api = FastAPI(
        title="Autodiag Médiation API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        servers=[{"url": PREFIX}],
        docs_url=None,
        redoc_url=None,
    )
    api.state = state
    state.rate_limiter = RateLimiter(state.settings.api_rate_limit_per_minute)
    api.include_router(router)
    add_error_handlers(api)
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = _with_answers_document(original())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def openapi_text() -> str:
    """The OpenAPI document as committed in examples/openapi.json: stable, indented JSON."""
    document = create_api(State({"settings": Settings()})).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _page(request: Request, items: list[Any], limit: int, key: str) -> dict[str, Any]:
    """A page of `limit` items (one more was fetched to know whether another page follows)."""
    shown = items[:limit]
    if len(items) <= limit:
        return {"items": shown, "next": None}
    query = {**request.query_params, "limit": str(limit), "after": str(getattr(shown[-1], key))}
    return {"items": shown, "next": f"{PREFIX}{request.url.path.removeprefix(PREFIX)}?{urlencode(query)}"}


# The catalog.


@router.get("/referentials", tags=["catalog"], summary="List referentials and their versions", responses=READ)
def referentials(
    request: Request,
    catalog: CanonicalCatalogDep,
    _caller: CatalogReader,
    limit: Limit = 50,
    after: AfterKey = "",
) -> ReferentialPage:
    found = [r for r in service.referentials(catalog) if r.id > after]
    return ReferentialPage.model_validate(_page(request, found, limit, "id"))


@router.get(
    "/referentials/{referential}/versions/{version}",
    tags=["catalog"],
    summary="One criteria version: areas, workshops, scale, scoring rules, profile questions",
    responses=READ_ONE,
)
def criteria_version(
    catalog: CanonicalCatalogDep, _caller: CatalogReader, referential: Slug, version: Slug
) -> VersionDetailOut:
    return service.version_detail(catalog, _version(catalog, referential, version))


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
    found = sorted((c for c in _version(catalog, referential, version).criteria if c.id > after), key=_id)
    return CriterionPage.model_validate(_page(request, found, limit, "id"))


@router.get("/questionnaires", tags=["catalog"], summary="List questionnaires, by reference", responses=READ)
def questionnaires(
    request: Request,
    catalog: CanonicalCatalogDep,
    _caller: CatalogReader,
    limit: Limit = 50,
    after: AfterKey = "",
) -> QuestionnairePage:
    found = [
        QuestionnaireOut.model_validate(
            service.questionnaire_out(catalog, q).model_dump(exclude={"sections"})
        )
        for ref, q in sorted(catalog.questionnaires.items())
        if ref > after
    ]
    return QuestionnairePage.model_validate(_page(request, found, limit, "ref"))


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
    return service.questionnaire_out(catalog, found)


def _version(catalog: Catalog, referential: str, version: str) -> CriteriaVersion:
    found = catalog.criteria.get(f"{referential}@{version}")
    if found is None:
        raise ApiError(404, f"No criteria version {referential}@{version}.")
    return found


def _id(item: Criterion) -> str:
    return item.id


# Structures and their submitted assessments.


@router.get(
    "/structures", tags=["structures"], summary="List the structures you may see, by id", responses=READ
)
def structures(
    request: Request, session: SessionDep, caller: AssessmentReader, limit: Limit = 50, after: After = 0
) -> StructurePage:
    found = service.visible_structures(session, user=caller.user, after=after, limit=limit + 1)
    page = _page(request, found, limit, "id")
    _record(request, session, caller, [(s, pk(s)) for s in page["items"]])
    page["items"] = [StructureOut.model_validate(s, from_attributes=True) for s in page["items"]]
    return StructurePage.model_validate(page)


@router.get("/structures/{structure_id}", tags=["structures"], summary="One structure", responses=READ_ONE)
def structure(
    request: Request, session: SessionDep, caller: AssessmentReader, structure_id: Id
) -> StructureOut:
    found = _structure(session, caller, structure_id)
    _record(request, session, caller, [(found, structure_id)])
    return StructureOut.model_validate(found, from_attributes=True)


@router.get(
    "/structures/{structure_id}/assessments",
    tags=["structures"],
    summary="The submitted assessments of a structure, by id (drafts are never shown)",
    responses=READ_ONE,
)
def structure_assessments(
    request: Request,
    *,
    session: SessionDep,
    caller: AssessmentReader,
    structure_id: Id,
    limit: Limit = 50,
    after: After = 0,
) -> AssessmentPage:
    found = _structure(session, caller, structure_id)
    rows = service.submitted_assessments(session, structure=found, after=after, limit=limit + 1)
    page = _page(request, rows, limit, "id")
    _record(request, session, caller, [(found, structure_id)])
    page["items"] = [service.assessment_out(a) for a in page["items"]]
    return AssessmentPage.model_validate(page)


@router.get(
    "/assessments/{assessment_id}",
    tags=["assessments"],
    summary="One submitted assessment with its result: verdict, area scores, gaps, findings",
    responses=READ_ONE,
)
def assessment(
    request: Request,
    session: SessionDep,
    catalog: CanonicalCatalogDep,
    caller: AssessmentReader,
    assessment_id: Id,
) -> AssessmentDetailOut:
    found = _assessment(request, session, caller, assessment_id)
    return service.assessment_detail(session, catalog=catalog, assessment=found)


@router.get(
    "/assessments/{assessment_id}/answers",
    tags=["assessments"],
    summary="The answers, by criterion id, with their predicted finding and evidence",
    responses=READ_ONE,
)
def answers(
    request: Request,
    *,
    session: SessionDep,
    catalog: CanonicalCatalogDep,
    caller: AssessmentReader,
    assessment_id: Id,
    limit: Limit = 50,
    after: AfterKey = "",
) -> AnswerPage:
    found = _assessment(request, session, caller, assessment_id)
    rows = service.answers_of(session, catalog=catalog, assessment=found, after=after, limit=limit + 1)
    return AnswerPage.model_validate(_page(request, rows, limit, "criterion"))


@router.get(
    "/assessments/{assessment_id}/evidence",
    tags=["assessments"],
    summary="The evidence metadata of an assessment, by id, with each file's SHA-256",
    responses=READ_ONE,
)
def evidence(
    request: Request,
    *,
    session: SessionDep,
    caller: AssessmentReader,
    assessment_id: Id,
    limit: Limit = 50,
    after: After = 0,
) -> EvidencePage:
    found = _assessment(request, session, caller, assessment_id)
    rows = service.evidence_of(session, assessment=found, after=after, limit=limit + 1)
    pieces = [service.evidence_out(p, criteria=c, assessment_id=assessment_id) for p, c in rows]
    return EvidencePage.model_validate(_page(request, pieces, limit, "id"))


FILE = {
    "description": "The file, as an attachment; `X-Content-SHA256` is the SHA-256 stored when it was uploaded.",
    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {
        "X-Content-SHA256": {"required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}
    },
}


@router.get(
    "/assessments/{assessment_id}/evidence/{evidence_id}/file",
    tags=["assessments"],
    summary="Download an evidence file (scope read:evidence)",
    response_class=FileResponse,
    responses={200: FILE, **READ_ONE},
)
def evidence_file(
    request: Request, session: SessionDep, caller: EvidenceReader, assessment_id: Id, evidence_id: Id
) -> FileResponse:
    found = _assessment(request, session, caller, assessment_id, audited=False)
    piece = service.linked_evidence(session, assessment=found, evidence_id=evidence_id)
    path = evidence_store.file_path(
        request.app.state.settings.evidence_dir, (piece and piece.sha256) or "0" * 64
    )
    if piece is None or not path.is_file():
        raise ApiError(404, "No evidence file with this id supports this assessment.")
    _record(request, session, caller, [(piece, found.structure_id)])
    headers = {
        "Content-Disposition": evidence_store.content_disposition(piece.filename),
        "X-Content-SHA256": piece.sha256,
        "Cache-Control": "private, no-store",
    }
    return FileResponse(path, media_type=piece.content_type, headers=headers)


# Signed snapshots and their keys.


@router.get(
    "/assessments/{assessment_id}/snapshots",
    tags=["snapshots"],
    summary="The signed snapshots of an assessment, one per submitted revision, by id",
    responses=READ_ONE,
)
def snapshots(
    request: Request,
    *,
    session: SessionDep,
    caller: AssessmentReader,
    assessment_id: Id,
    limit: Limit = 50,
    after: After = 0,
) -> SnapshotPage:
    found = _assessment(request, session, caller, assessment_id)
    rows = [
        service.snapshot_out(s)
        for s in service.snapshots_of(session, assessment=found, after=after, limit=limit + 1)
    ]
    return SnapshotPage.model_validate(_page(request, rows, limit, "id"))


@router.get(
    "/assessments/{assessment_id}/snapshots/latest",
    tags=["snapshots"],
    summary="The snapshot of the latest submitted revision",
    responses=READ_ONE,
)
def latest_snapshot(
    request: Request, session: SessionDep, caller: AssessmentReader, assessment_id: Id
) -> SnapshotOut:
    found = _assessment(request, session, caller, assessment_id)
    snapshot = service.latest_snapshot(session, assessment=found)
    if snapshot is None:
        raise ApiError(404, "This assessment has no snapshot.")
    return service.snapshot_out(snapshot)


CANONICAL = {
    "description": "The canonical JSON, byte for byte as signed; the headers repeat its hash and signature.",
    "content": {"application/json": {"schema": {"type": "object"}}},
    "headers": {
        name: {"required": True, "schema": {"type": "string"}}
        for name in ("X-Snapshot-SHA256", "X-Snapshot-Signature", "X-Snapshot-Key-Id")
    },
}


@router.get(
    "/snapshots/{snapshot_id}/content",
    tags=["snapshots"],
    summary="A snapshot's canonical JSON, byte for byte as signed",
    response_class=Response,
    responses={200: CANONICAL, **READ_ONE},
)
def snapshot_content(
    request: Request, session: SessionDep, caller: AssessmentReader, snapshot_id: Id
) -> Response:
    found = _snapshot(request, session, caller, snapshot_id)
    headers = {
        "X-Snapshot-SHA256": found.sha256,
        "X-Snapshot-Signature": found.signature,
        "X-Snapshot-Key-Id": found.key_id,
    }
    return Response(found.canonical_json.encode("utf-8"), media_type="application/json", headers=headers)


@router.get("/keys", tags=["snapshots"], summary="The public keys that verify snapshots (no token needed)")
def keys(request: Request) -> KeysOut:
    return service.public_keys(request.app.state.signer)


well_known = APIRouter()
"""Mounted on the web app: where tools look for the keys without knowing the API's address."""


@well_known.get("/.well-known/autodiag-snapshot-keys.json", include_in_schema=False)
def well_known_keys(request: Request) -> KeysOut:
    return service.public_keys(request.app.state.signer)


# Scoring.


@router.post(
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
async def score(request: Request, catalog: CanonicalCatalogDep, _caller: CatalogReader) -> ScoreOut:
    body = await request.body()
    if len(body) > MAX_SCORE_BYTES:
        raise ApiError(413, "The answers document is larger than 1 MB.")
    try:
        return service.score_document(catalog, body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(422, problems=[{"field": "body", "message": "not UTF-8 text"}]) from None
    except AnswersError as error:
        raise ApiError(422, problems=[_problem(text) for text in error.problems]) from None


def _problem(text: str) -> dict[str, str]:
    """`answers.DEO-01.level: must be …` → field and message."""
    field, found, message = text.partition(": ")
    return (
        {"field": field, "message": message}
        if found and " " not in field
        else {"field": "body", "message": text}
    )


def _with_answers_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add the answers document's JSON Schema (the one `autodiag score` reads) to the components."""
    schema = AnswersDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components["AnswersDocument"] = schema
    return document


# Look-ups shared by the operations: 404 for what the caller may not see, reads under a grant audited.


def _structure(session: Session, caller: Caller, structure_id: int) -> Structure:
    found = service.visible_structure(session, user=caller.user, structure_id=structure_id)
    if found is None:
        raise ApiError(404, "No structure with this id is visible to this token.")
    return found


def _assessment(
    request: Request, session: Session, caller: Caller, assessment_id: int, *, audited: bool = True
) -> Assessment:
    found = service.visible_assessment(session, user=caller.user, assessment_id=assessment_id)
    if found is None:
        raise ApiError(404, "No submitted assessment with this id is visible to this token.")
    if audited:
        _record(request, session, caller, [(found, found.structure_id)])
    return found


def _snapshot(request: Request, session: Session, caller: Caller, snapshot_id: int) -> Snapshot:
    found = service.visible_snapshot(session, user=caller.user, snapshot_id=snapshot_id)
    if found is None:
        raise ApiError(404, "No snapshot with this id is visible to this token.")
    snapshot, assessment = found
    _record(request, session, caller, [(snapshot, assessment.structure_id)])
    return snapshot


def _record(request: Request, session: Session, caller: Caller, read: list[tuple[SQLModel, int]]) -> None:
    service.record_reads(session, user=caller.user, token=caller.token, path=request.url.path, read=read)
