"""Templates, the one `render` helper, the headers every response carries, sessions and CSRF."""

from __future__ import annotations

import functools
import hashlib
import secrets
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import locale
from app.config import Settings, secret_key
from app.locale import N_
from app.locale import gettext as _

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
NO_STORE = {"Cache-Control": "no-store"}
"""Every page but the static files: they show a person's data, and may be shown to someone else after."""


MACRO_LIBRARIES = {"m": "macros.html", "r": "reports/macros.html", "rv": "reviews/macros.html"}
"""Macros every template may call, as globals: `m.date(…)`, `r.verdict_badge(…)`, `rv.finding_badge(…)`.

Globals rather than an `{% import %}` in each template: Jinja redoes part of an import's work each
time an included template imports, and a questionnaire page includes its partials for every question
(the imports were an eighth of the page's time). None of these macros reads the request.
"""


def make_templates(settings: Settings, **domain_globals: Any) -> Jinja2Templates:
    """The Jinja environment: gettext, formats, CSRF, macros, and what `create_app` passes from the domains."""
    templates = Jinja2Templates(directory=settings.templates_dir)
    templates.env.add_extension("jinja2.ext.i18n")
    templates.env.auto_reload = settings.reload_templates
    # `{% trans %}` compiles to calls of `gettext`/`ngettext` with the variables as keywords (newstyle).
    templates.env.newstyle_gettext = True  # type: ignore[attr-defined]
    templates.env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
    templates.env.globals["current_language"] = locale.current_language
    templates.env.globals["languages"] = locale.LANGUAGE_NAMES
    templates.env.globals["N_"] = locale.N_
    templates.env.globals["htmx_script"] = HTMX_SCRIPT
    templates.env.globals["static_url"] = functools.partial(static_url, settings.static_dir)
    templates.env.globals["csrf_token"] = _template_csrf_token
    templates.env.globals["csrf_field"] = _template_csrf_field
    templates.env.globals["current_user"] = _template_current_user
    templates.env.globals.update(domain_globals)
    templates.env.filters["score"] = locale.format_score
    templates.env.filters["number"] = locale.format_number
    templates.env.filters["date"] = locale.format_date
    templates.env.filters["size"] = locale.format_size
    for name, path in MACRO_LIBRARIES.items():
        templates.env.globals[name] = templates.env.get_template(path).module
    return templates


IMMUTABLE = "public, max-age=31536000, immutable"
NOT_COMPRESSED = (
    "image/*",
    "application/pdf",
    "application/zip",
    "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
)
"""What gzip leaves as it is (Starlette's `GZipMiddleware`): already compressed, or binary files
where it costs CPU for nothing. HTML, JSON, CSS, JavaScript and SVG above 1 KB are compressed."""


def static_url(static_dir: Path, name: str) -> str:
    """`/static/<name>?v=<digest of its content>`: a new address whenever the file changes, so
    browsers may keep each version a year (`VersionedStaticFiles`)."""
    path = static_dir / name
    return f"/static/{name}?v={_digest(path, path.stat().st_mtime_ns)}"


