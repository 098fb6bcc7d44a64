"""Build the web application: settings, catalog, database, templates, sessions, routes."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from app.accounts.account_routes import router as account_router
from app.accounts.permissions import administers, runs_cohorts
from app.accounts.routes import router as accounts_router
from app.admin.routes import router as admin_router
from app.admin.structure_routes import router as admin_structures_router
from app.api.auth import MESSAGES, error_response
from app.api.routes import create_api, well_known
from app.assessments import cards as question_cards
from app.assessments.routes import router as assessments_router
from app.assessments.snapshot import load_or_create_signer
from app.assessments.version_routes import router as versions_router
from app.assessments.workbook_routes import router as workbook_router
from app.catalog.loader import load_catalog
from app.catalog.routes import router as catalog_router
from app.catalog.translations import by_language
from app.cohorts.routes import router as cohorts_router
from app.config import Settings
from app.config import settings as default_settings
from app.cycle.routes import router as cycle_router
from app.db import open_database
from app.deps import SignInRequiredError, optional_user, sign_in_redirect
from app.errors import ServiceError, http_error, invalid_request, service_error
from app.limits import BodyLimit, ConcurrencyGuard, CsrfGate, ids_in_range, upload_routes
from app.mail.sender import MailWorker
from app.mail.service import pending_count
from app.members.routes import router as members_router
from app.observability import RequestObserver, configure_logging, metrics_endpoint, watch_outbox, watch_pool
from app.privacy.routes import router as privacy_router
from app.reports import cards as gap_cards
from app.reports.document_routes import router as documents_router
from app.reports.routes import router as reports_router
from app.reviews.routes import router as reviews_router
from app.scoring.views import gap_action, reason
from app.structures.routes import router as structures_router
from app.web import (
    NOT_COMPRESSED,
    LocaleAndHeaders,
    VersionedStaticFiles,
    check_csrf,
    make_templates,
    session_middleware,
)

WEB_ROUTERS = (
    assessments_router,
    reports_router,
    catalog_router,
    accounts_router,
    account_router,
    structures_router,
    workbook_router,
    versions_router,
    documents_router,
    cohorts_router,
    cycle_router,
    reviews_router,
    members_router,
    admin_router,
    admin_structures_router,
    privacy_router,
    well_known,
)
"""The pages' routers, those asked most first (questionnaire and autosave, results): a request is
matched against each route in turn. No two of them have paths one address could match
(tests/test_layout.py checks it), so their order changes no answer."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Create the app; refuse to start unless every criteria and questionnaire file is valid."""
    settings = settings or default_settings
    app = FastAPI(
        title="Autodiag Médiation",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
        middleware=_middleware(settings),
        dependencies=[Depends(ids_in_range), Depends(optional_user), Depends(check_csrf)],
    )
    app.state.settings = settings
    app.state.catalog = load_catalog(settings.catalog_dir)
    app.state.catalogs = by_language(app.state.catalog)
    app.state.engine = open_database(settings)
    _observe(app, settings)
    # runs_cohorts, administers: menu links; reason, gap_action: the scoring core's codes as sentences
    app.state.templates = make_templates(
        settings,
        runs_cohorts=runs_cohorts,
        administers=administers,
        reason=reason,
        gap_action=gap_action,
        question_part=question_cards.question_part,
        gap_card=gap_cards.gap_card,
    )
    app.state.signer = load_or_create_signer(settings.data_dir, settings.snapshot_signing_key)
    # Routes are tried in order, each included router route by route: the cheapest answers and the
    # API (its own application, under a prefix no web page uses) before the pages (`WEB_ROUTERS`).
    # /healthz is built apart so that it has none of the app-wide dependencies.
    app.router.routes.append(APIRoute("/healthz", _healthz, include_in_schema=False))
    app.mount("/static", VersionedStaticFiles(directory=settings.static_dir), name="static")
    app.mount("/api/v1", create_api(app.state))
    for router in WEB_ROUTERS:
        app.include_router(router)
    app.state.upload_routes = upload_routes(app.routes)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(ServiceError, service_error)  # type: ignore[arg-type]
    app.add_exception_handler(SignInRequiredError, sign_in_redirect)
    return app


async def _healthz(request: Request) -> dict[str, object]:
    """Built without the app-wide dependencies: it needs no session, no user, no thread."""
    return {"status": "ok", "criteria_versions": sorted(request.app.state.catalog.criteria)}


def _middleware(settings: Settings) -> list[Middleware]:
    """Outermost first: refusals that cost nothing come before those that need the session."""
    guard: dict[str, Any] = {
        "running": settings.max_running_requests,
        "waiting": settings.max_waiting_requests,
        "wait_seconds": settings.max_wait_seconds,
        "retry_after": 2,
    }
    return [
        Middleware(RequestObserver),
        Middleware(GZipMiddleware, minimum_size=1024, compresslevel=5, exclude_content_types=NOT_COMPRESSED),
        Middleware(LocaleAndHeaders),
        Middleware(BodyLimit, small=settings.max_body_bytes, upload=settings.max_upload_bytes),
        Middleware(ConcurrencyGuard, **guard),
        session_middleware(settings),
        Middleware(CsrfGate),
    ]


def _observe(app: FastAPI, settings: Settings) -> None:
    """JSON logs with request ids, and the metrics `/metrics` serves (`app.observability`)."""
    configure_logging()
    watch_pool(app.state.engine)

    def backlog() -> int:
        with Session(app.state.engine) as session:
            return pending_count(session)

    watch_outbox(backlog)
    app.add_route("/metrics", metrics_endpoint(settings.metrics_token), include_in_schema=False)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Send e-mail from a thread while serving (`app.mail.sender`); close the database at the end."""
    settings: Settings = app.state.settings
    to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
    worker = MailWorker(app.state.engine, settings) if settings.runs_mail_worker else None
    if worker:
        worker.start()
    if settings.environment != "test":  # tests start hundreds of apps in one process
        _freeze_start_up()
    yield
    if worker:
        worker.stop()
    app.state.engine.dispose()


def _freeze_start_up() -> None:
    """Leave what start-up built out of the garbage collector's full passes (`gc.freeze`).

    The catalog and its translations, the templates, the routes and the models are some 200,000
    objects that live as long as the worker. Each full collection walked them all: about 200 ms of
    a stalled worker on a 2-core machine, every 25 s or so under load, added to every request in
    flight: in `benchmarks.capacity` with 100 directors, the p95 of a 5 s stretch holding such a pass
    reached 150–410 ms, against 60–90 ms in the others. Frozen, a full pass walks only what was
    made since: 35 ms.
    """
    gc.collect()
    gc.freeze()


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    """Answer errors with a page for people (`app.errors`), JSON under /api/ for tools."""
    if request.url.path.startswith("/api/"):  # a path the API's own router could not even match
        return error_response(error.status_code, MESSAGES.get(error.status_code) or str(error.detail))
    return await http_error(request, error)
