"""The PDF printer never reaches the network: its URL fetcher serves the app's static files only."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest

from app.config import PROJECT_ROOT
from app.reports.pdf import BASE_URL, RefusedURLError, print_pdf
from app.reports.printing import PrintedHTML, StaticFetcher
from tests.reports.documents import pdf_pages

STATIC = PROJECT_ROOT / "app" / "static"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/image.png",
        "https://example.org/static/report.css",
        f"{BASE_URL}autoevaluations/1/resultats",
        f"{BASE_URL}static/../../pyproject.toml",
        f"{BASE_URL}static/%2e%2e/%2e%2e/pyproject.toml",
        f"{BASE_URL}static/absent.css",
        "file:///etc/passwd",
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_file(url: str) -> None:
    with pytest.raises((RefusedURLError, ValueError)):
        StaticFetcher(STATIC).fetch(url)


def test_the_fetcher_serves_the_static_stylesheet() -> None:
    response = StaticFetcher(STATIC).fetch(f"{BASE_URL}static/report.css")
    assert response.read() == (STATIC / "report.css").read_bytes()
    assert response.content_type == "text/css"


def test_a_document_asking_for_another_site_prints_without_it(tmp_path: Path) -> None:
    """An image from elsewhere is skipped (never fetched), the rest prints, in the system's DejaVu."""
    html = (
        '<html lang="fr"><head><link rel="stylesheet" href="/static/report.css"></head><body>'
        '<p class="running running-page">page</p><h1>Écarts</h1>'
        '<img src="http://127.0.0.1:9/tracker.png" alt=""><img src="file:///etc/hostname" alt=""></body></html>'
    )
    content = print_pdf(html, static_dir=STATIC)
    assert pdf_pages(content) == ["Écarts\npage 1 / 1"]
    page = pypdf.PdfReader(io.BytesIO(content)).pages[0]
    fonts = {str(font.get_object()["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}
    assert fonts
    assert all("+DejaVu-Sans" in name for name in fonts), fonts


def test_list_items_keep_their_bullets_with_the_trimmed_user_agent_stylesheet() -> None:
    """Markers are still drawn (inside the text) though `::marker` now only applies to list items."""
    html = '<html lang="fr"><body><ul><li>Charte signée</li><li>Registre</li></ul><p>Fin</p></body></html>'
    text = pdf_pages(print_pdf(html, static_dir=STATIC))[0]
    assert "• Charte signée" in text
    assert "• Registre" in text


def test_a_rows_badges_after_the_first_print_as_its_words() -> None:
    """The severity keeps its badge; the other badges of its row follow it as « · » separated words,
    in a table cell too, and a row of one badge is left alone."""
    html = (
        '<html lang="fr"><body><p class="badges"><span class="badge badge-severity-ecart_majeur">Écart majeur</span>'
        ' <span class="badge badge-blocking">À lever avant l\'audit</span><span class="badge badge-critical">'
        'Critique</span><span class="badge badge-priority">Priorité 2</span></p>'
        '<table><tr><td><span class="badge">Écart mineur</span> <span class="badge">Critère déduit</span>'
        ' après</td><td><span class="badge">Seul</span></td></tr></table></body></html>'
    )
    tree = PrintedHTML(string=html, base_url=BASE_URL).etree_element
    rows = [element for element in tree.iter() if element.tag in {"p", "td"}]
    printed = [
        ([badge.text for badge in row if badge.tag == "span"], "".join(row.itertext())) for row in rows
    ]
    assert printed == [
        (["Écart majeur"], "Écart majeur · À lever avant l'audit · Critique · Priorité 2"),
        (["Écart mineur"], "Écart mineur · Critère déduit après"),
        (["Seul"], "Seul"),
    ]
    text = pdf_pages(print_pdf(html, static_dir=STATIC))[0]
    assert re.search(r"Écart majeur +· À lever avant l'audit · Critique · Priorité 2\n", text), text
