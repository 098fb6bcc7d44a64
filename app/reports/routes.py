"""Results pages: the structures list, a structure's page and score history, an assessment's verdict,
radar and gaps by workshop, the action plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.accounts.permissions import Access, can, member_role
from app.assessments.models import AssessmentStatus
from app.catalog.service import Catalog
from app.cycle import service as cycle
from app.db import SessionDep, pk
from app.deps import CatalogDep, CurrentUser, Readable, ReadableStructure, Today, Writable
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.reports import audit, exports, plan, service, views
from app.reports.charts import history_chart
from app.reports.models import ActionItemForm, GapQuery, PlanQuery
from app.structures import service as structures_service
from app.structures.models import Structure
from app.web import is_fragment, render

router = APIRouter()
ITEM_NOT_FOUND = N_("Cette action n'existe pas dans ce plan.")


@router.get("/structures")
def structures(request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser) -> Response:
    rows = service.readable_structures(session, catalog=catalog, user=user)
    return render(
        request, "reports/structures.html", {"rows": rows, "questionnaires": catalog.questionnaires}
    )


@router.get("/structures/{structure_id}")
def structure_page(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: ReadableStructure,
    today: Today,
) -> Response:
    drafts = can(session, user, Access.READ, pk(structure))
    rows = service.structure_assessments(session, catalog=catalog, structure=structure, drafts=drafts)
    history = service.score_history(catalog, rows=rows)
    submitted = [r.assessment for r in rows if r.assessment.status == AssessmentStatus.SUBMITTED]
    context: dict[str, Any] = {
        "structure": structure,
        "rows": rows,
        "questionnaires": catalog.questionnaires,
        "startable": catalog.startable(),
        "previous": submitted[0] if submitted else (rows[0].assessment if rows else None),
        "can_write": can(session, user, Access.DIRECT, pk(structure)),
        "member": member_role(session, user, pk(structure)) is not None,
        "history": history,
        "chart": history_chart(history),
        "profile": _profile(catalog, structure),
    }
    if drafts:  # the certification record is the structure's business, as its drafts are
        context |= cycle.timeline_context(session, catalog=catalog, structure_id=pk(structure), today=today)
    return render(request, "reports/structure.html", context)


@router.get("/autoevaluations/{assessment_id}/resultats")
def results(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Readable,
    filters: Annotated[GapQuery, Query()],
) -> Response:
    """The verdict, scores and gaps; the gaps filtered by severity and workshop (422 names a bad value)."""
    context = views.results_context(session, catalog, assessment)
    context["gap_errors"] = views.filter_gaps(context, severity=filters.severity, workshop=filters.workshop)
    # Members read « votre structure »; trainers and auditors « la structure ».
    context["member"] = member_role(session, user, assessment.structure_id) is not None
    # The trainer's review is the structure's business: auditors reading under a grant do not see it.
    context |= exports.review_context(session, user, assessment)
    context["show_audit_report"] = audit.may_read(
        session, user, assessment, summary=context["review_summary"]
    )
    status_code = 422 if context["gap_errors"] else 200
    partial = "reports/partials/gaps.html"
    return render(request, "reports/results.html", context, partial=partial, status_code=status_code)


@router.get("/autoevaluations/{assessment_id}/plan")
def plan_page(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Readable,
    filters: Annotated[PlanQuery, Query()],
) -> Response:
    """The action plan, filtered and sorted; reading it never writes (suggestions are saved on first edit)."""
    context = views.plan_context(session, catalog, assessment)
    context["can_write"] = can(session, user, Access.ANSWER, assessment.structure_id)
    status_code = 200
    try:
        context["filter"] = plan.plan_filter(**filters.model_dump(), version=context["version"])
    except ServiceError as error:
        status_code, context["filter_errors"] = error.status, error.problems
    context["groups"] = plan.grouped(context["rows"], context["filter"], version=context["version"])
    partial = "reports/partials/plan_table.html"
    return render(request, "reports/plan.html", context, partial=partial, status_code=status_code)


@router.post("/autoevaluations/{assessment_id}/plan/{criterion_id}")
def edit_item(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    criterion_id: str,
    form: Annotated[ActionItemForm, Form()],
) -> Response:
    """Save one row of the plan; a refusal or a conflict (409, the newer values shown) keeps what was typed."""
    context = views.plan_context(session, catalog, assessment)
    row = _plan_row(context, criterion_id)
    status_code, errors = 200, {}
    try:
        plan.save_action_item(
            session,
            assessment=assessment,
            row=row,
            owner=form.responsable,
            due_on=form.echeance,
            status=form.statut,
            base_revision=form.base_revision("action"),
            user=user,
        )
    except ServiceError as error:
        status_code, errors = error.status, error.problems
    if not errors and not is_fragment(request):
        return RedirectResponse(
            f"/autoevaluations/{assessment.id}/plan#action-{criterion_id}", status_code=303
        )
    context = views.plan_context(session, catalog, assessment)
    context |= {"can_write": True, "edited": criterion_id, "errors": errors, "posted": form.model_dump()}
    context |= {"row": _plan_row(context, criterion_id), "saved": not errors, "stale": status_code == 409}
    context["groups"] = plan.grouped(context["rows"], context["filter"], version=context["version"])
    partial = "reports/partials/action_row.html"
    return render(request, "reports/plan.html", context, partial=partial, status_code=status_code)


def _plan_row(context: dict[str, Any], criterion_id: str) -> plan.PlanRow:
    """The plan's row for a criterion (saved, or a gap's suggestion), else 404."""
    rows: list[plan.PlanRow] = context["rows"]
    found = next((row for row in rows if row.item.criterion_id == criterion_id), None)
    if found is None:
        raise HTTPException(404, _(ITEM_NOT_FOUND))
    return found


def _profile(catalog: Catalog, structure: Structure) -> list[tuple[str, str]]:
    questionnaire = catalog.questionnaire(structures_service.PROFILE_QUESTIONNAIRE)
    version = catalog.criteria[questionnaire.criteria]
    return structures_service.profile_summary(questionnaire, version, structure.profile)
