"""The administration's journey in a real browser, with e-mail through a real SMTP server.

An administrator creates a structure and invites its director; the director opens the link from
the message the SMTP server received, chooses a password, answers a question and invites a
contributor, who may answer but not submit; an expired invitation says so in plain words. A
password-reset link from a received message works once, and never twice. The app runs on its own database, with its mail worker sending to an aiosmtpd server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from app import config
from app.accounts.models import Role
from app.accounts.service import create_user
from app.config import Settings
from app.db import utcnow
from app.main import create_app
from app.members.models import Invitation
from tests.browser.conftest import serving
from tests.smtp import Inbox, free_port, text_of

ADMIN, PASSWORD = "admin@reseau.example", "réseau de médiation sociale 2027"
DIRECTOR, CONTRIBUTOR, LATE = "sud@reseau.example", "qualite@reseau.example", "tardif@reseau.example"
NEW_PASSWORD = "girafe orange au bord du canal"
LINK = re.compile(r"http://\S+/invitations/[A-Za-z0-9_-]+")
RESET_LINK = re.compile(r"http://\S+/mot-de-passe/reinitialiser/[A-Za-z0-9_-]+")
FORGETFUL = "oubli@reseau.example"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Inbox, Any]]:
    """The app with one administrator, sending its e-mail to a running SMTP server: URL, inbox, app."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("admin-live"),
        environment="test",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_worker=True,
    )
    app = create_app(settings)
    with Session(app.state.engine) as session:
        create_user(session, email=ADMIN, name="Alix Réseau", role=Role.ADMIN, password=PASSWORD)
    with pytest.MonkeyPatch.context() as patch, serving(app) as base_url:
        patch.setattr(config.settings, "base_url", base_url)  # the links e-mails carry
        yield base_url, inbox, app
    controller.stop()


def new_page(browser: Browser, base_url: str) -> Page:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900}, base_url=base_url)
    context.set_default_timeout(5_000)
    return context.new_page()


