"""Accounts as administrators manage them: search, role, deactivation; one page of a long list."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import Role, User
from app.accounts.sessions import end_sessions
from app.db import audit
from app.errors import ServiceError
from app.locale import gettext as _
from app.mail import service as mail
from app.mail.models import OutboxMessage
from app.structures.models import Structure

PAGE_SIZE = 25
Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a list, with what the pager needs."""

    items: Sequence[Row]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def paginate(session: Session, query: SelectOfScalar[Any], *, page: int, size: int = PAGE_SIZE) -> Page[Any]:
    """The rows of `query` on page `page` (from 1; out-of-range pages give the last one)."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    number = min(max(1, page), max(1, math.ceil(total / size)))
    items = session.exec(query.offset((number - 1) * size).limit(size)).all()
    return Page(items=items, number=number, total=total, size=size)


def search_users(
    session: Session, *, text: str = "", role: str = "", active: str = "", page: int = 1
) -> Page[User]:
    """Accounts whose name or e-mail contains `text`, of `role`, active ("oui") or not ("non"), by name."""
    query = select(User)
    if text.strip():
        pattern = f"%{text.strip().lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), col(User.email).like(pattern)))
    if role in set(Role):
        query = query.where(User.role == Role(role))
    if active in ("oui", "non"):
        query = query.where(User.is_active == (active == "oui"))
    return paginate(session, query.order_by(func.lower(User.name), col(User.id)), page=page)


def parsed_account_role(value: str) -> Role:
    try:
        return Role(value.strip())
    except ValueError:
        raise ServiceError(_("Choisissez un des rôles proposés."), field="role") from None


def change_account_role(session: Session, *, user: User, role: str, actor: User) -> User:
    """Give an account another role; an administrator does not take their own away."""
    new = parsed_account_role(role)
    if new == user.role:
        return user
    if user.id == actor.id:
        raise ServiceError(_("Vous ne pouvez pas changer le rôle de votre propre compte."), field="role")
    before = {"role": user.role.value}
    user.role = new
    session.add(user)
    audit(session, actor_id=actor.id, action="user.role", obj=user, before=before, after={"role": new.value})
    session.commit()
    session.refresh(user)
    return user


def set_active(session: Session, *, user: User, active: bool, actor: User | None) -> User:
    """Deactivate an account (it cannot sign in, its tokens stop working) or reactivate it; never delete it."""
    if user.is_active == active:
        return user
    if actor is not None and user.id == actor.id:
        raise ServiceError(_("Vous ne pouvez pas désactiver votre propre compte."), field="active")
    user.is_active = active
    if not active:
        end_sessions(session, user=user)  # its open sessions end at their next request
    session.add(user)
    audit(
        session,
        actor_id=actor.id if actor else None,
        action="user.reactivate" if active else "user.deactivate",
        obj=user,
        before={"is_active": not active},
        after={"is_active": active},
    )
    session.commit()
    session.refresh(user)
    return user


def search_structures(
    session: Session, *, text: str = "", archived: bool = False, page: int = 1
) -> Page[Structure]:
    """Structures whose name or city contains `text`, archived or not, by name."""
    query = select(Structure).where(
        col(Structure.archived_at).is_not(None) if archived else col(Structure.archived_at).is_(None)
    )
    if text.strip():
        pattern = f"%{text.strip().lower()}%"
        query = query.where(
            or_(func.lower(Structure.name).like(pattern), func.lower(Structure.city).like(pattern))
        )
    return paginate(session, query.order_by(func.lower(Structure.name), col(Structure.id)), page=page)


def retry_message(session: Session, *, message: OutboxMessage, actor: User) -> None:
    """Send a failed e-mail again from its first try, once its cause is fixed (an address, the SMTP server)."""
    before = {"failed_at": message.failed_at, "attempts": message.attempts, "last_error": message.last_error}
    audit(session, actor_id=actor.id, action="mail.retry", obj=message, before=before)
    mail.retry(session, message=message)
