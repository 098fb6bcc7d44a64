"""The questionnaire as a director gets through it, at 1,366 and 390 pixels, axe-core clean on each page:
an answer made after the session expired is kept, signed in again in place and saved; one lost to the
network is kept and sent again; long sections come in pages with the next unanswered question one
link away; the N/A justification appears only with N/A; focus follows the forms htmx opens; and the
whole journey done with the keyboard only.

Each test answers questions nobody answered yet in the shared demo assessment (« Continuer » opens
the first of them), so no test depends on another.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Response, expect
from sqlmodel import Session, select

from app.assessments.models import Answer
from tests.browser.test_director import EMAIL, FULL_NAME, PASSWORD, describe, heading, question, sign_in

SIZES = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}
Axe = Callable[[Page], list[dict[str, Any]]]


@pytest.fixture(params=list(SIZES))
def director_page(request: pytest.FixtureRequest, browser: Browser, live_server: str) -> Iterator[Page]:
    """A signed-in director's page at one of the two widths."""
    context = browser.new_context(locale="fr-FR", viewport=SIZES[request.param], base_url=live_server)
    context.set_default_timeout(5_000)
    page = context.new_page()
    sign_in(page)
    yield page
    context.close()


@pytest.fixture
def page(director_page: Page) -> Page:
    """The page the screenshot fixture keeps is the director's."""
    return director_page


def clean(page: Page, axe: Axe, where: str) -> None:
    violations = axe(page)
    assert not violations, f"axe-core on {where}:\n" + describe(violations)


def continue_questionnaire(page: Page) -> str:
    """From « Mes structures », « Continuer le questionnaire »: the criterion of the question it opens."""
    page.goto("/structures")
    page.get_by_role("link", name="Médiation Horizon", exact=True).click()
    page.get_by_role("link", name=FULL_NAME).click()
    page.get_by_role("link", name="Continuer le questionnaire").click()
    expect(page).to_have_url(re.compile(r"#q-[A-Z]+-\d+$"))
    found = re.search(r"#q-([A-Z]+-\d+)$", page.url)
    assert found, page.url
    expect(question(page, found.group(1))).to_be_in_viewport()
    return found.group(1)


def is_answer_post(response: Response) -> bool:
    return response.request.method == "POST" and "/reponses/" in response.url


def saved_level(app: FastAPI, page: Page, criterion: str) -> list[int | None]:
    """The levels stored for `criterion` in the assessment the page shows."""
    assessment = int(re.search(r"/autoevaluations/(\d+)/", page.url).group(1))  # type: ignore[union-attr]
    with Session(app.state.engine) as session:
        found = select(Answer).where(Answer.criterion_id == criterion, Answer.assessment_id == assessment)
        return [row.level for row in session.exec(found).all()]


def test_an_answer_made_after_the_session_expired_is_kept_and_saved_after_signing_in_again(
    page: Page, live_app: FastAPI, axe: Axe
) -> None:
    criterion = continue_questionnaire(page)
    clean(page, axe, "the section page")
    card = question(page, criterion)
    before = saved_level(live_app, page, criterion)
    page.context.clear_cookies()  # the session is over
    with page.expect_response(is_answer_post) as refused:
        card.get_by_label("1 · En projet").check()
    assert refused.value.status == 403
    alert = card.get_by_role("alert")
    expect(alert).to_contain_text("votre session a expiré")
    expect(card.get_by_label("1 · En projet")).to_be_checked()  # kept
    assert saved_level(live_app, page, criterion) == before
    clean(page, axe, "the page showing the autosave error")

    alert.get_by_role("button", name="Se reconnecter").click()
    dialog = page.get_by_role("dialog", name="Se reconnecter sans quitter la page")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Adresse électronique")).to_have_value(EMAIL)
    clean(page, axe, "the in-page sign-in")
    dialog.get_by_label("Mot de passe").fill("pas le bon")
    dialog.get_by_role("button", name="Se reconnecter").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    dialog.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_response(is_answer_post) as resent:
        dialog.get_by_role("button", name="Se reconnecter").click()
    assert resent.value.status == 200
    expect(dialog).to_be_hidden()
    expect(card.get_by_text("Réponse enregistrée.")).to_be_visible()
    expect(card.locator(".autosave-error")).to_have_count(0)
    expect(page.locator("#annonces")).to_contain_text("modifications en attente ont été renvoyées")
    assert saved_level(live_app, page, criterion) == [1]  # counted in the database
    assert "/sections/" in page.url  # never left the page


