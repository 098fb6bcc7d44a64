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
from app.errors import ServiceError
from app.locale import N_, ngettext
from app.locale import gettext as _

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MIN_PASSWORD_SCORE = 3
ZXCVBN_LENGTH = 100
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_CLIENT = 20
"""Reset requests: per address (no mailbox flooded) and per client, in `THROTTLE_WINDOW`."""
FREE_SIGN_IN_FAILURES = {"pair": 5, "client": 20}
"""Failed sign-ins in `THROTTLE_WINDOW` before each further one waits, for one (client, address)
pair and for one client over all addresses. Never per address alone: a stranger elsewhere must not
be able to keep a person out of their account."""
FIRST_DELAY, LONGEST_DELAY = 30, 15 * 60
"""The wait after the last free failure (seconds); it doubles with each further one, up to the longest."""
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
SIGN_IN, RESET = "sign_in", "reset"
"""What a `LoginAttempt` counts against: each is throttled on its own."""
WRONG_CREDENTIALS = N_("Adresse électronique ou mot de passe incorrect.")

_hasher = PasswordHasher()


class LoginError(ServiceError):
    """A refused sign-in; `retry_after` (seconds) is set when the refusal is throttling (429)."""

    def __init__(self, message: str, *, field: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message, field=field, status=429 if retry_after else 422)
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
def decoy_hash() -> str:
    """A hash nobody's password matches: verified when there is no account, so both cases cost the same."""
    return hash_password("decoy password, never anybody's")


def _normalize_email(email: str) -> str:
    return email.strip().lower()


