"""`autodiag users …` and `autodiag tokens …`: accounts, invitations and personal API tokens, for operators."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from sqlmodel import Session, select

from app.accounts.models import ApiToken, Role, Scope, User
from app.accounts.service import create_user
from app.accounts.tokens import create_token, revoke_token, tokens_of
from app.admin.service import set_active
from app.cli.console import database, fail
from app.db import utcnow
from app.errors import ServiceError
from app.members.service import invite
from app.structures.models import MemberRole, Structure

users_app = typer.Typer(no_args_is_help=True, help="Manage user accounts.")
tokens_app = typer.Typer(no_args_is_help=True, help="Manage personal API tokens.")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in address.")],
    name: Annotated[str, typer.Option(help="Name shown in the app.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(Role)}.")],
) -> None:
    """Create an account; the password comes from AUTODIAG_NEW_PASSWORD, or is typed twice."""
    if role not in set(Role):
        fail(f"unknown role {role!r}: choose one of {', '.join(Role)}")
    password = _new_password()
    with database() as session:
        try:
            user = create_user(session, email=email, name=name, role=Role(role), password=password)
        except ServiceError as error:
            fail(error.message)
    typer.echo(f"created {user.role.value} account {user.email} (id {user.id})")


def _new_password() -> str:
    # An operator's one-off input rather than configuration, so not a `Settings` field.
    password = os.environ.get("AUTODIAG_NEW_PASSWORD")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        fail("set AUTODIAG_NEW_PASSWORD, or run the command in a terminal to type the password")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def account(session: Session, email: str) -> User:
    """The account with this address, or a one-line failure."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        fail(f"no account with the email {email!r}")
    return user


@users_app.command("invite")
def users_invite(
    structure: Annotated[int, typer.Option(help="The structure's id (see `structures list`).")],
    email: Annotated[str, typer.Option(help="The person's address.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(MemberRole)}.")] = MemberRole.DIRECTION.value,
) -> None:
    """Invite someone into a structure by e-mail (an existing account joins at once)."""
    with database() as session:
        found = session.get(Structure, structure)
        if found is None:
            fail(f"no structure with the id {structure}")
        try:
            invited = invite(session, structure=found, email=email, role=role, actor=None)
        except ServiceError as error:
            fail(error.message)
    what = "invitation queued" if invited.invitation else "existing account added, notice queued"
    typer.echo(f"{what} for {email.strip().lower()} ({role}); the app sends it, or run `autodiag mail send`")


@users_app.command("deactivate")
def users_deactivate(
    email: Annotated[str, typer.Option(help="The account's address.")],
    reactivate: Annotated[bool, typer.Option(help="Reactivate it instead.")] = False,
) -> None:
    """Deactivate an account (no sign-in, no API tokens; kept for the audit log), or reactivate it."""
    with database() as session:
        user = set_active(session, user=account(session, email), active=reactivate, actor=None)
        typer.echo(f"{'reactivated' if reactivate else 'deactivated'} {user.email}")


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Option(help="The account the token acts for.")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
    scope: Annotated[list[str], typer.Option(help=f"Repeat for each: {', '.join(Scope)}.")],
    days: Annotated[int, typer.Option(help="Days until it expires.")] = 90,
) -> None:
    """Create a token and print it (on stdout, alone): it is shown this once."""
    with database() as session:
        try:
            token, secret = create_token(
                session, user=account(session, email), name=name, scopes=scope, days=days
            )
        except ServiceError as error:
            fail(error.message)
    typer.echo(
        f"token {token.id} {token.name!r} for {email}, {token.scopes}, until {token.expires_at:%Y-%m-%d}",
        err=True,
    )
    typer.echo(secret)


@tokens_app.command("list")
def tokens_list(email: Annotated[str, typer.Option(help="Whose tokens.")]) -> None:
    """List an account's tokens: id, name, start, scopes, expiry, last use, state."""
    with database() as session:
        now = utcnow()
        for token in tokens_of(session, user=account(session, email)):
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
            typer.echo(
                f"{token.id}\t{token.name}\t{token.prefix}…\t{token.scopes}\t"
                f"until {token.expires_at:%Y-%m-%d}\t{used}\t{token.state(now)}"
            )


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id (see `tokens list`)."""
    with database() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            fail(f"no token with the id {token_id}")
        owner = session.get(User, token.user_id)
        assert owner is not None  # a foreign key
        revoke_token(session, token=token, actor=owner)
    typer.echo(f"revoked token {token_id}")