def test_an_answer_lost_to_the_network_is_kept_and_sent_again(
    page: Page, live_app: FastAPI, axe: Axe
) -> None:
    criterion = continue_questionnaire(page)
    card = question(page, criterion)
    page.route("**/reponses/**", lambda route: route.abort("internetdisconnected"))
    card.get_by_label("2 · Partiel").check()
    alert = card.get_by_role("alert")
    expect(alert).to_contain_text("le serveur n'a pas pu être joint")
    expect(card.get_by_label("2 · Partiel")).to_be_checked()
    assert saved_level(live_app, page, criterion) == []
    clean(page, axe, "the page showing the network error")

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    tabs = page.get_by_role("navigation", name="Sections du questionnaire")
    tabs.get_by_role("link", name="Évaluation", exact=True).click()  # leaving with a change unsent
    expect(page).to_have_url(re.compile(rf"#q-{criterion}$"))  # declined: still here
    assert asked == ["Des modifications ne sont pas encore enregistrées. Quitter la page quand même ?"]

    page.unroute("**/reponses/**")
    page.route("**/reponses/**", lambda route: route.fulfill(status=500, body="erreur"))
    alert.get_by_role("button", name="Réessayer").click()
    expect(alert).to_contain_text("le serveur a rencontré une erreur")
    expect(card.get_by_label("2 · Partiel")).to_be_checked()
    page.unroute("**/reponses/**")
    with page.expect_response(is_answer_post) as resent:
        alert.get_by_role("button", name="Réessayer").click()
    assert resent.value.status == 200
    expect(card.get_by_text("Réponse enregistrée.")).to_be_visible()
    assert saved_level(live_app, page, criterion) == [2]


def test_a_long_section_is_read_page_by_page_up_to_the_next_unanswered_question(page: Page, axe: Axe) -> None:
    criterion = continue_questionnaire(page)
    section = re.search(r"/sections/([a-z]+)", page.url).group(1)  # type: ignore[union-attr]
    pages = page.get_by_role("navigation", name="Pages de la section")
    if section == "structuration":
        expect(pages.get_by_role("link")).to_have_count(5)
    panel = page.locator(".progress-panel")
    card = question(page, criterion)
    card.scroll_into_view_if_needed()
    expect(panel).to_be_in_viewport()  # the panel stays in view while the page scrolls

    tabs = page.get_by_role("navigation", name="Sections du questionnaire")
    count = tabs.get_by_role("listitem").filter(has=page.locator('a[aria-current="page"]'))
    done = int(re.search(r"\((\d+)/", count.inner_text()).group(1))  # type: ignore[union-attr]
    with page.expect_response(is_answer_post):
        card.get_by_label("3 · En place et formalisé").check()
    expect(count).to_contain_text(f"({done + 1}/")  # the tab's count follows the autosave
    next_link = panel.get_by_role("link", name=re.compile("^Question suivante sans réponse"))
    following = re.search(r"\(([A-Z]+-\d+)\)", next_link.inner_text())
    assert following
    assert following.group(1) != criterion
    next_link.click()
    expect(page).to_have_url(re.compile(rf"#q-{following.group(1)}$"))
    expect(question(page, following.group(1))).to_be_in_viewport()
    clean(page, axe, "the page of the next unanswered question")


