"""The dependencies routes share: who is signed in, the catalog, and the objects a route may touch.

Every object dependency asks the one permission function (`app.accounts.permissions.can`) and
answers 404 when it says no, as if the object did not exist. Routes import these from here, never
from one another. `create_app` runs `optional_user` for every route, so each page's header
(`current_user()` in the base template) knows who is signed in without every route asking.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.accounts import sessions
from app.accounts.models import User
from app.accounts.permissions import (
    Access,
    administers,
    can,
    cohort_ids,
    keeps_certification,
    owned_assessment,
    reading,
    reading_evidence,
    refusal,
    runs_cohorts,
)
from app.assessments.models import Assessment, AssessmentStatus, Evidence, EvidenceLink
from app.catalog.service import Catalog
from app.cohorts.models import Cohort
from app.db import SessionDep
from app.landing import sign_in_url
from app.locale import N_, current_language
from app.locale import gettext as _
from app.reviews import results as review_results
from app.structures.models import Structure
from app.web import csrf_token, is_fragment

SESSION_KEY = "session"
"""The cookie's key for the session's secret (`app.accounts.sessions`)."""


async def optional_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user while the session is open and the account active, else None.

    Kept on `request.state` for templates, with the session row (`user_session`) for the account page.
    A session ended on the server (sign-out, password change or reset, deactivation) finds no row:
    it is looked up on every request, never remembered. Only that look-up goes to a thread, so an
    anonymous request goes to none.
    """
    secret = request.session.get(SESSION_KEY)
    found = (
        await run_in_threadpool(sessions.resolve, session, secret=secret) if isinstance(secret, str) else None
    )
    request.state.user_session = found[0] if found else None
    request.state.user = found[1] if found else None
    return request.state.user  # type: ignore[no-any-return]


def start_session(request: Request, session: Session, user: User) -> None:
    """Sign `user` in on this browser with a fresh session and CSRF token (nothing planted survives)."""
    request.session.clear()
    user_agent = request.headers.get("user-agent", "")
    request.session[SESSION_KEY] = sessions.open_session(session, user=user, user_agent=user_agent)
    csrf_token(request)


def current_session_id(request: Request) -> int | None:
    """The id of this request's session row, once `optional_user` has found it."""
    found = getattr(request.state, "user_session", None)
    return found.id if found is not None else None


OptionalUser = Annotated[User | None, Depends(optional_user)]


class SignInRequiredError(Exception):
    """An anonymous request to a page that needs a signed-in user."""


async def current_user(user: OptionalUser) -> User:
    """The signed-in user; an anonymous visitor is sent to the sign-in page (`sign_in_redirect`)."""
    if user is None:
        raise SignInRequiredError
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def sign_in_redirect(request: Request, _error: Exception) -> Response:
    """Send an anonymous visitor to the sign-in page, to come back here afterwards.

    An htmx fragment request gets `HX-Redirect` rather than a 303, which the browser would follow
    inside the fragment: the whole page goes to the sign-in form, then back to that page.
    """
    if is_fragment(request):
        page = urlsplit(request.headers.get("HX-Current-URL", "/"))
        target = sign_in_url(page.path + (f"?{page.query}" if page.query else ""))
        return Response(status_code=401, headers={"HX-Redirect": target})
    query = request.url.query
    return RedirectResponse(sign_in_url(request.url.path + (f"?{query}" if query else "")), status_code=303)


async def get_catalog(request: Request) -> Catalog:
    """The catalog loaded and validated at start-up, its texts in the request's language."""
    catalogs: dict[str, Catalog] = request.app.state.catalogs
    return catalogs.get(current_language()) or request.app.state.catalog


async def get_canonical_catalog(request: Request) -> Catalog:
    """The catalog as its files say, in French: what snapshots sign and the API serves."""
    catalog: Catalog = request.app.state.catalog
    return catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
CanonicalCatalogDep = Annotated[Catalog, Depends(get_canonical_catalog)]


NOT_FOUND: dict[type, str] = {
    Assessment: N_("Cette autoévaluation n'existe pas ou ne vous est pas accessible."),
    Evidence: N_("Cette preuve n'existe pas ou ne vous est pas accessible."),
    EvidenceLink: N_("Cette preuve n'est pas jointe à cette autoévaluation."),
    Structure: N_("Cette structure n'existe pas ou ne vous est pas accessible."),
    Cohort: N_("Cette cohorte n'existe pas ou ne vous est pas accessible."),
}
Owned = TypeVar("Owned", Assessment, Evidence, Structure)


ROLE_REFUSED = N_("Votre rôle dans cette structure ne permet pas cette action.")
ARCHIVED = N_(
    "Cette structure est archivée : elle est en lecture seule. Un·e administrateur·rice peut la restaurer."
)


def _owned(session: Session, user: User, model: type[Owned], object_id: int, access: Access) -> Owned:
    """The object, if `user` may access its structure this way; else 404, as if it did not exist.

    A member of the structure whose role does not allow it gets 403 (`permissions.refusal`).
    """
    found = session.get(model, object_id) if model is not Assessment else None
    if model is Assessment:  # with its structure and the user's membership, in one query
        found = cast(Any, owned_assessment(session, user, object_id))
    structure_id = found.id if isinstance(found, Structure) else found.structure_id if found else None
    if found is None or structure_id is None:
        raise HTTPException(404, _(NOT_FOUND[model]))
    if not can(session, user, access, structure_id):
        _refuse(session, user, structure_id, NOT_FOUND[model])
    return found


