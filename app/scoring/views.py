"""The scoring core's reasons and actions in the page's language: template globals.

The core (models, plan, service, migration) stays pure and returns codes with their parameters;
it renders them in French itself for snapshots, the API and the CLI. A page says them through the
catalogs instead, so this one module of the domain reads the request's language. Jinja's own
`_()` formats its arguments, so these build the whole sentence in Python and return plain text.
"""

from __future__ import annotations

from app.locale import gettext
from app.scoring.codes import Action
from app.scoring.models import CriterionResult, Gap


def reason(found: CriterionResult | Gap) -> str:
    """Why a criterion has its finding, in the request's language."""
    return gettext(found.reason_code.msgid) % found.reason_params


def gap_action(gap: Gap) -> str:
    """A gap's suggested action in the request's language: the core's, or the criterion's own text."""
    if gap.action_code is Action.CRITERION:
        return gap.criterion_action  # the criteria file's words, translated with the criteria
    return gettext(gap.action_code.msgid) % gap.action_params
