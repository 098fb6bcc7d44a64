"""Users and sign-in: password hashing, account creation, and throttled authentication."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts.models import LoginAttempt, Role, User
from app.db import audit, utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
WRONG_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."

_hasher = PasswordHasher()


class AccountError(ValueError):
    """Input the service refuses; `field` names the form field it is about, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class LoginError(AccountError):
    """A refused sign-in; `retry_after` (seconds) is set when the refusal is throttling."""

    def __init__(self, message: str, *, field: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`; a malformed hash never matches."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _decoy_hash() -> str:
    return hash_password("decoy password, never anybody's")


def _normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    session: Session, *, email: str, name: str, role: Role, password: str, actor: User | None = None
) -> User:
    """Create an active account; refuse an invalid or taken email, an empty name or a short password."""
    email, name = _normalize_email(email), name.strip()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise AccountError(f"L'adresse électronique « {email} » n'est pas valide.", field="email")
    if not name or len(name) > 120:
        raise AccountError("Le nom doit compter entre 1 et 120 caractères.", field="name")
    if len(password) < MIN_PASSWORD_LENGTH:
        message = f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères."
        raise AccountError(message, field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        message = f"Le mot de passe ne doit pas dépasser {MAX_PASSWORD_LENGTH} caractères."
        raise AccountError(message, field="password")
    taken = AccountError(f"L'adresse électronique « {email} » est déjà utilisée.", field="email")
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise taken
    user = User(email=email, name=name, role=role, password_hash=hash_password(password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # created by someone else since the check above
        session.rollback()
        raise taken from error
    after = {"email": email, "name": name, "role": role.value, "is_active": True}
    audit(session, actor_id=actor.id if actor else None, action="user.create", obj=user, after=after)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, *, email: str, password: str, client: str) -> User:
    """Return the active user with these credentials, or raise `LoginError` with a French message."""
    email, client = _normalize_email(email), client[:64]
    if not email:
        raise LoginError("Saisissez votre adresse électronique.", field="email")
    if not password:
        raise LoginError("Saisissez votre mot de passe.", field="password")
    wait = _throttle_wait(session, email=email, client=client)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        message = (
            "Trop de tentatives de connexion infructueuses. "
            f"Réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."
        )
        raise LoginError(message, retry_after=wait)
    user = session.exec(select(User).where(User.email == email)).first()
    # Verify even when the email is unknown, so both cases take the same time.
    if not verify_password(user.password_hash if user else _decoy_hash(), password) or user is None:
        _record_failure(session, email=email, client=client)
        raise LoginError(WRONG_CREDENTIALS)
    if not user.is_active:
        raise LoginError("Ce compte est désactivé. Adressez-vous à un administrateur de la plateforme.")
    _record_success(session, user=user, password=password)
    return user


def _throttle_wait(session: Session, *, email: str, client: str) -> int | None:
    """Seconds until one more try is allowed, or None when the email and the client may try now."""
    now = utcnow()
    since = now - THROTTLE_WINDOW
    waits = []
    for column, value, limit in (
        (LoginAttempt.email, email, MAX_FAILURES_PER_EMAIL),
        (LoginAttempt.client, client, MAX_FAILURES_PER_CLIENT),
    ):
        query = select(LoginAttempt.at).where(column == value, LoginAttempt.at >= since)
        times = session.exec(query.order_by(col(LoginAttempt.at).desc()).limit(limit)).all()
        if len(times) >= limit:
            # Blocked until the oldest of the last `limit` failures leaves the window.
            waits.append(_seconds_between(now, times[-1] + THROTTLE_WINDOW))
    return max(waits, default=None)


def _seconds_between(start: datetime, end: datetime) -> int:
    return max(1, math.ceil((end - start).total_seconds()))


def _record_failure(session: Session, *, email: str, client: str) -> None:
    attempt = LoginAttempt(email=email, client=client)
    session.add(attempt)
    # Attempts older than the window no longer count: drop them so the table stays small.
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < utcnow() - THROTTLE_WINDOW))
    session.flush()
    audit(
        session,
        actor_id=None,
        action="user.sign_in_failed",
        obj=attempt,
        after={"email": email, "client": client},
    )
    session.commit()


def _record_success(session: Session, *, user: User, password: str) -> None:
    cleared = session.exec(delete(LoginAttempt).where(col(LoginAttempt.email) == user.email))
    rehashed = _hasher.check_needs_rehash(user.password_hash)
    if rehashed:
        user.password_hash = hash_password(password)
        session.add(user)
    after = {"cleared_attempts": cleared.rowcount, "rehashed": rehashed}
    audit(session, actor_id=user.id, action="user.sign_in", obj=user, after=after)
    session.commit()
    session.refresh(user)


def save_language(session: Session, *, user: User, language: str) -> None:
    """Keep the interface language a person chose, so a sign-in elsewhere starts in it."""
    if user.language == language:
        return
    before = {"language": user.language}
    user.language = language
    session.add(user)
    audit(session, actor_id=user.id, action="user.language", obj=user, before=before, after={"language": language})
    session.commit()
