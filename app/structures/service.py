"""Structures: create, attach members, keep the profile, and let named auditors read the results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts import notifications
from app.accounts.models import Role, User
from app.accounts.permissions import running_grants
from app.catalog.models import CriteriaVersion, Questionnaire
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.locale import gettext as _
from app.structures.models import AuditorGrant, MemberRole, Membership, Structure
from app.structures.registry import checked_details

GRANT_MAX_DAYS = 2 * 366
"""A grant lasts at most about two years: the AFNOR cycle audits every two years."""

PROFILE_QUESTIONNAIRE = "full"
"""The profile questions asked are the full questionnaire's: it asks every one the criteria use."""


def create(
    session: Session,
    *,
    name: str,
    city: str = "",
    legal_form: str = "",
    siret: str = "",
    actor: User | None = None,
) -> Structure:
    """Create a structure; refuse an empty name, an unknown legal form or a SIRET whose key is wrong."""
    details = checked_details(name=name, city=city, legal_form=legal_form, siret=siret)
    structure = Structure(
        name=details.name, city=details.city, legal_form=details.legal_form, siret=details.siret
    )
    session.add(structure)
    session.flush()
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="structure.create",
        obj=structure,
        structure_id=structure.id,
        after=details.values(),
    )
    session.commit()
    session.refresh(structure)
    return structure


def add_member(
    session: Session,
    *,
    structure: Structure,
    user: User,
    role: MemberRole = MemberRole.DIRECTION,
    actor: User | None = None,
    commit: bool = True,
) -> Membership:
    """Make `user` a member of the structure with `role`; `commit=False` leaves it to the caller's use case."""
    membership = Membership(user_id=pk(user), structure_id=pk(structure), role=role)
    session.add(membership)
    try:
        session.flush()
    except IntegrityError:  # added by someone else meanwhile
        session.rollback()
        message = _("« %(email)s » est déjà membre de cette structure.") % {"email": user.email}
        raise ServiceError(message, field="email") from None
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="membership.add",
        obj=membership,
        structure_id=structure.id,
        after={"user": user.email, "role": role.value},
    )
    if commit:
        session.commit()
    return membership


def checked_profile(version: CriteriaVersion, values: dict[str, Any]) -> dict[str, Any]:
    """Keep known profile fields with valid values, or raise ServiceError naming each bad field."""
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for field_id, value in values.items():
        field = version.fields_by_id.get(field_id)
        options = [o.value for o in field.options] if field else []
        if field is None:
            problems[field_id] = _("Question de profil inconnue.")
        elif field.kind == "boolean" and not isinstance(value, bool):
            problems[field_id] = _("Répondez par oui ou par non.")
        elif field.kind == "choice" and value not in options:
            problems[field_id] = _("Choisissez une des réponses proposées.")
        elif field.kind == "multi" and (not isinstance(value, list) or not set(value) <= set(options)):
            problems[field_id] = _("Choisissez parmi les réponses proposées.")
        else:
            clean[field_id] = sorted(value) if field.kind == "multi" else value
    if problems:
        raise ServiceError(problems=problems)
    return clean


def update_profile(
    session: Session, *, structure: Structure, version: CriteriaVersion, values: dict[str, Any], actor: User
) -> Structure:
    """Replace the structure's profile with checked answers."""
    profile = checked_profile(version, values)
    before = dict(structure.profile)
    structure.profile = profile
    session.add(structure)
    audit(
        session,
        actor_id=actor.id,
        action="structure.profile",
        obj=structure,
        structure_id=structure.id,
        before=before,
        after=profile,
    )
    session.commit()
    session.refresh(structure)
    return structure


@dataclass(frozen=True)
class GrantRow:
    grant: AuditorGrant
    auditor: User
    state: Literal["active", "expired", "revoked"]


