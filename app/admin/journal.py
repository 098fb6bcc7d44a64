"""The audit log as administrators read it: filtered, one page at a time, or all of it as CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import User
from app.admin.service import Page, paginate
from app.db import AuditEntry
from app.errors import ServiceError
from app.locale import gettext as _

CSV_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "structure_id",
    "before",
    "after",
)


@dataclass(frozen=True)
class Filters:
    """What the journal's form asks for, checked: each empty field filters nothing."""

    structure_id: int | None = None
    actor: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def query(self) -> SelectOfScalar[AuditEntry]:
        query = select(AuditEntry)
        if self.structure_id is not None:
            query = query.where(AuditEntry.structure_id == self.structure_id)
        if self.actor:
            people = select(User.id).where(col(User.email).like(f"%{self.actor.lower()}%"))
            query = query.where(col(AuditEntry.actor_id).in_(people))
        if self.action:
            query = query.where(col(AuditEntry.action).startswith(self.action))
        if self.since:
            query = query.where(AuditEntry.at >= datetime.combine(self.since, time.min, UTC))
        if self.until:  # the whole day named
            query = query.where(
                AuditEntry.at < datetime.combine(self.until + timedelta(days=1), time.min, UTC)
            )
        return query.order_by(col(AuditEntry.id).desc())


def checked_filters(*, structure: str, actor: str, action: str, since: str, until: str) -> Filters:
    """The filters typed, or ServiceError naming each one that cannot be read."""
    problems: dict[str, str] = {}
    structure_id = None
    if structure.strip():
        if structure.strip().isdecimal():
            structure_id = int(structure.strip())
        else:
            problems["structure"] = _("Le numéro de structure est un nombre entier.")
    dates = {}
    for field, value in (("debut", since), ("fin", until)):
        try:
            dates[field] = date.fromisoformat(value.strip()) if value.strip() else None
        except ValueError:
            problems[field] = _("Saisissez une date valide (jour/mois/année).")
    if not problems and dates["debut"] and dates["fin"] and dates["debut"] > dates["fin"]:
        problems["fin"] = _("La fin de la période est avant son début.")
    if problems:
        raise ServiceError(problems=problems)
    return Filters(structure_id, actor.strip(), action.strip(), dates["debut"], dates["fin"])


def entries(session: Session, *, filters: Filters, page: int) -> Page[AuditEntry]:
    return paginate(session, filters.query(), page=page)


def actors(session: Session, rows: list[AuditEntry]) -> dict[int, User]:
    """The accounts named in `rows`, by id."""
    ids = {row.actor_id for row in rows if row.actor_id is not None}
    return {pk: user for user in session.exec(select(User).where(col(User.id).in_(ids))) if (pk := user.id)}


def csv_lines(session: Session, *, filters: Filters) -> Iterator[str]:
    """The filtered log as CSV for a spreadsheet: UTF-8 with a BOM, `;` between fields, a header first."""
    yield "\ufeff" + _line(CSV_COLUMNS)
    rows = list(session.exec(filters.query()))
    people = actors(session, rows)
    for row in rows:
        actor = people.get(row.actor_id) if row.actor_id is not None else None
        yield _line(
            (
                row.id,
                row.at.isoformat(),
                row.actor_id or "",
                actor.email if actor else "",
                row.action,
                row.object_type,
                row.object_id,
                row.structure_id or "",
                _json(row.before),
                _json(row.after),
            )
        )


def _cell(value: Any) -> Any:
    """A text a spreadsheet would run as a formula (=, +, -, @ first) is quoted with an apostrophe."""
    return f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value


def _json(values: dict[str, Any] | None) -> str:
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)


def _line(values: tuple[Any, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow([_cell(value) for value in values])
    return buffer.getvalue()