def received_link(inbox: Inbox, to: str, link: re.Pattern[str] = LINK) -> str:
    """The link of the latest message the SMTP server received for `to` (waits for it)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if messages := inbox.to(to):
            found = link.search(text_of(messages[-1]))
            assert found, text_of(messages[-1])
            return found.group(0)
        time.sleep(0.1)
    pytest.fail(f"no e-mail reached the SMTP server for {to}")


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/connexion")
    page.locator("main").get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def invite(page: Page, email: str, role: str) -> None:
    page.locator("main").get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Rôle", exact=True).select_option(label=role)
    page.get_by_role("button", name="Inviter", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("C'est fait")


def accept(page: Page, link: str, name: str) -> None:
    page.goto(link)
    page.get_by_label("Votre nom").fill(name)
    page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Le même mot de passe, encore").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Créer mon compte et rejoindre la structure").click()


SLOW = 15_000
"""Milliseconds to wait after a form that hashes a password: seconds on a busy 2-core machine."""


def serious(axe: Callable[[Page], list[dict[str, Any]]], page: Page) -> list[str]:
    return [f"{v['id']}: {v['help']}" for v in axe(page) if v["impact"] in {"serious", "critical"}]


def test_an_administrator_onboards_a_structure_by_invitation(
    browser: Browser, site: tuple[str, Inbox, Any], axe: Callable[[Page], list[dict[str, Any]]]
) -> None:
    base_url, inbox, app = site
    admin = new_page(browser, base_url)
    sign_in(admin, ADMIN, PASSWORD)
    expect(admin.get_by_role("heading", level=1)).to_have_text("Administration")
    for path in ("/admin/utilisateurs", "/admin/journal", "/admin/catalogue", "/admin/structures/nouvelle"):
        admin.goto(path)
        assert serious(axe, admin) == [], path
    admin.get_by_role("link", name="Structures", exact=True).first.click()
    admin.get_by_role("link", name="Créer une structure").click()
    admin.get_by_label("Nom", exact=True).fill("Médiation Sud")
    admin.get_by_label("Ville").fill("Nîmes")
    admin.get_by_label("Forme juridique").select_option(label="Association")
    admin.get_by_label("SIRET (facultatif)").fill("732 829 320 00074")
    admin.get_by_role("button", name="Créer la structure").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Médiation Sud")
    admin.get_by_role("link", name="Inviter, changer les rôles, retirer des membres").click()
    assert serious(axe, admin) == []
    invite(admin, DIRECTOR, "Direction")

    director = new_page(browser, base_url)
    accept(director, received_link(inbox, DIRECTOR), "Samia Directrice")
    expect(director.get_by_role("heading", level=1)).to_have_text("Médiation Sud")
    expect(director.get_by_role("banner")).to_contain_text("Samia Directrice")
    structure = director.url
    director.get_by_label(re.compile("^Questionnaire express")).check()
    director.get_by_role("button", name="Commencer").click()  # the structure's first assessment
    expect(director.get_by_role("heading", level=1)).to_have_text(re.compile("^Autoévaluation express — "))
    assessment = director.url
    director.get_by_role("link", name="Structuration interne", exact=True).click()
    card = director.locator("section.question-card").filter(has=director.locator("form.answer-form")).first
    with director.expect_response(lambda r: r.request.method == "POST" and "/reponses/" in r.url) as saved:
        card.get_by_label("2 · Partiel").check()
    assert saved.value.status == 200
    expect(card.get_by_text("Réponse enregistrée.")).to_be_visible()

    director.goto(structure)
    director.get_by_role("link", name="Membres", exact=True).click()
    invite(director, CONTRIBUTOR, "Contribution")
    contributor = new_page(browser, base_url)
    accept(contributor, received_link(inbox, CONTRIBUTOR), "Quentin Qualité")
    expect(contributor.get_by_role("heading", level=1)).to_have_text("Médiation Sud")
    contributor.goto(assessment + "/verification")
    expect(contributor.get_by_text("Seule la direction de la structure peut soumettre")).to_be_visible()
    expect(contributor.get_by_role("button", name="Soumettre l'autoévaluation")).to_have_count(0)
    token = contributor.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = contributor.request.post(
        assessment + "/soumettre", form={"csrf_token": token, "confirmation": "oui"}
    )
    assert refused.status == 403

    admin.reload()
    invite(admin, LATE, "Lecture")
    late_link = received_link(inbox, LATE)
    with Session(app.state.engine) as session:
        invitation = session.exec(select(Invitation).where(Invitation.email == LATE)).one()
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        session.add(invitation)
        session.commit()
    late = new_page(browser, base_url)
    late.goto(late_link)
    expect(late.get_by_role("heading", level=1)).to_have_text("Lien d'invitation inutilisable")
    expect(late.get_by_text("Ce lien d'invitation a expiré : il était valable sept jours.")).to_be_visible()
    assert serious(axe, late) == []


def test_a_reset_link_from_the_received_message_works_once_and_never_twice(
    browser: Browser, site: tuple[str, Inbox, Any], axe: Callable[[Page], list[dict[str, Any]]]
) -> None:
    base_url, inbox, app = site
    with Session(app.state.engine) as session:
        create_user(session, email=FORGETFUL, name="Odile Oubli", role=Role.TRAINER, password=PASSWORD)
    page = new_page(browser, base_url)
    page.goto("/connexion")
    expect(page.get_by_role("link", name="Mot de passe oublié ?")).to_have_attribute(
        "href", "/mot-de-passe-oublie"
    )
    page.goto("/mot-de-passe-oublie")
    page.get_by_label("Adresse électronique").fill(FORGETFUL)
    with page.expect_response(lambda r: r.request.method == "POST", timeout=SLOW) as asked:
        page.get_by_role("button", name="Recevoir un lien").click()
    assert asked.value.status == 303  # then the same page says a message may have left
    expect(page.get_by_role("status")).to_contain_text(
        "Si un compte actif correspond à cette adresse", timeout=SLOW
    )

    link = received_link(inbox, FORGETFUL, RESET_LINK)
    page.goto(link)
    assert serious(axe, page) == []
    page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nouveau mot de passe, une seconde fois").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
    expect(page.get_by_role("banner")).to_contain_text("Odile Oubli", timeout=SLOW)  # signed in, new password

    again = new_page(browser, base_url)
    response = again.goto(link)
    assert response is not None
    assert response.status == 410
    expect(again.get_by_text("Ce lien de réinitialisation a déjà servi")).to_be_visible()
    sign_in(again, FORGETFUL, PASSWORD)  # the old password no longer opens the account
    expect(again.get_by_text("Adresse électronique ou mot de passe incorrect.").first).to_be_visible(
        timeout=SLOW
    )
    sign_in(again, FORGETFUL, NEW_PASSWORD)
    expect(again.get_by_role("banner")).to_contain_text("Odile Oubli", timeout=SLOW)
