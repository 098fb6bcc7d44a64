"""Personal API tokens: the secret is shown once, only its hash is kept."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from app.accounts.models import ApiToken, Scope, User
from app.db import audit, pk, utcnow
from app.errors import ServiceError
from app.locale import gettext as _

TOKEN_PREFIX = "adm_"  # noqa: S105 (not a secret: it makes a leaked token recognisable)
SHOWN_PREFIX = 12
MAX_TOKEN_DAYS = 366
LAST_USE_PRECISION = timedelta(minutes=1)
"""`last_used_at` is written at most once a minute per token: a write on every read would turn each
API read into a write transaction (SQLite has one writer at a time) for no useful precision."""


def hash_token(secret: str) -> str:
    """SHA-256 of a token's secret.

    The secret is 256 random bits, not a password a person chose: nobody can guess it or find it
    from its hash, so a slow password hash (Argon2) would only add CPU to every API request.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    session: Session, *, user: User, name: str, scopes: Iterable[str], days: int
) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it with its secret, which is never stored nor shown again."""
    name, chosen = name.strip(), sorted(set(scopes))
    problems = {}
    if not name or len(name) > 100:
        problems["name"] = _(
            "Donnez au jeton un nom de 1 à 100 caractères (par exemple, l'outil qui l'utilise)."
        )
    if not chosen or not set(chosen) <= {scope.value for scope in Scope}:
        problems["scopes"] = _("Cochez au moins une autorisation parmi celles proposées.")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        problems["days"] = _("La durée de validité va de 1 à %(count)s jours.") % {"count": MAX_TOKEN_DAYS}
    if problems:
        raise ServiceError(problems=problems)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=pk(user),
        name=name,
        prefix=secret[:SHOWN_PREFIX],
        token_hash=hash_token(secret),
        scopes=" ".join(chosen),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    after = {"name": name, "scopes": chosen, "expires_at": token.expires_at.isoformat()}
    audit(session, actor_id=user.id, action="token.create", obj=token, after=after)
    session.commit()
    session.refresh(token)
    return token, secret


def tokens_of(session: Session, *, user: User) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id).desc())
    return list(session.exec(query))


def revoke_token(session: Session, *, token: ApiToken, actor: User) -> None:
    """Revoke a token now; revoking it again changes nothing."""
    if token.revoked_at is not None:
        return
    token.revoked_at, token.revoked_by = utcnow(), pk(actor)
    session.add(token)
    audit(session, actor_id=actor.id, action="token.revoke", obj=token, before={"name": token.name})
    session.commit()


_BY_SECRET = (
    select(ApiToken, User)
    .join(User, col(User.id) == col(ApiToken.user_id))
    .where(col(ApiToken.token_hash) == bindparam("token_hash"))
)
"""Built once, as `app.accounts.sessions` does: every API request runs it."""


def authenticate_token(session: Session, *, secret: str) -> tuple[ApiToken, User] | None:
    """The token with this secret and its user, if the token is active and the account too."""
    found = session.exec(_BY_SECRET, params={"token_hash": hash_token(secret)}).first()
    now = utcnow()
    if found is None or found[0].state(now) != "active" or not found[1].is_active:
        return None
    token, user = found
    if token.last_used_at is None or token.last_used_at < now - LAST_USE_PRECISION:
        stale = or_(
            col(ApiToken.last_used_at).is_(None), col(ApiToken.last_used_at) < now - LAST_USE_PRECISION
        )
        session.execute(update(ApiToken).where(col(ApiToken.id) == token.id, stale).values(last_used_at=now))
        session.commit()
    return token, user
