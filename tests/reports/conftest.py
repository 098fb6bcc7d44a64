"""Fixtures the report tests share: a director with a structure of their own."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from app.accounts.models import User
from app.structures.models import Structure
from tests.reports.helpers import member


@pytest.fixture
def director(app: FastAPI) -> tuple[User, Structure]:
    """directrice@example.org, director of « Médiation du Nord »."""
    user, structure = member(app, "directrice@example.org", structure_name="Médiation du Nord")
    assert structure is not None
    return user, structure
