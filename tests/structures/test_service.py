"""Structures: creation, members, and a profile checked against the criteria file."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from app.catalog.service import Catalog
from app.db import AuditEntry
from app.errors import ServiceError
from app.structures import service
from tests.factories import director_with_structure


def test_a_profile_is_checked_and_stored(session: Session, catalog: Catalog) -> None:
    user, structure = director_with_structure(session)
    version = catalog.criteria_version("x60-600")
    values = {
        "type_structure": "association",
        "registres": ["veille_technique", "presence_proximite"],
        "presence_nocturne": True,
    }
    service.update_profile(session, structure=structure, version=version, values=values, actor=user)
    assert structure.profile["registres"] == ["presence_proximite", "veille_technique"]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "structure.profile")).one()
    assert entry.after == structure.profile
    assert entry.actor_id == user.id


def test_a_bad_profile_names_every_bad_field_and_changes_nothing(session: Session, catalog: Catalog) -> None:
    user, structure = director_with_structure(session)
    version = catalog.criteria_version("x60-600")
    bad = {"type_structure": "club", "registres": ["danse"], "presence_nocturne": "oui", "taille": 3}
    with pytest.raises(ServiceError) as refused:
        service.update_profile(session, structure=structure, version=version, values=bad, actor=user)
    assert set(refused.value.problems) == {"type_structure", "registres", "presence_nocturne", "taille"}
    session.refresh(structure)
    assert structure.profile == {}


def test_a_structure_needs_a_name(session: Session) -> None:
    with pytest.raises(ServiceError, match="obligatoire"):
        service.create(session, name=" ")
