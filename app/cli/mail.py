"""`autodiag mail …`: send the outbox now (from cron, or after an outage), and see what failed."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.cli.console import database, fail
from app.config import settings
from app.db import open_database
from app.mail.sender import send_pending
from app.mail.service import failed_messages, pending_count

mail_app = typer.Typer(no_args_is_help=True, help="Send queued e-mail and list what failed.")


def where_mail_goes() -> str:
    """One line saying where sent e-mail goes: the SMTP server, or the `.eml` folder."""
    if settings.smtp_host:
        return f"e-mail is sent through {settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})"
    return f"no SMTP server configured (AUTODIAG_SMTP_HOST): e-mails are written to {settings.outbox_dir}/"


@mail_app.command("send")
def mail_send(
    limit: Annotated[int, typer.Option(help="Send at most this many messages.")] = 500,
) -> None:
    """Send every message that is due; safe to run while the app sends too (each message goes once)."""
    try:
        engine = open_database(settings)
        counts = send_pending(engine, settings=settings, limit=limit)
        engine.dispose()
    except SQLAlchemyError as error:
        fail(f"database error (is it migrated? see `autodiag db upgrade`): {str(error).splitlines()[0]}")
    typer.echo(where_mail_goes(), err=True)
    typer.echo(f"sent {counts.sent}, to try again later {counts.retried}, failed {counts.failed}")


@mail_app.command("failed")
def mail_failed() -> None:
    """List the messages given up on: id, when, recipient, subject, last error."""
    with database() as session:
        typer.echo(f"{pending_count(session)} message(s) waiting to be sent", err=True)
        for message in failed_messages(session):
            typer.echo(
                f"{message.id}\t{message.failed_at:%Y-%m-%d %H:%M}\t{message.recipient}\t"
                f"{message.subject}\t{message.last_error}"
            )
