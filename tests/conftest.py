from __future__ import annotations

from pathlib import Path

import pytest

from app.catalog.loader import load_catalog
from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog
from app.config import PROJECT_ROOT

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The project's real criteria and questionnaires."""
    return load_catalog(PROJECT_ROOT)


@pytest.fixture(scope="session")
def mini_catalog() -> Catalog:
    """A six-criterion referential whose results are computed by hand in the tests."""
    return load_catalog(FIXTURES / "catalog")


@pytest.fixture(scope="session")
def mini(mini_catalog: Catalog) -> CriteriaVersion:
    return mini_catalog.criteria_version("mini@1.0.0")
