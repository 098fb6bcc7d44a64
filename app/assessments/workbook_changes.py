"""What an uploaded workbook would change, kept until the director confirms, then applied at once.

A valid upload is kept in the data folder under a random token for `KEPT_FOR`, so that the preview
is a page of its own and the confirmation sends no file again; the confirmation reads it again,
compares the changes with those the preview showed (their digest is in the form) and writes them
all in one transaction, with the usual revision checks, or nothing.

A row is compared three ways: with the values exported (its hidden digest: did the director touch
it?), with the revision exported (did the web answer change since?) and with the answer now. A row
left as exported changes nothing, even if the web answer changed since. A row edited in the
workbook whose web answer changed since the export is a conflict: the web answer is kept unless
the director ticks « garder la valeur du classeur » for that row.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlmodel import Session
from starlette.datastructures import UploadFile

from app.accounts.models import User
from app.assessments import answering, service, workbook_import, workbook_rows
from app.assessments.models import AnswerRow, Assessment
from app.catalog.service import Catalog
from app.db import audit, pk
from app.errors import ServiceError
from app.limits import UPLOAD_OVERHEAD
from app.locale import gettext as _

UPLOADS = "workbooks"
KEPT_FOR = 2 * 60 * 60
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


class Kind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    CONFLICT = "conflict"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    """One row of the workbook against the answer now: what it would write, and of which kind."""

    row: workbook_rows.Row
    kind: Kind
    current: AnswerRow | None
    values: dict[str, Any]

    @property
    def criterion_id(self) -> str:
        return self.row.criterion_id

    @property
    def base_revision(self) -> int:
        return self.current.revision if self.current else 0

    @property
    def confirms(self) -> bool:
        """It confirms an answer carried from the previous assessment."""
        return bool(self.current and self.current.carried_over and not self.values["carried_over"])


@dataclass(frozen=True)
class Preview:
    token: str
    changes: list[Change]
    digest: str
    sha256: str
    """Of the workbook's bytes, for the audit log."""

    def of(self, kind: Kind) -> list[Change]:
        return [change for change in self.changes if change.kind == kind]


def compare(rows: list[workbook_rows.Row], answers: dict[str, AnswerRow]) -> list[Change]:
    """Each row against the answer now (see the module's docstring)."""
    found = []
    for row in rows:
        current = answers.get(row.criterion_id)
        values = _target(row, current)
        now = None if current is None else {name: getattr(current, name) for name in values}
        if not row.edited or values == (now or _EMPTY):
            kind = Kind.UNCHANGED
        elif (current.revision if current else 0) != row.base_revision:
            kind = Kind.CONFLICT
        else:
            kind = Kind.NEW if current is None else Kind.CHANGED
        found.append(Change(row, kind, current, values))
    return found


_EMPTY = {"level": None, "not_applicable": False, "justification": "", "comment": "", "carried_over": False}


def _target(row: workbook_rows.Row, current: AnswerRow | None) -> dict[str, Any]:
    """The answer the row asks for; a carried answer whose level cell stays empty keeps its level,
    still to be re-confirmed (choosing a level confirms it, as saving does on the web)."""
    if row.carried and not row.level_given and current is not None:
        level, not_applicable, carried = current.level, current.not_applicable, current.carried_over
    else:
        level, not_applicable, carried = row.level, row.not_applicable, False
    return {
        "level": level,
        "not_applicable": not_applicable,
        "justification": row.justification,
        "comment": row.comment,
        "carried_over": carried,
    }


def _digest(changes: list[Change]) -> str:
    shown = [[c.criterion_id, c.kind, c.base_revision, c.values] for c in changes]
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def upload(
    *,
    catalog: Catalog,
    assessment: Assessment,
    file: UploadFile | None,
    announced_bytes: int | None,
    key: str,
    data_dir: Path,
) -> str:
    """Check an uploaded workbook whole and keep it for its preview; return the preview's token.

    `announced_bytes`, the request's size, refuses a file already too large without reading it."""
    service.check_draft(assessment)
    if file is None:
        raise workbook_import.WorkbookError([_("Choisissez le classeur rempli à déposer (fichier .xlsx).")])
    if announced_bytes is not None and announced_bytes > workbook_import.MAX_BYTES + UPLOAD_OVERHEAD:
        raise workbook_import.WorkbookError([workbook_import.too_large()], status=413)
    data = workbook_import.read_upload(file.file)
    workbook_import.read(data, assessment=assessment, key=key, **_questions(catalog, assessment))
    return _keep(data_dir, pk(assessment), data)


