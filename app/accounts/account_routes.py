"""The account page (password, e-mail notices) and the reset of a forgotten password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from app.accounts import notifications, passwords
from app.accounts.models import (
    ForgottenPasswordForm,
    NoticesForm,
    PasswordChangeForm,
    PasswordResetForm,
    User,
)
from app.accounts.service import LoginError
from app.db import SessionDep
from app.deps import CurrentUser, start_session
from app.errors import ServiceError
from app.web import render

router = APIRouter()
DONE = {"mot-de-passe": "password", "avis": "notices"}
"""What `?fait=` may say was just saved, for the account page's confirmation."""


@router.get("/compte")
def account_page(request: Request, user: CurrentUser, fait: str = "") -> Response:
    return render(request, "accounts/account.html", _account_context(user, done=DONE.get(fait, "")))


@router.post("/compte/mot-de-passe")
def change_password(
    request: Request, session: SessionDep, user: CurrentUser, form: Annotated[PasswordChangeForm, Form()]
) -> Response:
    """Change the password; every other session of the account ends, this one goes on."""
    try:
        passwords.change_password(
            session,
            user=user,
            current=form.current_password,
            new=form.new_password,
            repeated=form.new_password_again,
        )
    except ServiceError as error:
        context = _account_context(user) | {"errors": error.problems}
        return render(request, "accounts/account.html", context, status_code=error.status)
    start_session(request, user)
    return RedirectResponse("/compte?fait=mot-de-passe", status_code=303)


@router.post("/compte/avis")
def save_notices(session: SessionDep, user: CurrentUser, form: Annotated[NoticesForm, Form()]) -> Response:
    notifications.save_notices(session, user=user, chosen=form.avis)
    return RedirectResponse("/compte?fait=avis", status_code=303)


def _account_context(user: User, *, done: str = "") -> dict[str, Any]:
    notices = [(notice, notifications.wants(user, notice)) for notice in notifications.notices_for(user)]
    return {"account": user, "notices": notices, "errors": {}, "done": done}


@router.get("/mot-de-passe-oublie")
def forgotten_page(request: Request, envoye: str = "") -> Response:
    return render(request, "accounts/forgotten.html", {"sent": envoye == "1", "email": "", "errors": {}})


@router.post("/mot-de-passe-oublie")
def forgotten(
    request: Request, session: SessionDep, form: Annotated[ForgottenPasswordForm, Form()]
) -> Response:
    """Send a reset link if the address has an account; answer the same either way."""
    client = request.client.host if request.client else "inconnu"
    try:
        passwords.request_reset(session, email=form.email, client=client)
    except ServiceError as error:
        context = {"sent": False, "email": form.email, "errors": error.problems, "error": error}
        response = render(request, "accounts/forgotten.html", context, status_code=error.status)
        if isinstance(error, LoginError) and error.retry_after:
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    return RedirectResponse("/mot-de-passe-oublie?envoye=1", status_code=303)


@router.get("/mot-de-passe/reinitialiser/{token}")
def reset_page(request: Request, session: SessionDep, token: str) -> Response:
    """The form to choose a new password; an unknown, used or expired link is a page saying so."""
    passwords.open_reset(session, token=token)
    response = render(request, "accounts/reset.html", {"errors": {}})
    response.headers["Cache-Control"] = "no-store"  # the address holds the link's secret
    return response


@router.post("/mot-de-passe/reinitialiser/{token}")
def reset(
    request: Request, session: SessionDep, token: str, form: Annotated[PasswordResetForm, Form()]
) -> Response:
    """Set the new password; every session of the account ends, and this browser is signed in anew."""
    try:
        user = passwords.reset_password(
            session, token=token, new=form.new_password, repeated=form.new_password_again
        )
    except ServiceError as error:
        if error.status != 422:
            raise
        return render(request, "accounts/reset.html", {"errors": error.problems}, status_code=error.status)
    start_session(request, user)
    return RedirectResponse("/compte?fait=mot-de-passe", status_code=303)
