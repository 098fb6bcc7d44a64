"""The forms the questionnaire pages post, as typed.

Every field is text that any input fits, so that a malformed form still reaches its route and is
shown again with a message by field: their methods and the services refuse what cannot be
saved, raising `ServiceError` (422) with the messages in the request's language.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from fastapi import UploadFile
from pydantic import BaseModel, field_validator
from starlette import datastructures

from app.assessments.models import TEXT_MAX, TOO_LONG
from app.errors import ServiceError
from app.locale import gettext as _

LEVELS = {"0": 0, "1": 1, "2": 2, "3": 3}


class StartForm(BaseModel):
    """Start an assessment: the questionnaire's bare id, and the earlier assessment to start from."""

    questionnaire: str = ""
    depuis: str = ""
    nouveau: str = ""
    """« 1 »: start a new draft although one of the same questionnaire is open."""


class NameForm(BaseModel):
    nom: str = ""


class DeleteForm(BaseModel):
    """Delete a draft: `confirmer` must be « oui » (the box ticked)."""

    confirmer: str = ""


class MoveForm(BaseModel):
    """Move a draft to another criteria version: `version` is its reference (« x60-600@1.1.0 »)."""

    version: str = ""


class AnswerForm(BaseModel):
    """One question's answer: `niveau` « 0 » to « 3 » or « na », on top of the answer's `revision`."""

    niveau: str = ""
    justification: str = ""
    commentaire: str = ""
    revision: str = ""

    def checked(self) -> dict[str, Any]:
        """The answer as `answering.save_answer` takes it; refuse (422) what cannot be saved as typed,
        with a message by field (« reponse »: the whole form)."""
        problems = {}
        if self.niveau not in ("", "na", *LEVELS):
            problems["niveau"] = _("Choisissez un niveau de 0 à 3, ou « Non applicable ».")
        for name, text in (("justification", self.justification), ("commentaire", self.commentaire)):
            if len(text) > TEXT_MAX:
                problems[name] = _(TOO_LONG)
        if not re.fullmatch(r"\d{1,9}", self.revision):
            problems["reponse"] = _("Le formulaire est incomplet : rechargez la page, puis recommencez.")
        if problems:
            raise ServiceError(problems=problems)
        return {
            "base_revision": int(self.revision),
            "level": LEVELS.get(self.niveau),
            "not_applicable": self.niveau == "na",
            "justification": self.justification,
            "comment": self.commentaire,
        }


class EvidenceForm(BaseModel):
    """A piece for one question (`critere`): chosen in the library (`preuve`), uploaded or cited."""

    critere: str = ""
    titre: str = ""
    date: str = ""
    responsable: str = ""
    lien: str = ""
    preuve: str = ""
    couvre: list[str] = []
    fichier: UploadFile | str | None = None

    @field_validator("titre", "date", "responsable", "lien", "preuve")
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    def posted(self) -> dict[str, Any]:
        """What the form shows again after a refusal (never the file)."""
        return self.model_dump(exclude={"critere", "fichier"})

    def upload(self) -> datastructures.UploadFile | None:
        """The file sent, if any (FastAPI gives Starlette's `UploadFile`, which its own subclasses)."""
        upload = self.fichier
        return upload if isinstance(upload, datastructures.UploadFile) and upload.filename else None

    def document_date(self) -> datetime.date | None:
        try:
            return datetime.date.fromisoformat(self.date) if self.date else None
        except ValueError:
            raise ServiceError(
                _("La date du document n'est pas une date valide (jour/mois/année).")
            ) from None


class SubmitForm(BaseModel):
    """Submit the assessment: `confirmation` is « oui » when the box is ticked; `incomplet`, below
    100 %, the count of unanswered questions the second box states."""

    confirmation: str = ""
    incomplet: str = ""

    def check(self) -> None:
        if self.confirmation != "oui":
            raise ServiceError(_("Cochez la case de confirmation pour soumettre l'autoévaluation."))


class WorkbookUploadForm(BaseModel):
    """The filled-in workbook (`fichier`)."""

    fichier: UploadFile | str | None = None

    def upload(self) -> datastructures.UploadFile | None:
        upload = self.fichier
        return upload if isinstance(upload, datastructures.UploadFile) and upload.filename else None


class WorkbookConfirmForm(BaseModel):
    """Apply a previewed workbook: the digest of the changes shown, and the conflicts to take from it."""

    empreinte: str = ""
    garder: list[str] = []
