"""Invitations into a structure: invite by e-mail with a role, resend, revoke, accept with a password.

The secret travels only in the e-mail's link; the table keeps its SHA-256 (`hash_token`). Every
change is in the audit log and its e-mail is queued in the same transaction (`app.mail.enqueue`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.models import Role, User
from app.accounts.service import EMAIL, hash_password, password_problems
from app.accounts.tokens import hash_token
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.locale import N_, current_language
from app.locale import gettext as _
from app.mail.service import enqueue
from app.members.models import INVITATION_DAYS, Invitation
from app.structures import service as structures
from app.structures.models import MEMBER_ROLE_LABELS, MemberRole, Membership, Structure
from app.structures.registry import parsed_role

LINK_REFUSALS = {
    "unknown": N_(
        "Ce lien d'invitation n'est pas valide. Vérifiez qu'il a été copié en entier, ou demandez une nouvelle invitation."
    ),
    "expired": N_(
        "Ce lien d'invitation a expiré : il était valable sept jours. Demandez à la personne qui vous a invité·e de vous l'envoyer à nouveau."
    ),
    "accepted": N_(
        "Cette invitation a déjà été acceptée : un lien d'invitation ne sert qu'une fois. Connectez-vous avec votre adresse et votre mot de passe."
    ),
    "revoked": N_(
        "Cette invitation a été annulée ou remplacée par une plus récente. Utilisez le lien du dernier message reçu, ou demandez une nouvelle invitation."
    ),
}


class InvitationLinkError(ServiceError):
    """A link that does not (or no longer) lead to a pending invitation; `reason` is a key of LINK_REFUSALS."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(_(LINK_REFUSALS[reason]), status=404 if reason == "unknown" else 410)


@dataclass(frozen=True)
class Invited:
    """What inviting did: a pending invitation, or an existing account added at once."""

    invitation: Invitation | None
    membership: Membership | None


def invite(session: Session, *, structure: Structure, email: str, role: str, actor: User | None) -> Invited:
    """Invite `email` into the structure with `role`; an existing account becomes a member at once."""
    address, chosen = _checked(session, structure=structure, email=email, role=role)
    account = session.exec(select(User).where(User.email == address)).first()
    if account is not None:
        membership = _add_existing(session, structure=structure, account=account, role=chosen, actor=actor)
        session.commit()
        return Invited(None, membership)
    invitation = _new_invitation(session, structure=structure, email=address, role=chosen, actor=actor)
    session.commit()
    return Invited(invitation, None)


def _add_existing(
    session: Session, *, structure: Structure, account: User, role: MemberRole, actor: User | None
) -> Membership:
    """Make an existing account a member and tell them by e-mail (not a deactivated one)."""
    membership = structures.add_member(
        session, structure=structure, user=account, role=role, actor=actor, commit=False
    )
    if account.is_active:
        context = {
            "name": account.name,
            "structure": structure.name,
            "role": MEMBER_ROLE_LABELS[role],
            "path": f"/structures/{pk(structure)}",
        }
        enqueue(
            session,
            event_key=f"member_added:{pk(membership)}",
            to=account.email,
            template="member_added",
            context=context,
            language=account.language,
        )
    return membership


def _checked(session: Session, *, structure: Structure, email: str, role: str) -> tuple[str, MemberRole]:
    address = email.strip().lower()
    problems = {}
    if len(address) > 254 or not EMAIL.fullmatch(address):
        problems["email"] = _("L'adresse électronique « %(email)s » n'est pas valide.") % {
            "email": email.strip()
        }
    elif _member(session, structure_id=pk(structure), email=address):
        problems["email"] = _("« %(email)s » est déjà membre de cette structure.") % {"email": address}
    elif _pending(session, structure_id=pk(structure), email=address):
        problems["email"] = _(
            "Une invitation attend déjà une réponse de « %(email)s » : renvoyez-la plutôt."
        ) % {"email": address}
    try:
        chosen = parsed_role(role)
    except ServiceError as error:
        problems |= error.problems
    if problems:
        raise ServiceError(problems=problems)
    return address, chosen


def _member(session: Session, *, structure_id: int, email: str) -> bool:
    query = (
        select(Membership.id)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.structure_id == structure_id, User.email == email)
    )
    return session.exec(query).first() is not None


def _pending(session: Session, *, structure_id: int, email: str) -> Invitation | None:
    query = select(Invitation).where(
        Invitation.structure_id == structure_id,
        Invitation.email == email,
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
        col(Invitation.expires_at) > utcnow(),
    )
    return session.exec(query).first()


