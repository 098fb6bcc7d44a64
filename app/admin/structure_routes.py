"""The administration of structures: list, create, edit, archive and restore (administrators only).

Members and invitations are managed on the structure's own members page (`app/members/routes.py`),
which administrators and the structure's direction share.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.admin import service
from app.admin.models import ListQuery, StructureForm
from app.db import SessionDep
from app.deps import Administrator, administrator
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.structures import registry
from app.structures import service as structures
from app.structures.models import LEGAL_FORMS, Structure
from app.web import render

router = APIRouter(prefix="/admin/structures", dependencies=[Depends(administrator)])
NO_SUCH_STRUCTURE = N_("Cette structure n'existe pas.")


@router.get("")
def structures_page(request: Request, session: SessionDep, query: Annotated[ListQuery, Query()]) -> Response:
    archived = query.archivees == "oui"
    found = service.search_structures(session, text=query.q, archived=archived, page=query.page_number())
    asked = {"q": query.q, "archivees": query.archivees}
    context = {
        "page": found,
        "query": asked,
        "archived": archived,
        "pager": "/admin/structures?" + urlencode(asked),
    }
    return render(request, "admin/structures.html", context)


@router.get("/nouvelle")
def new_structure(request: Request) -> Response:
    return render(request, "admin/structure_form.html", _form_context(None, None, StructureForm()))


@router.post("")
def create_structure(
    request: Request, session: SessionDep, admin: Administrator, form: Annotated[StructureForm, Form()]
) -> Response:
    try:
        created = structures.create(session, **form.model_dump(), actor=admin)
    except ServiceError as error:
        return _refused(request, session, None, form, error)
    return RedirectResponse(f"/admin/structures/{created.id}", status_code=303)


def _structure(session: Session, structure_id: int) -> Structure:
    found = session.get(Structure, structure_id)
    if found is None:
        raise HTTPException(404, _(NO_SUCH_STRUCTURE))
    return found


@router.get("/{structure_id}")
def structure_page(request: Request, session: SessionDep, structure_id: int) -> Response:
    structure = _structure(session, structure_id)
    form = StructureForm(**{key: getattr(structure, key) for key in StructureForm.model_fields})
    return render(request, "admin/structure_form.html", _form_context(session, structure, form))


@router.post("/{structure_id}")
def edit_structure(
    request: Request,
    session: SessionDep,
    admin: Administrator,
    structure_id: int,
    form: Annotated[StructureForm, Form()],
) -> Response:
    structure = _structure(session, structure_id)
    try:
        registry.update_details(session, structure=structure, actor=admin, **form.model_dump())
    except ServiceError as error:
        return _refused(request, session, structure, form, error)
    return RedirectResponse(f"/admin/structures/{structure_id}", status_code=303)


@router.post("/{structure_id}/archiver")
def archive(session: SessionDep, admin: Administrator, structure_id: int) -> Response:
    registry.set_archived(session, structure=_structure(session, structure_id), archived=True, actor=admin)
    return RedirectResponse(f"/admin/structures/{structure_id}", status_code=303)


@router.post("/{structure_id}/restaurer")
def restore(session: SessionDep, admin: Administrator, structure_id: int) -> Response:
    registry.set_archived(session, structure=_structure(session, structure_id), archived=False, actor=admin)
    return RedirectResponse(f"/admin/structures/{structure_id}", status_code=303)


def _refused(
    request: Request, session: Session, structure: Structure | None, form: StructureForm, error: ServiceError
) -> Response:
    """The structure's form again, as posted, with the service's field messages."""
    context = _form_context(session, structure, form, error.problems)
    return render(request, "admin/structure_form.html", context, status_code=error.status)


def _form_context(
    session: Session | None,
    structure: Structure | None,
    form: StructureForm,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A new structure's form (no session needed), or an existing one's with its members."""
    members = (
        registry.members_of(session, structure_id=structure.id)
        if session and structure and structure.id
        else []
    )
    return {
        "structure": structure,
        "posted": form.model_dump(),
        "errors": errors or {},
        "legal_forms": LEGAL_FORMS,
        "members": members,
    }
