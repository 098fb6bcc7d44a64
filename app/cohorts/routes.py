"""The cohort pages: « Mes cohortes », create and edit a cohort, its dashboard, « Préparer l'atelier ».

Only trainers and administrators open them (`Runner`); a cohort is found through `VisibleCohort`
(both in `app.deps`), so a cohort somebody does not run answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.permissions import enrollable_structure_ids
from app.catalog.service import Catalog
from app.cohorts import dashboard, service
from app.cohorts.models import Cohort, CohortForm
from app.db import SessionDep, pk
from app.deps import CatalogDep, Runner, VisibleCohort
from app.errors import ServiceError
from app.scoring.codes import GAP_FINDINGS
from app.web import render

router = APIRouter()
FORM = "cohorts/form.html"


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
    context = dashboard.workshop_view(session, catalog=catalog, cohort=cohort, workshop_id=workshop_id)
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
