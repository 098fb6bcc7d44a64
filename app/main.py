"""Build the web application: settings, catalog, templates, routes."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.catalog.loader import load_catalog
from app.catalog.routes import router as catalog_router
from app.config import Settings
from app.config import settings as default_settings
from app.web import make_templates, render, security_headers


def create_app(settings: Settings | None = None) -> FastAPI:
    """Create the app; refuse to start unless every criteria and questionnaire file is valid."""
    settings = settings or default_settings
    app = FastAPI(title="Autodiag Médiation", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.catalog = load_catalog(settings.catalog_dir)
    app.state.templates = make_templates(settings)
    app.middleware("http")(security_headers)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    app.include_router(catalog_router)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, object]:
        return {"status": "ok", "criteria_versions": sorted(app.state.catalog.criteria)}

    return app


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    """Answer errors with a French page for people, JSON for the API."""
    if request.url.path.startswith("/api/"):
        from fastapi.responses import JSONResponse

        return JSONResponse(
            {"error": {"code": error.status_code, "message": error.detail}}, error.status_code
        )
    context = {"status_code": error.status_code, "detail": error.detail}
    return render(request, "errors/error.html", context, status_code=error.status_code)
