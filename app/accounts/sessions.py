"""Sessions kept on the server: opened at sign-in, found from the cookie's secret, ended for real.

The cookie (signed by Starlette) holds a random secret; the `user_session` table keeps only its
SHA-256, as for API tokens. Ending a session deletes its row: the cookie, and any copy of it, stops
working at its next request. Signing out ends this session; a password change ends the others; a
password reset, a deactivation or « se déconnecter partout » ends them all.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, select

from app.accounts.models import User, UserSession
from app.accounts.tokens import LAST_USE_PRECISION, hash_token
from app.db import audit, pk, utcnow
from app.locale import gettext as _

SESSION_LIFETIME = timedelta(hours=12)
USER_AGENT_MAX = 300


def open_session(session: Session, *, user: User, user_agent: str) -> str:
    """Record a new session of `user` and return its secret, which only the cookie keeps."""
    now = utcnow()
    session.exec(delete(UserSession).where(col(UserSession.expires_at) <= now))
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=pk(user),
            token_hash=hash_token(secret),
            user_agent=user_agent[:USER_AGENT_MAX],
            created_at=now,
            last_used_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.commit()
    return secret


_BY_SECRET = (
    select(UserSession, User)
    .join(User, col(User.id) == col(UserSession.user_id))
    .where(col(UserSession.token_hash) == bindparam("token_hash"))
)
"""Built once: every request runs it, and building a statement (and its cache key) costs more than
SQLite takes to answer it."""


def resolve(session: Session, *, secret: str) -> tuple[UserSession, User] | None:
    """The open, unexpired session with this secret and its active account; its last use noted."""
    found = session.exec(_BY_SECRET, params={"token_hash": hash_token(secret)}).first()
    now = utcnow()
    if found is None or found[0].expires_at <= now or not found[1].is_active:
        return None
    touch(session, user_session=found[0], now=now)
    return found


def touch(session: Session, *, user_session: UserSession, now: datetime) -> None:
    """Note the session's last use at most once a minute: a write per request would make reads writes."""
    stale = now - LAST_USE_PRECISION
    if user_session.last_used_at >= stale:
        return
    session.execute(
        update(UserSession)
        .where(col(UserSession.id) == user_session.id, col(UserSession.last_used_at) < stale)
        .values(last_used_at=now)
    )
    session.commit()


def sessions_of(session: Session, *, user: User) -> list[UserSession]:
    """The open sessions of `user`, the most recently used first."""
    query = select(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at > utcnow())
    return list(session.exec(query.order_by(col(UserSession.last_used_at).desc(), col(UserSession.id))))


def end_sessions(session: Session, *, user: User, keep: int | None = None) -> int:
    """End every session of `user` (but `keep`) at its next request; the caller's use case commits."""
    query = delete(UserSession).where(col(UserSession.user_id) == user.id)
    if keep is not None:
        query = query.where(col(UserSession.id) != keep)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]


def end_session(session: Session, *, user_session: UserSession, actor: User) -> None:
    """End one session (signing out, or « se déconnecter » beside it on the account page)."""
    action = "user.sign_out" if actor.id == user_session.user_id else "user.sessions_end"
    audit(session, actor_id=actor.id, action=action, obj=user_session, after={"user": user_session.user_id})
    session.delete(user_session)
    session.commit()


def end_all(session: Session, *, user: User, actor: User) -> int:
    """End every session of `user` (« se déconnecter partout », or an administrator); how many ended."""
    ended = end_sessions(session, user=user)
    audit(session, actor_id=actor.id, action="user.sessions_end", obj=user, after={"ended": ended})
    session.commit()
    return ended


BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
SYSTEMS = (
    ("Android", "Android"),
    (r"iPhone|iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X|Macintosh", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def device(user_agent: str) -> str:
    """The browser and system a `User-Agent` names, in words (« Firefox sous Linux »)."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if re.search(mark, user_agent)), None)
    if browser and system:
        return _("%(browser)s sous %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("Appareil inconnu")
