"""The action plan's row form as posted (the items themselves: `app.assessments.models.ActionItem`)."""

from __future__ import annotations

from app.reviews.models import RevisedForm


class ActionItemForm(RevisedForm):
    """Strings only, so that any input reaches `checked_edit` and its messages; `revision` is the item's."""

    responsable: str = ""
    echeance: str = ""
    statut: str = ""
