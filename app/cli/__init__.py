"""The `autodiag` command. Every expected error is one line on stderr and exit code 2.

Its groups are in this package by meaning: `catalog.py` (criteria, score), `accounts.py` (users,
tokens), `mail.py` (the outbox), `cycle.py` (reminders), `structures.py` (structures, members), `backup.py` (backup, restore); the operations (database, OpenAPI document, demo, serving) are here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app import demo as demo_data
from app.assessments.snapshot import load_or_create_signer
from app.cli import catalog
from app.cli.accounts import tokens_app, users_app
from app.cli.backup import backup_command, restore_command
from app.cli.console import CliError, fail
from app.cli.cycle import reminders_app
from app.cli.mail import mail_app, where_mail_goes
from app.cli.structures import members_app, structures_app
from app.config import settings
from app.db import make_engine, upgrade

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(catalog.criteria_app, name="criteria")
app.command("score")(catalog.score_command)
db_app = typer.Typer(no_args_is_help=True, help="Manage the database schema.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(mail_app, name="mail")
app.add_typer(structures_app, name="structures")
app.add_typer(members_app, name="members")
app.command("backup")(backup_command)
app.command("restore")(restore_command)
app.add_typer(reminders_app, name="reminders")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema; in production, run it before starting a new version."""
    engine = make_engine(settings.sqlalchemy_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        upgrade(engine)
    except SQLAlchemyError as error:
        fail(f"cannot migrate {where}: {str(error).splitlines()[0]}")
    finally:
        engine.dispose()
    typer.echo(f"{where} is at the latest schema")


OPENAPI_FILE = Path("examples") / "openapi.json"


@app.command("openapi")
def openapi(
    write: Annotated[bool, typer.Option(help=f"Rewrite the committed copy, {OPENAPI_FILE}.")] = False,
) -> None:
    """Print the API's OpenAPI document (the one served at /api/v1/openapi.json)."""
    from app.api.routes import openapi_text

    text = openapi_text()
    if write:
        (settings.catalog_dir / OPENAPI_FILE).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {OPENAPI_FILE}")
        return
    typer.echo(text, nl=False)


@app.command("demo")
def demo() -> None:
    """Seed a demo structure, its accounts, a submitted and a half-filled assessment (not in production)."""
    if settings.environment == "production":
        fail("the demo has fixed passwords: it is refused in production")
    found = catalog.load()
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    with Session(engine) as session:
        signer = load_or_create_signer(settings.data_dir, settings.snapshot_signing_key)
        seeded = demo_data.seed(session, catalog=found, signer=signer)
    engine.dispose()
    typer.echo("Démo créée :" if seeded.created else "Démo déjà en place :")
    for email, _, role, password in seeded.accounts:
        typer.echo(f"  {role.label:<28} {email:<30} mot de passe : {password}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = settings.host,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = settings.port,
    reload: Annotated[bool, typer.Option(help="Restart on code changes, re-read changed templates.")] = False,
) -> None:
    """Serve the web application with uvicorn."""
    import uvicorn

    catalog.load()  # fail in one clear line before uvicorn starts
    typer.echo(where_mail_goes())
    if reload:
        os.environ["AUTODIAG_RELOAD_TEMPLATES"] = "true"  # read by the Settings of the reloaded process
    # The app logs each request itself, as JSON with its id (`app.observability`): no second line.
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, reload=reload, access_log=False)


def main() -> None:
    """Entry point: run the command, turning expected errors into one line and exit code 2."""
    try:
        app()
    except CliError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
