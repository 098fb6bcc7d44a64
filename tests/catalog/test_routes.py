"""The catalog's read-only pages, against the criteria and questionnaires committed in the repository."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from app.catalog.models import AllOf, AnyOf, CriteriaVersion, Criterion, Equals, Includes, Questionnaire
from app.catalog.service import Catalog, describe_condition
from app.config import PROJECT_ROOT, Settings
from app.main import create_app

CRITERIA_LINK = re.compile(r"/criteres/([A-Z]{2,5}-\d{2,3})\"")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def catalog(client: TestClient) -> Catalog:
    loaded: Catalog = client.app.state.catalog  # type: ignore[attr-defined]
    return loaded


@pytest.fixture(scope="module")
def version(catalog: Catalog) -> CriteriaVersion:
    return next(iter(catalog.referentials().values()))[0]


def url(version: CriteriaVersion, *rest: str) -> str:
    return "/".join(["/referentiels", version.referential, version.version, *rest])


def get_text(client: TestClient, path: str) -> tuple[int, str]:
    """Status and page text with HTML entities decoded, to compare with the files' plain text."""
    response = client.get(path)
    return response.status_code, html.unescape(response.text)


def linked_criteria(page: str) -> set[str]:
    return set(CRITERIA_LINK.findall(page))


def first(version: CriteriaVersion, confidence: str) -> Criterion:
    return next(c for c in version.active if c.confidence == confidence)


def all_page_urls(catalog: Catalog, version: CriteriaVersion) -> list[str]:
    pages = ["/", "/referentiels", url(version)]
    pages += [url(version, "domaines", area.id) for area in version.areas]
    pages += [url(version, "ateliers", workshop.id) for workshop in version.workshops]
    pages += [url(version, "criteres", criterion.id) for criterion in version.criteria]
    pages += [f"/questionnaires/{q.id}/{q.version}" for q in catalog.questionnaires.values()]
    return pages


def test_home_says_what_the_service_is_and_that_the_norm_is_not_public(client: TestClient) -> None:
    status, page = get_text(client, "/")
    assert status == 200
    assert "Autodiag Médiation" in page
    assert "AFNOR" in page
    assert "France Médiation" in page
    assert "n'est pas public" in page
    assert 'href="/referentiels"' in page


def test_referentials_list_each_version_with_its_hash_and_questionnaires(
    client: TestClient, catalog: Catalog
) -> None:
    status, page = get_text(client, "/referentiels")
    assert status == 200
    for ref, criteria_version in catalog.criteria.items():
        assert f'href="{url(criteria_version)}"' in page
        assert catalog.criteria_hashes[ref][:12] in page
    for questionnaire in catalog.questionnaires.values():
        assert f'href="/questionnaires/{questionnaire.id}/{questionnaire.version}"' in page


def test_version_page_links_areas_and_workshops_and_explains_scoring(
    client: TestClient, version: CriteriaVersion
) -> None:
    status, page = get_text(client, url(version))
    assert status == 200
    assert version.provenance in page
    for area in version.areas:
        assert f'href="{url(version, "domaines", area.id)}"' in page
    for workshop in version.workshops:
        assert f'href="{url(version, "ateliers", workshop.id)}"' in page
    for level in version.scale:
        assert level.description in page
    assert f"{version.scoring.deadlines_days.ecart_majeur} jours" in page
    for field in version.profile_fields:
        assert field.label in page


def test_area_page_lists_only_that_areas_criteria(client: TestClient, version: CriteriaVersion) -> None:
    for area in version.areas:
        status, page = get_text(client, url(version, "domaines", area.id))
        assert status == 200
        expected = {c.id for c in version.criteria if c.area == area.id}
        assert linked_criteria(page) == expected


def test_workshop_page_lists_only_that_workshops_criteria(
    client: TestClient, version: CriteriaVersion
) -> None:
    for workshop in version.workshops:
        status, page = get_text(client, url(version, "ateliers", workshop.id))
        assert status == 200
        expected = {c.id for c in version.active if c.workshop == workshop.id}
        assert linked_criteria(page) == expected


