"""The API at /api/v1: the application the web app mounts, its OpenAPI document, the well-known keys.

The API is its own FastAPI application, with its own OpenAPI document and JSON errors
(`app/api/auth.py`). It shares the web app's state (catalog, database engine, signer, settings) and
runs none of the web's session or CSRF dependencies: a bearer token is its only credential. Its
operations are in `catalog_routes.py` (the catalog and scoring: files, no database),
`assessment_routes.py` (structures, submitted assessments, evidence, snapshots: the database) and
`report_routes.py` (a submitted assessment's PDF, XLSX and CSV documents).
Lists are pages in a stable order (by id, or by catalog id) with a `next` link to follow.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.datastructures import State

from app.api import assessment_routes, catalog_routes, report_routes, views
from app.api.auth import RateLimiter, add_error_handlers
from app.api.models import PREFIX, KeysOut
from app.config import Settings
from app.scoring.answers import AnswersDocument

TAGS = [
    {"name": "catalog", "description": "Referentials, criteria versions, criteria, questionnaires."},
    {
        "name": "structures",
        "description": "Structures the token's user may see, and their submitted assessments.",
    },
    {"name": "assessments", "description": "One submitted assessment: result, answers, evidence."},
    {"name": "snapshots", "description": "Signed snapshots, byte for byte, and the keys to verify them."},
    {
        "name": "reports",
        "description": "A submitted assessment's report (PDF), workbook (XLSX) and CSV files.",
    },
    {"name": "scoring", "description": "Score an answers document without storing anything."},
]
DESCRIPTION = """Read-only access for auditors and tools. Authenticate with a personal API token
(`Authorization: Bearer adm_…`), created on the « Jetons d'API » page or with `autodiag tokens create`.
Every caller sees submitted assessments only, of the structures its user may see on the web
(an auditor: those that granted access). Errors are `{"error": {"code", "message", "problems"}}`.
Lists: `limit` (1–100) items per page in a stable order; follow `next` until it is null."""


def create_api(state: State) -> FastAPI:
    """The API application, to mount at /api/v1; it shares `state` with the web app."""
    api = FastAPI(
        title="Autodiag Médiation API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        servers=[{"url": PREFIX}],
        docs_url=None,
        redoc_url=None,
    )
    api.state = state
    state.rate_limiter = RateLimiter(state.settings.api_rate_limit_per_minute)
    for operations in (
        catalog_routes.router,
        assessment_routes.router,
        report_routes.router,
        catalog_routes.scoring,
    ):
        api.include_router(operations)  # in this order, the order of the OpenAPI document
    add_error_handlers(api)
    original = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = _with_answers_document(original())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def openapi_text() -> str:
    """The OpenAPI document as committed in examples/openapi.json: stable, indented JSON."""
    document = create_api(State({"settings": Settings()})).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _with_answers_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add the answers document's JSON Schema (the one `autodiag score` reads) to the components."""
    schema = AnswersDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(schema.pop("$defs", {}))
    components["AnswersDocument"] = schema
    return document


well_known = APIRouter()
"""Mounted on the web app: where tools look for the keys without knowing the API's address."""


@well_known.get("/.well-known/autodiag-snapshot-keys.json", include_in_schema=False)
def well_known_keys(request: Request) -> KeysOut:
    return views.public_keys(request.app.state.signer)