def _new_invitation(
    session: Session,
    *,
    structure: Structure,
    email: str,
    role: MemberRole,
    actor: User | None,
    action: str = "invitation.create",
) -> Invitation:
    """Add an invitation and queue its e-mail carrying the secret, which is kept nowhere else."""
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(
        structure_id=pk(structure),
        email=email,
        role=role,
        token_hash=hash_token(secret),
        invited_by=actor.id if actor else None,
    )
    session.add(invitation)
    session.flush()
    context = {
        "inviter": actor.name if actor else "",
        "structure": structure.name,
        "role": MEMBER_ROLE_LABELS[role],
        "path": f"/invitations/{secret}",
        "days": INVITATION_DAYS,
    }
    enqueue(
        session,
        event_key=f"invitation:{pk(invitation)}",
        to=email,
        template="invitation",
        context=context,
        language=actor.language if actor and actor.language else current_language(),
    )
    after = {"email": email, "role": role.value, "expires_at": invitation.expires_at.isoformat()}
    audit(
        session,
        actor_id=actor.id if actor else None,
        action=action,
        obj=invitation,
        structure_id=structure.id,
        after=after,
    )
    return invitation


def resend(session: Session, *, invitation: Invitation, actor: User | None) -> Invitation:
    """Send a new link for a pending or expired invitation; the old link stops working."""
    if invitation.accepted_at is not None:
        raise ServiceError(_("Cette invitation a déjà été acceptée."), status=409)
    if invitation.revoked_at is not None:
        raise ServiceError(_("Cette invitation a été annulée ou déjà renvoyée."), status=409)
    structure = session.get(Structure, invitation.structure_id)
    assert structure is not None  # a foreign key
    invitation.revoked_at = utcnow()
    session.add(invitation)
    renewed = _new_invitation(
        session,
        structure=structure,
        email=invitation.email,
        role=invitation.role,
        actor=actor,
        action="invitation.resend",
    )
    session.commit()
    return renewed


def revoke(session: Session, *, invitation: Invitation, actor: User | None) -> None:
    """Cancel a pending invitation: its link stops working; revoking it again changes nothing."""
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        return
    invitation.revoked_at = utcnow()
    session.add(invitation)
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="invitation.revoke",
        obj=invitation,
        structure_id=invitation.structure_id,
        before={"email": invitation.email, "role": invitation.role.value},
    )
    session.commit()


def pending_invitation(session: Session, *, secret: str) -> Invitation:
    """The invitation this link's secret opens, or InvitationLinkError saying why not."""
    found = session.exec(select(Invitation).where(Invitation.token_hash == hash_token(secret))).first()
    if found is None:
        raise InvitationLinkError("unknown")
    state = found.state(utcnow())
    if state != "pending":
        raise InvitationLinkError(state)
    return found


def accept(
    session: Session, *, secret: str, name: str, password: str, confirmation: str
) -> tuple[User, Membership]:
    """Create the invitee's account with the name and password they chose, and make them a member."""
    invitation = pending_invitation(session, secret=secret)
    name = name.strip()
    problems = {}
    if not name or len(name) > 120:
        problems["name"] = _("Le nom doit compter entre 1 et 120 caractères.")
    if problem := password_problems(password, email=invitation.email, name=name):
        problems["password"] = problem
    elif password != confirmation:
        problems["password_confirmation"] = _("Les deux mots de passe saisis sont différents.")
    if problems:
        raise ServiceError(problems=problems)
    user = User(email=invitation.email, name=name, role=Role.DIRECTOR, password_hash=hash_password(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # an account with this address was created meanwhile
        session.rollback()
        raise InvitationLinkError("accepted") from None
    audit(
        session,
        actor_id=user.id,
        action="user.create",
        obj=user,
        after={"email": user.email, "name": name, "role": user.role.value, "is_active": True},
    )
    return _join(session, invitation=invitation, user=user)


def _join(session: Session, *, invitation: Invitation, user: User) -> tuple[User, Membership]:
    structure = session.get(Structure, invitation.structure_id)
    assert structure is not None  # a foreign key
    membership = structures.add_member(
        session, structure=structure, user=user, role=invitation.role, actor=user, commit=False
    )
    invitation.accepted_at, invitation.accepted_by = utcnow(), pk(user)
    session.add(invitation)
    audit(
        session,
        actor_id=user.id,
        action="invitation.accept",
        obj=invitation,
        structure_id=structure.id,
        after={"email": user.email, "role": invitation.role.value},
    )
    session.commit()
    session.refresh(user)
    return user, membership


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    state: str


def invitations_of(session: Session, *, structure_id: int) -> list[InvitationRow]:
    """The structure's invitations not yet accepted nor replaced, newest first, with their state."""
    query = (
        select(Invitation)
        .where(
            Invitation.structure_id == structure_id,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .order_by(col(Invitation.id).desc())
    )
    now = utcnow()
    return [InvitationRow(row, row.state(now)) for row in session.exec(query)]
