"""A structure's members page (its direction and administrators) and the invitation link's page.

`/structures/{id}/membres` needs `Access.DIRECT` (`DirectedStructure`): a contribution or lecture
member gets 403, anyone else 404. `/invitations/{secret}` is for the person invited, signed in or not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.db import SessionDep, pk
from app.deps import CurrentUser, DirectedStructure, start_session
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.members import service
from app.members.models import AcceptForm, Invitation, InviteForm, RoleForm
from app.structures import registry
from app.structures.models import MEMBER_ROLE_LABELS, MemberRole, Membership, Structure
from app.web import render

router = APIRouter()
NO_SUCH_MEMBER = N_("Cette personne n'est pas membre de cette structure.")
NO_SUCH_INVITATION = N_("Cette invitation n'existe pas pour cette structure.")


@router.get("/structures/{structure_id}/membres")
def members_page(request: Request, session: SessionDep, structure: DirectedStructure) -> Response:
    return render(request, "members/members.html", _context(session, structure))


def _context(session: Session, structure: Structure, **extra: Any) -> dict[str, Any]:
    return {
        "structure": structure,
        "members": registry.members_of(session, structure_id=pk(structure)),
        "invitations": service.invitations_of(session, structure_id=pk(structure)),
        "roles": MEMBER_ROLE_LABELS,
        "errors": {},
        "posted": {"email": "", "role": MemberRole.CONTRIBUTION.value},
        "sent": None,
    } | extra


@router.post("/structures/{structure_id}/membres")
def invite(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    structure: DirectedStructure,
    form: Annotated[InviteForm, Form()],
) -> Response:
    """Invite by e-mail; the same answer whether the address had an account or not."""
    try:
        service.invite(session, structure=structure, email=form.email, role=form.role, actor=user)
    except ServiceError as error:
        context = _context(session, structure, errors=error.problems, posted=form.model_dump())
        return render(request, "members/members.html", context, status_code=error.status)
    return RedirectResponse(f"/structures/{structure.id}/membres?envoyee=1", status_code=303)


def _membership(session: Session, structure: Structure, membership_id: int) -> Membership:
    found = session.get(Membership, membership_id)
    if found is None or found.structure_id != structure.id:
        raise HTTPException(404, _(NO_SUCH_MEMBER))
    return found


@router.post("/structures/{structure_id}/membres/{membership_id}/role")
def change_role(
    request: Request,
    *,
    session: SessionDep,
    user: CurrentUser,
    structure: DirectedStructure,
    membership_id: int,
    form: Annotated[RoleForm, Form()],
) -> Response:
    membership = _membership(session, structure, membership_id)
    try:
        registry.change_role(session, membership=membership, role=form.role, actor=user)
    except ServiceError as error:
        context = _context(session, structure, errors={f"member-{membership_id}": error.message})
        return render(request, "members/members.html", context, status_code=error.status)
    return RedirectResponse(f"/structures/{structure.id}/membres", status_code=303)


@router.post("/structures/{structure_id}/membres/{membership_id}/retirer")
def remove(
    request: Request, session: SessionDep, user: CurrentUser, structure: DirectedStructure, membership_id: int
) -> Response:
    membership = _membership(session, structure, membership_id)
    try:
        registry.remove_member(session, membership=membership, actor=user)
    except ServiceError as error:
        context = _context(session, structure, errors={f"member-{membership_id}": error.message})
        return render(request, "members/members.html", context, status_code=error.status)
    return RedirectResponse(f"/structures/{structure.id}/membres", status_code=303)


def _invitation(session: Session, structure: Structure, invitation_id: int) -> Invitation:
    found = session.get(Invitation, invitation_id)
    if found is None or found.structure_id != structure.id:
        raise HTTPException(404, _(NO_SUCH_INVITATION))
    return found


@router.post("/structures/{structure_id}/invitations/{invitation_id}/renvoyer")
def resend(
    session: SessionDep, user: CurrentUser, structure: DirectedStructure, invitation_id: int
) -> Response:
    service.resend(session, invitation=_invitation(session, structure, invitation_id), actor=user)
    return RedirectResponse(f"/structures/{structure.id}/membres?envoyee=1", status_code=303)


@router.post("/structures/{structure_id}/invitations/{invitation_id}/revoquer")
def revoke(
    session: SessionDep, user: CurrentUser, structure: DirectedStructure, invitation_id: int
) -> Response:
    service.revoke(session, invitation=_invitation(session, structure, invitation_id), actor=user)
    return RedirectResponse(f"/structures/{structure.id}/membres", status_code=303)


# The invitee's side: the link from the e-mail.


@router.get("/invitations/{secret}")
def accept_page(request: Request, session: SessionDep, secret: str) -> Response:
    try:
        invitation = service.pending_invitation(session, secret=secret)
    except service.InvitationLinkError as error:
        return _refused(request, error)
    return render(request, "members/accept.html", _accept_context(session, invitation, secret))


@router.post("/invitations/{secret}")
def accept(
    request: Request, session: SessionDep, secret: str, form: Annotated[AcceptForm, Form()]
) -> Response:
    """Create the account, sign it in on this browser, and open the structure."""
    try:
        user, membership = service.accept(
            session,
            secret=secret,
            name=form.name,
            password=form.password,
            confirmation=form.password_confirmation,
        )
    except service.InvitationLinkError as error:
        return _refused(request, error)
    except ServiceError as error:
        invitation = service.pending_invitation(session, secret=secret)
        context = _accept_context(session, invitation, secret, errors=error.problems, name=form.name)
        return render(request, "members/accept.html", context, status_code=error.status)
    start_session(request, session, user)
    return RedirectResponse(f"/structures/{membership.structure_id}", status_code=303)


def _accept_context(session: Session, invitation: Invitation, secret: str, **extra: Any) -> dict[str, Any]:
    structure = session.get(Structure, invitation.structure_id)
    return {
        "invitation": invitation,
        "structure": structure,
        "secret": secret,
        "errors": {},
        "name": "",
    } | extra


def _refused(request: Request, error: service.InvitationLinkError) -> Response:
    return render(request, "members/refused.html", {"error": error}, status_code=error.status)
