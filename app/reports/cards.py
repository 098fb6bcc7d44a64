"""A gap's card, rendered once for the same gap, language, due date and page, then kept.

The results page and the assessment report show every gap as a card (`templates/reports/partials/
gap.html`). Rendering them was a fifth of the results page's CPU (issue 15), and between two
visits, or two autosaves, most gaps are what they were. A card depends only on what its key holds:
the language, whether it is printed, the assessment its link goes to, the gap (a named tuple of
the scoring core's values, in the language's catalog: title, action, missing evidence), its due
date, the audit date it runs up to, and whether it is overdue today. The cards kept are bounded
(least recently used first out): a card is about 1.5 KB.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import date
from threading import Lock
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app import locale
from app.scoring.models import Gap

KEPT = 4096
"""Cards kept: about 6 MB, the gaps of a hundred full assessments in two languages."""
_rendered: OrderedDict[tuple[Any, ...], Markup] = OrderedDict()
_lock = Lock()


def _gap_key(gap: Gap) -> tuple[Any, ...]:
    """The gap as a hashable value: its parameters are read-only mappings, which are not."""
    return tuple(_frozen(part) for part in (gap.result, gap[1:]))


def _frozen(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(tuple(value.items()) if isinstance(value, Mapping) else value for value in values)


@pass_context
def gap_card(context: Context, gap: Gap, due: date) -> Markup:
    """The card of `gap`, due on `due`, for the page being rendered (its `assessment`, `printing`,
    `before_audit`, `audit_on` and `today`)."""
    before_audit = bool(context.get("before_audit"))
    shown = {  # what the card shows besides the gap: the key is these and the gap
        "due": due,
        "before_audit": before_audit,
        "audit_on": context.get("audit_on") if before_audit else None,
        "overdue": due < context["today"],
        "printing": bool(context.get("printing")),
        "assessment_id": context["assessment"].id,
    }
    key = (locale.current_language(), _gap_key(gap), *shown.values())
    with _lock:
        cached = _rendered.get(key)
        if cached is not None:
            _rendered.move_to_end(key)
            return cached
    template = context.environment.get_template("reports/partials/gap.html")
    html = Markup(template.render(gap=gap, **shown))  # noqa: S704 - an autoescaping template's output
    if not context.environment.auto_reload:  # while templates are being edited, render afresh
        with _lock:
            _rendered[key] = html
            while len(_rendered) > KEPT:
                _rendered.popitem(last=False)
    return html
