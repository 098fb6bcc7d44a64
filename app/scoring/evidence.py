"""Whether the evidence attached to an answer proves its level: pure, the reference date given.

Scoring v1 asks for one piece of evidence at the target level. Scoring v2 (`evidence:
required_items`) asks that valid pieces cover every required expected item: a piece covers an item
it names in `covers` (or whose id or label is its title), and an item with `validity_months` counts
only a piece dated no earlier than that many months before the reference date (« périmée » if older).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from app.scoring.codes import Params, Reason
from app.scoring.models import Answer, Evidence
from app.scoring.plan import Item


class Proof(NamedTuple):
    """What the evidence of one answer covers, and why the rest does not count."""

    covered: frozenset[str]
    expired: tuple[tuple[str, date], ...] = ()
    """Items only covered by pieces older than their validity, with the newest such date."""
    undated: tuple[str, ...] = ()
    """Items with a validity only covered by undated pieces."""


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, on the month's last day when it has fewer days."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def proof(item: Item, evidence: Sequence[Evidence], reference: date | None) -> Proof:
    """The items the pieces validly cover; without a reference date nothing expires."""
    covered: set[str] = set()
    expired: dict[str, date] = {}
    undated: set[str] = set()
    for piece in evidence:
        for eid in _covered(item, (piece,)):
            months = item.validity.get(eid)
            if months is None or reference is None:
                covered.add(eid)
            elif piece.document_date is None:
                undated.add(eid)
            elif piece.document_date >= months_before(reference, months):
                covered.add(eid)
            else:
                expired[eid] = max(piece.document_date, expired.get(eid, piece.document_date))
    return Proof(
        frozenset(covered),
        tuple(sorted((eid, day) for eid, day in expired.items() if eid not in covered)),
        tuple(sorted(undated - covered - set(expired))),
    )


def _covered(item: Item, evidence: Sequence[Evidence]) -> set[str]:
    """The items the pieces name in `covers` or by title, dates aside."""
    found: set[str] = set()
    for piece in evidence:
        if piece.covers:
            found |= piece.covers
        match = item.by_title.get(piece.title.strip().casefold())
        if match is not None:
            found.add(match)
    return found


def shortfall(item: Item, answer: Answer, found: Proof) -> tuple[Reason, Params, tuple[str, ...]] | None:
    """Why a target-level answer is not proven under scoring v2 (reason, params, missing labels), or None.

    `found` is the proof of the answer's evidence (`proof`), worked out once per answer.
    """
    missing = tuple([label for eid, label in item.pairs if eid in item.required and eid not in found.covered])
    if answer.evidence and not missing:
        return None
    assert answer.level is not None
    params: dict[str, str | int] = {"level": answer.level, "cap": item.cap}
    labels = dict(item.pairs)
    if found.expired:
        eid, day = found.expired[0]
        params |= {"item": labels[eid], "date": day.isoformat(), "months": item.validity[eid]}
        return Reason.EXPIRED_EVIDENCE, params, missing
    if found.undated:
        eid = found.undated[0]
        return Reason.UNDATED_EVIDENCE, params | {"item": labels[eid], "months": item.validity[eid]}, missing
    if not answer.evidence or found.covered.isdisjoint(item.required):
        return Reason.UNPROVEN, params, missing or item.labels
    return Reason.PARTLY_PROVEN, params | {"missing": " ; ".join(missing)}, missing
