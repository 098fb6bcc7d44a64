"""The administration's forms as posted: strings only, so any input reaches the service and its messages."""

from __future__ import annotations

from pydantic import BaseModel


class AccountForm(BaseModel):
    email: str = ""
    name: str = ""
    role: str = ""
    password: str = ""


class AccountRoleForm(BaseModel):
    role: str = ""


class StructureForm(BaseModel):
    name: str = ""
    city: str = ""
    legal_form: str = ""
    siret: str = ""


class Paged(BaseModel):
    page: str = "1"

    def page_number(self) -> int:
        """The page asked for; anything but a whole number is the first page."""
        return int(self.page) if self.page.isdecimal() and len(self.page) < 7 else 1


class JournalQuery(Paged):
    structure: str = ""
    personne: str = ""
    action: str = ""
    debut: str = ""
    fin: str = ""


class ListQuery(Paged):
    q: str = ""
    role: str = ""
    actif: str = ""
    archivees: str = ""
