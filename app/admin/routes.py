"""The administration pages: home, accounts, the audit log and the catalog installed (administrators only).

The router depends on `administrator`, which answers 404 to anyone else. Structures: `structure_routes.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlmodel import Session, col, select

from app.accounts import sessions
from app.accounts.models import ROLE_LABELS, Role, User
from app.accounts.service import create_user
from app.admin import journal, service
from app.admin.models import AccountForm, AccountRoleForm, JournalQuery, ListQuery
from app.db import SessionDep
from app.deps import Administrator, CatalogDep, administrator
from app.errors import ServiceError
from app.locale import N_
from app.locale import gettext as _
from app.mail import service as mail
from app.mail.models import OutboxMessage
from app.structures.models import Membership, Structure
from app.web import render

router = APIRouter(prefix="/admin", dependencies=[Depends(administrator)])
NO_SUCH_ACCOUNT = N_("Ce compte n'existe pas.")
NO_SUCH_MESSAGE = N_("Ce message n'existe pas ou n'est pas en échec.")


@router.get("")
def home(request: Request, session: SessionDep) -> Response:
    return render(request, "admin/home.html", {"failed": len(mail.failed_messages(session))})


# E-mails given up on


@router.get("/courriels")
def failed_mail(request: Request, session: SessionDep) -> Response:
    return render(request, "admin/mail.html", {"messages": mail.failed_messages(session)})


@router.post("/courriels/{message_id}/renvoyer")
def retry_mail(session: SessionDep, admin: Administrator, message_id: int) -> Response:
    message = session.get(OutboxMessage, message_id)
    if message is None or message.failed_at is None:
        raise HTTPException(404, _(NO_SUCH_MESSAGE))
    service.retry_message(session, message=message, actor=admin)
    return RedirectResponse("/admin/courriels", status_code=303)


# Accounts


@router.get("/utilisateurs")
def users(request: Request, session: SessionDep, query: Annotated[ListQuery, Query()]) -> Response:
    return render(request, "admin/users.html", _users_context(session, query))


def _users_context(session: Session, query: ListQuery, **extra: Any) -> dict[str, Any]:
    found = service.search_users(
        session, text=query.q, role=query.role, active=query.actif, page=query.page_number()
    )
    asked = {"q": query.q, "role": query.role, "actif": query.actif}
    return {
        "page": found,
        "query": asked,
        "pager": "/admin/utilisateurs?" + urlencode(asked),
        "roles": ROLE_LABELS,
        "errors": {},
        "posted": {"email": "", "name": "", "role": Role.DIRECTOR.value},
    } | extra


@router.post("/utilisateurs")
def user_create(
    request: Request, session: SessionDep, admin: Administrator, form: Annotated[AccountForm, Form()]
) -> Response:
    try:
        role = service.parsed_account_role(form.role)
        user = create_user(
            session, email=form.email, name=form.name, role=role, password=form.password, actor=admin
        )
    except ServiceError as error:
        posted = form.model_dump(exclude={"password"})
        context = _users_context(session, ListQuery(), errors=error.problems, posted=posted)
        return render(request, "admin/users.html", context, status_code=error.status)
    return RedirectResponse(f"/admin/utilisateurs/{user.id}", status_code=303)


def _account(session: Session, user_id: int) -> User:
    found = session.get(User, user_id)
    if found is None:
        raise HTTPException(404, _(NO_SUCH_ACCOUNT))
    return found


@router.get("/utilisateurs/{user_id}")
def user_page(request: Request, session: SessionDep, user_id: int, fermees: int | None = None) -> Response:
    context = _user_context(session, _account(session, user_id), ended=fermees)
    return render(request, "admin/user.html", context)


@router.post("/utilisateurs/{user_id}/sessions/terminer")
def user_end_sessions(session: SessionDep, admin: Administrator, user_id: int) -> Response:
    """End every open session of an account at its next request (a lost device, a departure)."""
    ended = sessions.end_all(session, user=_account(session, user_id), actor=admin)
    return RedirectResponse(f"/admin/utilisateurs/{user_id}?fermees={ended}", status_code=303)


def _user_context(session: Session, user: User, **extra: Any) -> dict[str, Any]:
    query = (
        select(Membership, Structure)
        .join(Structure, col(Structure.id) == col(Membership.structure_id))
        .where(Membership.user_id == user.id)
        .order_by(col(Structure.name))
    )
    return {
        "account": user,
        "memberships": list(session.exec(query)),
        "roles": ROLE_LABELS,
        "errors": {},
        "ended": None,
        "open_sessions": len(sessions.sessions_of(session, user=user)),
    } | extra


@router.post("/utilisateurs/{user_id}/role")
def user_role(
    request: Request,
    session: SessionDep,
    admin: Administrator,
    user_id: int,
    form: Annotated[AccountRoleForm, Form()],
) -> Response:
    def change(user: User) -> None:
        service.change_account_role(session, user=user, role=form.role, actor=admin)

    return _account_change(request, session, user_id, change)


@router.post("/utilisateurs/{user_id}/desactiver")
def user_deactivate(request: Request, session: SessionDep, admin: Administrator, user_id: int) -> Response:
    return _set_active(request, session, admin, user_id, active=False)


@router.post("/utilisateurs/{user_id}/reactiver")
def user_reactivate(request: Request, session: SessionDep, admin: Administrator, user_id: int) -> Response:
    return _set_active(request, session, admin, user_id, active=True)


def _set_active(request: Request, session: Session, admin: User, user_id: int, *, active: bool) -> Response:
    def change(user: User) -> None:
        service.set_active(session, user=user, active=active, actor=admin)

    return _account_change(request, session, user_id, change)


def _account_change(
    request: Request, session: Session, user_id: int, change: Callable[[User], None]
) -> Response:
    """Apply `change` to the account, then back to its page; its page with the errors if refused."""
    user = _account(session, user_id)
    try:
        change(user)
    except ServiceError as error:
        context = _user_context(session, user, errors=error.problems)
        return render(request, "admin/user.html", context, status_code=error.status)
    return RedirectResponse(f"/admin/utilisateurs/{user_id}", status_code=303)


# The audit log


@router.get("/journal")
def journal_page(request: Request, session: SessionDep, query: Annotated[JournalQuery, Query()]) -> Response:
    asked = query.model_dump(exclude={"page"})
    context: dict[str, Any] = {"query": asked, "errors": {}, "page": None, "actors": {}}
    try:
        filters = _filters(query)
    except ServiceError as error:
        return render(request, "admin/journal.html", context | {"errors": error.problems}, status_code=422)
    found = journal.entries(session, filters=filters, page=query.page_number())
    context |= {"page": found, "actors": journal.actors(session, list(found.items))}
    context["pager"] = "/admin/journal?" + urlencode(asked)
    context["export"] = "/admin/journal.csv?" + urlencode(asked)
    return render(request, "admin/journal.html", context)


@router.get("/journal.csv")
def journal_csv(session: SessionDep, query: Annotated[JournalQuery, Query()]) -> Response:
    lines = list(journal.csv_lines(session, filters=_filters(query)))
    return StreamingResponse(
        iter(lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="journal-audit.csv"'},
    )


def _filters(query: JournalQuery) -> journal.Filters:
    return journal.checked_filters(
        structure=query.structure,
        actor=query.personne,
        action=query.action,
        since=query.debut,
        until=query.fin,
    )


# The catalog installed


@router.get("/catalogue")
def catalog_page(request: Request, catalog: CatalogDep) -> Response:
    criteria = [
        (ref, version, catalog.criteria_hashes[ref]) for ref, version in sorted(catalog.criteria.items())
    ]
    questionnaires = [
        (ref, questionnaire, catalog.questionnaire_hashes[ref])
        for ref, questionnaire in sorted(catalog.questionnaires.items())
    ]
    return render(request, "admin/catalog.html", {"criteria": criteria, "questionnaires": questionnaires})
