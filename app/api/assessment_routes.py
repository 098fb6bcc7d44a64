"""The API's reads of the database: structures, their submitted assessments, evidence, signed snapshots.

Each operation looks up what it was asked for among what the token's user may see (else 404, as if
it did not exist) and records an auditor's reads under a grant (`service.record_reads`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from sqlmodel import Session, SQLModel

from app.api import service, views
from app.api.auth import READ, READ_ONE, ApiError, AssessmentReader, Caller, EvidenceReader
from app.api.models import (
    After,
    AfterKey,
    AnswerPage,
    AssessmentDetailOut,
    AssessmentPage,
    EvidencePage,
    Id,
    KeysOut,
    Limit,
    SnapshotOut,
    SnapshotPage,
    StructureOut,
    StructurePage,
)
from app.assessments import files as evidence_store
from app.assessments.models import Assessment, Snapshot
from app.db import SessionDep, pk
from app.deps import CanonicalCatalogDep
from app.structures.models import Structure

router = APIRouter()

# Structures and their submitted assessments.


@router.get(
    "/structures", tags=["structures"], summary="List the structures you may see, by id", responses=READ
)
def structures(
    request: Request, session: SessionDep, caller: AssessmentReader, limit: Limit = 50, after: After = 0
) -> StructurePage:
    found = service.visible_structures(session, user=caller.user, after=after, limit=limit + 1)
    page = StructurePage.of(request, [views.structure_out(s) for s in found], limit=limit, key="id")
    _record(request, session, caller, [(s, pk(s)) for s in found[:limit]])
    return page


@router.get("/structures/{structure_id}", tags=["structures"], summary="One structure", responses=READ_ONE)
def structure(
    request: Request, session: SessionDep, caller: AssessmentReader, structure_id: Id
) -> StructureOut:
    found = _structure(session, caller, structure_id)
    _record(request, session, caller, [(found, structure_id)])
    return views.structure_out(found)


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
    _record(request, session, caller, [(found, structure_id)])
    return AssessmentPage.of(request, rows, limit=limit, key="id")


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
    found = visible_assessment(request, session, caller, assessment_id)
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
    found = visible_assessment(request, session, caller, assessment_id)
    rows = service.answers_of(session, catalog=catalog, assessment=found, after=after, limit=limit + 1)
    return AnswerPage.of(request, rows, limit=limit, key="criterion")


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
    found = visible_assessment(request, session, caller, assessment_id)
    rows = service.evidence_of(session, assessment=found, after=after, limit=limit + 1)
    return EvidencePage.of(request, rows, limit=limit, key="id")


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
    found = visible_assessment(request, session, caller, assessment_id, audited=False)
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
async def snapshots(
    request: Request,
    *,
    session: SessionDep,
    caller: AssessmentReader,
    assessment_id: Id,
    limit: Limit = 50,
    after: After = 0,
) -> SnapshotPage:
    # The reads in one thread; the page is then checked against its model here, not in another one.
    return await run_in_threadpool(
        _snapshot_page, request, session, caller=caller, assessment_id=assessment_id, limit=limit, after=after
    )


def _snapshot_page(
    request: Request, session: Session, *, caller: Caller, assessment_id: int, limit: int, after: int
) -> SnapshotPage:
    visible_assessment(request, session, caller, assessment_id)
    rows = service.snapshots_of(session, assessment_id=assessment_id, after=after, limit=limit + 1)
    return SnapshotPage.of(request, rows, limit=limit, key="id")


@router.get(
    "/assessments/{assessment_id}/snapshots/latest",
    tags=["snapshots"],
    summary="The snapshot of the latest submitted revision",
    responses=READ_ONE,
)
def latest_snapshot(
    request: Request, session: SessionDep, caller: AssessmentReader, assessment_id: Id
) -> SnapshotOut:
    found = visible_assessment(request, session, caller, assessment_id)
    snapshot = service.latest_snapshot(session, assessment_id=pk(found))
    if snapshot is None:
        raise ApiError(404, "This assessment has no snapshot.")
    return snapshot


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
    return views.public_keys(request.app.state.signer)


# Look-ups shared by the operations (and `report_routes`): 404 for what the caller may not see, reads
# under a grant audited.


def _structure(session: Session, caller: Caller, structure_id: int) -> Structure:
    found = service.visible_structure(session, user=caller.user, structure_id=structure_id)
    if found is None:
        raise ApiError(404, "No structure with this id is visible to this token.")
    return found


def visible_assessment(
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