def test_criterion_page_shows_requirement_guidance_and_expected_evidence(
    client: TestClient, version: CriteriaVersion
) -> None:
    for criterion in version.active:
        status, page = get_text(client, url(version, "criteres", criterion.id))
        assert status == 200
        for text in (criterion.title, criterion.requirement, criterion.guidance, criterion.action):
            assert text in page
        for evidence in criterion.expected_evidence:
            assert evidence.label in page
        for source in criterion.sources:
            assert source in page
        assert "Ce que l'auditeur regarde" in page


def test_criterion_page_prefers_its_own_level_descriptions(
    client: TestClient, version: CriteriaVersion
) -> None:
    criterion = next((c for c in version.active if c.levels), None)
    if criterion is None:
        pytest.skip("no criterion overrides the scale in this version")
    page = get_text(client, url(version, "criteres", criterion.id))[1]
    for level in version.scale:
        assert criterion.levels.get(level.level, level.description) in page


def test_low_confidence_criterion_warns_that_it_is_an_inference(
    client: TestClient, version: CriteriaVersion
) -> None:
    low = get_text(client, url(version, "criteres", first(version, "L").id))[1]
    high = get_text(client, url(version, "criteres", first(version, "H").id))[1]
    assert "Critère déduit, à vérifier" in low
    assert "Confiance faible" in low
    assert "Critère déduit, à vérifier" not in high
    assert "Confiance élevée" in high


def test_conditional_criterion_says_when_it_applies(client: TestClient, version: CriteriaVersion) -> None:
    criterion = next(c for c in version.active if c.applies_if is not None)
    assert criterion.applies_if is not None
    page = get_text(client, url(version, "criteres", criterion.id))[1]
    assert "S'applique si : " + describe_condition(criterion.applies_if, version.fields_by_id) in page


def test_describe_condition_uses_labels_and_groups_nested_conditions(version: CriteriaVersion) -> None:
    multi = next(f for f in version.profile_fields if f.kind == "multi")
    boolean = next(f for f in version.profile_fields if f.kind == "boolean")
    option = multi.options[0]
    condition = AnyOf(
        any=(
            Includes(field=multi.id, includes=option.value),
            AllOf(all=(Equals(field=boolean.id, equals=True), Equals(field=boolean.id, equals=False))),
        )
    )
    text = describe_condition(condition, version.fields_by_id)
    assert text == (
        f"« {multi.label} » comprend « {option.label} » ou "
        f"(« {boolean.label} » : oui et « {boolean.label} » : non)"
    )


def test_withdrawn_criterion_links_to_its_successor(tmp_path: Path, version: CriteriaVersion) -> None:
    source = PROJECT_ROOT / "criteria" / version.referential / f"{version.version}.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    old, successor = data["criteria"][0], data["criteria"][1]
    old.update(status="withdrawn", merged_into=successor["id"])
    data.update(version="9.0.0", status="draft")
    folder = tmp_path / "criteria" / version.referential
    folder.mkdir(parents=True)
    (tmp_path / "questionnaires").mkdir()
    (folder / "9.0.0.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with TestClient(create_app(Settings(catalog_dir=tmp_path))) as draft_client:
        path = f"/referentiels/{version.referential}/9.0.0/criteres/{old['id']}"
        status, page = get_text(draft_client, path)
    assert status == 200
    assert "Ce critère est retiré" in page
    assert f'/criteres/{successor["id"]}">{successor["id"]}</a>' in page


def test_questionnaire_page_links_every_question_to_its_criterion(
    client: TestClient, catalog: Catalog
) -> None:
    assert catalog.questionnaires, "the repository ships at least the full and express questionnaires"
    for questionnaire in catalog.questionnaires.values():
        status, page = get_text(client, f"/questionnaires/{questionnaire.id}/{questionnaire.version}")
        assert status == 200
        assert questionnaire.description in page
        assert linked_criteria(page) == set(questionnaire.criterion_ids)
        for profile_question in questionnaire.profile:
            assert profile_question.text in page
        assert ("Questionnaire partiel" in page) == questionnaire.partial


def test_express_questionnaire_is_labelled_partial(client: TestClient, catalog: Catalog) -> None:
    partial: list[Questionnaire] = [q for q in catalog.questionnaires.values() if q.partial]
    assert partial, "the express questionnaire is partial"
    _status, page = get_text(client, f"/questionnaires/{partial[0].id}/{partial[0].version}")
    assert "son résultat est une" in page


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/referentiels/inconnu/1.0.0", "Le référentiel « inconnu » n'a pas de version « 1.0.0 »"),
        ("/referentiels/{referential}/99.0.0", "n'a pas de version « 99.0.0 »"),
        ("/referentiels/{referential}/{version}/domaines/inconnu", "Le domaine « inconnu » n'existe pas"),
        ("/referentiels/{referential}/{version}/ateliers/inconnu", "L'atelier « inconnu » n'existe pas"),
        ("/referentiels/{referential}/{version}/criteres/ZZZ-99", "Le critère « ZZZ-99 » n'existe pas"),
        ("/referentiels/inconnu/1.0.0/criteres/ZZZ-99", "Le référentiel « inconnu »"),
        ("/questionnaires/inconnu/1.0.0", "Le questionnaire « inconnu » n'a pas de version"),
        ("/questionnaires/full/99.0.0", "n'a pas de version « 99.0.0 »"),
        ("/nulle-part", "ne correspond à aucune page"),
    ],
)
def test_unknown_path_parameter_gives_a_french_404(
    client: TestClient, version: CriteriaVersion, path: str, message: str
) -> None:
    status, page = get_text(client, path.format(referential=version.referential, version=version.version))
    assert status == 404
    assert "Page introuvable" in page
    assert message in page


