"""The catalog pages in a real browser, as a visitor uses them: links, keyboard, htmx, accessibility."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.catalog.service import Catalog

VERSION = "/referentiels/x60-600/1.0.0"
WORKSHOPS = [
    "Politique Qualité",
    "Gestion de l'activité et de ses moyens",
    "Formation des équipes",
    "Évaluation de l'utilité sociale",
]
MAIN_PAGES = {
    "home": "/",
    "referentials": "/referentiels",
    "version": VERSION,
    "area": f"{VERSION}/domaines/deontologie",
    "workshop": f"{VERSION}/ateliers/politique_qualite",
    "criterion": f"{VERSION}/criteres/STR-14",  # low confidence and conditional: every alert shows
    "questionnaire": "/questionnaires/full/1.0.0",
}


def heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def ends_with(path: str) -> re.Pattern[str]:
    return re.compile(re.escape(path) + "$")


def test_visitor_follows_links_from_home_to_a_criterion(page: Page, catalog: Catalog) -> None:
    version = catalog.criteria_version("x60-600@1.0.0")
    area = version.areas[0]
    criterion = next(c for c in version.active if c.area == area.id)

    page.goto("/")
    expect(heading(page)).to_have_text("Préparer la certification « Médiation sociale »")
    page.get_by_role("link", name="Consulter le catalogue des critères").click()
    expect(page).to_have_url(ends_with("/referentiels"))
    expect(heading(page)).to_have_text("Référentiels")

    page.get_by_role("link", name="Version 1.0.0").click()
    expect(page).to_have_url(ends_with(VERSION))
    expect(heading(page)).to_have_text(version.title)

    page.get_by_role("link", name=area.title, exact=True).click()
    expect(page).to_have_url(ends_with(f"{VERSION}/domaines/{area.id}"))
    expect(heading(page)).to_have_text(f"Domaine : {area.title}")

    page.get_by_role("link", name=criterion.id, exact=True).click()
    expect(page).to_have_url(ends_with(f"{VERSION}/criteres/{criterion.id}"))
    expect(heading(page)).to_have_text(f"{criterion.id} {criterion.title}")
    expect(page.get_by_role("heading", name="Ce que l'auditeur regarde")).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text(criterion.requirement)
    for evidence in criterion.expected_evidence:
        expect(main).to_contain_text(evidence.label)


def test_version_page_lists_the_four_france_mediation_workshops_and_opens_each(page: Page) -> None:
    page.goto(VERSION)
    section = page.get_by_role("region", name="Les quatre ateliers de préparation")
    expect(section.get_by_role("link")).to_have_text(WORKSHOPS)
    for name in WORKSHOPS:
        section.get_by_role("link", name=name, exact=True).click()
        expect(heading(page)).to_have_text(f"Atelier : {name}")
        expect(page.get_by_role("table").first.get_by_role("row").nth(1)).to_be_visible()
        page.get_by_role("navigation", name="Fil d'Ariane").get_by_role("link", name="Version 1.0.0").click()
        expect(page).to_have_url(ends_with(VERSION))


def test_first_tab_reaches_the_skip_link_which_moves_focus_to_the_main_content(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Aller au contenu")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is in the content, past the header's links
    expect(page.get_by_role("link", name="Consulter le catalogue des critères")).to_be_focused()


def test_htmx_boosts_navigation_without_reloading_the_page(page: Page) -> None:
    page.goto("/")
    assert page.evaluate("window.htmx && window.htmx.version") == "2.0.11"
    assert page.evaluate("document.body.getAttribute('hx-boost')") == "true"
    page.evaluate("window.stillTheSameDocument = true")  # a full reload would forget it
    nav = page.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("link", name="Référentiels").click()
    expect(page).to_have_url(ends_with("/referentiels"))
    expect(heading(page)).to_have_text("Référentiels")
    expect(page).to_have_title("Référentiels · Autodiag Médiation")
    expect(nav.get_by_role("link", name="Référentiels")).to_have_attribute("aria-current", "page")
    assert page.evaluate("window.stillTheSameDocument") is True


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation, then the CSS target of each offending node."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines += [f"    {node['target']}" for node in violation["nodes"]]
    return "\n".join(lines)


@pytest.mark.parametrize("path", list(MAIN_PAGES.values()), ids=list(MAIN_PAGES))
def test_page_has_no_serious_or_critical_accessibility_violation(
    page: Page, axe: Callable[[Page], list[dict[str, Any]]], path: str
) -> None:
    page.goto(path)
    expect(heading(page)).to_be_visible()
    blocking = [v for v in axe(page) if v["impact"] in {"serious", "critical"}]
    assert not blocking, "axe-core (WCAG 2.1 A/AA) found:\n" + describe(blocking)


@pytest.mark.parametrize("path", ["/", "/referentiels/x60-600/1.0.0/criteres/STR-14"])
def test_pages_load_without_console_errors_or_blocked_resources(page: Page, path: str) -> None:
    """A Content-Security-Policy violation or a missing file shows up as a console error."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert errors == []
