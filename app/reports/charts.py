"""Geometry of the server-rendered SVG charts (radar of the four areas, score history).

The templates draw them (templates/reports/charts.html) so the same chart appears in the page and
in the PDF; every value is also written as text next to its point, so the chart reads without colour.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.locale import gettext as _

if TYPE_CHECKING:
    from app.reports.service import History

SIZE = 400
CENTRE = SIZE / 2
RADIUS = 140
LABEL_WIDTH = 18
"""Characters per line of an axis label: longer area titles wrap so they stay inside the chart."""
LINE_HEIGHT = 16

HISTORY_LEFT, HISTORY_RIGHT, HISTORY_TOP, HISTORY_BOTTOM = 40, 440, 20, 180


@dataclass(frozen=True)
class Axis:
    label: str
    value: float | None
    end: tuple[float, float]
    point: tuple[float, float]
    label_at: tuple[float, float]
    anchor: str
    lines: tuple[str, ...] = ()
    """The label wrapped on short lines; the value is written on the line after them."""


@dataclass(frozen=True)
class Radar:
    axes: tuple[Axis, ...]
    rings: tuple[tuple[int, str], ...]
    polygon: str
    size: int = SIZE
    radius: int = RADIUS


def radar(values: Sequence[tuple[str, float | None]]) -> Radar:
    """Place each (label, score 0–100 or None) on an axis; the first axis points up."""
    axes = []
    for index, (label, value) in enumerate(values):
        direction = _direction(index, len(values))
        reach = RADIUS * (value or 0) / 100
        anchor = "middle" if abs(direction[0]) < 0.3 else ("start" if direction[0] > 0 else "end")
        lines = tuple(textwrap.wrap(label, LABEL_WIDTH)) or (label,)
        x, y = _at(direction, RADIUS + 14)
        # The first baseline of a block of lines (the label's, then the value's), 16 units apart.
        if direction[1] < -0.3:  # above the chart: the block ends just above the axis end
            y -= 6 + LINE_HEIGHT * len(lines)
        elif direction[1] > 0.3:  # below it: the block starts just under the axis end
            y += 14
        else:  # beside it: the block is centred on the axis
            y += 12 - LINE_HEIGHT * (len(lines) + 1) / 2
        axes.append(
            Axis(
                label=label,
                value=value,
                end=_at(direction, RADIUS),
                point=_at(direction, reach),
                label_at=(x, round(y, 1)),
                anchor=anchor,
                lines=lines,
            )
        )
    rings = tuple(
        (level, _polygon([_at(_direction(i, len(values)), RADIUS * level / 100) for i in range(len(values))]))
        for level in (25, 50, 75, 100)
    )
    return Radar(tuple(axes), rings, _polygon([axis.point for axis in axes]))


@dataclass(frozen=True)
class Series:
    label: str
    points: str
    dots: tuple[tuple[float, float, float, str], ...]
    """x, y, the score, and the assessment the point is (« Express, soumise le 12/03/2027 »)."""
    index: int = 1
    """The area's colour, dash pattern and marker shape."""
    express: bool = False
    """A partial questionnaire's line: drawn dotted with hollow markers, never joined to the full one."""


def history(
    dates: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    labels: Sequence[str] = (),
    express: bool = False,
) -> tuple[Series, ...]:
    """Lines of scores over assessments, in a 480×220 box (x evenly spaced, y 0–100)."""
    drawn = []
    for index, (label, values) in enumerate(series, start=1):
        dots = tuple(
            (
                history_x(i, len(dates)),
                round(HISTORY_BOTTOM - 1.6 * v, 1),
                v,
                labels[i] if labels else dates[i],
            )
            for i, v in enumerate(values)
            if v is not None
        )
        if dots:
            points = " ".join(f"{x},{y}" for x, y, _v, _l in dots)
            drawn.append(Series(label, points, dots, index, express))
    return tuple(drawn)


def history_x(index: int, count: int) -> float:
    """Where the `index`-th of `count` assessments sits; a lone one sits in the middle."""
    if count < 2:
        return (HISTORY_LEFT + HISTORY_RIGHT) / 2
    return round(HISTORY_LEFT + index * (HISTORY_RIGHT - HISTORY_LEFT) / (count - 1), 1)


@dataclass(frozen=True)
class HistoryChart:
    series: tuple[Series, ...]
    dates: tuple[tuple[float, str, str], ...]
    """Each assessment's x position, its submission date and its questionnaire's short name."""


def history_chart(scores: History) -> HistoryChart:
    """The score history of a structure: per area, one line for full results and one for express ones.

    An express result answers fewer criteria: joining it to the full results on one line would draw
    a fall (or a rise) that is only the shorter questionnaire."""
    points = [p for p in scores.points if p.assessment.submitted_at]
    dates = [p.assessment.submitted_at.strftime("%d/%m/%Y") for p in points if p.assessment.submitted_at]
    kinds = [_("express") if p.result.partial else _("complet") for p in points]
    labels = [
        _("%(kind)s, soumise le %(date)s") % {"kind": k, "date": d} for k, d in zip(kinds, dates, strict=True)
    ]
    series: list[Series] = []
    for express in (False, True):
        kept = [p.result.partial == express for p in points]
        lines = [
            (
                _("%(area)s (express)") % {"area": title} if express else title,
                [v if keep else None for v, keep in zip(scores.scores(area), kept, strict=True)],
            )
            for area, title in scores.areas
        ]
        series += history(dates, lines, labels=labels, express=express)
    return HistoryChart(
        tuple(series),
        tuple((history_x(i, len(dates)), d, k) for i, (d, k) in enumerate(zip(dates, kinds, strict=True))),
    )


def _direction(index: int, count: int) -> tuple[float, float]:
    angle = -math.pi / 2 + 2 * math.pi * index / count
    return math.cos(angle), math.sin(angle)


def _at(direction: tuple[float, float], distance: float) -> tuple[float, float]:
    return round(CENTRE + direction[0] * distance, 1), round(CENTRE + direction[1] * distance, 1)


def _polygon(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)
