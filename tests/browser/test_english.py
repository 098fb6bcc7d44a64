"""The director's and the trainer's journeys in English, in a real browser, with axe-core clean.

The browser asks for English (`Accept-Language` from the context's locale); the header's switch
goes back to French and the choice sticks. Only the demo's unanswered questions are answered, and
the trainer only reads « Médiation Quartiers Sud », so these tests leave the French ones their data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from app import demo
from app.accounts.models import Role
from tests.browser.test_director import (
    FULL_NAME,
    describe,
    first_unanswered,
    follow,
    heading,
    is_answer_post,
    question,
)

DIRECTOR = next(account for account in demo.ACCOUNTS if account[2] == Role.DIRECTOR)
TRAINER = next(account for account in demo.ACCOUNTS if account[2] == Role.TRAINER)
VERDICTS = "Ready for the audit|Favourable estimate — to be confirmed by the full questionnaire|Almost ready|Not ready"
Axe = Callable[[Page], list[dict[str, Any]]]


@pytest.fixture
def english(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh context whose browser prefers British English."""
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 900}, base_url=live_server
    )
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, account: tuple[str, str, Role, str]) -> None:
    email, name, _role, password = account
    page.goto("/connexion")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner").get_by_text(name)).to_be_visible()


def assert_accessible(page: Page, axe: Axe) -> None:
    blocking = [v for v in axe(page) if v["impact"] in {"serious", "critical"}]
    assert not blocking, f"axe-core (WCAG 2.1 A/AA) on {page.url} found:\n" + describe(blocking)


def test_director_works_in_english_and_switches_back_to_french(english: Page, axe: Axe) -> None:
    page = english
    sign_in(page, DIRECTOR)
    follow(page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="My structures"))
    expect(heading(page)).to_have_text("My structures")
    assert_accessible(page, axe)

    page.get_by_role("link", name="Médiation Horizon", exact=True).click()
    expect(page.get_by_role("heading", name="Self-assessments")).to_be_visible()
    assert_accessible(page, axe)

    # The demo's draft keeps the name it was given in French (a name is the structure's own text).
    page.get_by_role("link", name=FULL_NAME).click()
    expect(heading(page)).to_have_text(FULL_NAME)
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(f"^Provisional verdict: ({VERDICTS})$"))
    ).to_be_visible()
    assert_accessible(page, axe)
    overview = page.url

    page.get_by_role("link", name="Internal organisation", exact=True).click()
    expect(heading(page)).to_have_text("Internal organisation")
    assert_accessible(page, axe)
    criterion = first_unanswered(page).locator(".criterion-id").inner_text()
    card = question(page, criterion)
    with page.expect_response(is_answer_post) as saved:
        card.get_by_label("2 · Partial").check()
    assert saved.value.status == 200
    expect(card.get_by_text("Answer saved.")).to_be_visible()
    page.reload()
    expect(question(page, criterion).get_by_label("2 · Partial")).to_be_checked()

    for path in ("resultats", "plan", "verification"):
        page.goto(f"{overview}/{path}")
        expect(heading(page)).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert_accessible(page, axe)

    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.goto("/structures")
    expect(heading(page)).to_have_text("Mes structures")  # the choice sticks, whatever the browser asks


def test_trainer_reads_the_cohort_and_a_review_in_english(english: Page, axe: Axe) -> None:
    page = english
    sign_in(page, TRAINER)
    follow(page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="My cohorts"))
    expect(heading(page)).to_have_text("My cohorts")
    assert_accessible(page, axe)

    page.get_by_role("link", name=TRAINER_COHORT).click()
    expect(heading(page)).to_have_text(TRAINER_COHORT)
    expect(page.get_by_role("heading", name="Gaps by structure and by workshop")).to_be_visible()
    assert_accessible(page, axe)
    dashboard = page.url

    page.get_by_role("link", name="Prepare the workshop “Quality policy”").first.click()
    expect(heading(page)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page, axe)

    page.goto(dashboard)
    page.get_by_role("link", name="Review the self-assessment of Médiation Quartiers Sud").click()
    expect(heading(page)).to_have_text("Review of the self-assessment")
    assert_accessible(page, axe)
    page.goto(f"{page.url}/sections/deontologie")
    expect(heading(page)).to_be_visible()
    assert_accessible(page, axe)


TRAINER_COHORT = "Cycle de préparation 2027"
