"""The dependencies routes share: who is signed in, the catalog, and the objects a route may touch.

Every object dependency asks the one permission function (`app.accounts.permissions.can`) and
answers 404 when it says no, as if the object did not exist. Routes import these from here, never
from one another. `create_app` runs `optional_user` for every route, so each page's header
(`current_user()` in the base template) knows who is signed in without every route asking.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, TypeVar
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.permissions import Access, can, cohort_ids, reading, reading_evidence, runs_cohorts
from app.assessments.models import Assessment, AssessmentStatus, Evidence, EvidenceLink
from app.catalog.service import Catalog
from app.cohorts.models import Cohort
from app.db import SessionDep
from app.locale import N_, current_language
from app.locale import gettext as _
from app.reviews import results as review_results
from app.structures.models import Structure
from app.web import is_fragment

USER_KEY = "user_id"


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user while the account is active, else None; kept on `request.state` for templates."""
    user_id = request.session.get(USER_KEY)
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    active = user if user is not None and user.is_active else None
    request.state.user = active
    return active


OptionalUser = Annotated[User | None, Depends(optional_user)]


class SignInRequiredError(Exception):
    """An anonymous request to a page that needs a signed-in user."""


def current_user(user: OptionalUser) -> User:
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


def sign_in_url(next_path: str) -> str:
    return "/connexion?" + urlencode({"suivant": local_path(next_path)})


def local_path(value: str | None) -> str:
    """`value` when it is a path on this site, else "/": `suivant` never leads to another site.

    Browsers read `//host`, `/\\host` and paths with tabs or line breaks in them as other sites.
    """
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) < 32 or ord(char) == 127 for char in value)
    ):
        return "/"
    return value


def get_catalog(request: Request) -> Catalog:
    """The catalog loaded and validated at start-up, its texts in the request's language."""
    catalogs: dict[str, Catalog] = request.app.state.catalogs
    return catalogs.get(current_language()) or request.app.state.catalog


def get_canonical_catalog(request: Request) -> Catalog:
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


def _owned(session: Session, user: User, model: type[Owned], object_id: int, access: Access) -> Owned:
    """The object, if `user` may access its structure this way; else 404, as if it did not exist."""
    found = session.get(model, object_id)
    structure_id = found.id if isinstance(found, Structure) else found.structure_id if found else None
    if found is None or structure_id is None or not can(session, user, access, structure_id):
        raise HTTPException(404, _(NOT_FOUND[model]))
    return found


def readable_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    """A structure whose submitted assessments `user` may see at least (auditors under a grant)."""
    return _owned(session, user, Structure, structure_id, Access.SUBMITTED)


def writable_structure(session: SessionDep, user: CurrentUser, structure_id: int) -> Structure:
    return _owned(session, user, Structure, structure_id, Access.WRITE)


def readable(session: SessionDep, user: CurrentUser, assessment_id: int) -> Assessment:
    """An assessment `user` may read: a draft needs READ, a submitted one SUBMITTED (`reading`)."""
    found = session.get(Assessment, assessment_id)
    if found is None or not can(session, user, reading(found), found.structure_id):
        raise HTTPException(404, _(NOT_FOUND[Assessment]))
    return found


def writable(session: SessionDep, user: CurrentUser, assessment_id: int) -> Assessment:
    return _owned(session, user, Assessment, assessment_id, Access.WRITE)


def readable_evidence(session: SessionDep, user: CurrentUser, evidence_id: int) -> Evidence:
    """Evidence `user` may read: with READ, or with SUBMITTED once a submitted assessment relies on it."""
    return _owned(session, user, Evidence, evidence_id, reading_evidence(session, evidence_id))


def writable_evidence(session: SessionDep, user: CurrentUser, evidence_id: int) -> Evidence:
    return _owned(session, user, Evidence, evidence_id, Access.WRITE)


ReadableStructure = Annotated[Structure, Depends(readable_structure)]
WritableStructure = Annotated[Structure, Depends(writable_structure)]
Readable = Annotated[Assessment, Depends(readable)]
Writable = Annotated[Assessment, Depends(writable)]
ReadableEvidence = Annotated[Evidence, Depends(readable_evidence)]
WritableEvidence = Annotated[Evidence, Depends(writable_evidence)]


def may_write(session: SessionDep, user: CurrentUser, assessment: Readable) -> bool:
    """Whether the reader may change the assessment: a draft, in a structure they may write to."""
    return assessment.status == AssessmentStatus.DRAFT and can(
        session, user, Access.WRITE, assessment.structure_id
    )


MayWrite = Annotated[bool, Depends(may_write)]


def assessment_link(session: SessionDep, assessment: Writable, link_id: int) -> EvidenceLink:
    """A link of the assessment in the path, which the user may change."""
    link = session.get(EvidenceLink, link_id)
    if link is None or link.assessment_id != assessment.id:
        raise HTTPException(404, _(NOT_FOUND[EvidenceLink]))
    return link


AssessmentLink = Annotated[EvidenceLink, Depends(assessment_link)]


def review_remarks(session: SessionDep) -> Callable[[Assessment], review_results.Summary | None]:
    """The trainer's remarks on a draft returned for changes, which the questionnaire pages show.

    Given to the assessments domain as a dependency: the reviews domain sits above it.
    """
    return partial(review_results.returned_review, session)


ReviewRemarks = Annotated[Callable[[Assessment], review_results.Summary | None], Depends(review_remarks)]


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
        raise HTTPException(404, _(NOT_FOUND[Cohort]))
    return cohort


VisibleCohort = Annotated[Cohort, Depends(visible_cohort)]
