"""The questionnaire pages: start, overview, sections with autosaved answers, evidence, review, submit.

Every object route loads its object through a dependency that asks `can` (404 when the answer is
no). A write to one question answers htmx with the question partial and out-of-band progress, and
anyone else with a redirect back to the question, or the whole section page showing the error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from app.accounts.models import User
from app.accounts.permissions import Access, can
from app.assessments import evidence, service
from app.assessments.models import Answer, Assessment, AssessmentStatus, Evidence, EvidenceKind
from app.catalog.models import Questionnaire, Section, Status
from app.catalog.service import Catalog
from app.db import SessionDep
from app.deps import (
    AssessmentLink,
    CanonicalCatalogDep,
    CatalogDep,
    CurrentUser,
    Readable,
    ReadableEvidence,
    Writable,
    WritableEvidence,
    WritableStructure,
    local_path,
)
from app.locale import gettext as _
from app.reviews import results as review_results
from app.structures.models import Structure
from app.web import render

router = APIRouter()
QUESTION_RESPONSE = "assessments/partials/question_response.html"
LEVELS = {"0": 0, "1": 1, "2": 2, "3": 3}
UPLOAD_OVERHEAD = 64 * 1024
"""Room for the other fields of an upload form before its `Content-Length` alone is refused."""


@dataclass(frozen=True)
class Outcome:
    """What a write to one question did, shown in that question; `posted` keeps input not saved.

    `errors` and `notices` are keyed by field, or by region: « reponse » or « preuve ».
    """

    criterion: str
    status: int = 200
    posted: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    revision: int | None = None
    newer: Answer | None = None
    stale: bool = False


@router.post("/structures/{structure_id}/autoevaluations")
def start(
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    structure: WritableStructure,
    questionnaire: Annotated[str, Form()] = "",
    depuis: Annotated[str, Form()] = "",
) -> Response:
    chosen = _released(catalog, questionnaire)
    previous = _previous(session, catalog, structure, depuis, chosen) if depuis else None
    assessment = service.start(
        session,
        catalog=catalog,
        structure=structure,
        user=user,
        questionnaire_ref=chosen.ref,
        previous=previous,
    )
    return RedirectResponse(f"/autoevaluations/{assessment.id}", status_code=303)


@router.get("/autoevaluations/{assessment_id}")
def overview(request: Request, session: SessionDep, catalog: CatalogDep, assessment: Readable) -> Response:
    return render(request, "assessments/overview.html", _context(request, session, catalog, assessment))


@router.get("/autoevaluations/{assessment_id}/sections/{section_id}")
def section(
    request: Request, session: SessionDep, catalog: CatalogDep, assessment: Readable, section_id: str
) -> Response:
    context = _context(request, session, catalog, assessment)
    found = next((s for s in context["questionnaire"].sections if s.id == section_id), None)
    if found is None:
        raise HTTPException(404, _("Cette section n'existe pas dans ce questionnaire."))
    return render(request, "assessments/section.html", context | {"section": found})


@router.post("/autoevaluations/{assessment_id}/reponses/{criterion_id}")
async def save_answer(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    criterion_id: str,
) -> Response:
    _section_of(service.bound(catalog, assessment).questionnaire, criterion_id)
    posted, errors = _answer_input(await request.form())
    outcome = Outcome(criterion_id, 422, posted=posted, errors=errors)
    if not errors:
        outcome = _save(session, catalog, assessment, user=user, criterion_id=criterion_id, posted=posted)
    return _after_write(request, session, catalog, assessment, outcome, part="answer")


@router.post("/autoevaluations/{assessment_id}/preuves")
async def add_evidence(
    request: Request, *, session: SessionDep, catalog: CatalogDep, user: CurrentUser, assessment: Writable
) -> Response:
    form = await request.form()
    criterion_id = str(form.get("critere", ""))
    _section_of(service.bound(catalog, assessment).questionnaire, criterion_id)
    try:
        _refuse_unless_draft(assessment)
        _refuse_oversized(request)
        covers = _covers(catalog, assessment, criterion_id, form)
        piece = _piece(request, session, assessment, user, form)
        evidence.attach(
            session,
            assessment=assessment,
            evidence=piece,
            criterion_id=criterion_id,
            covers=covers,
            user=user,
        )
    except (evidence.EvidenceError, service.AssessmentError) as error:
        outcome = Outcome(
            criterion_id, _status(error), posted=_evidence_input(form), errors={"preuve": str(error)}
        )
        return _after_write(request, session, catalog, assessment, outcome, part="evidence")
    notice = Outcome(criterion_id, notices={"preuve": _("Preuve ajoutée.")})
    return _after_write(request, session, catalog, assessment, notice, part="evidence")


@router.get("/autoevaluations/{assessment_id}/questions/{criterion_id}/preuves")
def evidence_form(
    request: Request, session: SessionDep, catalog: CatalogDep, assessment: Writable, criterion_id: str
) -> Response:
    """The form adding evidence to one question: loaded in place by htmx, or a page of its own."""
    found = _section_of(service.bound(catalog, assessment).questionnaire, criterion_id)
    if assessment.status != AssessmentStatus.DRAFT:
        raise HTTPException(409, str(service.SubmittedError()))
    context = _context(request, session, catalog, assessment, only_section=found.id, evidence_list=False)
    question = next(q for q in found.questions if q.criterion == criterion_id)
    context |= {
        "section": found,
        "question": question,
        "part": "evidence_form",
        "library": evidence.library(session, structure_id=assessment.structure_id),
    }
    partial = "assessments/partials/question.html"
    return render(request, "assessments/evidence_add.html", context, partial=partial)


@router.post("/autoevaluations/{assessment_id}/liens/{link_id}/retirer")
def detach_evidence(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    user: CurrentUser,
    assessment: Writable,
    link: AssessmentLink,
) -> Response:
    outcome = Outcome(link.criterion_id, notices={"preuve": _("Preuve retirée de cette question.")})
    try:
        _refuse_unless_draft(assessment)
        evidence.detach(session, assessment=assessment, link=link, user=user)
    except (evidence.EvidenceError, service.AssessmentError) as error:
        outcome = Outcome(outcome.criterion, _status(error), errors={"preuve": str(error)})
    return _after_write(request, session, catalog, assessment, outcome, part="evidence")


@router.get("/preuves/{evidence_id}/fichier")
def download_evidence(request: Request, piece: ReadableEvidence) -> Response:
    path = evidence.file_path(request.app.state.settings.evidence_dir, piece.sha256 or "0" * 64)
    if piece.kind != EvidenceKind.FILE or not path.is_file():
        raise HTTPException(404, _("Cette preuve n'a pas de fichier à télécharger."))
    headers = {
        "Content-Disposition": evidence.content_disposition(piece.filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return FileResponse(path, media_type=piece.content_type, headers=headers)


@router.post("/preuves/{evidence_id}/supprimer")
def delete_evidence(
    session: SessionDep, user: CurrentUser, piece: WritableEvidence, retour: Annotated[str, Form()] = ""
) -> Response:
    back = local_path(retour) if retour else f"/structures/{piece.structure_id}"
    try:
        evidence.delete(session, evidence=piece, user=user)
    except evidence.EvidenceError as error:
        raise HTTPException(409, str(error)) from None
    return RedirectResponse(back, status_code=303)


@router.get("/autoevaluations/{assessment_id}/verification")
def review(request: Request, session: SessionDep, catalog: CatalogDep, assessment: Readable) -> Response:
    return render(request, "assessments/review.html", _review_context(request, session, catalog, assessment))


@router.post("/autoevaluations/{assessment_id}/soumettre")
def submit(
    request: Request,
    *,
    session: SessionDep,
    catalog: CatalogDep,
    canonical: CanonicalCatalogDep,
    user: CurrentUser,
    assessment: Writable,
    confirmation: Annotated[str, Form()] = "",
) -> Response:
    """Submit; the snapshot is signed from the French catalog whatever the page's language."""
    try:
        _refuse_unless_draft(assessment)
        if confirmation != "oui":
            raise service.AssessmentError(
                _("Cochez la case de confirmation pour soumettre l'autoévaluation.")
            )
        structure, signer = _structure(session, assessment), request.app.state.signer
        service.submit(
            session, catalog=canonical, assessment=assessment, structure=structure, user=user, signer=signer
        )
    except service.AssessmentError as error:
        context = _review_context(request, session, catalog, assessment, error=str(error))
        return render(request, "assessments/review.html", context, status_code=_status(error))
    return RedirectResponse(f"/autoevaluations/{assessment.id}/resultats", status_code=303)


