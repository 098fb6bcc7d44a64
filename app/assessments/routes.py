"""The questionnaire pages: start, overview, sections with autosaved answers, evidence, review, submit.

Every object route loads its object through a dependency that asks `can` (404 when the answer is
no). A write to one question answers htmx with the question partial and out-of-band progress, and
anyone else with a redirect back to the question, or the whole section page showing the error
(`views.after_write`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from app.assessments import answering, evidence, files, migration, navigation, service, snapshot, views
from app.assessments.forms import AnswerForm, EvidenceForm, SubmitForm
from app.assessments.models import EvidenceKind
from app.db import SessionDep
from app.deps import (
    AssessmentLink,
    CanonicalCatalogDep,
    CatalogDep,
    CurrentUser,
    MaySubmit,
    MayWrite,
    Readable,
    ReadableEvidence,
    ReviewRemarks,
    Submittable,
    Writable,
    WritableEvidence,
)
from app.errors import ServiceError
from app.landing import local_path
from app.locale import gettext as _
from app.web import render

router = APIRouter()


@router.get("/autoevaluations/{assessment_id}")
def overview(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    assessment: Readable,
    may_write: MayWrite,
    may_submit: MaySubmit,
    remarks: ReviewRemarks,
) -> Response:
    # Moving to another version is the direction's decision, like submitting.
    newer = migration.offered(session, catalog=catalog, assessment=assessment) if may_submit else None
    page = views.context(
        request, session, catalog, assessment, may_write=may_write, remarks=remarks, newer=newer
    )
    left = navigation.unanswered(page["questionnaire"], page["by_criterion"])
    extra = {"may_submit": may_submit, "next_open": left[0] if left else None}
    return render(request, "assessments/overview.html", page | extra)


@router.get("/autoevaluations/{assessment_id}/sections/{section_id}")
def section(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    assessment: Readable,
    may_write: MayWrite,
    remarks: ReviewRemarks,
    section_id: str,
    page: int = 1,
) -> Response:
    sections = service.bound(catalog, assessment).questionnaire.sections
    found = next((s for s in sections if s.id == section_id), None)
    pages = navigation.pages_of(found) if found else ()
    if found is None or not 1 <= page <= len(pages):
        raise HTTPException(404, _("Cette section n'existe pas dans ce questionnaire."))
    shown = views.context(request, session, catalog, assessment, may_write=may_write, remarks=remarks)
    return render(request, "assessments/section.html", shown | views.paging(shown, found, pages[page - 1]))


@router.get("/autoevaluations/{assessment_id}/questions/{criterion_id}")
def question(catalog: CatalogDep, assessment: Readable, criterion_id: str) -> Response:
    """Go to the page of its section that asks about `criterion_id`, the question in view."""
    questionnaire = service.bound(catalog, assessment).questionnaire
    views.section_of(questionnaire, criterion_id)
    url = navigation.question_url(assessment.id or 0, questionnaire, criterion_id)
    return RedirectResponse(url, status_code=303)


@router.post("/autoevaluations/{assessment_id}/reponses/{criterion_id}")
def save_answer(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    remarks: ReviewRemarks,
    criterion_id: str,
    form: Annotated[AnswerForm, Form()],
) -> Response:
    views.section_of(service.bound(catalog, assessment).questionnaire, criterion_id)
    outcome = views.Outcome(criterion_id, notices={"reponse": _("Réponse enregistrée.")})
    loaded = None
    try:
        answer = form.checked()
        loaded = answering.answer_and_load(
            session, catalog=catalog, assessment=assessment, user=user, criterion_id=criterion_id, **answer
        )
    except ServiceError as error:
        outcome = views.Outcome.refused(criterion_id, error, region="reponse", posted=form.model_dump())
    return views.after_write(
        request, session, catalog, assessment, outcome, part="answer", remarks=remarks, loaded=loaded
    )


@router.post("/autoevaluations/{assessment_id}/preuves")
def add_evidence(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    remarks: ReviewRemarks,
    form: Annotated[EvidenceForm, Form()],
) -> Response:
    views.section_of(service.bound(catalog, assessment).questionnaire, form.critere)
    settings, announced = request.app.state.settings, request.headers.get("content-length", "")
    outcome = views.Outcome(form.critere, notices={"preuve": _("Preuve ajoutée.")})
    try:
        service.add_evidence(
            session,
            catalog=catalog,
            assessment=assessment,
            user=user,
            form=form,
            evidence_dir=settings.evidence_dir,
            max_bytes=settings.max_upload_bytes,
            announced_bytes=int(announced) if announced.isdecimal() else None,
        )
    except ServiceError as error:
        outcome = views.Outcome.refused(form.critere, error, region="preuve", posted=form.posted())
    return views.after_write(request, session, catalog, assessment, outcome, part="evidence", remarks=remarks)


@router.get("/autoevaluations/{assessment_id}/questions/{criterion_id}/preuves")
def evidence_form(
    request: Request, session: SessionDep, catalog: CatalogDep, assessment: Writable, criterion_id: str
) -> Response:
    """The form adding evidence to one question: loaded in place by htmx, or a page of its own."""
    page = views.evidence_form_context(request, session, catalog, assessment, criterion_id=criterion_id)
    partial = "assessments/partials/question.html"
    return render(request, "assessments/evidence_add.html", page, partial=partial)


@router.post("/autoevaluations/{assessment_id}/liens/{link_id}/retirer")
def detach_evidence(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    remarks: ReviewRemarks,
    link: AssessmentLink,
) -> Response:
    outcome = views.Outcome(link.criterion_id, notices={"preuve": _("Preuve retirée de cette question.")})
    try:
        evidence.detach(session, assessment=assessment, link=link, user=user)
    except ServiceError as error:
        outcome = views.Outcome.refused(outcome.criterion, error, region="preuve", posted={})
    return views.after_write(request, session, catalog, assessment, outcome, part="evidence", remarks=remarks)


@router.get("/preuves/{evidence_id}/fichier")
def download_evidence(request: Request, piece: ReadableEvidence) -> Response:
    path = files.file_path(request.app.state.settings.evidence_dir, piece.sha256 or "0" * 64)
    if piece.kind != EvidenceKind.FILE or not path.is_file():
        raise HTTPException(404, _("Cette preuve n'a pas de fichier à télécharger."))
    headers = {
        "Content-Disposition": files.content_disposition(piece.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return FileResponse(path, media_type=piece.content_type, headers=headers)


@router.post("/preuves/{evidence_id}/supprimer")
def delete_evidence(
    session: SessionDep, user: CurrentUser, piece: WritableEvidence, retour: Annotated[str, Form()] = ""
) -> Response:
    back = local_path(retour) if retour else f"/structures/{piece.structure_id}"
    evidence.delete(session, evidence=piece, user=user)
    return RedirectResponse(back, status_code=303)


@router.get("/autoevaluations/{assessment_id}/verification")
def review(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    assessment: Readable,
    may_write: MayWrite,
    may_submit: MaySubmit,
    remarks: ReviewRemarks,
) -> Response:
    page = views.review_context(
        request, session, catalog, assessment, may_write=may_write, may_submit=may_submit, remarks=remarks
    )
    return render(request, "assessments/review.html", page)


@router.post("/autoevaluations/{assessment_id}/soumettre")
def submit(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    canonical: CanonicalCatalogDep,
    user: CurrentUser,
    assessment: Submittable,
    remarks: ReviewRemarks,
    form: Annotated[SubmitForm, Form()],
) -> Response:
    """Submit; the snapshot is signed from the French catalog whatever the page's language."""
    try:
        service.check_draft(assessment)
        form.check()
        structure, signer = service.structure_of(session, assessment), request.app.state.signer
        snapshot.submit(
            session,
            catalog=canonical,
            assessment=assessment,
            structure=structure,
            user=user,
            signer=signer,
            incomplete_confirmed=form.incomplet,
        )
    except ServiceError as error:
        page = views.review_context(
            request,
            session,
            catalog,
            assessment,
            may_write=True,
            may_submit=True,
            remarks=remarks,
            error=error.message,
        )
        return render(request, "assessments/review.html", page, status_code=error.status)
    return RedirectResponse(f"/autoevaluations/{assessment.id}/resultats", status_code=303)
