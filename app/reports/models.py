"""The action plan's row form as posted and its filter query (the items: `app.assessments.models.ActionItem`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.reviews.models import RevisedForm


class ActionItemForm(RevisedForm):
    """Strings only, so that any input reaches `checked_edit` and its messages; `revision` is the item's."""

    responsable: str = ""
    echeance: str = ""
    statut: str = ""


class PlanQuery(BaseModel):
    """The plan page's filters as the query string gives them, checked by `plan.plan_filter`."""

    model_config = ConfigDict(populate_by_name=True)

    workshop: str = Field("", alias="atelier")
    owner: str = Field("", alias="responsable")
    status: str = Field("", alias="statut")
    sort: str = Field("", alias="tri")


class GapQuery(BaseModel):
    """The results page's gap filters as the query string gives them."""

    model_config = ConfigDict(populate_by_name=True)

    severity: str = Field("", alias="gravite")
    workshop: str = Field("", alias="atelier")
