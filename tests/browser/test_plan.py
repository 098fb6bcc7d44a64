"""The action plan, drafts and the review's validation in a real browser, at 1,366 and 390 pixels.

The demo database is shared by the whole browser session: the plan journey edits the demo draft's
plan (each run a new owner name), the draft journey starts, renames and deletes its own express
draft, and the validation journey validates « Trait d'Union Médiation », which no other test reads.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.test_director import Director, describe, heading, start_express
from tests.browser.test_director import director as director  # noqa: PLC0414
from tests.browser.test_director import signed_in as signed_in  # noqa: PLC0414
from tests.browser.test_trainer import cohort_url, link_on
from tests.browser.test_trainer import trainer as trainer  # noqa: PLC0414 - the fixture, re-exported
from tests.browser.test_trainer import trainer_cookies as trainer_cookies  # noqa: PLC0414

Axe = Callable[[Page], list[dict[str, Any]]]
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def clean(page: Page, axe: Axe) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation, and no landmark shares its name with another."""
    violations = axe(page)
    unique = page.evaluate("() => axe.run(document, {runOnly: {type: 'rule', values: ['landmark-unique']}})")[
        "violations"
    ]
    assert not violations + unique, "axe-core found:\n" + describe(violations + unique)


def fits(page: Page, selector: str = "html") -> bool:
    """Whether the element shows all its content without scrolling sideways."""
    return bool(
        page.evaluate(
            f"() => {{ const e = document.querySelector('{selector}'); return e.scrollWidth <= e.clientWidth + 1; }}"
        )
    )


def is_plan_post(response: Response) -> bool:
    return response.request.method == "POST" and "/plan/" in response.url


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_action_plan_saves_each_field_filters_and_fits_the_screen(
    signed_in: Page, director: Director, axe: Axe, width: str
) -> None:
    page = signed_in
    page.set_viewport_size({"width": WIDTHS[width][0], "height": WIDTHS[width][1]})
    page.goto(f"{director.assessment}/plan")
    expect(heading(page)).to_have_text("Plan d'action")
    expect(page.get_by_role("heading", name=re.compile("^Politique Qualité"))).to_be_visible()
    assert "Renseigner ce critère" not in page.locator(".plan-action").first.inner_text().split("D'abord")[0]
    assert fits(page), "the plan is wider than the screen"
    clean(page, axe)

    row = page.locator("tr.plan-row").first
    criterion = str(row.get_attribute("id")).removeprefix("action-")
    owner = f"Inès {uuid.uuid4().hex[:6]}"
    with page.expect_response(is_plan_post) as saved:
        row.get_by_label(f"Responsable de l'action {criterion}").fill(owner)
        row.get_by_label(f"Responsable de l'action {criterion}").press("Tab")  # change fires on leaving
    assert saved.value.status == 200
    row = page.locator(f"#action-{criterion}")
    expect(row.get_by_role("status")).to_have_text("Enregistré")
    # htmx wires the swapped-in row's triggers once it has settled (20 ms): a change before is missed.
    expect(row).not_to_have_class(re.compile(r"\bhtmx-(added|settling)\b"))
    with page.expect_response(is_plan_post) as saved:
        row.get_by_label(f"Statut de l'action {criterion}").select_option(label="En cours")
    assert saved.value.status == 200
    expect(page.get_by_role("button", name=re.compile("^Enregistrer"))).to_have_count(0)  # no per-row button

    page.reload()  # the owner filter lists the owners the page was loaded with
    page.get_by_label("Responsable", exact=True).select_option(label=owner)
    expect(page.locator("tr.plan-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"responsable="))
    page.reload()
    expect(page.locator("tr.plan-row")).to_have_count(1)
    expect(
        page.locator(f"#action-{criterion}").get_by_label(f"Statut de l'action {criterion}")
    ).to_have_value("en_cours")
    if width == "phone":  # a card: the row's cells stacked, each field with its visible label
        display = page.locator(f"#action-{criterion}").evaluate("e => getComputedStyle(e).display")
        assert display == "block"
        expect(page.locator(f"#action-{criterion}").get_by_text("Responsable", exact=True)).to_be_visible()
    assert fits(page)
    clean(page, axe)


def test_a_draft_is_named_renamed_and_deleted_and_a_second_one_warns(
    signed_in: Page, director: Director, axe: Axe
) -> None:
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(director.structure)
    start_express(page)
    draft = page.url
    page.goto(director.structure)
    page.get_by_label(re.compile("^Questionnaire express")).check()
    page.get_by_role("button", name="Commencer").click()
    expect(heading(page)).to_have_text("Un brouillon de ce questionnaire existe déjà")
    clean(page, axe)
    page.get_by_role("link", name=re.compile("^Reprendre « Autoévaluation express")).click()
    expect(page).to_have_url(draft)

    page.get_by_role("link", name="Renommer ou supprimer").click()
    name = f"Essai {uuid.uuid4().hex[:6]}"
    page.get_by_label("Nom", exact=True).fill("")
    page.get_by_label("Nom", exact=True).evaluate("e => e.removeAttribute('required')")
    page.get_by_role("button", name="Enregistrer le nom").click()
    expect(page.get_by_role("alert")).to_contain_text("Donnez un nom à cette autoévaluation.")
    clean(page, axe)
    page.get_by_label("Nom", exact=True).fill(name)
    page.get_by_role("button", name="Enregistrer le nom").click()
    expect(heading(page)).to_have_text(name)
    page.goto(director.structure)
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()

    page.goto(f"{draft}/brouillon")
    page.get_by_role("button", name="Supprimer le brouillon").click()
    expect(page.get_by_role("alert")).to_contain_text("Cochez la case pour confirmer la suppression")
    page.get_by_label(re.compile("^Je confirme la suppression définitive")).check()
    page.get_by_role("button", name="Supprimer le brouillon").click()
    expect(page.get_by_text("Le brouillon a été supprimé.")).to_be_visible()
    expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    assert fits(page)
    clean(page, axe)


def test_validation_states_how_many_criteria_were_not_reviewed(trainer: Page, axe: Axe) -> None:
    page = trainer
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(cohort_url(page))
    expect(page.get_by_text("express : résultat partiel").first).to_be_visible()
    assert fits(page, ".cohort-structures") or fits(page, ".table-wrap:has(.cohort-structures)")
    assert page.evaluate("() => document.querySelector('.cohort-structures').scrollWidth") <= page.evaluate(
        "() => document.querySelector('main').clientWidth"
    )
    clean(page, axe)
    page.goto(link_on(page, cohort_url(page), "Relire l'autoévaluation de Trait d'Union Médiation"))
    expect(heading(page)).to_have_text("Relecture de l'autoévaluation")
    page.goto(f"{page.url}/sections/deontologie")
    clean(page, axe)  # one region per criterion side no longer repeats its name
    page.go_back()
    page.get_by_role("button", name="Valider cette version").click()
    expect(page.get_by_role("alert")).to_contain_text(
        re.compile(r"\d+ critères applicables n'ont pas été relus")
    )
    clean(page, axe)
    box = page.get_by_label(re.compile(r"^Je valide bien que \d+ critères applicables"))
    box.check()
    page.get_by_role("button", name="Valider cette version").click()
    expect(page.get_by_role("table").filter(has_text="Décisions prises")).to_contain_text("Validée")
