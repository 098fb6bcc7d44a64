"""`autodiag reminders send`: queue the certification cycle's reminders due today, then send them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from app.catalog.loader import CatalogError, load_catalog
from app.cli.console import database, fail
from app.cli.mail import where_mail_goes
from app.config import settings
from app.cycle.reminders import send_reminders
from app.db import open_database
from app.mail.sender import send_pending

reminders_app = typer.Typer(no_args_is_help=True, help="E-mail the certification cycle's reminders.")


@reminders_app.command("send")
def reminders_send(
    today: Annotated[str, typer.Option(help="The day to remind for, YYYY-MM-DD (default: today, UTC).")] = "",
    queue_only: Annotated[
        bool, typer.Option(help="Queue the reminders in the outbox; leave sending to `autodiag mail send`.")
    ] = False,
) -> None:
    """Queue each reminder due today once (safe hourly, even two runs at once), then send the outbox."""
    try:
        day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    except ValueError:
        fail(f"--today: {today!r} is not a date (YYYY-MM-DD)")
    try:
        catalog = load_catalog(settings.catalog_dir)
    except CatalogError as error:
        fail(f"the catalog does not load: {error}")
    with database() as session:
        queued = send_reminders(session, catalog=catalog, today=day)
    typer.echo(f"queued {queued} reminder(s) for {day.isoformat()}")
    if queue_only:
        return
    try:
        engine = open_database(settings)
        counts = send_pending(engine, settings=settings)
        engine.dispose()
    except SQLAlchemyError as error:
        fail(f"database error: {str(error).splitlines()[0]}")
    typer.echo(where_mail_goes(), err=True)
    typer.echo(f"sent {counts.sent}, to try again later {counts.retried}, failed {counts.failed}")
