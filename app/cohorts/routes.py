"""The cohort pages: « Mes cohortes », create and edit a cohort, its dashboard, « Préparer l'atelier ».

Only trainers and administrators open them (`runs_cohorts`); a cohort is found through
`cohort_ids`, so a cohort somebody does not run answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.permissions import cohort_ids, enrollable_structure_ids, runs_cohorts
from app.catalog.service import Catalog
from app.cohorts import dashboard, service
from app.cohorts.models import Cohort, CohortForm
from app.db import SessionDep, pk
from app.deps import CatalogDep, CurrentUser
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.scoring.models import GAP_FINDINGS
from app.web import render

router = APIRouter()
NOT_FOUND = N_("Cette cohorte n'existe pas ou ne vous est pas accessible.")
FORM = "cohorts/form.html"


def cohort_runner(user: CurrentUser) -> User:
    """A trainer or an administrator; anybody else finds no cohort pages at all."""
    if not runs_cohorts(user):
        raise HTTPException(404, _("Cette page n'existe pas ou ne vous est pas accessible."))
    return user


Runner = Annotated[User, Depends(cohort_runner)]


def visible_cohort(session: SessionDep, user: Runner, cohort_id: int) -> Cohort:
    """A cohort `user` runs (any cohort for an administrator), else 404."""
    cohort = session.get(Cohort, cohort_id)
    allowed = cohort_ids(session, user)
    if cohort is None or (allowed is not None and cohort_id not in allowed):
        raise HTTPException(404, _(NOT_FOUND))
    return cohort


VisibleCohort = Annotated[Cohort, Depends(visible_cohort)]


@router.get("/cohortes")
def cohorts(request: Request, session: SessionDep, user: Runner) -> Response:
    rows = [
        (cohort, service.cohort_state(session, cohort))
        for cohort in service.visible_cohorts(session, user=user)
    ]
    return render(request, "cohorts/list.html", {"rows": rows})


@router.get("/cohortes/nouvelle")
def new_cohort(request: Request, session: SessionDep, catalog: CatalogDep, user: Runner) -> Response:
    posted = service.CohortInput("", {}, [], [])
    return render(request, FORM, _form_context(session, catalog, user, None, posted))


@router.post("/cohortes")
def create_cohort(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    user: Runner,
    form: Annotated[CohortForm, Form()],
) -> Response:
    posted = service.posted_cohort(catalog, form)
    return _save(request, session, catalog, user=user, cohort=None, posted=posted)


@router.get("/cohortes/{cohort_id}")
def cohort_dashboard(
    request: Request, session: SessionDep, catalog: CatalogDep, cohort: VisibleCohort
) -> Response:
    board = dashboard.dashboard(session, catalog=catalog, cohort=cohort)
    context = {"board": board, "top": dashboard.TOP, "severities": GAP_FINDINGS}
    return render(request, "cohorts/dashboard.html", context)


@router.get("/cohortes/{cohort_id}/modifier")
def edit_cohort(
    request: Request, session: SessionDep, catalog: CatalogDep, user: Runner, cohort: VisibleCohort
) -> Response:
    posted = service.cohort_state(session, cohort).as_input()
    return render(request, FORM, _form_context(session, catalog, user, cohort, posted))


@router.post("/cohortes/{cohort_id}/modifier")
def update_cohort(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: Runner,
    cohort: VisibleCohort,
    form: Annotated[CohortForm, Form()],
) -> Response:
    posted = service.posted_cohort(catalog, form)
    return _save(request, session, catalog, user=user, cohort=cohort, posted=posted)


@router.get("/cohortes/{cohort_id}/ateliers/{workshop_id}")
def prepare_workshop(
    request: Request, session: SessionDep, catalog: CatalogDep, cohort: VisibleCohort, workshop_id: str
) -> Response:
    board = dashboard.dashboard(session, catalog=catalog, cohort=cohort)
    workshop = next((w for w in board.version.workshops if w.id == workshop_id), None)
    if workshop is None:
        raise HTTPException(404, _("Cet atelier n'existe pas."))
    context = {"board": board, "workshop": workshop, "severities": GAP_FINDINGS}
    return render(request, "cohorts/workshop.html", context)


def _save(
    request: Request,
    session: Session,
    catalog: Catalog,
    *,
    user: User,
    cohort: Cohort | None,
    posted: service.CohortInput,
) -> Response:
    try:
        saved = service.save_cohort(session, catalog=catalog, user=user, cohort=cohort, posted=posted)
    except ServiceError as error:
        context = _form_context(session, catalog, user, cohort, posted, errors=error.problems)
        return render(request, FORM, context, status_code=error.status)
    return RedirectResponse(f"/cohortes/{saved.id}", status_code=303)


def _form_context(
    session: Session,
    catalog: Catalog,
    user: User,
    cohort: Cohort | None,
    posted: service.CohortInput,
    *,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "cohort": cohort,
        "posted": posted,
        "errors": errors or {},
        "workshops": service.criteria_version(catalog).workshops,
        "trainers": service.trainers(session),
        "structures": service.enrollable(session, user=user),
        "enrols_any": enrollable_structure_ids(session, user) is None,
        "me": pk(user),
    }
