"""Structures as the administration keeps them: legal details, archiving, and members' roles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from app.accounts.models import User
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.locale import gettext as _
from app.structures.models import LEGAL_FORMS, MemberRole, Membership, Structure

LA_POSTE_SIREN = "356000000"
"""La Poste's SIREN: its establishments' SIRETs follow another key (digits summing to a multiple of 5)."""


def siret_is_valid(siret: str) -> bool:
    """Whether `siret` is 14 digits whose Luhn key holds (La Poste's establishments by their own rule)."""
    if len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith(LA_POSTE_SIREN):
        return sum(int(digit) for digit in siret) % 5 == 0
    total = 0
    for position, digit in enumerate(reversed(siret)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


@dataclass(frozen=True)
class Details:
    name: str
    city: str
    legal_form: str
    siret: str

    def values(self) -> dict[str, str]:
        return {"name": self.name, "city": self.city, "legal_form": self.legal_form, "siret": self.siret}


def checked_details(*, name: str, city: str, legal_form: str, siret: str) -> Details:
    """The details cleaned up, or ServiceError naming each field that is wrong."""
    details = Details(name.strip(), city.strip(), legal_form.strip(), "".join(siret.split()))
    problems = {}
    if not details.name or len(details.name) > 200:
        problems["name"] = _("Le nom de la structure est obligatoire (200 caractères au plus).")
    if len(details.city) > 120:
        problems["city"] = _("La ville compte 120 caractères au plus.")
    if details.legal_form and details.legal_form not in LEGAL_FORMS:
        problems["legal_form"] = _("Choisissez une des formes juridiques proposées.")
    if details.siret and not siret_is_valid(details.siret):
        problems["siret"] = _(
            "Le SIRET « %(siret)s » n'est pas valide : 14 chiffres dont le dernier est une clé de contrôle."
        ) % {"siret": details.siret}
    if problems:
        raise ServiceError(problems=problems)
    return details


def update_details(
    session: Session, *, structure: Structure, actor: User, name: str, city: str, legal_form: str, siret: str
) -> Structure:
    """Change a structure's name, city, legal form and SIRET."""
    details = checked_details(name=name, city=city, legal_form=legal_form, siret=siret)
    before = {key: getattr(structure, key) for key in details.values()}
    for key, value in details.values().items():
        setattr(structure, key, value)
    session.add(structure)
    audit(
        session,
        actor_id=actor.id,
        action="structure.update",
        obj=structure,
        structure_id=structure.id,
        before=before,
        after=details.values(),
    )
    session.commit()
    session.refresh(structure)
    return structure


def set_archived(session: Session, *, structure: Structure, archived: bool, actor: User | None) -> None:
    """Archive a structure (read-only everywhere, out of lists) or restore it; doing it twice changes nothing."""
    if (structure.archived_at is not None) == archived:
        return
    before = {"archived_at": structure.archived_at}
    structure.archived_at = utcnow() if archived else None
    session.add(structure)
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="structure.archive" if archived else "structure.restore",
        obj=structure,
        structure_id=structure.id,
        before=before,
        after={"archived_at": structure.archived_at},
    )
    session.commit()


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    user: User


def members_of(session: Session, *, structure_id: int) -> list[MemberRow]:
    """The structure's members with their accounts, by name."""
    query = (
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.structure_id == structure_id)
        .order_by(col(User.name), col(User.id))
    )
    return [MemberRow(membership, user) for membership, user in session.exec(query)]


def parsed_role(value: str) -> MemberRole:
    """The role named `value`, or ServiceError on the `role` field."""
    try:
        return MemberRole(value.strip())
    except ValueError:
        raise ServiceError(_("Choisissez un des rôles proposés."), field="role") from None


def change_role(session: Session, *, membership: Membership, role: str, actor: User | None) -> Membership:
    """Give a member another role; the last `direction` member keeps theirs, so someone still directs."""
    new = parsed_role(role)
    if new == membership.role:
        return membership
    if membership.role == MemberRole.DIRECTION:
        _keep_a_director(session, membership)
    before = {"role": membership.role.value}
    membership.role = new
    session.add(membership)
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="membership.role",
        obj=membership,
        structure_id=membership.structure_id,
        before=before,
        after={"role": new.value},
    )
    session.commit()
    return membership


def remove_member(session: Session, *, membership: Membership, actor: User | None) -> None:
    """Take a member out of the structure; the last `direction` member stays."""
    if membership.role == MemberRole.DIRECTION:
        _keep_a_director(session, membership)
    user = session.get(User, membership.user_id)
    before = {"user": user.email if user else membership.user_id, "role": membership.role.value}
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="membership.remove",
        obj=membership,
        structure_id=membership.structure_id,
        before=before,
    )
    session.delete(membership)
    session.commit()


def _keep_a_director(session: Session, membership: Membership) -> None:
    directors = select(func.count()).where(
        Membership.structure_id == membership.structure_id,
        Membership.role == MemberRole.DIRECTION,
        col(Membership.id) != pk(membership),
    )
    if session.exec(directors).one() == 0:
        raise ServiceError(
            _("C'est le dernier membre de la direction : donnez d'abord ce rôle à quelqu'un d'autre."),
            field="role",
        )
