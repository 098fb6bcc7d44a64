"""The director's journey in a real browser: sign in, answer with autosave, attach a PDF, submit, read.

The demo database is shared by the whole browser session and a submission is final, so the demo
assessment stays a draft: the tests that write to it only answer questions nobody answered yet, and
the submission goes through a new express assessment started from the structure page. No test
depends on another having run before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Response, expect

from app import demo
from app.accounts.models import Role
from app.catalog.service import Catalog
from app.config import PROJECT_ROOT

EMAIL, _, _, PASSWORD = next(account for account in demo.ACCOUNTS if account[2] == Role.DIRECTOR)
STRUCTURE = "Médiation Horizon"
SECTION = "Structuration interne"
CHARTER = PROJECT_ROOT / "tests" / "fixtures" / "files" / "charte.pdf"
WORKSHOPS = [
    "Politique Qualité",
    "Gestion de l'activité et de ses moyens",
    "Formation des équipes",
    "Évaluation de l'utilité sociale",
]
VERDICTS = (
    "Prêt pour l'audit|Estimation favorable — à confirmer par le questionnaire complet|Presque prêt|Pas prêt"
)


@dataclass(frozen=True)
class Director:
    """The director's session cookies, and the paths of the demo structure and its assessment."""

    cookies: list[Any]
    structure: str
    assessment: str


# Assessments are named after their questionnaire and month: « Autoévaluation complète — décembre 2026 ».
FULL_NAME = re.compile("^Autoévaluation complète — ")
EXPRESS_NAME = re.compile("^Autoévaluation express — ")


def start_express(page: Page) -> None:
    """Start an express assessment from the structure page, past the warning if a draft is open."""
    page.get_by_label(re.compile("^Questionnaire express")).check()
    page.get_by_role("button", name="Commencer").click()
    anyway = page.get_by_role("button", name="Commencer quand même un nouveau brouillon")
    # Either page, once it has come: the structure page's own heading must not count as an answer.
    expect(heading(page).filter(has_text=EXPRESS_NAME).or_(anyway).first).to_be_visible()
    if anyway.is_visible():
        anyway.click()
    expect(heading(page)).to_have_text(EXPRESS_NAME)


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def follow(link: Locator) -> None:
    """Click a boosted link and wait until htmx has swapped its page in.

    A user who lands on « Mes structures » and clicks « Mes structures » in the menu sees the same
    heading before and after: checking the heading alone would let the next click race the swap still
    on its way (the late swap then replaces the page that click opened).
    """
    page = link.page
    href = str(link.get_attribute("href"))
    with page.expect_response(lambda r: r.request.method == "GET" and r.url.endswith(href)) as reply:
        link.click()
    reply.value.finished()
    expect(page.locator(".htmx-request")).to_have_count(0)


def ends_with(path: str) -> re.Pattern[str]:
    return re.compile(re.escape(path) + "$")


def sign_in(page: Page) -> None:
    """Through the form, as the director types it."""
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("banner").get_by_text("Nadia Benali")).to_be_visible()


@pytest.fixture(scope="session")
def director(browser: Browser, live_server: str) -> Iterator[Director]:
    """Signed in once for the tests that do not test signing in; the demo's paths read from its links."""
    context = browser.new_context(locale="fr-FR", base_url=live_server)
    context.set_default_timeout(5_000)
    page = context.new_page()
    sign_in(page)
    page.goto("/structures")
    structure = page.get_by_role("link", name=STRUCTURE, exact=True).get_attribute("href")
    page.goto(str(structure))
    assessment = page.get_by_role("link", name=FULL_NAME).get_attribute("href")
    yield Director(context.cookies(), str(structure), str(assessment))
    context.close()


@pytest.fixture
def signed_in(page: Page, director: Director) -> Page:
    page.context.add_cookies(director.cookies)
    return page


def is_answer_post(response: Response) -> bool:
    return response.request.method == "POST" and "/reponses/" in response.url


def is_evidence_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/preuves")


def first_unanswered(page: Page) -> Locator:
    """The first question of the page that can be answered and has no level chosen yet.

    The locator is resolved again at each use: pin the question with `question` before answering it.
    """
    return (
        page.locator("section.question-card")
        .filter(has=page.locator("form.answer-form"))
        .filter(has_not=page.locator("input[name=niveau]:checked"))
        .first
    )


def question(page: Page, criterion: str) -> Locator:
    return page.get_by_role("region", name=re.compile(rf"^{re.escape(criterion)} "))


def answered(bar: Locator) -> int:
    """How many questions a progress bar counts as answered, read from its visible label."""
    label = bar.page.locator(f"#{bar.get_attribute('aria-labelledby')}").inner_text()
    found = re.search(r": (\d+) questions? renseignées?", label)
    assert found, label
    return int(found.group(1))


