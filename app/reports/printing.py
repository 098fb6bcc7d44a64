"""WeasyPrint's side of printing: the offline URL fetcher, the stylesheets (parsed once per process) and
the document's tree lightened for paper (ids nothing links to, `<time>` wrappers, badges after the
first of a row).

Imported by `pdf.render_pdf`, in the printer process, at its first document only (WeasyPrint is slow to import).
"""

from __future__ import annotations

import functools
import mimetypes
import re
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint import css as weasyprint_css
from weasyprint.html import UA_COUNTER_STYLE
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.reports.pdf import BASE_URL, STATIC_PREFIX, STYLESHEET, RefusedURLError


class StaticFetcher(URLFetcher):  # type: ignore[misc]
    """Serve `BASE_URL/static/<path>` from `static_dir`; refuse any other URL, data: URLs aside."""

    def __init__(self, static_dir: Path) -> None:
        super().__init__(timeout=1, allowed_protocols=("https", "data"))
        self.static_dir = static_dir.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
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


def _mime_type(url: str) -> str:
    return mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"


def _user_agent_stylesheet() -> CSS:
    """WeasyPrint's HTML stylesheet without the rules that give every element six pseudo-elements.

    `::marker`, `::footnote-*` and `::note-*` apply to every element there: their computed styles were
    a tenth of a report's styling time, for documents that have no footnotes and whose only markers
    are list items'.
    """
    text = (files(weasyprint_css) / "html5_ua.css").read_text("utf-8")
    text = re.sub(r"^::(footnote|note)-[^\n]*$", "", text, flags=re.MULTILINE)
    return CSS(string=text.replace("\n::marker {", "\nli::marker {"), counter_style=UA_COUNTER_STYLE)


class PrintedHTML(HTML):  # type: ignore[misc]
    """A document styled by the trimmed user-agent stylesheet, parsed once per process, without the
    `id`s nothing in it links to (`drop_unlinked_ids`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        drop_unlinked_ids(self.etree_element)
        unwrap_times(self.etree_element)
        merge_badges(self.etree_element)

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:  # noqa: ARG002 (no form fields printed)
        return [USER_AGENT]


def drop_unlinked_ids(root: Any) -> None:
    """Remove the `id` of every HTML element that no `href="#…"` of the document points to.

    WeasyPrint turns each `id` into an anchor, an extra declaration that makes the element's computed
    style its own: the style, and every descendant's, is computed afresh instead of shared with its
    siblings'. The page's ids (one per gap, one per action row) only serve its links and htmx, which
    paper does without; they were a sixth of a report's rendering work. SVG elements (their ids may
    name gradients or shapes) keep theirs.
    """
    linked = {href[1:] for element in root.iter() if (href := element.get("href", "")).startswith("#")}
    for element in root.iter():
        html = isinstance(element.tag, str) and not element.tag.startswith("{")  # not SVG, not a comment
        if html and (name := element.get("id")) is not None and name not in linked:
            del element.attrib["id"]


def unwrap_times(root: Any) -> None:
    """Replace each `<time>` (a date for machines; paper shows only its text) by its text.

    An inline element is a box of its own on every line it touches, with its own strut and text
    box; a full report has one per gap and per action.
    """
    for parent in root.iter():
        for child in list(parent):
            if child.tag == "time" and len(child) == 0:
                _replace_by_text(parent, child, (child.text or "") + (child.tail or ""))


def merge_badges(root: Any) -> None:
    """Print the badges after the first of a row as text: « [Écart majeur] · À lever avant l'audit ».

    The first badge (a gap's severity) keeps its box and colours; the others' words follow it,
    separated by « · ». Each badge is an inline box of its own, laid out and drawn apart, and unable
    to break: a tenth of a report's work, and a narrow table column (the plan's « Gravité ») overflowed.
    """
    for parent in root.iter():
        badges = [child for child in parent if _is_badge(child)]
        for badge in badges[1:]:
            _replace_by_text(parent, badge, f" · {badge.text or ''}{badge.tail or ''}", strip=True)


def _is_badge(element: Any) -> bool:
    return element.tag == "span" and len(element) == 0 and "badge" in element.get("class", "").split()


def _replace_by_text(parent: Any, child: Any, text: str, *, strip: bool = False) -> None:
    """Put `text` where `child` was; `strip` drops the whitespace before it first."""
    index = list(parent).index(child)
    if index:
        previous = parent[index - 1]
        before = previous.tail or ""
        previous.tail = (before.rstrip() if strip else before) + text
    else:
        before = parent.text or ""
        parent.text = (before.rstrip() if strip else before) + text
    parent.remove(child)


@functools.cache
def stylesheet(static_dir: Path) -> CSS:
    """`report.css`, parsed once per process rather than once per document."""
    text = (static_dir / STYLESHEET).read_text("utf-8")
    return CSS(string=text, base_url=f"{BASE_URL}static/", url_fetcher=StaticFetcher(static_dir))


USER_AGENT = _user_agent_stylesheet()
