"""Database engine, the session dependency, migrations, and the append-only audit log."""

from __future__ import annotations

import fcntl
import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import JSON, Engine, event, insert, text, update
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Field, Session, SQLModel, col, create_engine

from app.config import Settings

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


def pk(row: SQLModel) -> int:
    """The primary key of a row that has been flushed (so it has one)."""
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return value


def stored_enum(enum: type[StrEnum]) -> SAEnum:
    """Store a StrEnum by value in a plain string column (no database enum type to migrate)."""
    return SAEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
    )


DEFAULT_POOL = {"pool_size": 10, "max_overflow": 30, "pool_timeout": 30}
"""For the CLI and tests; the web app sizes its pool from its settings (`Settings.database_pool`)."""


def make_engine(url: str, pool: dict[str, int] | None = None) -> Engine:
    """Create an engine; SQLite runs in WAL mode with foreign keys enforced."""
    pool = pool or DEFAULT_POOL
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **pool)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool)

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        # WAL lets readers work during a write; synchronous=NORMAL keeps every committed
        # transaction through a crash of the server process (not of the whole machine).
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def alembic_config(engine: Engine) -> Any:
    """Alembic's configuration for `engine`; Alembic is imported here, by migrations only (it costs
    a worker's start-up a tenth of a second or more, and a worker in production never migrates)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration."""
    from alembic import command  # see alembic_config

    command.upgrade(alembic_config(engine), "head")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request, opened on the event loop: making one touches no connection.

    A sync dependency would cost two trips to the thread pool (to open, to close). Closing gives a
    connection back to the pool (a rollback, I/O), so it goes to a thread only when one is held.
    """
    session = Session(request.app.state.engine)
    try:
        yield session
    finally:
        if session.in_transaction():
            with anyio.CancelScope(shield=True):  # a request cancelled meanwhile still gives it back
                await run_in_threadpool(session.close)
        else:
            session.close()


# Closed as soon as the route returns, before the response is sent: a slow client downloading a
# file or a page does not keep a connection from the others.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


class AuditEntry(SQLModel, table=True):
    """One write: who did what to which object, with the values before and after.

    Never updated, except once to erase personal data (`erased_at`, `before` and `after` emptied):
    the database's triggers refuse any other UPDATE, and every DELETE."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    action: str = Field(max_length=80)
    object_type: str = Field(max_length=40)
    object_id: str = Field(max_length=80)
    structure_id: int | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    erased_at: datetime | None = None
    """Set once, when erasing a structure empties `before` and `after`: the only update allowed."""


def audit(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    obj: SQLModel,
    structure_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the current transaction (committed with the change it records)."""
    session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            object_type=type(obj).__tablename__,  # type: ignore[arg-type]
            object_id=str(getattr(obj, "id", "")),
            structure_id=structure_id,
            before=_plain(before),
            after=_plain(after),
        )
    )


def audit_each(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    entries: Sequence[tuple[SQLModel, int | None, dict[str, Any]]],
) -> None:
    """Add one audit entry per (object, structure id, after) in one INSERT, without ORM objects to
    flush: what an API read records, on every request."""
    at = utcnow()
    rows = [
        {
            "at": at,
            "actor_id": actor_id,
            "action": action,
            "object_type": type(obj).__tablename__,
            "object_id": str(getattr(obj, "id", "")),
            "structure_id": structure_id,
            "before": None,
            "after": _plain(after),
            "erased_at": None,
        }
        for obj, structure_id, after in entries
    ]
    if rows:
        session.execute(insert(AuditEntry.__table__), rows)  # type: ignore[attr-defined]


def _plain(values: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else json.loads(json.dumps(values, default=str))


def open_database(settings: Settings) -> Engine:
    """Create the engine; in development and test, migrate the schema first.

    So the embedded SQLite works out of the box. In production migrations are a deliberate step,
    `autodiag db upgrade`, run once before the new version starts: workers starting together must
    not race to migrate, and a failed migration must stop the deployment, not every worker.
    """
    engine = make_engine(settings.sqlalchemy_url, settings.database_pool)
    if settings.environment != "production":
        with migration_lock(engine):
            upgrade(engine)
    return engine


MIGRATION_LOCK_KEY = 0x6175746F64696167  # "autodiag": PostgreSQL's advisory lock number for migrations


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Let one process at a time migrate: workers starting together on a fresh database each wait
    for the one before, then find the schema up to date (without it, both create the tables and
    one crashes). PostgreSQL: an advisory lock; SQLite: a lock on a file beside the database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        return
    database = engine.url.database
    if not database or database == ":memory:":  # a database of its own: nobody to wait for
        yield
        return
    with open(f"{database}.migrating", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


Revised = TypeVar("Revised", bound=SQLModel)


class StaleWriteError(Exception):
    """A write based on a revision that is no longer the row's; `current` is the newer row (or None)."""

    def __init__(self, current: SQLModel | None) -> None:
        self.current = current
        super().__init__("stale write")


def guarded_write(
    session: Session,
    current: Revised | None,
    new: Revised,
    *,
    base_revision: int,
    values: dict[str, Any],
    reread: Callable[[], Revised | None],
) -> Revised:
    """Add `new` when there is no row yet, else update `current`, if nobody wrote since `base_revision`.

    The row must have `id`, `revision` and `updated_at`. One conditional UPDATE, so two writers based
    on the same revision cannot both succeed; a unique constraint does the same for two first writes.
    A stale write rolls back and raises `StaleWriteError` with the newer row (`reread`).
    """
    if current is None:
        if base_revision != 0:
            raise StaleWriteError(None)
        session.add(new)
        try:
            session.flush()
        except IntegrityError:  # created meanwhile by another request
            session.rollback()
            raise StaleWriteError(reread()) from None
        return new
    model = type(current)
    table: Any = model
    written = {**values, "revision": base_revision + 1, "updated_at": utcnow()}
    # No ORM synchronisation: its evaluator cost more than the UPDATE itself. The row's new values
    # are set on `current` as loaded ones, so nothing is flushed again.
    done = session.execute(
        update(model)
        .where(col(table.id) == pk(current), col(table.revision) == base_revision)
        .values(**written)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise StaleWriteError(reread())
    for name, value in written.items():
        set_committed_value(current, name, value)
    return current
