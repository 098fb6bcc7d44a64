"""The offline workbook's pages: download it, upload it filled in, preview the changes, confirm them.

Only those who may write to the assessment reach them (`Writable`), and only for a draft.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.assessments import views, workbook_changes, workbook_export, workbook_import
from app.assessments.forms import WorkbookConfirmForm, WorkbookUploadForm
from app.config import secret_key
from app.db import SessionDep
from app.deps import CatalogDep, CurrentUser, Writable
from app.errors import ServiceError
from app.web import render

router = APIRouter()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/autoevaluations/{assessment_id}/classeur")
def workbook_page(
    request: Request, session: SessionDep, catalog: CatalogDep, assessment: Writable, enregistrees: str = ""
) -> Response:
    written = int(enregistrees) if enregistrees.isdecimal() and len(enregistrees) <= 4 else None
    page = views.workbook_context(session, catalog, assessment, written=written)
    return render(request, "assessments/workbook.html", page)


@router.get("/autoevaluations/{assessment_id}/classeur.xlsx")
def download_workbook(
    request: Request, session: SessionDep, catalog: CatalogDep, assessment: Writable
) -> Response:
    key = secret_key(request.app.state.settings)
    content = workbook_export.export(session, catalog=catalog, assessment=assessment, key=key)
    headers = {
        "Content-Disposition": f'attachment; filename="autoevaluation-{assessment.id}-classeur.xlsx"',
        "Cache-Control": "private, no-store",
    }
    return Response(content, media_type=XLSX, headers=headers)


@router.post("/autoevaluations/{assessment_id}/classeur")
def upload_workbook(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    assessment: Writable,
    form: Annotated[WorkbookUploadForm, Form()],
) -> Response:
    settings, announced = request.app.state.settings, request.headers.get("content-length", "")
    try:
        preview_id = workbook_changes.upload(
            catalog=catalog,
            assessment=assessment,
            file=form.upload(),
            announced_bytes=int(announced) if announced.isdecimal() else None,
            key=secret_key(settings),
            data_dir=settings.data_dir,
        )
    except workbook_import.WorkbookError as error:
        page = views.workbook_context(session, catalog, assessment, errors=error.errors)
        return render(request, "assessments/workbook.html", page, status_code=error.status)
    return RedirectResponse(f"/autoevaluations/{assessment.id}/classeur/{preview_id}", status_code=303)


@router.get("/autoevaluations/{assessment_id}/classeur/{preview_id}")
def workbook_preview(
    request: Request, session: SessionDep, catalog: CatalogDep, assessment: Writable, preview_id: str
) -> Response:
    settings = request.app.state.settings
    shown = workbook_changes.preview(
        session,
        catalog=catalog,
        assessment=assessment,
        key=secret_key(settings),
        data_dir=settings.data_dir,
        token=preview_id,
    )
    page = views.preview_context(session, catalog, assessment, preview=shown)
    return render(request, "assessments/workbook_preview.html", page)


@router.post("/autoevaluations/{assessment_id}/classeur/{preview_id}")
def confirm_workbook(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    preview_id: str,
    form: Annotated[WorkbookConfirmForm, Form()],
) -> Response:
    """Apply the previewed changes; refused, the preview is shown again as it is now, with why."""
    settings = request.app.state.settings
    given = {"key": secret_key(settings), "data_dir": settings.data_dir, "token": preview_id}
    try:
        written = workbook_changes.confirm(
            session,
            catalog=catalog,
            assessment=assessment,
            user=user,
            digest=form.empreinte,
            keep_workbook=form.garder,
            **given,
        )
    except ServiceError as error:
        if error.status == 404:
            raise
        shown = workbook_changes.preview(session, catalog=catalog, assessment=assessment, **given)
        page = views.preview_context(
            session, catalog, assessment, preview=shown, error=error.message, kept=form.garder
        )
        return render(request, "assessments/workbook_preview.html", page, status_code=error.status)
    return RedirectResponse(
        f"/autoevaluations/{assessment.id}/classeur?enregistrees={written}", status_code=303
    )
