"""One translation mechanism: every string a person reads goes through the catalogs, and English has them all."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment

from app.config import PROJECT_ROOT
from app.locale import CATALOG_DIR

KEYWORDS = DEFAULT_KEYWORDS | {"N_": None}
ENGLISH = CATALOG_DIR / "en" / "LC_MESSAGES" / "messages.po"
FRENCH_WORD = re.compile(r"[A-Za-zÀ-ÿœŒ]{2,}")
FRENCH_LETTER = re.compile(r"[éèêëàâçùûîïôœÉÈÀÇ«»]")
FRENCH_SMALL_WORD = re.compile(r"\b(?:de|la|le|les|des|du|un|une|et|est|pas|pour|sur|avec|dans|aux?)\b", re.I)
MARKUP_OR_ADDRESS = re.compile(r'[="/<>#]|://')
MARKERS = {"_", "N_", "gettext", "ngettext"}
# Not the web interface's words: the CLI and the API speak English to tools, migrations and the
# loaders' messages are for the people who write criteria files, the demo seeds French sample data.
ENGLISH_OR_DATA = (
    "app/catalog/models.py",  # the file formats' schema descriptions, for the people who write criteria
    "app/catalog/base.py",
    "app/catalog/scoring_rules.py",
    "app/catalog/questionnaires.py",
    "app/cli/",
    "app/api/",
    "app/migrations/",
    "app/demo.py",
    "app/catalog/loader.py",
    "app/catalog/checks.py",
    "app/catalog/translations.py",
)
TEXT_ATTRIBUTE = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"{]*)"')
ALLOWED_PYTHON = {
    ("app/main.py", "Autodiag Médiation"),  # the product's name
    ("app/locale/__init__.py", "Français"),  # a language is offered in its own name
}
ALLOWED_TEXT = {"Autodiag Médiation", "N/A", "SHA-256", "ID", "PDF", "API"}


def extracted() -> dict[str, set[str]]:
    """Every message id in the code and templates, with the files it comes from."""
    with (PROJECT_ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, set()).add(filename)
    return found


def english() -> dict[str, object]:
    with ENGLISH.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    return {str(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}


def test_every_message_has_an_english_translation_neither_missing_nor_fuzzy() -> None:
    catalog = english()
    singulars = set(extracted())
    missing = sorted(m for m in singulars if m not in catalog and not any(m == key for key in catalog))
    plural_forms = {str(m.id[1]) for m in catalog.values() if isinstance(m.id, tuple)}  # type: ignore[attr-defined]
    missing = [m for m in missing if m not in plural_forms]
    assert missing == [], "run `make messages`, then translate: " + "; ".join(missing[:10])
    untranslated = [
        key
        for key, m in catalog.items()
        if m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]  # type: ignore[attr-defined]
    assert untranslated == []


def test_the_english_catalog_has_no_orphan_entry() -> None:
    found = extracted()
    orphans = [key for key in english() if key not in found]
    assert orphans == [], "run `make messages` to drop entries no code uses: " + "; ".join(orphans[:10])


def _template_literals(path: Path) -> list[str]:
    """French text in a template outside `_()`, `N_()`, `ngettext()` and `{% trans %}` blocks.

    The template's markup is rebuilt with each Jinja tag or expression as a placeholder, so a tag
    cut by an expression (`class="{% if … %}x{% endif %}"`) is still seen as one tag; then the text
    between tags and the values of text attributes (`aria-label`, `title`, …) must hold no words.
    """
    environment = Environment(extensions=["jinja2.ext.i18n"])
    skeleton, found, previous, in_trans = [], [], [], False
    for _line, kind, value in environment.lex(path.read_text(encoding="utf-8")):
        if kind == "name" and value in {"trans", "pluralize"}:
            in_trans = True
        elif kind == "name" and value == "endtrans":
            in_trans = False
        if kind == "data":
            skeleton.append("\x00" if in_trans else value)
        elif kind in {"variable_begin", "block_begin"}:
            skeleton.append("\x00")
        elif kind == "string" and (FRENCH_LETTER.search(value) or FRENCH_SMALL_WORD.search(value)):
            called = {v for k, v in previous[-6:] if k == "name"}
            if not called & MARKERS:
                found.append(value)
        if kind != "whitespace":
            previous.append((kind, value))
        if kind in {"variable_end", "block_end"}:
            previous = []
    markup = re.sub(r"<!--.*?-->|\{#.*?#\}", " ", "".join(skeleton), flags=re.S)
    found += [
        v for v in TEXT_ATTRIBUTE.findall(markup) if FRENCH_WORD.search(v) and not MARKUP_OR_ADDRESS.search(v)
    ]
    text = re.sub(r"<[^>]*>", "\x00", markup)
    for raw in re.split(r"\x00|\n", text):
        piece = raw.strip(" ·—–:;,.()«»|-\t")
        if (
            piece
            and not MARKUP_OR_ADDRESS.search(piece)
            and FRENCH_WORD.search(piece)
            and piece not in ALLOWED_TEXT
            and not piece.startswith("&")
        ):
            found.append(piece)
    return found


def test_templates_hold_no_french_text_outside_the_catalogs() -> None:
    problems = {
        str(path.relative_to(PROJECT_ROOT)): literals
        for pattern in ("*.html", "*.txt")  # the e-mails' text bodies too
        for path in sorted((PROJECT_ROOT / "templates").rglob(pattern))
        if (literals := _template_literals(path))
    }
    assert problems == {}


def _python_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marked: set[int] = set()
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS:
            marked |= {id(arg) for arg in node.args}
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MARKERS:
            marked |= {id(arg) for arg in node.args}
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            docstrings.add(id(node.value))  # bare string statements are documentation
    for node in ast.walk(tree):
        unmarked = id(node) not in marked | docstrings
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and unmarked
            and FRENCH_LETTER.search(node.value)
        ):
            found.append(node.value)
        if isinstance(node, ast.JoinedStr) and id(node) not in marked:
            text = "".join(
                v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if FRENCH_LETTER.search(text):
                found.append(text)
    return found


def test_app_modules_hold_no_french_text_outside_the_catalogs() -> None:
    problems = {}
    for path in sorted((PROJECT_ROOT / "app").rglob("*.py")):
        relative = str(path.relative_to(PROJECT_ROOT))
        if relative.startswith(ENGLISH_OR_DATA):
            continue
        if literals := [text for text in _python_literals(path) if (relative, text) not in ALLOWED_PYTHON]:
            problems[relative] = literals
    assert problems == {}
