"""PDF documents: a page's HTML, rendered from the site's own templates, printed by WeasyPrint.

Nothing is ever fetched from the network: the one URL fetcher serves the app's static files
(stylesheets, pictures) from disk and refuses everything else, so a report renders the same offline,
and no user text (an evidence link, a comment) can make the server reach another site. Fonts come from
the system (Debian's DejaVu, named in `report.css`) through fontconfig, not from a URL.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from app.assessments.evidence import content_disposition
from app.locale import current_language

BASE_URL = "https://autodiag.invalid/"
"""Where the printed pages pretend to live: `/static/…` resolves under it, and only there."""
STATIC_PREFIX = "/static/"
PDF = "application/pdf"
OPENING, CLOSING, NO_BREAK = chr(0xAB), chr(0xBB), chr(0xA0)
"""The guillemets and the no-break space, by code point: typography, not words to translate."""
BEFORE_PUNCTUATION = re.compile(" ([:;!?" + CLOSING + "])")
AFTER_GUILLEMET = re.compile(OPENING + " ")

# WeasyPrint logs each refused URL and each CSS property it ignores (the screen-only ones) at WARNING.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


class RefusedURLError(ValueError):
    """A document asked for something other than one of the app's static files."""


def __getattr__(name: str) -> Any:
    # WeasyPrint costs about a second of CPU to import: the first PDF pays it, not every worker's start.
    if name == "StaticFetcher":
        return static_fetcher()
    raise AttributeError(name)


@functools.cache
def static_fetcher() -> Any:
    """The class `StaticFetcher`: serve `BASE_URL/static/<path>` from `static_dir`; refuse any other
    URL, data: URLs aside. Built on first use, as it subclasses WeasyPrint's fetcher."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # see __getattr__

    class StaticFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self, static_dir: Path) -> None:
            super().__init__(timeout=1, allowed_protocols=("https", "data"))
            self.static_dir = static_dir.resolve()

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):  # inline data never leaves the process
                return super().fetch(url, headers)
            return URLFetcherResponse(url, self.read(url), {"Content-Type": _mime_type(url)})

        def read(self, url: str) -> bytes:
            """The bytes of the static file `url` names, or RefusedURLError."""
            parts = urlsplit(url)
            base = urlsplit(BASE_URL)
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(
                STATIC_PREFIX
            ):
                raise RefusedURLError(f"not one of the app's static files: {url}")
            path = (self.static_dir / unquote(parts.path.removeprefix(STATIC_PREFIX))).resolve()
            if not path.is_relative_to(self.static_dir) or not path.is_file():
                raise RefusedURLError(f"no such static file: {url}")
            return path.read_bytes()

    return StaticFetcher


def _mime_type(url: str) -> str:
    return mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"


def html_of(request: Request, template: str, context: dict[str, Any]) -> str:
    """The HTML of `template` as the page would render it, in the request's language."""
    templates: Jinja2Templates = request.app.state.templates
    html = templates.get_template(template).render({"request": request, "printing": True, **context})
    return french_spacing(html) if current_language() == "fr" else html


def french_spacing(html: str) -> str:
    """French typography on paper: a no-break space before : ; ! ? and a closing guillemet, after an opening one."""
    return AFTER_GUILLEMET.sub(OPENING + NO_BREAK, BEFORE_PUNCTUATION.sub(NO_BREAK + "\\1", html))


def print_pdf(html: str, *, static_dir: Path) -> bytes:
    """Print `html` (its links relative to the site's root) to PDF bytes, offline."""
    from weasyprint import HTML  # see __getattr__

    document = HTML(string=html, base_url=BASE_URL, url_fetcher=static_fetcher()(static_dir))
    pdf: bytes = document.write_pdf()
    return pdf


def pdf_response(request: Request, template: str, context: dict[str, Any], *, filename: str) -> Response:
    """Render `template` with `context` and answer it as a PDF attachment named `filename`."""
    html = html_of(request, template, context)
    pdf = print_pdf(html, static_dir=request.app.state.settings.static_dir)
    return Response(pdf, media_type=PDF, headers=download_headers(filename))


def download_headers(filename: str) -> dict[str, str]:
    """An attachment's headers; a report shows a structure's results, so nobody may cache it."""
    return {"Content-Disposition": content_disposition(filename), "Cache-Control": "private, no-store"}
