"""Where a request goes: the sign-in address, a safe `suivant`, and where a person lands after signing in.

Above the domains like `app.deps` (it reads structures and assessments to find someone's work).
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.permissions import Access, administers, runs_cohorts, structure_ids
from app.assessments.models import Assessment, AssessmentStatus
from app.structures.models import Structure


def sign_in_url(next_path: str) -> str:
    return "/connexion?" + urlencode({"suivant": local_path(next_path)})


def local_path(value: str | None) -> str:
    """`value` when it is a path on this site, else "/": `suivant` never leads to another site.

    Browsers read `//host`, `/\\host` and paths with tabs or line breaks in them as other sites.
    """
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) < 32 or ord(char) == 127 for char in value)
    ):
        return "/"
    return value


def landing_path(session: Session, user: User, asked: str = "/") -> str:
    """Where `user` lands after signing in: the page asked for, else where their work is.

    Administrators on `/admin`, trainers on their cohorts, a member of one structure on it (or on its
    only draft), everyone else (auditors, members of several structures) on the structures list.
    """
    if asked != "/":
        return asked
    if administers(user):
        return "/admin"
    if runs_cohorts(user):
        return "/cohortes"
    structures = select(Structure.id).where(
        col(Structure.id).in_(structure_ids(session, user, Access.READ) or set()),
        col(Structure.archived_at).is_(None),
    )
    mine = list(session.exec(structures.limit(2)))
    if len(mine) != 1:
        return "/structures"
    drafts = select(Assessment.id).where(
        Assessment.structure_id == mine[0], Assessment.status == AssessmentStatus.DRAFT
    )
    found = list(session.exec(drafts.limit(2)))
    return f"/autoevaluations/{found[0]}" if len(found) == 1 else f"/structures/{mine[0]}"
