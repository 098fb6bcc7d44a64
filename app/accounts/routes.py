"""Who is signed in (`CurrentUser`, `OptionalUser`), the sign-in and sign-out pages, API tokens.

The user dependencies live with the accounts domain, as `CatalogDep` lives with the catalog's
routes: loading a `User` from the session is this domain's job, and other routers import them
from here. `create_app` runs `optional_user` for every route, so each page's header (base template,
`current_user()`) knows who is signed in without every route asking.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from app.accounts.models import User
from app.accounts.service import LoginError, authenticate, save_language
from app.api import auth as tokens
from app.api.models import ApiToken, Scope
from app.config import settings
from app.db import SessionDep, utcnow
from app.locale import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE, LANGUAGES, N_
from app.web import csrf_token, render

router = APIRouter()
USER_KEY = "user_id"


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user while the account is active, else None; kept on `request.state` for templates."""
    user_id = request.session.get(USER_KEY)
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    active = user if user is not None and user.is_active else None
    request.state.user = active
    return active


OptionalUser = Annotated[User | None, Depends(optional_user)]


class SignInRequiredError(Exception):
    """An anonymous request to a page that needs a signed-in user."""


def current_user(user: OptionalUser) -> User:
    """The signed-in user; an anonymous visitor is sent to the sign-in page (`sign_in_redirect`)."""
    if user is None:
        raise SignInRequiredError
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def sign_in_redirect(request: Request, _error: Exception) -> Response:
    """Send an anonymous visitor to the sign-in page, to come back here afterwards.

    An htmx fragment request gets `HX-Redirect` rather than a 303, which the browser would follow
    inside the fragment: the whole page goes to the sign-in form, then back to that page.
    """
    if request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted"):
        page = urlsplit(request.headers.get("HX-Current-URL", "/"))
        target = sign_in_url(page.path + (f"?{page.query}" if page.query else ""))
        return Response(status_code=401, headers={"HX-Redirect": target})
    query = request.url.query
    return RedirectResponse(sign_in_url(request.url.path + (f"?{query}" if query else "")), status_code=303)


def sign_in_url(next_path: str) -> str:
    return "/connexion?" + urlencode({"suivant": local_path(next_path)})


def local_path(value: str | None) -> str:
    """`value` when it is a path on this site, else "/": `suivant` never leads to another site.

    Browsers read `//host`, `/\\host` and paths with tabs or line breaks in them as other sites.
    """
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) < 32 or ord(char) == 127 for char in value)
    ):
        return "/"
    return value


@router.get("/connexion")
def sign_in_page(request: Request, user: OptionalUser, suivant: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(local_path(suivant), status_code=303)
    return render(request, "accounts/login.html", {"next": local_path(suivant), "email": ""})


@router.post("/connexion")
def sign_in(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    suivant: Annotated[str, Form()] = "/",
) -> Response:
    client = request.client.host if request.client else "inconnu"
    try:
        user = authenticate(session, email=email, password=password, client=client)
    except LoginError as error:
        context = {"next": local_path(suivant), "email": email, "error": error}
        status = 429 if error.retry_after else 422
        response = render(request, "accounts/login.html", context, status_code=status)
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    # A fresh session and CSRF token: nothing planted before sign-in survives it (no fixation).
    request.session.clear()
    request.session[USER_KEY] = user.id
    csrf_token(request)
    response = RedirectResponse(local_path(suivant), status_code=303)
    if user.language in LANGUAGES:
        remember_language(response, user.language)
    return response


@router.post("/langue")
def choose_language(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    langue: Annotated[str, Form()] = "",
    suivant: Annotated[str, Form()] = "/",
) -> Response:
    """Switch the interface language: kept in a cookie, and on the account of a signed-in person."""
    if langue not in LANGUAGES:
        raise HTTPException(422, N_("Cette langue n'est pas proposée."))
    if user is not None:
        save_language(session, user=user, language=langue)
    response = RedirectResponse(local_path(suivant), status_code=303)
    remember_language(response, langue)
    return response


def remember_language(response: Response, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_MAX_AGE, httponly=True, samesite="lax",
        secure=settings.environment == "production",
    )


@router.post("/deconnexion")
def sign_out(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/", status_code=303)


# Personal API tokens: created here (the secret shown once), listed, revoked.

TOKEN_DAYS = (7, 30, 90, 180, 365)
NOT_YOURS = "Ce jeton n'existe pas ou ne vous appartient pas."


@router.get("/compte/jetons")
def tokens_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(request, "accounts/tokens.html", _tokens_context(session, user))


@router.post("/compte/jetons")
def token_create(
    request: Request,
    *,
    session: SessionDep,
    user: CurrentUser,
    name: Annotated[str, Form()] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[str, Form()] = "",
) -> Response:
    """Create a token and show its secret in this answer only.

    Not a redirect: the secret would have to be kept somewhere for the next page, and it must be
    kept nowhere. The page is marked `no-store` so no cache keeps it either.
    """
    try:
        token, secret = tokens.create_token(
            session, user=user, name=name, scopes=scopes or [], days=int(days) if days.isdecimal() else 0
        )
    except tokens.TokenError as error:
        posted = {"name": name, "scopes": scopes or [], "days": days}
        context = _tokens_context(session, user) | {"errors": error.problems, "posted": posted}
        return render(request, "accounts/tokens.html", context, status_code=422)
    context = _tokens_context(session, user) | {"secret": secret, "created": token}
    response = render(request, "accounts/tokens.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/compte/jetons/{token_id}/revoquer")
def token_revoke(session: SessionDep, user: CurrentUser, token_id: int) -> Response:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise HTTPException(404, NOT_YOURS)
    tokens.revoke_token(session, token=token, actor=user)
    return RedirectResponse("/compte/jetons", status_code=303)


def _tokens_context(session: SessionDep, user: User) -> dict[str, Any]:
    return {
        "tokens": tokens.tokens_of(session, user=user),
        "now": utcnow(),
        "scopes": list(Scope),
        "durations": TOKEN_DAYS,
        "errors": {},
        "posted": {"name": "", "scopes": [], "days": "90"},
        "secret": None,
    }
