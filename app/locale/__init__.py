"""The interface's two languages: which one a request gets, its gettext catalog, Babel's formats.

French is the catalogs' source language: templates and code write their French text inside `_()`
(or `{% trans %}`), and `en/LC_MESSAGES/messages.po` holds its English. The product is written
French first for French users, so the French wording is the one reviewed first, and a missing
English entry shows French rather than a message id. `make messages` extracts the strings
(`babel.cfg`) and updates the catalog; the `.po` file is compiled in memory the first time a
language is used, so there is no `.mo` to build or to let go stale.

A request's language is, in order: the `autodiag_langue` cookie (set by the header's switch, and
from the account's saved choice at sign-in), then `Accept-Language`, then French. It is held in a
context variable set by `app.web.LocaleAndHeaders`, so templates, macros and services read the same one
without passing it around; worker threads inherit it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache, lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
LANGUAGE_COOKIE = "autodiag_langue"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60
CATALOG_DIR = Path(__file__).resolve().parent
DOMAIN = "messages"

_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language of the request being served (French outside any request)."""
    return _language.get()


@contextmanager
def language(code: str) -> Iterator[None]:
    """Run a block in `code` (e-mails, reports, tests), whatever the request's language."""
    token = _language.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


@cache
def translations(code: str) -> NullTranslations:
    """The compiled catalog of `code`; French, the source language, translates to itself."""
    path = CATALOG_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == DEFAULT_LANGUAGE or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str) -> str:
    """`message` (French) in the request's language."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for `count`, in the request's language.

    French, the source language, has no catalog to carry its plural rule: 0 and 1 are singular.
    """
    code = _language.get()
    if code == DEFAULT_LANGUAGE:
        return singular if abs(count) < 2 else plural
    return translations(code).ngettext(singular, plural, count)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - gettext's usual name for a marker
    """Mark `message` for extraction only; it is translated where it is shown (`_(message)`)."""
    return message


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language a visitor gets: their cookie, then their browser's preference, then French."""
    if cookie in LANGUAGES:
        return cookie
    for item in sorted(_weighted(accept_language or ""), key=lambda pair: -pair[1]):
        primary = item[0].split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def _weighted(header: str) -> Iterator[tuple[str, float]]:
    for part in header.split(",")[:20]:
        tag, _sep, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if tag:
            yield tag, weight


def format_number(value: float) -> str:
    """A number as the request's language writes it (« 1,5 » in French, « 1.5 » in English)."""
    return format_decimal(value, format="#,##0.###", locale=_language.get())


def format_score(value: float | None) -> str:
    """A 0–100 score with one decimal at most, or a dash when there is nothing to score."""
    if value is None:
        return "—"
    return format_decimal(round(value, 1), format="#,##0.#", locale=_language.get())


def format_date(value: date) -> str:
    """A date written out: « 1er mars 2027 » in French, « March 1, 2027 » in English."""
    return _written_date(_language.get(), value)


@lru_cache(maxsize=4096)  # a results page writes a few dates dozens of times; Babel's formatting is slow
def _written_date(code: str, value: date) -> str:
    written = babel_format_date(value, format="long", locale=code)
    if code == "fr" and value.day == 1:
        written = "1er" + written[1:]
    return written


def format_month(value: date) -> str:
    """A month and its year written out: « décembre 2026 », « December 2026 »."""
    return babel_format_date(value, format="LLLL yyyy", locale=_language.get())


def format_size(size: int) -> str:
    """A file size in the request's units: « 850 octets », « 12 ko », « 3,4 Mo » (or B, kB, MB)."""
    code = _language.get()
    if size < 1024:
        return gettext("%(count)s octets") % {"count": format_decimal(size, locale=code)}
    if size < 1024 * 1024:
        return gettext("%(count)s ko") % {"count": format_decimal(round(size / 1024), locale=code)}
    megabytes = format_decimal(round(size / (1024 * 1024), 1), format="#,##0.#", locale=code)
    return gettext("%(count)s Mo") % {"count": megabytes}
