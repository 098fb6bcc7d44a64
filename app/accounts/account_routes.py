"""The account page (password, open sessions, e-mail notices) and the reset of a forgotten password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from app.accounts import notifications, passwords, sessions
from app.accounts.models import (
    ForgottenPasswordForm,
    NoticesForm,
    PasswordChangeForm,
    PasswordResetForm,
    User,
    UserSession,
)
from app.accounts.service import LoginError
from app.db import SessionDep
from app.deps import CurrentUser, current_session_id, start_session
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.web import render

router = APIRouter()
DONE = {"mot-de-passe": "password", "avis": "notices", "session": "session"}
"""What `?fait=` may say was just saved, for the account page's confirmation."""
NO_SUCH_SESSION = N_("Cette session n'existe pas ou n'est plus ouverte.")


@router.get("/compte")
def account_page(request: Request, session: SessionDep, user: CurrentUser, fait: str = "") -> Response:
    context = _account_context(request, session, user, done=DONE.get(fait, ""))
    return render(request, "accounts/account.html", context)


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
            keep_session=current_session_id(request),
        )
    except ServiceError as error:
        context = _account_context(request, session, user) | {"errors": error.problems}
        return render(request, "accounts/account.html", context, status_code=error.status)
    return RedirectResponse("/compte?fait=mot-de-passe", status_code=303)


@router.post("/compte/avis")
def save_notices(session: SessionDep, user: CurrentUser, form: Annotated[NoticesForm, Form()]) -> Response:
    notifications.save_notices(session, user=user, chosen=form.avis)
    return RedirectResponse("/compte?fait=avis", status_code=303)


@router.post("/compte/sessions/{session_id}/terminer")
def end_session(request: Request, session: SessionDep, user: CurrentUser, session_id: int) -> Response:
    """End one of one's sessions; ending this one signs this browser out."""
    found = session.get(UserSession, session_id)
    if found is None or found.user_id != user.id:
        raise HTTPException(404, _(NO_SUCH_SESSION))
    sessions.end_session(session, user_session=found, actor=user)
    if session_id != current_session_id(request):
        return RedirectResponse("/compte?fait=session", status_code=303)
    request.session.clear()
    return RedirectResponse("/connexion", status_code=303)


@router.post("/compte/sessions/terminer")
def end_all_sessions(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """« Se déconnecter partout »: every session of the account ends, this one too."""
    sessions.end_all(session, user=user, actor=user)
    request.session.clear()
    return RedirectResponse("/connexion", status_code=303)


def _account_context(request: Request, session: Session, user: User, *, done: str = "") -> dict[str, Any]:
    notices = [(notice, notifications.wants(user, notice)) for notice in notifications.notices_for(user)]
    open_sessions = [
        (row, sessions.device(row.user_agent), row.id == current_session_id(request))
        for row in sessions.sessions_of(session, user=user)
    ]
    return {"account": user, "notices": notices, "errors": {}, "done": done, "sessions": open_sessions}


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
    start_session(request, session, user)
    return RedirectResponse("/compte?fait=mot-de-passe", status_code=303)
