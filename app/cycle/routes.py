"""The certification page of a structure: where it stands, its timeline, its recorded audits."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.accounts.permissions import keeps_certification
from app.catalog.service import Catalog
from app.cycle import service
from app.cycle.models import AuditKind, AuditResult, OutcomeForm, RecordForm, Stage
from app.db import SessionDep, pk
from app.deps import CatalogDep, CertifiedStructure, CurrentUser, MemberStructure, Today
from app.errors import ServiceError
from app.structures.models import Structure
from app.web import render

router = APIRouter()


@router.get("/structures/{structure_id}/certification")
def certification_page(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: MemberStructure,
    today: Today,
) -> Response:
    """Members and trainers read the record; an auditor under a grant does not."""
    context = _context(session, catalog, structure, today=today)
    context["can_keep"] = keeps_certification(session, user, pk(structure))
    return render(request, "cycle/certification.html", context)


@router.post("/structures/{structure_id}/certification")
def save_record(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: CertifiedStructure,
    form: Annotated[RecordForm, Form()],
    today: Today,
) -> Response:
    cycle = service.current_version(catalog).cycle
    try:
        service.update_record(session, structure=structure, form=form, cycle=cycle, actor=user, today=today)
    except ServiceError as error:
        context = _context(session, catalog, structure, today=today)
        context |= {"can_keep": True, "record_errors": error.problems, "record_posted": form.model_dump()}
        return render(request, "cycle/certification.html", context, status_code=error.status)
    return RedirectResponse(f"/structures/{structure.id}/certification", status_code=303)


@router.post("/structures/{structure_id}/certification/audits")
def record_outcome(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: CertifiedStructure,
    form: Annotated[OutcomeForm, Form()],
    today: Today,
) -> Response:
    try:
        service.record_outcome(session, structure=structure, form=form, actor=user, today=today)
    except ServiceError as error:
        context = _context(session, catalog, structure, today=today)
        context |= {"can_keep": True, "outcome_errors": error.problems, "outcome_posted": form.model_dump()}
        return render(request, "cycle/certification.html", context, status_code=error.status)
    return RedirectResponse(f"/structures/{structure.id}/certification#audits", status_code=303)


def _context(session: Session, catalog: Catalog, structure: Structure, *, today: date) -> dict[str, Any]:
    return service.timeline_context(session, catalog=catalog, structure_id=pk(structure), today=today) | {
        "structure": structure,
        "cycle": service.current_version(catalog).cycle,
        "outcomes": service.outcomes_of(session, structure_id=pk(structure)),
        "stages": list(Stage),
        "kinds": list(AuditKind),
        "results": list(AuditResult),
        "today": today,
        "record_errors": {},
        "outcome_errors": {},
        "record_posted": None,
        "outcome_posted": None,
    }
