"""PDF documents: a page's HTML, rendered from the site's own templates, printed by WeasyPrint.

Nothing is ever fetched from the network: the one URL fetcher (`printing.StaticFetcher`) serves the app's static files
(stylesheets, pictures) from disk and refuses everything else, so a report renders the same offline,
and no user text (an evidence link, a comment) can make the server reach another site. Fonts come from
the system (Debian's DejaVu, named in `report.css`) through fontconfig, not from a URL.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from app.assessments.files import content_disposition
from app.locale import current_language

BASE_URL = "https://autodiag.invalid/"
"""Where the printed pages pretend to live: `/static/…` resolves under it, and only there."""
STATIC_PREFIX = "/static/"
STYLESHEET = "report.css"
PDF = "application/pdf"
OPENING, CLOSING, NO_BREAK = chr(0xAB), chr(0xBB), chr(0xA0)
"""The guillemets and the no-break space, by code point: typography, not words to translate."""
BEFORE_PUNCTUATION = re.compile(" ([:;!?" + CLOSING + "])")
AFTER_GUILLEMET = re.compile(OPENING + " ")

# WeasyPrint logs each refused URL and each CSS property it ignores (the screen-only ones) at WARNING.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


class RefusedURLError(ValueError):
    """A document asked for something other than one of the app's static files."""


def html_of(request: Request, template: str, context: dict[str, Any]) -> str:
    """The HTML of `template` as the page would render it, in the request's language."""
    templates: Jinja2Templates = request.app.state.templates
    html = templates.get_template(template).render({"request": request, "printing": True, **context})
    return french_spacing(html) if current_language() == "fr" else html


def french_spacing(html: str) -> str:
    """French typography on paper: a no-break space before : ; ! ? and a closing guillemet, after an opening one."""
    return AFTER_GUILLEMET.sub(OPENING + NO_BREAK, BEFORE_PUNCTUATION.sub(NO_BREAK + "\\1", html))


def print_pdf(html: str, *, static_dir: Path) -> bytes:
    """Print `html` (its links relative to the site's root) with `report.css` to PDF bytes, offline,
    in the worker's printer process (`printer`)."""
    from app.reports import printer

    return printer.print_document(html, static_dir)


def render_pdf(html: str, *, static_dir: Path) -> bytes:
    """`print_pdf`'s work, in the printer.

    WeasyPrint is imported here, at the first document, not at start-up: importing it costs about
    1.5 s of CPU, a third of a worker's start, for a feature most requests never use.
    """
    from app.reports.printing import PrintedHTML, StaticFetcher, stylesheet

    fetcher = StaticFetcher(static_dir)
    document = PrintedHTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[stylesheet(fetcher.static_dir)])
    return pdf


def pdf_response(request: Request, template: str, context: dict[str, Any], *, filename: str) -> Response:
    """Render `template` with `context` and answer it as a PDF attachment named `filename`."""
    html = html_of(request, template, context)
    pdf = print_pdf(html, static_dir=request.app.state.settings.static_dir)
    return Response(pdf, media_type=PDF, headers=download_headers(filename))


def download_headers(filename: str) -> dict[str, str]:
    """An attachment's headers; a report shows a structure's results, so nobody may cache it."""
    return {"Content-Disposition": content_disposition(filename), "Cache-Control": "private, no-store"}