@functools.lru_cache(maxsize=256)
def _digest(path: Path, _modified: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class VersionedStaticFiles(StaticFiles):
    """Static files; those asked for at a versioned address (`static_url`) may be cached for good."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304) and b"v=" in scope.get("query_string", b""):
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def _gettext(message: str, /, **variables: Any) -> Markup:
    """Templates' `_()` and `{% trans %}`: Jinja's newstyle gettext, without its look-ups per call.

    Jinja's own resolves `gettext` in the template context and calls it through the context for each
    string (a quarter of a questionnaire page's time). The language is in a context variable, so
    nothing here needs the template context. As in newstyle gettext, the translation is trusted
    markup and `%(name)s` placeholders are filled (escaped); a message without `%` is used as is.
    """
    text = _translated(locale.current_language(), message)
    return text % variables if "%" in text else text


@functools.lru_cache(maxsize=4096)  # bounded: `_()` also sees messages built from user input
def _translated(language: str, message: str) -> Markup:
    with locale.language(language):
        return Markup(locale.gettext(message))  # noqa: S704 - the catalogs are trusted markup, as in Jinja


def _ngettext(singular: str, plural: str, num: int, /, **variables: Any) -> Markup:
    variables.setdefault("num", num)
    text = Markup(locale.ngettext(singular, plural, num))  # noqa: S704 - the catalogs are trusted markup
    return text % variables if "%" in text else text


def is_fragment(request: Request) -> bool:
    """Whether htmx asks for a piece of a page (not a boosted navigation, which wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


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
    chosen = partial if partial and is_fragment(request) else template
    response = templates.TemplateResponse(request, chosen, context or {}, status_code=status_code)
    response.headers["Vary"] = "HX-Request"
    return response


class LocaleAndHeaders:
    """Run the request in its language (its cookie, then `Accept-Language`) and add
    `SECURITY_HEADERS`, and `NO_STORE` outside /static/, to responses that do not set them.

    One plain ASGI middleware for both: Starlette's `BaseHTTPMiddleware` runs each request through a
    task group and memory streams, which cost more than some whole pages of this app, and each
    layer of middleware costs every request a little.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookie = cookie_parser(headers.get("cookie", "")).get(locale.LANGUAGE_COOKIE)
        extra = _STATIC_HEADERS if scope["path"].startswith("/static/") else _PAGE_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", ()))
                present = {name.lower() for name, _value in raw}
                message["headers"] = raw + [pair for pair in extra if pair[0] not in present]
            await send(message)

        with locale.language(locale.negotiate(cookie, headers.get("accept-language"))):
            await self.app(scope, receive, send_with_headers)


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


_STATIC_HEADERS = _raw(SECURITY_HEADERS)
_PAGE_HEADERS = _raw(SECURITY_HEADERS | NO_STORE)


# Sessions: a signed cookie holding the CSRF token and the signed-in user's id, nothing else.
SESSION_COOKIE = "autodiag_session"
SESSION_MAX_AGE = 12 * 60 * 60
CSRF_KEY = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSRF_FAILED = N_(
    "La vérification de sécurité du formulaire a échoué : votre session a peut-être expiré. "
    "Rechargez la page, puis recommencez. Rien n'a été enregistré."
)


def session_middleware(settings: Settings) -> Middleware:
    """Sessions in a signed cookie: HttpOnly, SameSite=Lax, Secure in production, 12 hours at most.

    The cookie is signed again only when the session changes, so the 12 hours run from sign-in.
    """
    return Middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.environment == "production",
    )


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = request.session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


async def check_csrf(request: Request) -> None:
    """Refuse (403) a state-changing request without the session's CSRF token; `/api/` uses tokens.

    The token comes from the `X-CSRF-Token` header (htmx sends it from `hx-headers` on `<body>`),
    which `app.limits.CsrfGate` has checked before the body was read, or else from the `csrf_token`
    form field. This part is an app-wide dependency rather than a middleware: Starlette caches the
    parsed form on the request, so FastAPI and this check share one parse of the body (within
    `app.limits.BodyLimit`); and app-wide dependencies run before the route's own, so a refused
    request changes nothing.
    """
    if request.method not in UNSAFE_METHODS or request.url.path.startswith("/api/"):
        return
    expected = request.session.get(CSRF_KEY)
    sent: list[object] = [request.headers.get(CSRF_HEADER)]
    if sent[0] is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        sent.append((await request.form()).get("csrf_token"))
    if not isinstance(expected, str) or not any(
        isinstance(token, str) and secrets.compare_digest(token.encode(), expected.encode()) for token in sent
    ):
        raise HTTPException(403, _(CSRF_FAILED))


@pass_context
def _template_csrf_token(context: Context) -> str:
    return csrf_token(context["request"])


@pass_context
def _template_csrf_field(context: Context) -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token(context["request"]))


@pass_context
def _template_current_user(context: Context) -> Any:
    # Set for every route by `optional_user` (app/accounts/routes.py); unset on a 404 for an unknown path.
    return getattr(context["request"].state, "user", None)
