"""Alembic environment: the app's metadata, and the engine given by `app.db.upgrade` or settings."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.config import settings
from app.db import make_engine

engine = context.config.attributes.get("engine") or make_engine(settings.sqlalchemy_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