def _questions(catalog: Catalog, assessment: Assessment) -> dict[str, Any]:
    """What a workbook's rows are read against: the criteria asked, those refusing « Non applicable »."""
    bound = service.bound(catalog, assessment)
    version = bound.criteria
    asked = bound.questionnaire.criterion_ids
    refuses = frozenset(c for c in asked if not version.allows_na(version.by_id[c]))
    return {"asked": asked, "refuses_na": refuses}


def preview(
    session: Session, *, catalog: Catalog, assessment: Assessment, key: str, data_dir: Path, token: str
) -> Preview:
    """What the kept workbook `token` would change now."""
    service.check_draft(assessment)
    data = _kept(data_dir, pk(assessment), token)
    rows = workbook_import.read(data, assessment=assessment, key=key, **_questions(catalog, assessment))
    changes = compare(rows, service.load(session, assessment).answers)
    return Preview(token, changes, _digest(changes), hashlib.sha256(data).hexdigest())


def confirm(
    session: Session,
    *,
    catalog: Catalog,
    assessment: Assessment,
    user: User,
    key: str,
    data_dir: Path,
    token: str,
    digest: str,
    keep_workbook: list[str],
) -> int:
    """Apply the previewed changes in one transaction (conflicts only where `keep_workbook` says);
    return how many answers were written. Refused (409) if the answers moved since the preview."""
    shown = preview(session, catalog=catalog, assessment=assessment, key=key, data_dir=data_dir, token=token)
    if not secrets.compare_digest(shown.digest, digest):
        raise ServiceError(
            _(
                "Des réponses ont changé sur le site depuis l'aperçu : vérifiez ce nouvel aperçu, puis confirmez."
            ),
            status=409,
        )
    conflicts = {c.criterion_id for c in shown.of(Kind.CONFLICT)}
    if not set(keep_workbook) <= conflicts:
        raise ServiceError(_("Cochez seulement des questions en conflit."))
    chosen = [
        c for c in shown.changes if c.kind in (Kind.NEW, Kind.CHANGED) or c.criterion_id in keep_workbook
    ]
    _apply(session, assessment=assessment, user=user, changes=chosen)
    audit(
        session,
        actor_id=user.id,
        action="assessment.workbook_import",
        obj=assessment,
        structure_id=assessment.structure_id,
        after={
            "written": [c.criterion_id for c in chosen],
            "conflicts_kept_from_web": sorted(conflicts - set(keep_workbook)),
            "sha256": shown.sha256,
        },
    )
    session.commit()
    _discard(data_dir, pk(assessment), token)
    return len(chosen)


def _apply(session: Session, *, assessment: Assessment, user: User, changes: list[Change]) -> None:
    """Write every change, each based on the revision the preview read; a stale one undoes them all."""
    service.lock_draft(session, assessment)
    for change in changes:
        try:
            saved, before = answering.write(
                session,
                assessment=assessment,
                criterion_id=change.criterion_id,
                values=change.values | {"updated_by": pk(user)},
                base_revision=change.base_revision,
            )
        except service.StaleAnswerError:
            raise ServiceError(
                _(
                    "Une réponse a été modifiée pendant l'enregistrement : rien n'a été enregistré. Revoyez l'aperçu."
                ),
                status=409,
            ) from None
        audit(
            session,
            actor_id=user.id,
            action="answer.workbook",
            obj=saved,
            structure_id=assessment.structure_id,
            before=before,
            after={"criterion": change.criterion_id, **change.values},
        )


# --- Keeping the upload until it is confirmed ---------------------------------------------------


def _path(data_dir: Path, assessment_id: int, token: str) -> Path:
    return data_dir / UPLOADS / f"{assessment_id}-{token}.xlsx"


def _keep(data_dir: Path, assessment_id: int, data: bytes) -> str:
    """Write the upload aside, then rename it into place: a half-written file is never read."""
    folder = data_dir / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    _purge(folder)
    token = secrets.token_urlsafe(24)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(temporary, _path(data_dir, assessment_id, token))
    return token


def _kept(data_dir: Path, assessment_id: int, token: str) -> bytes:
    path = _path(data_dir, assessment_id, token)
    if not TOKEN.fullmatch(token) or not path.is_file() or time.time() - path.stat().st_mtime > KEPT_FOR:
        raise ServiceError(
            _(
                "Cet aperçu n'existe plus (il expire après deux heures, ou a déjà été appliqué) : déposez à nouveau le classeur."
            ),
            status=404,
        )
    return path.read_bytes()


def _discard(data_dir: Path, assessment_id: int, token: str) -> None:
    _path(data_dir, assessment_id, token).unlink(missing_ok=True)


def _purge(folder: Path) -> None:
    """Remove uploads never confirmed once they have expired."""
    limit = time.time() - KEPT_FOR
    for path in folder.glob("*.xlsx"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass  # another worker removed it first
