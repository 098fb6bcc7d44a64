"""The structures a user may see, a structure's page (assessments, score history), its profile form,
and the auditors it lets read its submitted assessments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, QueryParams

from app.accounts.models import User
from app.accounts.permissions import Access, can
from app.accounts.routes import CurrentUser
from app.assessments.models import AssessmentStatus
from app.catalog.models import Questionnaire
from app.catalog.routes import CatalogDep, describe_condition
from app.catalog.service import Catalog
from app.db import SessionDep, pk
from app.reports import service as reports
from app.reports.charts import history_chart
from app.scoring.service import holds
from app.structures import service
from app.structures.models import AuditorGrant, Structure
from app.web import render

router = APIRouter()
NOT_FOUND = "Cette structure n'existe pas ou ne vous est pas accessible."
PROFILE_QUESTIONNAIRE = "full"
"""The profile questions asked are the full questionnaire's: it asks every one the criteria use."""


def _structure(session: SessionDep, user: User, structure_id: int, access: Access) -> Structure:
    structure = session.get(Structure, structure_id)
    if structure is None or not can(session, user, access, structure_id):
        raise HTTPException(404, NOT_FOUND)
    return structure


def readable_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    """A structure whose submitted assessments `user` may see at least (auditors under a grant)."""
    return _structure(session, user, structure_id, Access.SUBMITTED)


def writable_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    return _structure(session, user, structure_id, Access.WRITE)


ReadableStructure = Annotated[Structure, Depends(readable_structure)]
WritableStructure = Annotated[Structure, Depends(writable_structure)]


@router.get("/structures")
def structures(request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser) -> Response:
    rows = reports.readable_structures(session, catalog=catalog, user=user)
    return render(request, "structures/list.html", {"rows": rows, "questionnaires": catalog.questionnaires})


@router.get("/structures/{structure_id}")
def structure_page(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: ReadableStructure,
) -> Response:
    drafts = can(session, user, Access.READ, pk(structure))
    rows = reports.structure_assessments(session, catalog=catalog, structure=structure, drafts=drafts)
    history = reports.score_history(catalog, rows=rows)
    submitted = [r.assessment for r in rows if r.assessment.status == AssessmentStatus.SUBMITTED]
    context: dict[str, Any] = {
        "structure": structure,
        "rows": rows,
        "questionnaires": catalog.questionnaires,
        "startable": _startable(catalog),
        "previous": submitted[0] if submitted else (rows[0].assessment if rows else None),
        "can_write": can(session, user, Access.WRITE, pk(structure)),
        "history": history,
        "chart": history_chart(history),
        "profile": _profile_summary(catalog, structure.profile),
    }
    return render(request, "reports/structure.html", context)


@router.get("/structures/{structure_id}/profil")
def profile_form(request: Request, catalog: CatalogDep, structure: WritableStructure) -> Response:
    """The profile form; htmx asks again with the form's values (`apercu`) to hide unmet `show_if`."""
    preview = "apercu" in request.query_params
    values = _posted_profile(catalog, request.query_params) if preview else dict(structure.profile)
    context = _profile_context(catalog, structure, values, {}, preview=preview)
    return render(
        request, "structures/profile.html", context, partial="structures/partials/profile_questions.html"
    )


@router.post("/structures/{structure_id}/profil")
async def profile_save(
    request: Request,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: WritableStructure,
) -> Response:
    values = _posted_profile(catalog, await request.form())
    version = catalog.criteria[catalog.questionnaire(PROFILE_QUESTIONNAIRE).criteria]
    try:
        service.update_profile(session, structure=structure, version=version, values=values, actor=user)
    except service.ProfileError as error:
        context = _profile_context(catalog, structure, values, error.problems)
        return render(request, "structures/profile.html", context, status_code=422)
    return RedirectResponse(f"/structures/{structure.id}", status_code=303)


def _startable(catalog: Catalog) -> list[Questionnaire]:
    """The latest released version of each questionnaire, the full one first."""
    ids = {q.id for q in catalog.questionnaires.values() if q.status == "released"}
    return sorted((catalog.questionnaire(i) for i in ids), key=lambda q: (q.partial, q.title))


def _posted_profile(catalog: Catalog, form: FormData | QueryParams) -> dict[str, Any]:
    """Profile answers from form fields: lists for multi, True/False for oui/non, text otherwise.

    An unchecked multi field is an empty list (the form cannot tell "none" from "not answered");
    other unanswered fields are left out, so the criteria they condition stay applicable.
    """
    questionnaire = catalog.questionnaire(PROFILE_QUESTIONNAIRE)
    fields = catalog.criteria[questionnaire.criteria].fields_by_id
    values: dict[str, Any] = {}
    for question in questionnaire.profile:
        field = fields[question.field]
        raw = form.get(field.id)
        if field.kind == "multi":
            values[field.id] = [str(v) for v in form.getlist(field.id)]
        elif raw:
            raw = str(raw)
            values[field.id] = {"oui": True, "non": False}.get(raw, raw) if field.kind == "boolean" else raw
    return values


def _profile_context(
    catalog: Catalog,
    structure: Structure,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    preview: bool = False,
) -> dict[str, Any]:
    questionnaire = catalog.questionnaire(PROFILE_QUESTIONNAIRE)
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


def _profile_summary(catalog: Catalog, profile: dict[str, Any]) -> list[tuple[str, str]]:
    """Each profile question's label with the answer in words ("Non renseigné" when missing)."""
    questionnaire = catalog.questionnaire(PROFILE_QUESTIONNAIRE)
    fields = catalog.criteria[questionnaire.criteria].fields_by_id
    summary = []
    for question in questionnaire.profile:
        field, value = fields[question.field], profile.get(question.field)
        labels = {o.value: o.label for o in field.options}
        if value is None:
            text = "Non renseigné"
        elif field.kind == "boolean":
            text = "Oui" if value else "Non"
        elif field.kind == "multi":
            text = " ; ".join(labels.get(v, v) for v in value) or "Aucun"
        else:
            text = labels.get(value, str(value))
        summary.append((field.label, text))
    return summary


# « Accès des auditeurs »: who may read the submitted assessments, until when.

GRANT_NOT_FOUND = "Cet accès n'existe pas pour cette structure."


@router.get("/structures/{structure_id}/auditeurs")
def grants_page(request: Request, session: SessionDep, structure: WritableStructure) -> Response:
    return render(request, "structures/grants.html", _grants_context(session, structure))


@router.post("/structures/{structure_id}/auditeurs")
def grant(
    request: Request,
    *,
    session: SessionDep,
    user: CurrentUser,
    structure: WritableStructure,
    email: Annotated[str, Form()] = "",
    expires_on: Annotated[str, Form()] = "",
) -> Response:
    try:
        service.grant_auditor(session, structure=structure, email=email, expires_on=expires_on, actor=user)
    except service.GrantError as error:
        context = _grants_context(session, structure) | {
            "errors": error.problems,
            "posted": {"email": email, "expires_on": expires_on},
        }
        return render(request, "structures/grants.html", context, status_code=422)
    return RedirectResponse(f"/structures/{structure.id}/auditeurs", status_code=303)


@router.post("/structures/{structure_id}/auditeurs/{grant_id}/revoquer")
def revoke_grant(
    session: SessionDep, user: CurrentUser, structure: WritableStructure, grant_id: int
) -> Response:
    found = session.get(AuditorGrant, grant_id)
    if found is None or found.structure_id != structure.id:
        raise HTTPException(404, GRANT_NOT_FOUND)
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