def password_problems(password: str, *, email: str, name: str) -> str | None:
    """Why `password` is refused, in a sentence for the person; None when it is long and hard enough.

    Twelve characters at least, and `zxcvbn`'s estimate of how hard it is to guess at 3 of 4 or
    more, told the person's name and address so it counts them as easy to guess.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Le mot de passe doit compter au moins %(count)s caractères.") % {
            "count": MIN_PASSWORD_LENGTH
        }
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Le mot de passe ne doit pas dépasser %(count)s caractères.") % {
            "count": MAX_PASSWORD_LENGTH
        }
    words = [part for part in re.split(r"[\W_]+", f"{name} {email}".lower()) if len(part) > 2]
    personal = [name.lower(), email.lower(), email.lower().partition("@")[0], *words]
    # zxcvbn's time grows with the length; the first 100 characters tell enough.
    from zxcvbn import zxcvbn  # its dictionaries load on the first password checked, not at start-up

    estimate = zxcvbn(password[:ZXCVBN_LENGTH], user_inputs=personal)
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return None
    if any(match.get("dictionary_name") == "user_inputs" for match in estimate["sequence"]):
        return _(
            "Ce mot de passe est trop facile à deviner : il reprend votre nom ou votre adresse "
            "électronique. Choisissez-en un autre, par exemple une phrase de plusieurs mots."
        )
    return _(
        "Ce mot de passe est trop facile à deviner (mot courant, suite de touches, date ou "
        "répétition). Choisissez une phrase de plusieurs mots peu courants, ou ajoutez des mots."
    )


def create_user(
    session: Session, *, email: str, name: str, role: Role, password: str, actor: User | None = None
) -> User:
    """Create an active account; refuse an invalid or taken email, an empty name or a weak password."""
    email, name = _normalize_email(email), name.strip()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        message = _("L'adresse électronique « %(email)s » n'est pas valide.") % {"email": email}
        raise ServiceError(message, field="email")
    if not name or len(name) > 120:
        raise ServiceError(_("Le nom doit compter entre 1 et 120 caractères."), field="name")
    if problem := password_problems(password, email=email, name=name):
        raise ServiceError(problem, field="password")
    message = _("L'adresse électronique « %(email)s » est déjà utilisée.") % {"email": email}
    taken = ServiceError(message, field="email")
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
    """Return the active user with these credentials, or raise `LoginError` with a message for the person."""
    email, client = _normalize_email(email), client[:64]
    if not email:
        raise LoginError(_("Saisissez votre adresse électronique."), field="email")
    if not password:
        raise LoginError(_("Saisissez votre mot de passe."), field="password")
    wait = sign_in_wait(session, email=email, client=client)
    if wait is not None:
        raise LoginError(_sign_in_throttled(wait), retry_after=wait)
    user = session.exec(select(User).where(User.email == email)).first()
    # Verify even when the email is unknown, so both cases take the same time.
    if not verify_password(user.password_hash if user else decoy_hash(), password) or user is None:
        record_attempt(session, email=email, client=client, purpose=SIGN_IN)
        raise LoginError(_(WRONG_CREDENTIALS))
    if not user.is_active:
        raise LoginError(_("Ce compte est désactivé. Adressez-vous à un administrateur de la plateforme."))
    _record_success(session, user=user, password=password, client=client)
    return user


def throttle_wait(session: Session, *, email: str, client: str, purpose: str) -> int | None:
    """Seconds until one more try is allowed, or None when the email and the client may try now."""
    now = utcnow()
    since = now - THROTTLE_WINDOW
    waits = []
    for column, value, limit in (
        (LoginAttempt.email, email, MAX_FAILURES_PER_EMAIL),
        (LoginAttempt.client, client, MAX_FAILURES_PER_CLIENT),
    ):
        query = select(LoginAttempt.at).where(
            column == value, LoginAttempt.at >= since, LoginAttempt.purpose == purpose
        )
        times = session.exec(query.order_by(col(LoginAttempt.at).desc()).limit(limit)).all()
        if len(times) >= limit:
            # Blocked until the oldest of the last `limit` failures leaves the window.
            waits.append(_seconds_between(now, times[-1] + THROTTLE_WINDOW))
    return max(waits, default=None)


def sign_in_wait(session: Session, *, email: str, client: str) -> int | None:
    """Seconds before this client may try this address again, or None: a delay that grows, never a lock.

    Past `FREE_SIGN_IN_FAILURES` for the pair, or for the client, each further failure doubles the
    wait since the last one, from `FIRST_DELAY` to `LONGEST_DELAY`. The person, from their own
    client, is held back only by their own failures.
    """
    now, waits = utcnow(), []
    recent = select(LoginAttempt.at).where(
        LoginAttempt.client == client,
        LoginAttempt.purpose == SIGN_IN,
        LoginAttempt.at >= now - THROTTLE_WINDOW,
    )
    for kind, query in (("pair", recent.where(LoginAttempt.email == email)), ("client", recent)):
        free = FREE_SIGN_IN_FAILURES[kind]
        times = session.exec(query.order_by(col(LoginAttempt.at).desc()).limit(free + 8)).all()
        if len(times) >= free:
            delay = min(LONGEST_DELAY, FIRST_DELAY * 2 ** (len(times) - free))
            if times[0] + timedelta(seconds=delay) > now:
                waits.append(_seconds_between(now, times[0] + timedelta(seconds=delay)))
    return max(waits, default=None)


def _sign_in_throttled(wait: int) -> str:
    if wait < 60:
        return ngettext(
            "Trop de tentatives de connexion infructueuses depuis cet appareil. Réessayez dans %(seconds)s seconde.",
            "Trop de tentatives de connexion infructueuses depuis cet appareil. Réessayez dans %(seconds)s secondes.",
            wait,
        ) % {"seconds": wait}
    minutes = math.ceil(wait / 60)
    return ngettext(
        "Trop de tentatives de connexion infructueuses depuis cet appareil. Réessayez dans %(minutes)s minute.",
        "Trop de tentatives de connexion infructueuses depuis cet appareil. Réessayez dans %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def _seconds_between(start: datetime, end: datetime) -> int:
    return max(1, math.ceil((end - start).total_seconds()))


def record_attempt(session: Session, *, email: str, client: str, purpose: str) -> None:
    """Count a failed sign-in or a reset request against the address and the client, and commit."""
    attempt = LoginAttempt(email=email, client=client, purpose=purpose)
    session.add(attempt)
    # Attempts older than the window no longer count: drop them so the table stays small.
    session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < utcnow() - THROTTLE_WINDOW))
    session.flush()
    audit(
        session,
        actor_id=None,
        action="user.sign_in_failed" if purpose == SIGN_IN else "user.password_reset_asked",
        obj=attempt,
        after={"email": email, "client": client},
    )
    session.commit()


def _record_success(session: Session, *, user: User, password: str, client: str) -> None:
    # Only this client's failures for the account: a success here clears no stranger's record.
    cleared = session.exec(
        delete(LoginAttempt).where(
            col(LoginAttempt.email) == user.email,
            col(LoginAttempt.client) == client,
            col(LoginAttempt.purpose) == SIGN_IN,
        )
    )
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
    audit(
        session,
        actor_id=user.id,
        action="user.language",
        obj=user,
        before=before,
        after={"language": language},
    )
    session.commit()
