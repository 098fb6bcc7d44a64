"""The trainer's journey in a real browser: the cohort dashboard, a review saved as it is made, a
return for changes, and the director reading the trainer's comment beside the question.

The demo database is shared by the whole browser session: the journey reviews and returns the
assessment the dashboard shows for « Médiation Horizon »; the accessibility checks read
« Médiation Quartiers Sud », which no test changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from app import demo
from app.accounts.models import Role
from tests.browser.test_director import describe, follow, heading
from tests.browser.test_director import sign_in as director_signs_in

EMAIL, NAME, _, PASSWORD = next(account for account in demo.ACCOUNTS if account[2] == Role.TRAINER)
COHORT = "Cycle de préparation 2027"


def sign_in(page: Page) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("banner").get_by_text(NAME)).to_be_visible()


def open_cohort(page: Page) -> None:
    follow(
        page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mes cohortes")
    )
    expect(heading(page)).to_have_text("Mes cohortes")
    page.get_by_role("link", name=COHORT).click()
    expect(heading(page)).to_have_text(COHORT)


def is_review_post(response: Response) -> bool:
    return response.request.method == "POST" and "/relecture/criteres/" in response.url


def is_rating_post(response: Response) -> bool:
    return response.request.method == "POST" and "/relecture/preuves/" in response.url


@pytest.fixture(scope="session")
def trainer_cookies(browser: Browser, live_server: str) -> Iterator[list[Any]]:
    context = browser.new_context(locale="fr-FR", base_url=live_server)
    context.set_default_timeout(5_000)
    sign_in(context.new_page())
    yield context.cookies()
    context.close()


@pytest.fixture
def trainer(page: Page, trainer_cookies: list[Any]) -> Page:
    page.context.add_cookies(trainer_cookies)
    return page


def test_trainer_reviews_an_assessment_returns_it_and_the_director_reads_the_comment(
    page: Page, browser: Browser, live_server: str
) -> None:
    sign_in(page)
    open_cohort(page)
    expect(page.get_by_role("heading", name="Écarts par structure et par atelier")).to_be_visible()
    page.get_by_role("link", name="Relire l'autoévaluation de Médiation Horizon").click()
    expect(heading(page)).to_have_text("Relecture de l'autoévaluation")
    summary_url = page.url
    sections = page.get_by_role("table").filter(has_text="Critères relus").get_by_role("link").all()
    section_urls = [str(link.get_attribute("href")) for link in sections]
    for url in section_urls:  # the first section with a piece of evidence to rate
        page.goto(url)
        rated_cards = page.locator("article.review-card").filter(has=page.locator("form.rating-form"))
        if rated_cards.count():
            break
    criterion = rated_cards.first.locator(".criterion-id").inner_text()
    section_id = page.url.rsplit("/", 1)[1]
    card = page.locator(f"#r-{criterion}")

    with page.expect_response(is_review_post) as saved:
        card.get_by_label("1 · En projet").check()
    assert saved.value.status == 200
    expect(card.get_by_text("Relecture enregistrée.")).to_be_visible()
    with page.expect_response(is_review_post) as saved:
        card.get_by_label("Commentaire pour la structure").fill("La charte n'est pas signée par tous.")
    assert saved.value.status == 200
    with page.expect_response(is_review_post) as saved:
        card.get_by_label("Constat d'audit blanc (échelle AFNOR)").select_option(label="Point sensible")
    assert saved.value.status == 200
    rating = card.locator("form.rating-form").first
    with page.expect_response(is_rating_post) as rated:
        rating.get_by_label("Insuffisante").check()
    assert rated.value.status == 200
    expect(rating.get_by_text("Appréciation enregistrée.")).to_be_visible()

    page.reload()
    reloaded = page.locator(f"#r-{criterion}")
    expect(reloaded.get_by_label("1 · En projet")).to_be_checked()
    expect(reloaded.get_by_label("Commentaire pour la structure")).to_have_value(
        "La charte n'est pas signée par tous."
    )
    expect(reloaded.locator("form.rating-form").first.get_by_label("Insuffisante")).to_be_checked()

    page.goto(summary_url)
    divergences = page.get_by_role("region", name=re.compile(r"^Divergences \(\d+\)$"))
    expect(divergences.locator(f"#r-{criterion}")).to_be_visible()
    page.get_by_label("Message à la structure").fill("Merci de reprendre la charte avant l'atelier.")
    page.get_by_role("button", name="Retourner pour modifications").click()
    expect(page.get_by_text("Retournée pour modifications", exact=True).first).to_be_visible()
    assessment = re.search(r"/autoevaluations/(\d+)/", summary_url).group(1)  # type: ignore[union-attr]

    director = browser.new_context(locale="fr-FR", base_url=live_server)
    director.set_default_timeout(5_000)
    try:
        reader = director.new_page()
        director_signs_in(reader)
        reader.goto(f"/autoevaluations/{assessment}/sections/{section_id}")
        expect(
            reader.get_by_text(re.compile("^Retournée pour modifications par Julien Morel"))
        ).to_be_visible()
        question = reader.locator(f"#q-{criterion}")
        note = question.get_by_role("note").filter(has_text="Remarques de la relecture")
        expect(note).to_contain_text("« La charte n'est pas signée par tous. »")
        expect(note).to_contain_text("Point sensible")
        expect(note).to_contain_text("insuffisante")
        expect(question.locator("form.answer-form")).to_be_visible()  # a draft again: editable
    finally:
        director.close()


def link_on(page: Page, url: str, name: str) -> str:
    """The address a page's first link named `name` leads to."""
    page.goto(url)
    return str(page.get_by_role("link", name=name, exact=True).first.get_attribute("href"))


def cohort_url(page: Page) -> str:
    return link_on(page, "/cohortes", COHORT)


def review_url(page: Page) -> str:
    return link_on(page, cohort_url(page), "Relire l'autoévaluation de Médiation Quartiers Sud")


TRAINER_PAGES: dict[str, Callable[[Page], str]] = {
    "cohorts": lambda page: "/cohortes",
    "new cohort": lambda page: "/cohortes/nouvelle",
    "dashboard": cohort_url,
    "workshop": lambda page: link_on(page, cohort_url(page), "Préparer l'atelier « Politique Qualité »"),
    "edit cohort": lambda page: link_on(page, cohort_url(page), "Modifier la cohorte"),
    "review": review_url,
    "review section": lambda page: f"{review_url(page)}/sections/deontologie",
    "compare": lambda page: f"{review_url(page)}/resultats",
    "mock-audit report": lambda page: review_url(page).replace("/relecture", "/audit-blanc"),
}


@pytest.mark.parametrize("name", list(TRAINER_PAGES))
def test_trainer_page_has_no_serious_or_critical_accessibility_violation(
    trainer: Page, axe: Callable[[Page], list[dict[str, Any]]], name: str
) -> None:
    trainer.goto(TRAINER_PAGES[name](trainer))
    expect(heading(trainer)).to_be_visible()
    expect(trainer.get_by_role("banner").get_by_text(NAME)).to_be_visible()
    blocking = [v for v in axe(trainer) if v["impact"] in {"serious", "critical"}]
    assert not blocking, "axe-core (WCAG 2.1 A/AA) found:\n" + describe(blocking)
