"""Structures: create, attach members, and keep the profile that decides which criteria apply."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.accounts.models import User
from app.catalog.models import CriteriaVersion
from app.db import audit, pk
from app.structures.models import Membership, Structure


class ProfileError(ValueError):
    """Profile answers that do not fit the criteria file; `problems` maps field id → French message."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))


def create(session: Session, *, name: str, city: str = "", actor: User | None = None) -> Structure:
    if not name.strip():
        raise ValueError("Le nom de la structure est obligatoire.")
    structure = Structure(name=name.strip(), city=city.strip())
    session.add(structure)
    session.flush()
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="structure.create",
        obj=structure,
        structure_id=structure.id,
        after={"name": structure.name, "city": structure.city},
    )
    session.commit()
    session.refresh(structure)
    return structure


def add_member(
    session: Session, *, structure: Structure, user: User, actor: User | None = None
) -> Membership:
    membership = Membership(user_id=pk(user), structure_id=pk(structure))
    session.add(membership)
    session.flush()
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="membership.add",
        obj=membership,
        structure_id=structure.id,
        after={"user": user.email},
    )
    session.commit()
    return membership


def checked_profile(version: CriteriaVersion, values: dict[str, Any]) -> dict[str, Any]:
    """Keep known profile fields with valid values, or raise ProfileError naming each bad field."""
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for field_id, value in values.items():
        field = version.fields_by_id.get(field_id)
        options = [o.value for o in field.options] if field else []
        if field is None:
            problems[field_id] = "Question de profil inconnue."
        elif field.kind == "boolean" and not isinstance(value, bool):
            problems[field_id] = "Répondez par oui ou par non."
        elif field.kind == "choice" and value not in options:
            problems[field_id] = "Choisissez une des réponses proposées."
        elif field.kind == "multi" and (not isinstance(value, list) or not set(value) <= set(options)):
            problems[field_id] = "Choisissez parmi les réponses proposées."
        else:
            clean[field_id] = sorted(value) if field.kind == "multi" else value
    if problems:
        raise ProfileError(problems)
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