def grant_auditor(
    session: Session,
    *,
    structure: Structure,
    email: str,
    expires_on: str,
    actor: User,
    today: date | None = None,
) -> AuditorGrant:
    """Let an active auditor account read the structure's submitted assessments until `expires_on`."""
    today = today or datetime.now(UTC).date()
    problems: dict[str, str] = {}
    auditor = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if not email.strip():
        problems["email"] = _("Saisissez l'adresse électronique du compte de l'auditeur·rice.")
    elif auditor is None or not auditor.is_active:
        problems["email"] = _("Aucun compte actif n'a l'adresse « %(email)s ».") % {"email": email.strip()}
    elif auditor.role != Role.AUDITOR:
        problems["email"] = _("Le compte « %(email)s » n'est pas un compte d'auditeur·rice.") % {
            "email": auditor.email
        }
    elif running_grants(session, auditor_id=pk(auditor), today=today).get(pk(structure)):
        problems["email"] = _("Cet·te auditeur·rice a déjà un accès en cours : révoquez-le d'abord.")
    until = _grant_date(expires_on, today, problems)
    if problems or auditor is None or until is None:
        raise ServiceError(problems=problems)
    grant = AuditorGrant(
        structure_id=pk(structure), auditor_id=pk(auditor), expires_on=until, granted_by=pk(actor)
    )
    session.add(grant)
    session.flush()
    after = {"auditor": auditor.email, "expires_on": until.isoformat()}
    audit(
        session, actor_id=actor.id, action="grant.create", obj=grant, structure_id=structure.id, after=after
    )
    notifications.notify(
        session,
        users=[auditor],
        notice=notifications.Notice.GRANTS,
        event_key=f"grant_created:{grant.id}",
        template="auditor_grant",
        context={
            "structure": structure.name,
            "person": actor.name,
            "until": until,
            "path": f"/structures/{structure.id}",
        },
    )
    session.commit()
    session.refresh(grant)
    return grant


def _grant_date(value: str, today: date, problems: dict[str, str]) -> date | None:
    try:
        until = date.fromisoformat(value.strip())
    except ValueError:
        problems["expires_on"] = _("Saisissez une date valide (jour/mois/année).")
        return None
    if until < today:
        problems["expires_on"] = _("Cette date est passée : choisissez aujourd'hui ou une date à venir.")
    elif until > today + timedelta(days=GRANT_MAX_DAYS):
        problems["expires_on"] = _("Un accès dure au plus deux ans : choisissez une date plus proche.")
    return until


def revoke_grant(session: Session, *, grant: AuditorGrant, actor: User) -> None:
    """End a grant now; revoking it again changes nothing."""
    if grant.revoked_at is not None:
        return
    grant.revoked_at, grant.revoked_by = utcnow(), pk(actor)
    session.add(grant)
    audit(
        session,
        actor_id=actor.id,
        action="grant.revoke",
        obj=grant,
        structure_id=grant.structure_id,
        before={"expires_on": grant.expires_on.isoformat()},
    )
    session.commit()


def grants_of(session: Session, *, structure_id: int, today: date | None = None) -> list[GrantRow]:
    """Every grant of a structure, newest first, with its auditor and whether it still runs."""
    today = today or datetime.now(UTC).date()
    query = (
        select(AuditorGrant, User)
        .join(User, col(User.id) == col(AuditorGrant.auditor_id))
        .where(AuditorGrant.structure_id == structure_id)
        .order_by(col(AuditorGrant.id).desc())
    )
    rows = []
    for grant, auditor in session.exec(query):
        state: Literal["active", "expired", "revoked"] = "active"
        if grant.revoked_at is not None:
            state = "revoked"
        elif grant.expires_on < today:
            state = "expired"
        rows.append(GrantRow(grant, auditor, state))
    return rows


def profile_summary(
    questionnaire: Questionnaire, version: CriteriaVersion, profile: dict[str, Any]
) -> list[tuple[str, str]]:
    """Each profile question's label with the answer in words ("Non renseigné" when missing)."""
    fields = version.fields_by_id
    summary = []
    for question in questionnaire.profile:
        field, value = fields[question.field], profile.get(question.field)
        labels = {o.value: o.label for o in field.options}
        if value is None:
            text = _("Non renseigné")
        elif field.kind == "boolean":
            text = _("Oui") if value else _("Non")
        elif field.kind == "multi":
            text = " ; ".join(labels.get(v, v) for v in value) or _("Aucun")
        else:
            text = labels.get(value, str(value))
        summary.append((field.label, text))
    return summary