def test_pages_carry_security_headers_and_vary(client: TestClient, version: CriteriaVersion) -> None:
    for path in ("/", url(version), "/nulle-part"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "HX-Request" in response.headers["Vary"].split(", ")  # and Cookie: the header names the user


def test_healthz_reports_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_no_page_has_inline_script_or_style(
    client: TestClient, catalog: Catalog, version: CriteriaVersion
) -> None:
    for path in [*all_page_urls(catalog, version), "/nulle-part"]:
        page = get_text(client, path)[1]
        assert not INLINE_SCRIPT.search(page), path
        assert not STYLE_ATTRIBUTE.search(page), path
        assert '<html lang="fr">' in page, path
        assert '<main id="contenu"' in page, path


def test_the_1_1_0_page_gives_the_certification_facts_the_changelog_and_the_v2_rules(
    client: TestClient,
) -> None:
    status, page = get_text(client, "/referentiels/x60-600/1.1.0")
    assert status == 200
    assert "La certification" in page
    assert "Un cycle de quatre ans" in page
    assert "audit de surveillance à deux ans" in page
    assert "Ce qui a changé" in page
    assert "STR-05 (maîtrise des documents) est fusionné dans STR-04" in page
    assert "Critères déduits :" in page
    assert "Présence active de proximité" in page
    assert "altm.fr — projet associatif 2014-2016" in page
    _, old = get_text(client, "/referentiels/x60-600/1.0.0")
    assert "La certification" not in old  # 1.0.0 has no facts block, and scores by the v1 rules
    assert "Critères déduits :" not in old


def test_a_1_1_0_criterion_says_whether_na_is_allowed_and_which_evidence_is_optional_or_dated(
    client: TestClient,
) -> None:
    _, deontology = get_text(client, "/referentiels/x60-600/1.1.0/criteres/DEO-01")
    assert "Refusé : seul le profil de la structure peut écarter ce critère" in deontology
    assert "Oui : un écart majeur ici donne « Pas prêt » à lui seul" in deontology
    assert 'aux nouveaux arrivants <span class="muted">(facultative)</span>' in deontology
    _, report = get_text(client, "/referentiels/x60-600/1.1.0/criteres/EVA-05")
    assert (
        'Dernier rapport d\'activité annuel <span class="muted">(valable 12 mois à compter de sa date)</span>'
        in report
    )
    _, open_one = get_text(client, "/referentiels/x60-600/1.1.0/criteres/PRO-16")
    assert "Possible, avec une justification" in open_one
