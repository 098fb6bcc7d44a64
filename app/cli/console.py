"""What every `autodiag` command shares: its output, one-line failures, a database session."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.config import settings
from app.db import open_database

out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 120)


class CliError(Exception):
    """An error the user can fix; shown as one line."""


def fail(message: str) -> NoReturn:
    raise CliError(message)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False))


@contextmanager
def database() -> Iterator[Session]:
    """A session on the configured database; a database error is one line, never a traceback."""
    try:
        engine = open_database(settings)
        with Session(engine) as session:
            yield session
        engine.dispose()
    except SQLAlchemyError as error:
        fail(f"database error (is it migrated? see `autodiag db upgrade`): {str(error).splitlines()[0]}")
