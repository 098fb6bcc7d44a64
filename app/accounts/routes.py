"""The sign-in and sign-out pages, the language switch, personal API tokens (who is signed in: `app.deps`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from app.accounts import sessions, tokens
from app.accounts.models import ApiToken, LanguageForm, Scope, SignInForm, TokenForm, User
from app.accounts.service import LoginError, authenticate, save_language
from app.config import settings
from app.db import SessionDep, utcnow
from app.deps import CurrentUser, OptionalUser, start_session
from app.errors import ServiceError
from app.landing import landing_path, local_path
from app.locale import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE, LANGUAGES, N_
from app.locale import gettext as _
from app.web import csrf_token, render

router = APIRouter()


@router.get("/connexion")
def sign_in_page(request: Request, user: OptionalUser, suivant: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(local_path(suivant), status_code=303)
    return render(request, "accounts/login.html", {"next": local_path(suivant), "email": ""})


@router.post("/connexion")
def sign_in(request: Request, session: SessionDep, form: Annotated[SignInForm, Form()]) -> Response:
    client = request.client.host if request.client else "inconnu"
    try:
        user = authenticate(session, email=form.email, password=form.password, client=client)
    except LoginError as error:
        context = {"next": local_path(form.suivant), "email": form.email, "error": error}
        response = render(request, "accounts/login.html", context, status_code=error.status)
        if error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    start_session(request, session, user)
    response = RedirectResponse(landing_path(session, user, local_path(form.suivant)), status_code=303)
    if user.language in LANGUAGES:
        remember_language(response, user.language)
    return response


@router.get("/connexion/jeton")
def session_token(request: Request, user: OptionalUser) -> Response:
    """This browser's CSRF token and whether it is signed in, for the in-page sign-in (autodiag.js).

    Same-origin only (no CORS): another site can make the request but never read the token.
    """
    body = {"csrf_token": csrf_token(request), "signed_in": user is not None}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/connexion/reprise")
def resume_session(request: Request, session: SessionDep, form: Annotated[SignInForm, Form()]) -> Response:
    """Sign in again without leaving the page whose autosave found the session over: JSON, no redirect."""
    client = request.client.host if request.client else "inconnu"
    try:
        user = authenticate(session, email=form.email, password=form.password, client=client)
    except LoginError as error:
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
        return JSONResponse({"error": error.message}, status_code=error.status, headers=headers)
    start_session(request, session, user)
    return JSONResponse({"csrf_token": csrf_token(request)}, headers={"Cache-Control": "no-store"})


@router.post("/langue")
def choose_language(
    session: SessionDep, user: OptionalUser, form: Annotated[LanguageForm, Form()]
) -> Response:
    """Switch the interface language: kept in a cookie, and on the account of a signed-in person."""
    if form.langue not in LANGUAGES:
        raise HTTPException(422, _("Cette langue n'est pas proposée."))
    if user is not None:
        save_language(session, user=user, language=form.langue)
    response = RedirectResponse(local_path(form.suivant), status_code=303)
    remember_language(response, form.langue)
    return response


def remember_language(response: Response, language: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=LANGUAGE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )


@router.post("/deconnexion")
def sign_out(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    """Sign out: this session ends on the server, so any copy of its cookie stops working too."""
    user_session = request.state.user_session
    if user is not None and user_session is not None:
        sessions.end_session(session, user_session=user_session, actor=user)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


# Personal API tokens: created here (the secret shown once), listed, revoked.

TOKEN_DAYS = (7, 30, 90, 180, 365)
NOT_YOURS = N_("Ce jeton n'existe pas ou ne vous appartient pas.")


@router.get("/compte/jetons")
def tokens_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(request, "accounts/tokens.html", _tokens_context(session, user))


@router.post("/compte/jetons")
def token_create(
    request: Request, session: SessionDep, user: CurrentUser, form: Annotated[TokenForm, Form()]
) -> Response:
    """Create a token and show its secret in this answer only.

    Not a redirect: the secret would have to be kept somewhere for the next page, and it must be
    kept nowhere. The page is marked `no-store` so no cache keeps it either.
    """
    try:
        token, secret = tokens.create_token(
            session, user=user, name=form.name, scopes=form.scopes, days=form.day_count()
        )
    except ServiceError as error:
        context = _tokens_context(session, user) | {"errors": error.problems, "posted": form.model_dump()}
        return render(request, "accounts/tokens.html", context, status_code=error.status)
    context = _tokens_context(session, user) | {"secret": secret, "created": token}
    response = render(request, "accounts/tokens.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/compte/jetons/{token_id}/revoquer")
def token_revoke(session: SessionDep, user: CurrentUser, token_id: int) -> Response:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise HTTPException(404, _(NOT_YOURS))
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
