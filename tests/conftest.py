from __future__ import annotations

import inspect
import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher, profiles
from fastapi import FastAPI
from fastapi.dependencies import utils as fastapi_dependencies
from sqlalchemy import Engine
from sqlmodel import Session

from app import db, main, web
from app.accounts import service as accounts
from app.catalog.loader import load_catalog
from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog
from app.config import PROJECT_ROOT, Settings
from app.db import make_engine, upgrade
from app.main import create_app
from tests.compiled_templates import SharedCompiledTemplates
from tests.postgres import PostgresServer
from tests.smtp import Inbox, free_port

FIXTURES = Path(__file__).parent / "fixtures"
_DATABASE_NUMBERS = itertools.count(1)


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


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Hash passwords with Argon2's cheapest parameters in tests, as Django's test settings do.

    The production parameters cost about 0.15 s of CPU a hash or a check, and nearly every test
    creates accounts and signs in: they made up a third of the suite's time. Hashing stays Argon2id,
    with its salt and verification; `production_password_hashes` restores the real parameters
    where they are what a test is about.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(scope="session", autouse=True)
def app_start_up_once() -> Iterator[None]:
    """Share between the tests' apps what every app makes the same way from the same files.

    Each test creates its own app, and the app's set-up (its templates compiled, the catalog's
    translation files read) then cost more than many tests themselves. The compiled templates are
    shared through a Jinja bytecode cache (`tests.compiled_templates`). The translated catalogs are
    kept per catalog object: `load_catalog` returns the same object only while every file under the
    catalog's folder is unchanged, translation files included, and catalogs are frozen. FastAPI
    reads each route function's signature once (`_signature_read_once`).
    """
    compiled = SharedCompiledTemplates()
    translated: dict[int, tuple[Catalog, dict[str, Catalog]]] = {}

    class Templates(web.Jinja2Templates):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.env.bytecode_cache = compiled

    def by_language(catalog: Catalog) -> dict[str, Catalog]:
        if id(catalog) not in translated:  # the catalog is kept with its languages, so its id stays its own
            translated[id(catalog)] = (catalog, original_by_language(catalog))
        return dict(translated[id(catalog)][1])  # a test changing its app's mapping changes only that

    original_by_language = main.by_language
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(web, "Jinja2Templates", Templates)
        patch.setattr(main, "by_language", by_language)
        patch.setattr(fastapi_dependencies, "get_typed_signature", _signature_read_once())
        yield


def _signature_read_once() -> Callable[[Callable[..., Any]], inspect.Signature]:
    """FastAPI's `get_typed_signature`, kept per function.

    FastAPI analyses a router's routes and their dependencies in each app, at its first request,
    and reading the signatures (string annotations resolved in the module's globals) was a quarter
    of the CPU time of a test's requests. A function's signature is its own, and the globals its
    annotations name are set once its module is imported; each function is kept with its signature,
    so its id stays its own.
    """
    original = fastapi_dependencies.get_typed_signature
    signatures: dict[int, tuple[Callable[..., Any], inspect.Signature]] = {}

    def get_typed_signature(call: Callable[..., Any]) -> inspect.Signature:
        if id(call) not in signatures:
            signatures[id(call)] = (call, original(call))
        return signatures[id(call)][1]

    return get_typed_signature


@pytest.fixture
def production_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The application's own Argon2 parameters, for the tests about them."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher())


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Every test that uses the database runs once on SQLite and once on PostgreSQL."""
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the PostgreSQL run of tests marked `sqlite_only`: they would only repeat the SQLite one.

    What depends on the database (queries, locks, constraints, migrations) runs on both; a PDF,
    a workbook parser or a page's wording does not, and running it twice cost minutes a run.
    """
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        twice = callspec is not None and callspec.params.get("database_kind") == "postgresql"
        (dropped if twice and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def migrated_template(
    database_kind: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    """A database migrated once per session; each test gets a copy of it."""
    if database_kind == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
        url = f"sqlite:///{path}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        server.execute("CREATE DATABASE template_autodiag")
        url = server.url("template_autodiag")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def database_url(
    database_kind: str, migrated_template: str, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    """A fresh, migrated database for one test."""
    if database_kind == "sqlite":
        copy = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_template.removeprefix("sqlite:///"), copy)
        return f"sqlite:///{copy}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"test_{next(_DATABASE_NUMBERS)}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE template_autodiag")
    return server.url(name)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    """The web app on a fresh database; its connections are closed after the test.

    Closing matters on PostgreSQL: every test has its own database, and connections left in the
    pools of earlier tests' apps would exhaust the server's `max_connections`.

    The database is a copy of the migrated template: the app's migration at start-up would find
    nothing to do, and loading Alembic and every migration script to find that out was half of
    `create_app`. It is skipped here; the start-up migration is tested where the database is new
    (`tests/test_startup.py`, and the tests that call `create_app` themselves).
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "upgrade", lambda _engine: None)
        application = create_app(Settings(database_url=database_url, data_dir=tmp_path, environment="test"))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A running SMTP server: its inbox and its port."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()