def _released(catalog: Catalog, questionnaire_id: str) -> Questionnaire:
    """The latest released version of the questionnaire the form names (its bare id)."""
    try:
        found = catalog.questionnaire(questionnaire_id) if "@" not in questionnaire_id else None
    except LookupError:
        found = None
    if found is None or found.status != Status.RELEASED:
        raise HTTPException(422, _("Choisissez le questionnaire complet ou le questionnaire express."))
    return found


def _previous(
    session: Session, catalog: Catalog, structure: Structure, depuis: str, questionnaire: Questionnaire
) -> Assessment:
    """The structure's earlier assessment whose answers the new one starts from."""
    previous = session.get(Assessment, int(depuis)) if re.fullmatch(r"\d{1,9}", depuis) else None
    if previous is None or previous.structure_id != structure.id:
        raise HTTPException(422, _("L'autoévaluation de départ n'existe pas pour cette structure."))
    if catalog.criteria[previous.criteria_ref].referential != questionnaire.criteria.split("@")[0]:
        raise HTTPException(
            422, _("L'autoévaluation de départ suit un autre référentiel : rien ne peut en être repris.")
        )
    return previous


def _answer_input(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The answer as typed, and a message for each field that cannot be saved as it is."""
    posted = {
        name: str(form.get(name, "")) for name in ("niveau", "justification", "commentaire", "revision")
    }
    errors = {}
    if posted["niveau"] not in ("", "na", *LEVELS):
        errors["niveau"] = _("Choisissez un niveau de 0 à 3, ou « Non applicable ».")
    for name in ("justification", "commentaire"):
        if len(posted[name]) > service.TEXT_MAX:
            errors[name] = _(service.TOO_LONG)
    if not re.fullmatch(r"\d{1,9}", posted["revision"]):
        errors["reponse"] = _("Le formulaire est incomplet : rechargez la page, puis recommencez.")
    return posted, errors


def _save(
    session: Session,
    catalog: Catalog,
    assessment: Assessment,
    *,
    user: User,
    criterion_id: str,
    posted: dict[str, Any],
) -> Outcome:
    """Save the posted answer; a refusal keeps what was typed, and a conflict shows the newer answer."""
    level = posted["niveau"]
    try:
        service.save_answer(
            session,
            catalog=catalog,
            assessment=assessment,
            user=user,
            criterion_id=criterion_id,
            base_revision=int(posted["revision"]),
            level=LEVELS.get(level),
            not_applicable=level == "na",
            justification=posted["justification"],
            comment=posted["commentaire"],
        )
    except service.StaleAnswerError as error:
        newer = error.current
        revision = newer.revision if newer else 0
        errors = {"reponse": str(error)}
        return Outcome(
            criterion_id, 409, posted=posted, errors=errors, revision=revision, newer=newer, stale=True
        )
    except service.AssessmentError as error:
        return Outcome(criterion_id, _status(error), posted=posted, errors={"reponse": str(error)})
    return Outcome(criterion_id, notices={"reponse": _("Réponse enregistrée.")})


def _evidence_input(form: FormData) -> dict[str, Any]:
    posted = {
        name: str(form.get(name, "")).strip() for name in ("titre", "date", "responsable", "lien", "preuve")
    }
    return posted | {"couvre": [str(value) for value in form.getlist("couvre")]}


def _piece(
    request: Request, session: Session, assessment: Assessment, user: User, form: FormData
) -> Evidence:
    """The piece to attach: one chosen in the structure's library, an uploaded file or a reference."""
    posted = _evidence_input(form)
    if posted["preuve"]:
        chosen = session.get(Evidence, int(posted["preuve"])) if posted["preuve"].isdecimal() else None
        if chosen is None or chosen.structure_id != assessment.structure_id:
            raise evidence.EvidenceError(_("Choisissez un document de la bibliothèque de la structure."))
        return chosen
    upload = form.get("fichier")
    upload = upload if isinstance(upload, UploadFile) and upload.filename else None
    try:
        document_date = date.fromisoformat(posted["date"]) if posted["date"] else None
    except ValueError:
        raise evidence.EvidenceError(
            _("La date du document n'est pas une date valide (jour/mois/année).")
        ) from None
    settings = request.app.state.settings
    return evidence.add_checked(
        session,
        structure=_structure(session, assessment),
        user=user,
        title=posted["titre"],
        upload=upload.file if upload else None,
        filename=upload.filename or "" if upload else "",
        evidence_dir=settings.evidence_dir,
        max_bytes=settings.max_upload_bytes,
        document_date=document_date,
        owner=posted["responsable"],
        link=posted["lien"],
    )


def _covers(catalog: Catalog, assessment: Assessment, criterion_id: str, form: FormData) -> list[str]:
    """The expected evidence of the criterion that the piece shows, as ticked."""
    ticked = [str(value) for value in form.getlist("couvre")]
    expected = {
        item.id for item in service.bound(catalog, assessment).criteria.by_id[criterion_id].expected_evidence
    }
    if not set(ticked) <= expected:
        raise evidence.EvidenceError(_("Cochez seulement des preuves attendues pour ce critère."))
    return ticked


def _refuse_unless_draft(assessment: Assessment) -> None:
    if assessment.status != AssessmentStatus.DRAFT:
        raise service.SubmittedError()


def _refuse_oversized(request: Request) -> None:
    """Refuse an upload whose announced size is already too large (the stream is checked as well)."""
    limit = request.app.state.settings.max_upload_bytes
    announced = request.headers.get("content-length", "")
    if announced.isdecimal() and int(announced) > limit + UPLOAD_OVERHEAD:
        raise evidence.TooLargeError(evidence.too_large(limit))


def _status(error: Exception) -> int:
    if isinstance(error, service.SubmittedError):
        return 409
    return error.status_code if isinstance(error, evidence.EvidenceError) else 422


def _after_write(
    request: Request,
    session: Session,
    catalog: Catalog,
    assessment: Assessment,
    outcome: Outcome,
    *,
    part: str,
) -> Response:
    """Back to the question after a write (303) unless htmx asks for it, or something went wrong.

    htmx gets only the regions of the question that `part` ("answer" or "evidence") changes, with
    the progress bars and the section score out of band; anyone else gets the whole section page.
    """
    wants_fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")
    found = _section_of(service.bound(catalog, assessment).questionnaire, outcome.criterion)
    if outcome.status == 200 and not wants_fragment:
        url = f"/autoevaluations/{assessment.id}/sections/{found.id}#q-{outcome.criterion}"
        return RedirectResponse(url, status_code=303)
    context = _context(
        request,
        session,
        catalog,
        assessment,
        outcome=outcome,
        only_section=found.id if wants_fragment else None,
        evidence_list=part == "evidence" or not wants_fragment,
        part=part if wants_fragment else None,  # the whole page shows whole questions
    )
    question = next(q for q in found.questions if q.criterion == outcome.criterion)
    context |= {"section": found, "question": question}
    if "preuve" in outcome.errors:  # the evidence form stays open, with the structure's library
        context["library"] = evidence.library(session, structure_id=assessment.structure_id)
    return render(
        request, "assessments/section.html", context, partial=QUESTION_RESPONSE, status_code=outcome.status
    )


def _section_of(questionnaire: Questionnaire, criterion_id: str) -> Section:
    found = next(
        (s for s in questionnaire.sections for q in s.questions if q.criterion == criterion_id), None
    )
    if found is None:
        raise HTTPException(404, _("Cette question n'existe pas dans ce questionnaire."))
    return found


def _structure(session: Session, assessment: Assessment) -> Structure:
    structure = session.get(Structure, assessment.structure_id)
    assert structure is not None  # a foreign key
    return structure


def _context(
    request: Request,
    session: Session,
    catalog: Catalog,
    assessment: Assessment,
    *,
    only_section: str | None = None,
    evidence_list: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """What the assessment pages show: questions, answers, evidence, live results per section.

    `only_section` scores that section alone (a reply to a write shows no other); `evidence_list`
    False skips what only the evidence lists need (a reply to an answer write shows none).
    """
    structure = _structure(session, assessment)
    bound = service.bound(catalog, assessment)
    loaded = service.load(session, assessment)
    inputs = loaded.inputs()
    result = service.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=inputs
    )
    sections = service.evaluate_sections(
        catalog=catalog, assessment=assessment, structure=structure, inputs=inputs, only=only_section
    )
    attached = {piece.id for pairs in loaded.links.values() for _link, piece in pairs}
    return {
        "assessment": assessment,
        "structure": structure,
        "questionnaire": bound.questionnaire,
        "version": bound.criteria,
        "result": result,
        "sections": sections,
        "by_criterion": {r.criterion: r for r in result.criteria},
        "answers": loaded.answers,
        "links": loaded.links,
        "relied_on": evidence.relied_on(session, attached) if evidence_list and attached else set(),
        # A trainer or an administrator reading a draft sees it as its director does, without forms.
        "editable": assessment.status == AssessmentStatus.DRAFT
        and can(session, request.state.user, Access.WRITE, assessment.structure_id),
        "max_upload": evidence.size_label(request.app.state.settings.max_upload_bytes),
        "size_label": evidence.size_label,
        "outcome": None,
        "part": None,
        "returned_review": review_results.returned_review(session, assessment),
        **extra,
    }


def _review_context(
    request: Request, session: Session, catalog: Catalog, assessment: Assessment, **extra: Any
) -> dict[str, Any]:
    context = _context(request, session, catalog, assessment, **extra)
    found = service.review(session, catalog=catalog, assessment=assessment, structure=context["structure"])
    where = {q.criterion: (s, q) for s in context["questionnaire"].sections for q in s.questions}
    return context | {"review": found, "where": where}
