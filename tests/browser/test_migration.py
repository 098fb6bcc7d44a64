"""A director moves a draft to a newer criteria version in a real browser: the preview, the move,
then re-confirming a whole section at once; every page axe-clean.

The journey needs two released versions of one referential. It runs on the test referential
(tests/fixtures/catalog with tests/fixtures/versions laid over it: mini@1.0.0 → mini@2.0.0, see
tests/assessments/test_migration.py) through the app's `catalog_dir`, with a server of its own:
`live_server` is overridden in this module, so the pages of this module talk to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, Response, expect
from sqlmodel import Session

from app.accounts.models import Role
from app.accounts.service import create_user
from app.config import Settings
from app.main import create_app
from app.structures import service as structures
from tests.assessments.test_migration import on_old_version, versions_catalog
from tests.assessments.test_routes import DIRECTOR, PASSWORD
from tests.browser.conftest import Axe, serving


@pytest.fixture(scope="module")
def versions_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The app on the two-version test catalog, with a director's draft on mini-full@1.0.0
    (its id in `app.state.draft`)."""
    folder = tmp_path_factory.mktemp("versions")
    settings = Settings(
        data_dir=folder / "data", catalog_dir=versions_catalog(folder / "catalog"), environment="test"
    )
    app = create_app(settings)
    with Session(app.state.engine) as session:
        user = create_user(
            session, email=DIRECTOR, name="Camille Martin", role=Role.DIRECTOR, password=PASSWORD
        )
        structure = structures.create(session, name="Médiation Lille Sud", city="Lille")
        structures.add_member(session, structure=structure, user=user)
        assert structure.id is not None
        app.state.draft = on_old_version(app, structure.id)
    yield app
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def live_server(versions_app: FastAPI) -> Iterator[str]:
    with serving(versions_app) as base_url:
        yield base_url


def is_confirm_post(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/confirmer")


def clean(page: Page, axe: Axe) -> None:
    violations = axe(page)
    assert violations == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]


def test_director_previews_the_new_version_moves_the_draft_and_confirms_a_section(
    page: Page, axe: Axe, versions_app: FastAPI
) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(DIRECTOR)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("banner").get_by_text("Camille Martin")).to_be_visible()
    # The structure page needs the real catalog's profile questionnaire: go to the draft itself.
    page.goto(f"/autoevaluations/{versions_app.state.draft}")
    expect(page.get_by_text("La version 2.0.0 du référentiel est publiée.")).to_be_visible()

    page.get_by_role("link", name="Voir ce que change la version 2.0.0").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Passer à la version 2.0.0 du référentiel")
    expect(page.locator("#reprise-DEO-01")).to_contain_text("Même critère, inchangé.")
    expect(page.locator("#reprise-DEO-03")).to_contain_text("Remplace DEO-02 (version 2.0.0).")
    expect(page.locator("#reprise-STR-02")).to_contain_text("Fusion de PRO-02, STR-01")
    expect(page.locator("#reprise-EVA-01")).to_contain_text("Abandonné")
    clean(page, axe)

    page.get_by_role("button", name="Passer à la version 2.0.0").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Autoévaluation complète — "))
    expect(page.get_by_text(re.compile("3 réponses reprises sont à reconfirmer"))).to_be_visible()
    clean(page, axe)

    page.get_by_role("link", name="Principes", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Principes")
    card = page.locator("#q-DEO-03")
    expect(card.get_by_text("À reconfirmer", exact=True)).to_be_visible()
    clean(page, axe)
    with page.expect_response(is_confirm_post) as confirmed:
        page.get_by_role("button", name="Tout confirmer dans cette section").click()
    assert confirmed.value.status == 200  # htmx swapped the section's questions in place
    expect(
        page.get_by_role("status").filter(has_text="1 réponse confirmée dans cette section.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Tout confirmer dans cette section")).to_have_count(0)
    expect(page.locator("#q-DEO-03").get_by_text("À reconfirmer", exact=True)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/sections/principes$"))
    clean(page, axe)

    page.goto(f"/autoevaluations/{versions_app.state.draft}/verification")
    expect(page.get_by_role("heading", name="Réponses reprises à reconfirmer (2)")).to_be_visible()
    expect(
        page.get_by_text("Soumission impossible : 2 réponses reprises restent à reconfirmer.")
    ).to_be_visible()
    clean(page, axe)
