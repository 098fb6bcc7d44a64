"""Changing a password, and resetting a forgotten one through a one-time link sent by e-mail.

A reset link holds 256 random bits; only their SHA-256 is kept (`PasswordReset.token_hash`), as for
API tokens. Asking for a link answers the same whether the address has an account or not, and
costs one password hash either way, so neither the answer nor its time tells who has an account.
"""

from __future__ import annotations

import math
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.accounts.models import PasswordReset, User
from app.accounts.service import (
    EMAIL,
    RESET,
    LoginError,
    decoy_hash,
    hash_password,
    password_problems,
    record_attempt,
    throttle_wait,
    verify_password,
)
from app.accounts.sessions import end_sessions
from app.accounts.tokens import hash_token
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.locale import N_, ngettext
from app.locale import gettext as _
from app.mail.service import enqueue

RESET_VALIDITY = timedelta(hours=1)
RESET_PATH = "/mot-de-passe/reinitialiser/{token}"
INVALID_LINK = N_(
    "Ce lien de réinitialisation n'est pas valide. Vérifiez que vous avez copié l'adresse en entier, "
    "ou demandez un nouveau lien."
)


def change_password(
    session: Session, *, user: User, current: str, new: str, repeated: str, keep_session: int | None
) -> None:
    """Replace the password of `user`, who types the current one; their sessions but `keep_session` end."""
    problems = {}
    if not verify_password(user.password_hash, current):
        problems["current_password"] = _("Le mot de passe actuel n'est pas le bon.")
    if problem := password_problems(new, email=user.email, name=user.name):
        problems["new_password"] = problem
    elif new != repeated:
        problems["new_password_again"] = _("Les deux saisies du nouveau mot de passe diffèrent.")
    if problems:
        raise ServiceError(problems=problems)
    _set_password(session, user=user, password=new, action="user.password_change", keep=keep_session)
    session.commit()


def request_reset(session: Session, *, email: str, client: str) -> None:
    """Send a reset link to the account with this address, if there is one; the same either way."""
    email, client = email.strip().lower(), client[:64]
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise ServiceError(
            _("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."), field="email"
        )
    wait = throttle_wait(session, email=email, client=client, purpose=RESET)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        message = ngettext(
            "Trop de demandes de réinitialisation. Réessayez dans %(minutes)s minute.",
            "Trop de demandes de réinitialisation. Réessayez dans %(minutes)s minutes.",
            minutes,
        ) % {"minutes": minutes}
        raise LoginError(message, retry_after=wait)
    user = session.exec(select(User).where(User.email == email)).first()
    secret = secrets.token_urlsafe(32)
    verify_password(decoy_hash(), secret)  # the cost that dominates, paid with or without an account
    if user is not None and user.is_active:
        reset = PasswordReset(
            user_id=pk(user), token_hash=hash_token(secret), expires_at=utcnow() + RESET_VALIDITY
        )
        session.add(reset)
        session.flush()
        context = {"name": user.name, "path": RESET_PATH.format(token=secret)}
        enqueue(
            session,
            event_key=f"password_reset:{reset.id}",
            to=user.email,
            template="password_reset",
            context=context,
            language=user.language,
        )
    record_attempt(session, email=email, client=client, purpose=RESET)  # commits the link and its message


def open_reset(session: Session, *, token: str) -> tuple[PasswordReset, User]:
    """The unused, unexpired link with this secret and its active account; else a refusal saying why."""
    found = session.exec(
        select(PasswordReset, User)
        .join(User, col(User.id) == col(PasswordReset.user_id))
        .where(PasswordReset.token_hash == hash_token(token))
    ).first()
    if found is None or not found[1].is_active:
        raise ServiceError(_(INVALID_LINK), status=404)
    reset, user = found
    if reset.used_at is not None:
        message = _(
            "Ce lien de réinitialisation a déjà servi : il ne sert qu'une fois. Demandez-en un nouveau."
        )
        raise ServiceError(message, status=410)
    if reset.expires_at <= utcnow():
        message = _(
            "Ce lien de réinitialisation a expiré : il n'est valable qu'une heure. Demandez-en un nouveau."
        )
        raise ServiceError(message, status=410)
    return reset, user


def reset_password(session: Session, *, token: str, new: str, repeated: str) -> User:
    """Choose a new password through a reset link, which then stops working; every session ends."""
    reset, user = open_reset(session, token=token)
    if problem := password_problems(new, email=user.email, name=user.name):
        raise ServiceError(problem, field="new_password")
    if new != repeated:
        raise ServiceError(
            _("Les deux saisies du nouveau mot de passe diffèrent."), field="new_password_again"
        )
    # A conditional UPDATE: of two requests with the same link, only one gets through.
    unused = col(PasswordReset.used_at).is_(None)
    now = utcnow()
    used = session.execute(
        update(PasswordReset).where(col(PasswordReset.id) == reset.id, unused).values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ServiceError(_(INVALID_LINK), status=410)
    # The account's other links, asked for before, stop working too.
    session.execute(
        update(PasswordReset).where(col(PasswordReset.user_id) == user.id, unused).values(used_at=now)
    )
    _set_password(session, user=user, password=new, action="user.password_reset")
    session.commit()
    session.refresh(user)
    return user


def _set_password(
    session: Session, *, user: User, password: str, action: str, keep: int | None = None
) -> None:
    user.password_hash = hash_password(password)
    session.add(user)
    end_sessions(session, user=user, keep=keep)
    audit(session, actor_id=user.id, action=action, obj=user)
