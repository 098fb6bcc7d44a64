"""`autodiag structures|members|users invite|deactivate`, run as an operator would: exit codes, one-line errors."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.db import AuditEntry, make_engine
from app.mail.models import OutboxMessage
from app.members.models import Invitation
from app.structures.models import MemberRole, Membership, Structure
from tests.test_cli import CREATE_CAMILLE, Run, database, run

__all__ = ["database", "run"]


def rows(database_url: str, model: type) -> list:  # type: ignore[type-arg]
    engine = make_engine(database_url)
    with Session(engine) as session:
        found = list(session.exec(select(model).order_by(col(model.id))))
    engine.dispose()
    return found


def test_structures_create_list_archive_and_restore(run: Run, database: str) -> None:
    code, out, err = run(
        "structures",
        "create",
        "--name",
        "Médiation Nord",
        "--city",
        "Lille",
        "--legal-form",
        "association",
        "--siret",
        "73282932000074",
    )
    assert (code, err) == (0, "")
    assert "created structure 1 'Médiation Nord'" in out
    assert run("structures", "list")[1].startswith("1\tMédiation Nord\tLille\t73282932000074\t0 members")
    assert run("structures", "archive", "1")[0] == 0
    assert run("structures", "list")[1] == ""
    assert "Médiation Nord" in run("structures", "list", "--archived")[1]
    assert run("structures", "archive", "1", "--restore")[0] == 0
    assert rows(database, Structure)[0].archived_at is None


def test_structures_commands_refuse_bad_input_in_one_line(run: Run, database: str) -> None:
    code, _, err = run("structures", "create", "--name", "S", "--siret", "12345678901234")
    assert code == 2
    assert err.startswith("error: Le SIRET « 12345678901234 » n'est pas valide")
    assert err.count("\n") == 1
    assert run("structures", "create", "--name", "S", "--legal-form", "royaume")[0] == 2
    assert run("structures", "archive", "42") == (2, "", "error: no structure with the id 42\n")
    assert rows(database, Structure) == []


def test_members_add_and_remove_an_existing_account(run: Run, database: str) -> None:
    run(*CREATE_CAMILLE)
    run("structures", "create", "--name", "Nord")
    code, _out, err = run(
        "members", "add", "--structure", "1", "--email", "camille@example.org", "--role", "lecture"
    )
    assert (code, err) == (0, "")
    assert [(m.user_id, m.role) for m in rows(database, Membership)] == [(1, MemberRole.LECTURE)]
    assert run("members", "add", "--structure", "1", "--email", "camille@example.org")[0] == 2
    assert run("members", "add", "--structure", "1", "--email", "x@example.org")[2] == (
        "error: no account with the email 'x@example.org'\n"
    )
    assert (
        run("members", "add", "--structure", "1", "--email", "camille@example.org", "--role", "roi")[0] == 2
    )
    assert run("members", "remove", "--structure", "1", "--email", "camille@example.org")[0] == 0
    assert rows(database, Membership) == []
    assert (
        "is not a member" in run("members", "remove", "--structure", "1", "--email", "camille@example.org")[2]
    )


def test_members_remove_keeps_the_last_director(run: Run, database: str) -> None:
    run(*CREATE_CAMILLE)
    run("structures", "create", "--name", "Nord")
    run("members", "add", "--structure", "1", "--email", "camille@example.org")
    code, _, err = run("members", "remove", "--structure", "1", "--email", "camille@example.org")
    assert code == 2
    assert "dernier membre de la direction" in err
    assert len(rows(database, Membership)) == 1


def test_users_invite_queues_an_invitation_and_refuses_bad_input(run: Run, database: str) -> None:
    run("structures", "create", "--name", "Nord")
    code, out, err = run(
        "users", "invite", "--structure", "1", "--email", "Ines@Example.org", "--role", "contribution"
    )
    assert (code, err) == (0, "")
    assert "invitation queued for ines@example.org" in out
    [invitation] = rows(database, Invitation)
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "ines@example.org",
        MemberRole.CONTRIBUTION,
        None,
    )
    [message] = rows(database, OutboxMessage)
    assert "/invitations/" in message.text_body
    assert run("users", "invite", "--structure", "1", "--email", "nope", "--role", "lecture")[0] == 2
    assert (
        run("users", "invite", "--structure", "9", "--email", "a@example.org")[2]
        == "error: no structure with the id 9\n"
    )
    assert (
        "Choisissez un des rôles"
        in run("users", "invite", "--structure", "1", "--email", "a@example.org", "--role", "roi")[2]
    )
    assert len(rows(database, Invitation)) == 1


def test_users_deactivate_and_reactivate(run: Run, database: str) -> None:
    run(*CREATE_CAMILLE)
    assert run("users", "deactivate", "--email", "camille@example.org") == (
        0,
        "deactivated camille@example.org\n",
        "",
    )
    assert not rows(database, User)[0].is_active
    assert run("users", "deactivate", "--email", "camille@example.org", "--reactivate")[0] == 0
    assert rows(database, User)[0].is_active
    assert [e.action for e in rows(database, AuditEntry)][-2:] == ["user.deactivate", "user.reactivate"]
    assert run("users", "deactivate", "--email", "x@example.org")[0] == 2