def test_director_signs_in_and_opens_the_demo_assessment(page: Page) -> None:
    sign_in(page)
    navigation = page.get_by_role("navigation", name="Navigation principale")
    follow(navigation.get_by_role("link", name="Mes structures"))
    expect(heading(page)).to_have_text("Mes structures")

    page.get_by_role("link", name=STRUCTURE, exact=True).click()
    expect(heading(page)).to_have_text(STRUCTURE)
    expect(page.get_by_role("heading", name="Autoévaluations")).to_be_visible()

    page.get_by_role("link", name=FULL_NAME).click()
    expect(heading(page)).to_have_text(FULL_NAME)
    expect(page.get_by_text("Brouillon", exact=True)).to_be_visible()
    overall = page.get_by_role("progressbar", name=re.compile("^Ensemble du questionnaire"))
    expect(overall).to_be_visible()
    assert answered(overall) > 0  # the demo is half filled
    verdict = page.get_by_role("heading", name=re.compile(f"^Verdict provisoire : ({VERDICTS})$"))
    expect(verdict).to_be_visible()


def test_choosing_a_level_autosaves_it_moves_the_progress_and_survives_a_reload(
    signed_in: Page, director: Director
) -> None:
    page = signed_in
    page.goto(director.assessment)
    page.get_by_role("link", name=SECTION, exact=True).click()
    expect(heading(page)).to_have_text(SECTION)
    section_bar = page.get_by_role("progressbar", name=re.compile("^Cette section"))
    overall_bar = page.get_by_role("progressbar", name=re.compile("^Ensemble du questionnaire"))
    before = answered(section_bar), answered(overall_bar)
    value_before = int(section_bar.get_attribute("value") or 0)

    criterion = first_unanswered(page).locator(".criterion-id").inner_text()
    card = question(page, criterion)  # pinned: once answered, it is no longer the first unanswered one
    with page.expect_response(is_answer_post) as saved:
        card.get_by_label("2 · Partiel").check()
    assert saved.value.status == 200
    expect(card.get_by_text("Réponse enregistrée.")).to_be_visible()
    expect(section_bar).to_have_accessible_name(re.compile(rf": {before[0] + 1} questions? renseignée"))
    expect(overall_bar).to_have_accessible_name(re.compile(rf": {before[1] + 1} questions? renseignée"))
    assert int(section_bar.get_attribute("value") or 0) > value_before

    page.reload()
    expect(question(page, criterion).get_by_label("2 · Partiel")).to_be_checked()
    assert answered(section_bar) == before[0] + 1


