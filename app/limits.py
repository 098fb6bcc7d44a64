"""Refuse early and shed load: body size limits, the CSRF header gate, the concurrency guard, path ids.

Plain ASGI middlewares (see `app.web.LocaleAndHeaders` for why not `BaseHTTPMiddleware`), in the
order `create_app` stacks them: the body limit refuses an oversized request before anything reads
it, the guard answers 503 past capacity instead of letting requests queue for a database
connection, and the CSRF gate (inside the session middleware) refuses a state-changing request
whose token cannot be right before its body is read.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
from fastapi import HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from markupsafe import escape
from starlette.datastructures import Headers
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import NO_SUCH_PAGE, error_page
from app.locale import N_, current_language, format_size
from app.locale import gettext as _
from app.web import CSRF_FAILED, CSRF_HEADER, CSRF_KEY, UNSAFE_METHODS

DATABASE_INTEGER = (-(2**31), 2**31 - 1)
"""The range of an id column on every database this runs on (PostgreSQL's `integer` is 32 bits)."""
BUSY = N_(
    "Le service est très sollicité en ce moment. Réessayez dans quelques secondes : rien n'a été enregistré."
)
TOO_LARGE = N_("La requête dépasse la taille permise (%(size)s). Rien n'a été enregistré.")
TOO_LARGE_FILE = N_("Le fichier dépasse la taille maximale de %(size)s : réduisez-le ou découpez-le.")
UPLOAD_OVERHEAD = 64 * 1024
"""Room for an upload form's other fields and its multipart framing, above the file's own limit."""
API_REFUSALS = {
    413: ("too_large", "The request body is larger than this operation accepts."),
    503: ("unavailable", "The service is busy: retry after `Retry-After` seconds."),
}
"""The API's refusals are in English, as its other errors (`app.api.auth.MESSAGES`)."""
UNGUARDED = ("/static/", "/healthz")
"""Paths the guard lets through: they never touch the database."""

Respond = Callable[[Scope, Send], Awaitable[None]]


async def plain_refusal(scope: Scope, send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    """Answer without the app: JSON under /api/ (the API's error body), else a small HTML page."""
    if scope["path"].startswith("/api/"):
        code, message = API_REFUSALS.get(status, ("error", message))
        body = json.dumps({"error": {"code": code, "message": message, "problems": []}}).encode()
        kind = "application/json"
    else:
        body = _refusal_page(status, message).encode()
        kind = "text/html; charset=utf-8"
    raw = [(b"content-type", kind.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


REFUSAL_HEADINGS = {413: N_("Envoi trop volumineux"), 503: N_("Service très sollicité")}
REFUSED = N_("Requête refusée")


def _refusal_page(status: int, message: str) -> str:
    """A small page of its own, in the request's language and the site's stylesheet: it is written
    before the app (and its templates) is reached, and must cost next to nothing past capacity."""
    heading = escape(_(REFUSAL_HEADINGS.get(status, REFUSED)))
    return (
        f'<!doctype html>\n<html lang="{current_language()}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{heading} · {escape(_("Autodiag Médiation"))}</title><link rel="stylesheet" href="/static/app.css"></head>'
        f'<body><main class="container"><h1>{heading}</h1><p>{escape(message)}</p>'
        f'<p><a href="/">{escape(_("Accueil"))}</a></p></main></body></html>\n'
    )


class BodyTooLargeError(HTTPException):
    """A body past its route's limit (413); for an upload, the message gives the file's limit."""

    def __init__(self, limit: int, *, upload: bool) -> None:
        message = TOO_LARGE_FILE if upload else TOO_LARGE
        super().__init__(413, _(message) % {"size": format_size(limit)})


class BodyLimit:
    """Refuse a body beyond its route's limit: by `Content-Length` at once, else counted as it arrives.

    Routes whose form takes a file (`upload_routes`) take a file of `upload` bytes (and the rest of
    their form), every other request `small` bytes.
    A body that outgrows its limit while read raises `BodyTooLargeError`, which the app's error
    handlers answer (a page, or JSON under /api/), and nothing after it is read.
    """

    def __init__(self, app: ASGIApp, *, small: int, upload: int) -> None:
        self.app, self.small, self.upload = app, small, upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        upload = _takes_files(scope)
        limit = self.upload + UPLOAD_OVERHEAD if upload else self.small
        refusal = BodyTooLargeError(self.upload if upload else self.small, upload=upload)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await plain_refusal(scope, send, 413, refusal.detail, {"Connection": "close"})
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise refusal
            return message

        await self.app(scope, counted, send)


def _takes_files(scope: Scope) -> bool:
    routes: list[BaseRoute] = getattr(scope["app"].state, "upload_routes", [])
    return any(route.matches(scope)[0] == Match.FULL for route in routes)


def upload_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes whose form has a file field: they get the upload limit instead of the small one."""
    found: list[BaseRoute] = []
    pending = list(routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute) and _has_file_field(route):
            found.append(route)
        pending.extend(getattr(getattr(route, "original_router", None), "routes", []))
    return found


def _all(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _all(child)


def _has_file_field(route: APIRoute) -> bool:
    for param in (p for d in _all(route.dependant) for p in d.body_params):
        annotation: Any = param.field_info.annotation
        fields = getattr(annotation, "model_fields", {})
        if "UploadFile" in repr(annotation) or any(
            "UploadFile" in repr(f.annotation) for f in fields.values()
        ):
            return True
    return False


class ConcurrencyGuard:
    """Let `running` requests work at once and `waiting` more wait up to `wait_seconds`; 503 beyond.

    Each running request may hold one database connection and one thread (`Settings` sizes the pool
    and the thread pool from `running`), so none ever waits for either and fails after a time-out:
    a request past capacity gets 503 with `Retry-After` at once, or once it has waited its turn.
    """

    def __init__(
        self, app: ASGIApp, *, running: int, waiting: int, wait_seconds: float, retry_after: int
    ) -> None:
        self.app, self.waiting, self.wait_seconds = app, waiting, wait_seconds
        self.slots = anyio.Semaphore(running)
        self.retry_after = str(retry_after)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNGUARDED):
            await self.app(scope, receive, send)
            return
        admitted = False
        if self.slots.value > 0 or self.slots.statistics().tasks_waiting < self.waiting:
            with anyio.move_on_after(self.wait_seconds):
                await self.slots.acquire()
                admitted = True
        if not admitted:
            await plain_refusal(scope, send, 503, _(BUSY), {"Retry-After": self.retry_after})
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()


class CsrfGate:
    """Refuse (403) a state-changing request whose CSRF token cannot match, before reading its body.

    Inside the session middleware: a session without a token, or a wrong `X-CSRF-Token` header
    (htmx sends it), is refused at once, so an anonymous huge POST is never read. Without the header
    the token may be a form field: `app.web.check_csrf` reads it, within the body limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE_METHODS
            or scope["path"].startswith("/api/")
        ):
            await self.app(scope, receive, send)
            return
        expected = scope["session"].get(CSRF_KEY)
        sent = Headers(scope=scope).get(CSRF_HEADER)
        wrong = sent is not None and not (
            isinstance(expected, str) and secrets.compare_digest(sent.encode(), expected.encode())
        )
        if not isinstance(expected, str) or wrong:
            response = error_page(Request(scope), 403, _(CSRF_FAILED))
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def ids_in_range(request: Request) -> None:
    """404 for an integer id in the path that no database column can hold (an app-wide dependency)."""
    route = request.scope.get("route")
    low, high = DATABASE_INTEGER
    for name in _integer_path_params(route) if isinstance(route, APIRoute) else ():
        value = request.path_params.get(name)
        try:
            number = int(value) if isinstance(value, str) else None
        except ValueError:
            continue  # not a number at all: the route's own validation answers 404
        if number is not None and not low <= number <= high:
            raise HTTPException(404, _(NO_SUCH_PAGE))


_INTEGER_PARAMS: dict[int, tuple[APIRoute, tuple[str, ...]]] = {}
"""Each route's integer path parameters, found once: a route's dependencies never change once built.
Keyed by the route's identity (routes do not hash); the entry holds the route, so the id stays its own."""


def _integer_path_params(route: APIRoute) -> tuple[str, ...]:
    found = _INTEGER_PARAMS.get(id(route))
    if found is None or found[0] is not route:
        params = (p for d in _all(route.dependant) for p in d.path_params)
        found = _INTEGER_PARAMS[id(route)] = (
            route,
            tuple({p.name for p in params if p.field_info.annotation is int}),
        )
    return found[1]
