"""`autodiag structures …` and `autodiag members …`: structures and their members, for operators."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session, col, select

from app.cli.accounts import account
from app.cli.console import database, fail
from app.errors import ServiceError
from app.structures import registry
from app.structures import service as structures
from app.structures.models import LEGAL_FORMS, MemberRole, Membership, Structure

structures_app = typer.Typer(no_args_is_help=True, help="Manage structures.")
members_app = typer.Typer(no_args_is_help=True, help="Manage the members of a structure.")
ROLES = ", ".join(MemberRole)


@structures_app.command("create")
def structures_create(
    name: Annotated[str, typer.Option(help="The structure's name.")],
    city: Annotated[str, typer.Option(help="Its city.")] = "",
    legal_form: Annotated[str, typer.Option(help=f"One of: {', '.join(LEGAL_FORMS)}.")] = "",
    siret: Annotated[str, typer.Option(help="14 digits, checked by its key.")] = "",
) -> None:
    """Create a structure and print its id."""
    with database() as session:
        try:
            created = structures.create(session, name=name, city=city, legal_form=legal_form, siret=siret)
        except ServiceError as error:
            fail(error.message)
        typer.echo(f"created structure {created.id} {created.name!r}")


@structures_app.command("list")
def structures_list(
    archived: Annotated[bool, typer.Option(help="List the archived structures instead.")] = False,
) -> None:
    """List structures: id, name, city, SIRET, number of members."""
    with database() as session:
        query = select(Structure).where(
            col(Structure.archived_at).is_not(None) if archived else col(Structure.archived_at).is_(None)
        )
        for structure in session.exec(query.order_by(col(Structure.name), col(Structure.id))):
            count = len(registry.members_of(session, structure_id=structure.id or 0))
            typer.echo(
                f"{structure.id}\t{structure.name}\t{structure.city}\t{structure.siret}\t{count} members"
            )


@structures_app.command("archive")
def structures_archive(
    structure_id: int,
    restore: Annotated[bool, typer.Option(help="Restore an archived structure instead.")] = False,
) -> None:
    """Archive a structure (read-only, out of lists), or restore it."""
    with database() as session:
        registry.set_archived(
            session, structure=_structure(session, structure_id), archived=not restore, actor=None
        )
    typer.echo(f"{'restored' if restore else 'archived'} structure {structure_id}")


def _structure(session: Session, structure_id: int) -> Structure:
    found = session.get(Structure, structure_id)
    if found is None:
        fail(f"no structure with the id {structure_id}")
    return found


@members_app.command("add")
def members_add(
    structure: Annotated[int, typer.Option(help="The structure's id (see `structures list`).")],
    email: Annotated[str, typer.Option(help="An existing account's address.")],
    role: Annotated[str, typer.Option(help=f"One of: {ROLES}.")] = MemberRole.DIRECTION.value,
) -> None:
    """Make an existing account a member of a structure (to invite someone new: `users invite`)."""
    if role not in set(MemberRole):
        fail(f"unknown role {role!r}: choose one of {ROLES}")
    with database() as session:
        found, user = _structure(session, structure), account(session, email)
        if _membership(session, structure, user.id or 0) is not None:
            fail(f"{user.email} is already a member of structure {structure}")
        structures.add_member(session, structure=found, user=user, role=MemberRole(role))
        typer.echo(f"{user.email} is now a member of structure {structure} ({role})")


@members_app.command("remove")
def members_remove(
    structure: Annotated[int, typer.Option(help="The structure's id.")],
    email: Annotated[str, typer.Option(help="The member's address.")],
) -> None:
    """Take a member out of a structure (its last direction member stays)."""
    with database() as session:
        _structure(session, structure)
        user = account(session, email)
        membership = _membership(session, structure, user.id or 0)
        if membership is None:
            fail(f"{user.email} is not a member of structure {structure}")
        try:
            registry.remove_member(session, membership=membership, actor=None)
        except ServiceError as error:
            fail(error.message)
        typer.echo(f"{user.email} is no longer a member of structure {structure}")


def _membership(session: Session, structure_id: int, user_id: int) -> Membership | None:
    query = select(Membership).where(Membership.structure_id == structure_id, Membership.user_id == user_id)
    return session.exec(query).first()
