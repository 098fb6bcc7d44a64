"""Starting and keeping drafts: the start (with a warning when a draft of the same questionnaire is
open), naming and deleting a draft; carrying answers to another questionnaire or criteria version:
the preview of what is carried, to review or dropped, then the start of a new assessment or the
move of a draft; and re-confirming carried answers a section at a time.

Each write shows its preview first: the preview pages are GET, the writes POST and 303 to the
assessment. A refusal (unknown or unreleased version, submitted assessment) is the error page.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.assessments import carry, drafts, migration, navigation, service, views
from app.assessments.forms import DeleteForm, MoveForm, NameForm, StartForm
from app.db import SessionDep, pk
from app.deps import (
    CanonicalCatalogDep,
    CatalogDep,
    CurrentUser,
    DirectedStructure,
    ReviewRemarks,
    Submittable,
    Writable,
)
from app.errors import ServiceError
from app.locale import gettext as _
from app.locale import ngettext
from app.web import is_fragment, render

router = APIRouter()
PREVIEW = "assessments/carry_preview.html"
DRAFT_PAGE = "assessments/draft.html"


@router.post("/structures/{structure_id}/autoevaluations")
def start(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: DirectedStructure,
    form: Annotated[StartForm, Form()],
) -> Response:
    """Start an assessment; from an earlier one, show first what would be carried.

    An open draft of the same questionnaire is shown first (409), unless the form says to start anew.
    """
    chosen, previous = carry.starting_point(session, catalog=catalog, structure=structure, form=form)
    existing = drafts.open_draft(session, structure_id=pk(structure), questionnaire=chosen)
    if existing is not None and form.nouveau != "1":
        page = {"structure": structure, "existing": existing, "form": form, "questionnaire": chosen}
        return render(request, "assessments/draft_exists.html", page, status_code=409)
    if previous is not None:
        query = urlencode({"questionnaire": form.questionnaire, "depuis": form.depuis})
        return RedirectResponse(f"/structures/{structure.id}/reprise?{query}", status_code=303)
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=user, questionnaire_ref=chosen.ref
    )
    return RedirectResponse(f"/autoevaluations/{assessment.id}", status_code=303)


@router.get("/autoevaluations/{assessment_id}/brouillon")
def draft_page(request: Request, *, session: SessionDep, assessment: Submittable) -> Response:
    """Name the assessment; delete it while it is a draft never submitted."""
    return render(request, DRAFT_PAGE, _draft_context(session, assessment))


@router.post("/autoevaluations/{assessment_id}/nom")
def rename(
    request: Request,
    *,
    session: SessionDep,
    user: CurrentUser,
    assessment: Submittable,
    form: Annotated[NameForm, Form()],
) -> Response:
    try:
        drafts.rename(session, assessment=assessment, name=form.nom, user=user)
    except ServiceError as error:
        page = _draft_context(session, assessment) | {"errors": error.problems, "posted": form.nom}
        return render(request, DRAFT_PAGE, page, status_code=error.status)
    return RedirectResponse(f"/autoevaluations/{assessment.id}/brouillon", status_code=303)


@router.post("/autoevaluations/{assessment_id}/supprimer")
def delete(
    request: Request,
    *,
    session: SessionDep,
    user: CurrentUser,
    assessment: Submittable,
    form: Annotated[DeleteForm, Form()],
) -> Response:
    """Delete a draft once the form confirms it; a submitted or returned one is refused (409)."""
    structure_id = assessment.structure_id
    if form.confirmer != "oui":
        message = _("Cochez la case pour confirmer la suppression de ce brouillon.")
        page = _draft_context(session, assessment) | {"errors": {"confirmer": message}}
        return render(request, DRAFT_PAGE, page, status_code=422)
    drafts.delete_draft(session, assessment=assessment, user=user)
    return RedirectResponse(f"/structures/{structure_id}?supprime=1", status_code=303)


def _draft_context(session: SessionDep, assessment: Submittable) -> dict[str, object]:
    structure = service.structure_of(session, assessment)
    usage = drafts.evidence_usage(session, assessment=assessment)
    page = {"structure": structure, "assessment": assessment, "usage": usage}
    return page | {"deletable": drafts.deletable(session, assessment), "errors": {}, "posted": None}


@router.get("/structures/{structure_id}/reprise")
def carry_preview(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    structure: DirectedStructure,
    form: Annotated[StartForm, Query()],
) -> Response:
    form = form if form.depuis else carry.default_start(session, structure=structure) or form
    chosen, previous = carry.starting_point(session, catalog=catalog, structure=structure, form=form)
    if previous is None:
        raise HTTPException(
            404, _("Cette structure n'a pas encore d'autoévaluation dont reprendre les réponses.")
        )
    followed = carry.plan(session, catalog=catalog, source=previous, to=chosen)
    page = {"structure": structure, "plan": followed, "form": form, "moving": False}
    return render(request, PREVIEW, page)


@router.post("/structures/{structure_id}/reprise")
def start_from_previous(
    *,
    session: SessionDep,
    catalog: CanonicalCatalogDep,
    user: CurrentUser,
    structure: DirectedStructure,
    form: Annotated[StartForm, Form()],
) -> Response:
    chosen, previous = carry.starting_point(session, catalog=catalog, structure=structure, form=form)
    assessment = service.start(
        session,
        catalog=catalog,
        structure=structure,
        user=user,
        questionnaire_ref=chosen.ref,
        previous=previous,
    )
    return RedirectResponse(f"/autoevaluations/{assessment.id}", status_code=303)


@router.get("/autoevaluations/{assessment_id}/changer-de-version")
def move_preview(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    assessment: Submittable,
    form: Annotated[MoveForm, Query()],
) -> Response:
    """What moving the draft would do; by default to the latest released version, if it is newer."""
    migration.check_movable(session, assessment)
    structure = service.structure_of(session, assessment)
    page = {"structure": structure, "assessment": assessment, "moving": True}
    if not form.version and migration.newer_version(catalog, assessment) is None:
        latest = catalog.criteria[assessment.criteria_ref]
        return render(request, "assessments/latest_version.html", page | {"version": latest})
    chosen = migration.target(catalog, assessment=assessment, version_ref=form.version)
    followed = carry.plan(session, catalog=catalog, source=assessment, to=chosen)
    return render(request, PREVIEW, page | {"plan": followed})


@router.post("/autoevaluations/{assessment_id}/changer-de-version")
def move(
    *,
    session: SessionDep,
    catalog: CanonicalCatalogDep,
    user: CurrentUser,
    assessment: Submittable,
    form: Annotated[MoveForm, Form()],
) -> Response:
    chosen = migration.target(catalog, assessment=assessment, version_ref=form.version)
    migration.move(session, catalog=catalog, assessment=assessment, user=user, to=chosen)
    return RedirectResponse(f"/autoevaluations/{assessment.id}", status_code=303)


@router.post("/autoevaluations/{assessment_id}/sections/{section_id}/confirmer")
def confirm_section(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    remarks: ReviewRemarks,
    section_id: str,
    page: int = 1,
) -> Response:
    """Re-confirm a section's carried answers; htmx gets the section's questions again, in place."""
    sections = service.bound(catalog, assessment).questionnaire.sections
    found = next((s for s in sections if s.id == section_id), None)
    if found is None:
        raise HTTPException(404, _("Cette section n'existe pas dans ce questionnaire."))
    confirmed = migration.confirm_section(session, assessment=assessment, section=found, user=user)
    pages = navigation.pages_of(found)
    shown = pages[min(max(page, 1), len(pages)) - 1]
    if not is_fragment(request):
        query = f"?page={shown.number}" if shown.number > 1 else ""
        return RedirectResponse(
            f"/autoevaluations/{assessment.id}/sections/{found.id}{query}", status_code=303
        )
    count = len(confirmed)
    notice = ngettext(
        "%(num)d réponse confirmée dans cette section.",
        "%(num)d réponses confirmées dans cette section.",
        count,
    ) % {"num": count}
    context = views.context(request, session, catalog, assessment, may_write=True, remarks=remarks)
    context |= views.paging(context, found, shown) | {"confirmed_notice": notice}
    return render(request, "assessments/section.html", context)
