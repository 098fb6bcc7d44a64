"""Results pages: the structures list, a structure's page and score history, an assessment's verdict,
radar and gaps by workshop, the action plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from app.accounts.permissions import Access, can
from app.assessments.models import ActionItem, AssessmentStatus
from app.catalog.service import Catalog
from app.cycle import service as cycle
from app.db import SessionDep, pk
from app.deps import CatalogDep, CurrentUser, Readable, ReadableStructure, Today, Writable
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.reports import audit, exports, service, views
from app.reports.charts import history_chart
from app.reports.models import ActionItemForm
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
        "history": history,
        "chart": history_chart(history),
        "profile": _profile(catalog, structure),
    }
    if drafts:  # the certification record is the structure's business, as its drafts are
        context |= cycle.timeline_context(session, catalog=catalog, structure_id=pk(structure), today=today)
    return render(request, "reports/structure.html", context)


@router.get("/autoevaluations/{assessment_id}/resultats")
def results(
    request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser, assessment: Readable
) -> Response:
    context = views.results_context(session, catalog, assessment)
    # The trainer's review is the structure's business: auditors reading under a grant do not see it.
    context |= exports.review_context(session, user, assessment)
    context["show_audit_report"] = audit.may_read(session, user, assessment)
    return render(request, "reports/results.html", context)


@router.get("/autoevaluations/{assessment_id}/plan")
def plan(
    request: Request, session: SessionDep, catalog: CatalogDep, user: CurrentUser, assessment: Readable
) -> Response:
    """The action plan; opened by someone who may write, it first gains an item for each new gap."""
    context = views.results_context(session, catalog, assessment)
    if can(session, user, Access.ANSWER, assessment.structure_id):
        items = service.ensure_action_plan(
            session,
            assessment=assessment,
            result=context["result"],
            user=user,
            before_audit=context["before_audit"],
        )
        context["can_write"] = True
    else:
        items = service.action_plan(session, assessment=assessment)
    context["rows"] = service.plan_rows(items, context["result"])
    return render(request, "reports/plan.html", context)


@router.post("/autoevaluations/{assessment_id}/plan/{item_id}")
def edit_item(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    item_id: int,
    form: Annotated[ActionItemForm, Form()],
) -> Response:
    """Save one row of the plan; a refusal or a conflict (409, the newer values shown) keeps what was typed."""
    item = session.get(ActionItem, item_id)
    if item is None or item.assessment_id != assessment.id:
        raise HTTPException(404, _(ITEM_NOT_FOUND))
    status_code, errors = 200, {}
    try:
        service.update_action_item(
            session,
            assessment=assessment,
            item=item,
            owner=form.responsable,
            due_on=form.echeance,
            status=form.statut,
            base_revision=form.base_revision("action"),
            user=user,
        )
    except ServiceError as error:
        status_code, errors = error.status, error.problems
    if not errors and not is_fragment(request):
        return RedirectResponse(f"/autoevaluations/{assessment.id}/plan#action-{item_id}", status_code=303)
    context = views.results_context(session, catalog, assessment)
    rows = service.plan_rows(service.action_plan(session, assessment=assessment), context["result"])
    context |= {
        "rows": rows,
        "can_write": True,
        "edited": item_id,
        "errors": errors,
        "posted": form.model_dump(),
    }
    context["row"] = next(row for row in rows if row.item.id == item_id)
    context |= {"saved": not errors, "stale": status_code == 409}
    partial = "reports/partials/action_row.html"
    return render(request, "reports/plan.html", context, partial=partial, status_code=status_code)


def _profile(catalog: Catalog, structure: Structure) -> list[tuple[str, str]]:
    questionnaire = catalog.questionnaire(structures_service.PROFILE_QUESTIONNAIRE)
    version = catalog.criteria[questionnaire.criteria]
    return structures_service.profile_summary(questionnaire, version, structure.profile)