def test_director_submits_a_new_assessment_with_a_pdf_and_reads_its_results(
    signed_in: Page, director: Director, catalog: Catalog, axe: Callable[[Page], list[dict[str, Any]]]
) -> None:
    page = signed_in
    page.goto(director.structure)
    start_express(page)
    overview = page.url

    page.get_by_role("link", name=SECTION, exact=True).click()
    expect(heading(page)).to_have_text(SECTION)
    cid = first_unanswered(page).locator(".criterion-id").inner_text()
    card = question(page, cid)
    with page.expect_response(is_answer_post) as saved:
        card.get_by_label("3 · En place et formalisé").check()
    assert saved.value.status == 200
    expect(card.get_by_text("Réponse enregistrée.")).to_be_visible()

    card.get_by_role("link", name=re.compile("^Ajouter une preuve")).click()  # the form comes in place
    expect(page).to_have_url(re.compile(r"/sections/structuration$"))
    card.get_by_label("Fichier (facultatif)").set_input_files(CHARTER)
    for box in card.locator(f'input[name="couvre"][id^="q-{cid}-couvre-"]').all():
        box.check()  # the file covers every expected item: scoring v2 asks the required ones at level 3
    card.get_by_label("Responsable").fill("Direction")
    with page.expect_response(is_evidence_post) as added:
        card.get_by_role("button", name="Ajouter la preuve").click()
    assert added.value.status == 200
    expect(card.get_by_role("status")).to_have_text("Preuve ajoutée.")
    expect(card.get_by_role("link", name="Télécharger charte.pdf")).to_be_visible()
    expect(card.locator(".evidence-list")).to_contain_text("responsable : Direction")
    expect(card.get_by_label("Fichier (facultatif)")).to_have_count(0)  # the form closed after adding

    page.goto(overview)
    page.get_by_role("link", name="Vérifier avant de soumettre").click()
    expect(heading(page)).to_have_text("Vérifier avant de soumettre")
    expect(page.get_by_role("heading", name="Niveau 3 sans la preuve requise (0)")).to_be_visible()
    page.get_by_label("Je confirme que ces réponses décrivent la situation actuelle de la structure.").check()
    # Below 100 %: a second box states how many questions are left unanswered.
    page.get_by_label(re.compile(r"^Je soumets en sachant que \d+ questions applicables")).check()
    page.get_by_role("button", name="Soumettre l'autoévaluation").click()

    expect(page).to_have_url(re.compile(r"/autoevaluations/\d+/resultats$"))
    expect(heading(page)).to_have_text("Résultats de l'autoévaluation")
    expect(page.get_by_text(re.compile(r"soumise le \d"))).to_be_visible()
    verdict = page.get_by_role("heading", name=re.compile(f"^Résultat prévu à l'audit : ({VERDICTS})$"))
    expect(verdict).to_be_visible()

    radar = page.get_by_role("img", name="Scores sur 100 des quatre domaines de la norme")
    expect(radar).to_be_visible()
    table = page.get_by_role("table", name="Scores sur 100, moyenne pondérée des niveaux atteints")
    cells = table.locator("tbody td:nth-child(2)").all_inner_texts()
    scores = [text.removesuffix(" / 100") for text in cells]
    values = [text.removesuffix(" / 100") for text in radar.locator(".radar-value").all_text_contents()]
    assert len(values) == 4
    assert sorted(v.removesuffix(" (non évalué)") for v in values) == sorted(scores)
    assert any(re.fullmatch(r"\d+", value) for value in values), values  # the answered area has a score

    assert [w.title for w in catalog.criteria_version("x60-600@1.0.0").workshops] == WORKSHOPS
    for name in WORKSHOPS:
        expect(
            page.get_by_role(
                "heading", level=3, name=re.compile(rf"^{re.escape(name)} \(\d+ écarts?( · \d+ [^)]+)*\)$")
            )
        ).to_be_visible()
    blocking = [v for v in axe(page) if v["impact"] in {"serious", "critical"}]
    assert not blocking, "axe-core on the submitted results:\n" + describe(blocking)

    tabs = page.get_by_role("navigation", name="Cette autoévaluation")
    tabs.get_by_role("link", name="Questionnaire").click()
    expect(page.get_by_text("Soumise", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Vérifier avant de soumettre")).to_have_count(0)


def test_without_javascript_the_save_button_records_an_answer(
    browser: Browser, live_server: str, director: Director
) -> None:
    context = browser.new_context(locale="fr-FR", base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(5_000)
    context.add_cookies(director.cookies)
    try:
        page = context.new_page()
        page.goto(f"{director.assessment}/sections/structuration")
        expect(heading(page)).to_have_text(SECTION)
        criterion = first_unanswered(page).locator(".criterion-id").inner_text()
        card = question(page, criterion)
        card.get_by_label("1 · En projet").check()
        with page.expect_response(is_answer_post) as saved:
            card.get_by_role("button", name="Enregistrer").click()
        assert saved.value.status == 303
        expect(page).to_have_url(ends_with(f"/sections/structuration#q-{criterion}"))
        page.reload()
        expect(question(page, criterion).get_by_label("1 · En projet")).to_be_checked()
    finally:
        context.close()


def test_without_javascript_evidence_is_added_from_its_own_page(
    browser: Browser, live_server: str, director: Director
) -> None:
    context = browser.new_context(locale="fr-FR", base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(5_000)
    context.add_cookies(director.cookies)
    try:
        page = context.new_page()
        page.goto(f"{director.assessment}/sections/structuration")
        criterion = first_unanswered(page).locator(".criterion-id").inner_text()
        question(page, criterion).get_by_role("link", name=re.compile("^Ajouter une preuve")).click()
        expect(heading(page)).to_have_text("Ajouter une preuve")
        page.get_by_label("Titre").fill("Plan de formation 2026")
        page.get_by_role("button", name="Ajouter la preuve").click()
        expect(page).to_have_url(ends_with(f"/sections/structuration#q-{criterion}"))
        expect(question(page, criterion).locator(".evidence-list")).to_contain_text("Plan de formation 2026")
    finally:
        context.close()


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per violation, then the CSS target of each offending node."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines += [f"    {node['target']}" for node in violation["nodes"]]
    return "\n".join(lines)


SIGNED_IN_PAGES: dict[str, Callable[[Director], str]] = {
    "structures": lambda d: "/structures",
    "structure": lambda d: d.structure,
    "profile": lambda d: f"{d.structure}/profil",
    "auditor grants": lambda d: f"{d.structure}/auditeurs",
    "API tokens": lambda d: "/compte/jetons",
    "overview": lambda d: d.assessment,
    "section": lambda d: f"{d.assessment}/sections/structuration",
    "evidence form": lambda d: f"{d.assessment}/questions/STR-01/preuves",
    "review": lambda d: f"{d.assessment}/verification",
    "results": lambda d: f"{d.assessment}/resultats",
    "plan": lambda d: f"{d.assessment}/plan",
}


@pytest.mark.parametrize("name", list(SIGNED_IN_PAGES))
def test_signed_in_page_has_no_serious_or_critical_accessibility_violation(
    signed_in: Page, director: Director, axe: Callable[[Page], list[dict[str, Any]]], name: str
) -> None:
    signed_in.goto(SIGNED_IN_PAGES[name](director))
    expect(heading(signed_in)).to_be_visible()
    expect(signed_in.get_by_role("banner").get_by_text("Nadia Benali")).to_be_visible()
    blocking = [v for v in axe(signed_in) if v["impact"] in {"serious", "critical"}]
    assert not blocking, "axe-core (WCAG 2.1 A/AA) found:\n" + describe(blocking)
