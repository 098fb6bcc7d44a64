"""The one error type services raise for input they refuse, and its handlers for pages.

A service raises `ServiceError` with an HTTP status (422 refused input, 409 a conflict or a stale
write, 404 …), a message for the person, and the problems of each form field, all in the request's
language. A route that shows a form catches it to show the form again with `problems` and
`status`; anything it does not catch reaches the page handler here (an error page) or the API's (JSON).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.locale import N_
from app.locale import gettext as _
from app.web import render

ERROR_PAGE = "errors/error.html"
NO_SUCH_PAGE = N_("Cette page n'existe pas ou ne vous est pas accessible.")


class ServiceError(Exception):
    """Refused input or a conflict: an HTTP status, a message, and the problems of each field."""

    def __init__(
        self,
        message: str = "",
        *,
        status: int = 422,
        field: str | None = None,
        problems: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.problems = dict(problems or {})
        if field and message:
            self.problems.setdefault(field, message)
        self.message = message or "; ".join(self.problems.values())
        self.field = field
        super().__init__(self.message)


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    """Answer an HTTP error with a page in the request's language."""
    return error_page(request, error.status_code, error.detail)


async def invalid_request(request: Request, error: RequestValidationError) -> Response:
    """A web address with a malformed id is a page that does not exist (404), in the request's language.

    Web forms are parsed into permissive models and answer with the form and its messages; what is
    left here is a path or query the site never links to, so a page says so rather than FastAPI's JSON.
    """
    in_path = any(problem.get("loc", ("",))[0] == "path" for problem in error.errors())
    status = 404 if in_path else 422
    detail = _(NO_SUCH_PAGE) if in_path else _("L'adresse de cette page contient un paramètre invalide.")
    return error_page(request, status, detail)


async def service_error(request: Request, error: ServiceError) -> Response:
    """A refusal no route showed in its form: an error page with its status and message."""
    return error_page(request, error.status, error.message)


def error_page(request: Request, status: int, detail: Any) -> Response:
    return render(request, ERROR_PAGE, {"status_code": status, "detail": detail}, status_code=status)
