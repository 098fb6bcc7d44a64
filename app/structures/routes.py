"""A structure's profile form and the auditors it lets read its submitted assessments.

The structures list and a structure's page show results: they are the reports' (`app/reports/routes.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.catalog.models import ProfileField
from app.catalog.service import Catalog, describe_condition
from app.db import SessionDep, pk
from app.deps import CatalogDep, CurrentUser, DirectedStructure
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.scoring.plan import holds
from app.structures import service
from app.structures.models import AuditorGrant, GrantForm, ProfileForm, Structure
from app.web import render

router = APIRouter()


@router.get("/structures/{structure_id}/profil")
def profile_form(
    request: Request, catalog: CatalogDep, structure: DirectedStructure, form: Annotated[ProfileForm, Query()]
) -> Response:
    """The profile form; htmx asks again with the form's values (`apercu`) to hide unmet `show_if`."""
    preview = form.apercu is not None
    values = form.answers(_profile_fields(catalog)) if preview else dict(structure.profile)
    context = _profile_context(catalog, structure, values, {}, preview=preview)
    return render(
        request, "structures/profile.html", context, partial="structures/partials/profile_questions.html"
    )


@router.post("/structures/{structure_id}/profil")
def profile_save(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: DirectedStructure,
    form: Annotated[ProfileForm, Form()],
) -> Response:
    values = form.answers(_profile_fields(catalog))
    version = catalog.criteria[catalog.questionnaire(service.PROFILE_QUESTIONNAIRE).criteria]
    try:
        service.update_profile(session, structure=structure, version=version, values=values, actor=user)
    except ServiceError as error:
        context = _profile_context(catalog, structure, values, error.problems)
        return render(request, "structures/profile.html", context, status_code=error.status)
    return RedirectResponse(f"/structures/{structure.id}", status_code=303)


def _profile_fields(catalog: Catalog) -> list[ProfileField]:
    """The profile questions' fields, in the order the form asks them."""
    questionnaire = catalog.questionnaire(service.PROFILE_QUESTIONNAIRE)
    fields = catalog.criteria[questionnaire.criteria].fields_by_id
    return [fields[question.field] for question in questionnaire.profile]


def _profile_context(
    catalog: Catalog,
    structure: Structure,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    preview: bool = False,
) -> dict[str, Any]:
    questionnaire = catalog.questionnaire(service.PROFILE_QUESTIONNAIRE)
    fields = catalog.criteria[questionnaire.criteria].fields_by_id
    conditions = {q.field: describe_condition(q.show_if, fields) for q in questionnaire.profile if q.show_if}
    hidden = {
        q.field for q in questionnaire.profile if preview and q.show_if and not holds(q.show_if, values)
    }
    return {
        "structure": structure,
        "questions": questionnaire.profile,
        "fields": fields,
        "values": values,
        "errors": errors,
        "conditions": conditions,
        "hidden": hidden,
        "preview": preview,
    }


# « Accès des auditeurs »: who may read the submitted assessments, until when.

GRANT_NOT_FOUND = N_("Cet accès n'existe pas pour cette structure.")


@router.get("/structures/{structure_id}/auditeurs")
def grants_page(request: Request, session: SessionDep, structure: DirectedStructure) -> Response:
    return render(request, "structures/grants.html", _grants_context(session, structure))


@router.post("/structures/{structure_id}/auditeurs")
def grant(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    structure: DirectedStructure,
    form: Annotated[GrantForm, Form()],
) -> Response:
    try:
        service.grant_auditor(
            session, structure=structure, email=form.email, expires_on=form.expires_on, actor=user
        )
    except ServiceError as error:
        context = _grants_context(session, structure) | {
            "errors": error.problems,
            "posted": form.model_dump(),
        }
        return render(request, "structures/grants.html", context, status_code=error.status)
    return RedirectResponse(f"/structures/{structure.id}/auditeurs", status_code=303)


@router.post("/structures/{structure_id}/auditeurs/{grant_id}/revoquer")
def revoke_grant(
    session: SessionDep, user: CurrentUser, structure: DirectedStructure, grant_id: int
) -> Response:
    found = session.get(AuditorGrant, grant_id)
    if found is None or found.structure_id != structure.id:
        raise HTTPException(404, _(GRANT_NOT_FOUND))
    service.revoke_grant(session, grant=found, actor=user)
    return RedirectResponse(f"/structures/{structure.id}/auditeurs", status_code=303)


def _grants_context(session: SessionDep, structure: Structure) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "structure": structure,
        "rows": service.grants_of(session, structure_id=pk(structure), today=today),
        "today": today,
        "latest": today + timedelta(days=service.GRANT_MAX_DAYS),
        "errors": {},
        "posted": {"email": "", "expires_on": (today + timedelta(days=90)).isoformat()},
    }
