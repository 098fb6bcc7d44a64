"""The certification page of a structure: where it stands, its timeline, its recorded audits."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app import locale
from app.accounts.permissions import Access, can, keeps_certification
from app.catalog.service import Catalog
from app.cycle import calendar, kinds, progress, service
from app.cycle.models import AuditKind, AuditResult, FollowUpForm, OutcomeForm, RecordForm, Stage
from app.db import SessionDep, pk, utcnow
from app.deps import (
    CatalogDep,
    CertifiedStructure,
    CurrentUser,
    DirectedStructure,
    MemberStructure,
    ReadableStructure,
    Today,
)
from app.errors import NO_SUCH_PAGE, ServiceError
from app.locale import gettext as _
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
    context["can_start"] = can(session, user, Access.DIRECT, pk(structure))
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


@router.post("/structures/{structure_id}/certification/autoevaluations")
def start_follow_up(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: DirectedStructure,
    form: Annotated[FollowUpForm, Form()],
    today: Today,
) -> Response:
    """Start a surveillance or renewal assessment from the latest validated or submitted one."""
    try:
        assessment = kinds.start_follow_up(
            session,
            catalog=catalog,
            structure=structure,
            user=user,
            kind=form.kind,
            questionnaire=form.questionnaire,
            today=today,
        )
    except ServiceError as error:
        context = _context(session, catalog, structure, today=today)
        context |= {"can_keep": keeps_certification(session, user, pk(structure)), "can_start": True}
        context |= {"start_errors": error.problems, "start_posted": form.model_dump()}
        return render(request, "cycle/certification.html", context, status_code=error.status)
    return RedirectResponse(f"/autoevaluations/{assessment.id}", status_code=303)


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
        "start_errors": {},
        "start_posted": None,
        "startable": catalog.startable(),
        "source": kinds.starting_assessment(session, structure_id=pk(structure)),
        "can_start": False,
    }


@router.get("/structures/{structure_id}/comparaison")
def compare(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: ReadableStructure,
    avant: str = "",
    apres: str = "",
) -> Response:
    """Two assessments side by side; without both chosen, the form to choose them."""
    choices = progress.readable_assessments(session, user=user, structure=structure)
    context: dict[str, Any] = {
        "structure": structure,
        "choices": choices,
        "questionnaires": catalog.questionnaires,
        "comparison": None,
        "avant": avant,
        "apres": apres,
    }
    if avant or apres:
        before, after = progress.chosen(session, user=user, structure=structure, ids=(avant, apres))
        context["comparison"] = progress.compare(
            session, catalog=catalog, structure=structure, before=before, after=after
        )
    return render(request, "cycle/compare.html", context)


# The private calendar feed: made, shown once, revoked from the account.

NEW_FEED_KEY = "calendar_feed_url"
"""The new address, kept in the signed session cookie until the page has shown it once."""


@router.get("/compte/calendrier")
def calendar_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    context = {
        "has_feed": calendar.has_feed(session, user=user),
        "new_url": request.session.pop(NEW_FEED_KEY, None),
    }
    return render(request, "cycle/calendar.html", context)


@router.post("/compte/calendrier")
def create_calendar(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Make a new address (the old one stops working) and show it once."""
    token = calendar.create_feed(session, user=user)
    base = request.app.state.settings.base_url.rstrip("/")
    request.session[NEW_FEED_KEY] = f"{base}/calendrier/{token}.ics"
    return RedirectResponse("/compte/calendrier", status_code=303)


@router.post("/compte/calendrier/revoquer")
def revoke_calendar(session: SessionDep, user: CurrentUser) -> Response:
    calendar.revoke_feeds(session, user=user)
    return RedirectResponse("/compte/calendrier", status_code=303)


@router.get("/calendrier/{token}.ics")
def calendar_feed(request: Request, session: SessionDep, token: str) -> Response:
    """The feed a calendar program fetches without signing in: the secret address is the key."""
    owner = calendar.owner_of(session, token=token)
    if owner is None:
        raise HTTPException(404, _(NO_SUCH_PAGE))
    with locale.language(owner.language or locale.DEFAULT_LANGUAGE):  # no session: the owner's language
        dated = calendar.events(session, user=owner)
        body = calendar.ical(dated, base_url=request.app.state.settings.base_url, stamp=utcnow())
    headers = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)