def test_the_na_justification_appears_only_with_na(page: Page, axe: Axe) -> None:
    page.goto("/structures")
    page.get_by_role("link", name="Médiation Horizon", exact=True).click()
    page.get_by_role("link", name=FULL_NAME).click()
    expect(heading(page)).to_have_text(FULL_NAME)
    assessment = re.search(r"/autoevaluations/\d+", page.url).group(0)  # type: ignore[union-attr]
    page.goto(f"{assessment}/questions/PRO-16")  # N/A is offered on this one
    card = question(page, "PRO-16")
    box = card.get_by_label("Justification de la non-applicabilité")
    if not card.get_by_label("1 · En projet").is_checked():  # the other width's run left it there
        with page.expect_response(is_answer_post):
            card.get_by_label("1 · En projet").check()
    expect(box).to_be_hidden()
    with page.expect_response(is_answer_post):
        card.get_by_label("Non applicable", exact=True).check()
    expect(box).to_be_visible()
    clean(page, axe, "a question answered N/A")
    with page.expect_response(is_answer_post):
        card.get_by_label("1 · En projet").check()
    expect(box).to_be_hidden()


def tab_to(page: Page, name: str | re.Pattern[str], limit: int = 250) -> None:
    """Press Tab until the focused element's text matches `name` (the keyboard's way of getting there)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        label = page.evaluate(
            "() => (document.activeElement.innerText || document.activeElement.value || '').trim()"
        )
        if re.search(name, label) if isinstance(name, re.Pattern) else label == name:
            return
    raise AssertionError(f"never reached {name!r} with Tab")


def tab_to_element(page: Page, selector: str, limit: int = 250) -> None:
    """Press Tab until the focused element matches the CSS `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"never reached {selector} with Tab")


def test_the_director_journey_with_the_keyboard_only(page: Page, axe: Axe) -> None:
    page.context.clear_cookies()  # signed out: the journey starts at the sign-in form
    page.goto("/connexion")
    tab_to_element(page, "#email, input[type=email]")
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("banner").get_by_text("Nadia Benali")).to_be_visible()
    page.goto("/structures")
    tab_to(page, "Médiation Horizon")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Médiation Horizon")
    tab_to(page, FULL_NAME)
    page.keyboard.press("Enter")
    tab_to(page, "Continuer le questionnaire")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#q-[A-Z]+-\d+$"))
    criterion = re.search(r"#q-([A-Z]+-\d+)$", page.url).group(1)  # type: ignore[union-attr]
    card = question(page, criterion)
    clean(page, axe, "the section page reached by keyboard")

    tab_to_element(page, f"#q-{criterion}-niveau-0")
    with page.expect_response(is_answer_post):
        page.keyboard.press("Space")  # a radio group: Space chooses, arrows move and choose
    expect(card.get_by_label("0 · Absent")).to_be_checked()
    with page.expect_response(is_answer_post):
        page.keyboard.press("ArrowDown")
    expect(card.get_by_label("1 · En projet")).to_be_checked()
    expect(card.get_by_text("Réponse enregistrée.")).to_be_visible()

    tab_to_element(page, f"#q-{criterion}-ajout a")
    page.keyboard.press("Enter")
    expect(card.get_by_label("Fichier (facultatif)")).to_be_focused()  # focus moved into the form
    clean(page, axe, "the evidence form opened in place")
    page.keyboard.press("Escape")
    expect(card.get_by_role("link", name=re.compile("^Ajouter une preuve"))).to_be_focused()  # and back

    page.keyboard.press("Enter")
    expect(card.get_by_label("Fichier (facultatif)")).to_be_focused()
    page.keyboard.press("Tab")
    expect(card.get_by_label("Titre")).to_be_focused()
    page.keyboard.type("Compte rendu de réunion d'équipe")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/preuves")):
        page.keyboard.press("Enter")
    expect(card.get_by_role("status")).to_have_text("Preuve ajoutée.")
    expect(card.get_by_role("link", name=re.compile("^Ajouter une preuve"))).to_be_focused()  # back to it
    expect(page.locator("#annonces")).to_have_text("Preuve ajoutée.")
    clean(page, axe, "the question with its new evidence")