def _refuse(session: Session, user: User, structure_id: int, not_found: str) -> None:
    status = refusal(session, user, structure_id)
    if status != 403:
        raise HTTPException(status, _(not_found))
    structure = session.get(Structure, structure_id)
    archived = structure is not None and structure.archived_at is not None
    raise HTTPException(403, _(ARCHIVED) if archived else _(ROLE_REFUSED))


def readable_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    """A structure whose submitted assessments `user` may see at least (auditors under a grant)."""
    return _owned(session, user, Structure, structure_id, Access.SUBMITTED)


def directed_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    """A structure `user` directs: profile, new assessments, auditors, members (`Access.DIRECT`)."""
    return _owned(session, user, Structure, structure_id, Access.DIRECT)


def exportable_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    """A structure whose data `user` may download in full: its direction, administrators (`Access.EXPORT`)."""
    return _owned(session, user, Structure, structure_id, Access.EXPORT)


def member_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    """A structure whose drafts too `user` may read (`Access.READ`): members, its cohorts' trainers."""
    return _owned(session, user, Structure, structure_id, Access.READ)


def certified_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    """A structure whose certification record `user` keeps (`permissions.keeps_certification`)."""
    found = _owned(session, user, Structure, structure_id, Access.READ)
    if not keeps_certification(session, user, structure_id):
        _refuse(session, user, structure_id, NOT_FOUND[Structure])
    return found


def readable(session: SessionDep, user: CurrentUser, assessment_id: int) -> Assessment:
    """An assessment `user` may read: a draft needs READ, a submitted one SUBMITTED (`reading`)."""
    found = owned_assessment(session, user, assessment_id)
    if found is None or not can(session, user, reading(found), found.structure_id):
        raise HTTPException(404, _(NOT_FOUND[Assessment]))
    return found


def writable(session: SessionDep, user: CurrentUser, assessment_id: int) -> Assessment:
    """An assessment `user` may answer in: answers, evidence, action plan (`Access.ANSWER`)."""
    return _owned(session, user, Assessment, assessment_id, Access.ANSWER)


def submittable(session: SessionDep, user: CurrentUser, assessment_id: int) -> Assessment:
    """An assessment `user` may submit: its structure's direction (`Access.DIRECT`)."""
    return _owned(session, user, Assessment, assessment_id, Access.DIRECT)


def readable_evidence(session: SessionDep, user: CurrentUser, evidence_id: int) -> Evidence:
    """Evidence `user` may read: with READ, or with SUBMITTED once a submitted assessment relies on it."""
    return _owned(session, user, Evidence, evidence_id, reading_evidence(session, evidence_id))


def writable_evidence(session: SessionDep, user: CurrentUser, evidence_id: int) -> Evidence:
    return _owned(session, user, Evidence, evidence_id, Access.ANSWER)


async def today() -> date:
    """The UTC calendar day pages count days from; tests override this dependency to fix the clock."""
    return datetime.now(UTC).date()


Today = Annotated[date, Depends(today)]
ReadableStructure = Annotated[Structure, Depends(readable_structure)]
DirectedStructure = Annotated[Structure, Depends(directed_structure)]
ExportableStructure = Annotated[Structure, Depends(exportable_structure)]
MemberStructure = Annotated[Structure, Depends(member_structure)]
CertifiedStructure = Annotated[Structure, Depends(certified_structure)]
Readable = Annotated[Assessment, Depends(readable)]
Writable = Annotated[Assessment, Depends(writable)]
Submittable = Annotated[Assessment, Depends(submittable)]
ReadableEvidence = Annotated[Evidence, Depends(readable_evidence)]
WritableEvidence = Annotated[Evidence, Depends(writable_evidence)]


def may_write(session: SessionDep, user: CurrentUser, assessment: Readable) -> bool:
    """Whether the reader may change the assessment: a draft, in a structure they may answer for."""
    return assessment.status == AssessmentStatus.DRAFT and can(
        session, user, Access.ANSWER, assessment.structure_id
    )


def may_submit(session: SessionDep, user: CurrentUser, assessment: Readable) -> bool:
    """Whether the reader may submit the assessment: a draft of a structure they direct."""
    return assessment.status == AssessmentStatus.DRAFT and can(
        session, user, Access.DIRECT, assessment.structure_id
    )


MayWrite = Annotated[bool, Depends(may_write)]
MaySubmit = Annotated[bool, Depends(may_submit)]


ADMIN_ONLY = N_("Cette page n'existe pas ou ne vous est pas accessible.")


async def administrator(user: CurrentUser) -> User:
    """The signed-in administrator; anyone else gets 404, as if the administration did not exist."""
    if not administers(user):
        raise HTTPException(404, _(ADMIN_ONLY))
    return user


Administrator = Annotated[User, Depends(administrator)]


def assessment_link(session: SessionDep, assessment: Writable, link_id: int) -> EvidenceLink:
    """A link of the assessment in the path, which the user may change."""
    link = session.get(EvidenceLink, link_id)
    if link is None or link.assessment_id != assessment.id:
        raise HTTPException(404, _(NOT_FOUND[EvidenceLink]))
    return link


AssessmentLink = Annotated[EvidenceLink, Depends(assessment_link)]


async def review_remarks(session: SessionDep) -> Callable[[Assessment], review_results.Summary | None]:
    """The trainer's remarks on a draft returned for changes, which the questionnaire pages show.

    Given to the assessments domain as a dependency: the reviews domain sits above it.
    """
    return partial(review_results.returned_review, session)


ReviewRemarks = Annotated[Callable[[Assessment], review_results.Summary | None], Depends(review_remarks)]


async def cohort_runner(user: CurrentUser) -> User:
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
        raise HTTPException(404, _(NOT_FOUND[Cohort]))
    return cohort


VisibleCohort = Annotated[Cohort, Depends(visible_cohort)]
