"""A structure's data downloaded by its direction or an administrator; its erasure by an administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import BaseModel

from app.accounts.models import User
from app.db import SessionDep
from app.deps import Administrator, CurrentUser, ExportableStructure, administrator
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.privacy import erasure, export
from app.structures.models import Structure
from app.web import render

router = APIRouter()
NO_SUCH_STRUCTURE = N_("Cette structure n'existe pas.")


class ErasureForm(BaseModel):
    confirmation: str = ""


@router.get("/structures/{structure_id}/donnees")
def export_page(request: Request, structure: ExportableStructure) -> Response:
    return render(request, "privacy/export.html", {"structure": structure})


@router.post("/structures/{structure_id}/donnees")
def export_download(
    request: Request, session: SessionDep, user: CurrentUser, structure: ExportableStructure
) -> Response:
    """The zip of everything held about the structure; the download is in the audit log."""
    evidence_dir = request.app.state.settings.evidence_dir
    output = export.export_structure(session, structure=structure, evidence_dir=evidence_dir, actor=user)
    headers = {
        "Content-Disposition": f'attachment; filename="structure-{structure.id}-donnees.zip"',
        "Cache-Control": "no-store",
    }
    return StreamingResponse(
        iter(lambda: output.read(1024 * 1024), b""), media_type="application/zip", headers=headers
    )


def _erasable(session: SessionDep, structure_id: int) -> Structure:
    found = session.get(Structure, structure_id)
    if found is None:
        raise HTTPException(404, _(NO_SUCH_STRUCTURE))
    return found


@router.get("/admin/structures/{structure_id}/effacer", dependencies=[Depends(administrator)])
def erase_page(request: Request, session: SessionDep, structure_id: int) -> Response:
    context = {"structure": _erasable(session, structure_id), "errors": {}, "counts": None}
    return render(request, "privacy/erase.html", context)


@router.post("/admin/structures/{structure_id}/effacer")
def erase(
    request: Request,
    session: SessionDep,
    admin: Administrator,
    structure_id: int,
    form: Annotated[ErasureForm, Form()],
) -> Response:
    structure = _erasable(session, structure_id)
    try:
        _erase(request, session, structure, form, admin)
    except ServiceError as error:
        context = {"structure": structure, "errors": error.problems, "counts": None}
        return render(request, "privacy/erase.html", context, status_code=error.status)
    return RedirectResponse(f"/admin/structures/{structure_id}/effacer", status_code=303)


def _erase(
    request: Request, session: SessionDep, structure: Structure, form: ErasureForm, admin: User
) -> None:
    erasure.erase_structure(
        session,
        structure=structure,
        confirmation=form.confirmation,
        actor=admin,
        evidence_dir=request.app.state.settings.evidence_dir,
    )
