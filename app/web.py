"""Templates, the one `render` helper, and the headers every response carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from app.config import Settings

HTMX_SCRIPT = "htmx-2.0.11.min.js"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def make_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=settings.templates_dir)
    templates.env.globals["htmx_script"] = HTMX_SCRIPT
    templates.env.filters["score"] = format_score
    return templates


def format_score(value: float | None) -> str:
    """Show a 0–100 score the French way, or a dash when there is nothing to score."""
    if value is None:
        return "—"
    return f"{value:.1f}".replace(".", ",").removesuffix(",0")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    partial: str | None = None,
    status_code: int = 200,
) -> Response:
    """Render a page, or only `partial` when htmx asks for a fragment (not for a boosted page)."""
    templates: Jinja2Templates = request.app.state.templates
    wants_fragment = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")
    chosen = partial if partial and wants_fragment else template
    response = templates.TemplateResponse(request, chosen, context or {}, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    return response


async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
