"""Read-only pages of the catalog: referentials, versions, areas, workshops, criteria, questionnaires."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from app.catalog.checks import successors
from app.catalog.models import (
    CriteriaVersion,
    Criterion,
)
from app.catalog.service import describe_condition
from app.deps import CatalogDep
from app.locale import gettext as _
from app.web import render

router = APIRouter()
Found = TypeVar("Found")


def get_criteria_version(catalog: CatalogDep, referential: str, version: str) -> CriteriaVersion:
    """The criteria version named by the path, or a 404."""
    detail = _("Le référentiel « %(referential)s » n'a pas de version « %(version)s ».") % {
        "referential": referential,
        "version": version,
    }
    return _or_404(catalog.criteria.get(f"{referential}@{version}"), detail)


VersionDep = Annotated[CriteriaVersion, Depends(get_criteria_version)]


@router.get("/")
def home(request: Request) -> Response:
    return render(request, "catalog/home.html")


@router.get("/referentiels")
def referentials(request: Request, catalog: CatalogDep) -> Response:
    context = {"referentials": catalog.referentials(), "catalog": catalog}
    return render(request, "catalog/referentials.html", context)


@router.get("/referentiels/{referential}/{version}")
def criteria_version(request: Request, catalog: CatalogDep, version: VersionDep) -> Response:
    context = {"version": version, "questionnaires": catalog.questionnaires_for(version.ref)}
    return render(request, "catalog/version.html", context)


@router.get("/referentiels/{referential}/{version}/domaines/{area_id}")
def area(request: Request, version: VersionDep, area_id: str) -> Response:
    detail = _("Le domaine « %(area)s » n'existe pas.") % {"area": area_id}
    found = _or_404(_by_id(version.areas, area_id), detail)
    criteria = [c for c in version.criteria if c.area == found.id]
    context = {"version": version, "area": found, "criteria": criteria}
    context["applicability"] = applicability(version, criteria)
    return render(request, "catalog/area.html", context)


@router.get("/referentiels/{referential}/{version}/ateliers/{workshop_id}")
def workshop(request: Request, version: VersionDep, workshop_id: str) -> Response:
    detail = _("L'atelier « %(workshop)s » n'existe pas.") % {"workshop": workshop_id}
    found = _or_404(_by_id(version.workshops, workshop_id), detail)
    criteria = [c for c in version.active if c.workshop == found.id]
    context = {"version": version, "workshop": found, "criteria": criteria}
    context["applicability"] = applicability(version, criteria)
    return render(request, "catalog/workshop.html", context)


@router.get("/referentiels/{referential}/{version}/criteres/{criterion_id}")
def criterion(request: Request, catalog: CatalogDep, version: VersionDep, criterion_id: str) -> Response:
    detail = _("Le critère « %(criterion)s » n'existe pas dans %(ref)s.") % {
        "criterion": criterion_id,
        "ref": version.ref,
    }
    found = _or_404(version.by_id.get(criterion_id), detail)
    asked_in = [q for q in catalog.questionnaires_for(version.ref) if found.id in q.criterion_ids]
    context = {"version": version, "criterion": found, "successors": successors(found)}
    context |= {"asked_in": asked_in, "applicability": applicability(version, [found])}
    context["in_french"] = f"{version.ref} {found.id}" in catalog.untranslated
    return render(request, "catalog/criterion.html", context)


@router.get("/questionnaires/{questionnaire_id}/{version}")
def questionnaire(request: Request, catalog: CatalogDep, questionnaire_id: str, version: str) -> Response:
    detail = _("Le questionnaire « %(questionnaire)s » n'a pas de version « %(version)s ».") % {
        "questionnaire": questionnaire_id,
        "version": version,
    }
    found = _or_404(catalog.questionnaires.get(f"{questionnaire_id}@{version}"), detail)
    criteria = catalog.criteria[found.criteria]
    fields = criteria.fields_by_id
    shown_if = {p.field: describe_condition(p.show_if, fields) for p in found.profile if p.show_if}
    context = {"questionnaire": found, "criteria": criteria, "shown_if": shown_if}
    return render(request, "catalog/questionnaire.html", context)


def applicability(version: CriteriaVersion, criteria: Iterable[Criterion]) -> dict[str, str]:
    """Say in the request's language, for each criterion, which structures it applies to."""
    return {
        c.id: _("S'applique si : %(condition)s")
        % {"condition": describe_condition(c.applies_if, version.fields_by_id)}
        if c.applies_if
        else _("S'applique à toutes les structures.")
        for c in criteria
    }


def _by_id(items: Iterable[Found], item_id: str) -> Found | None:
    return next((item for item in items if getattr(item, "id", None) == item_id), None)


def _or_404(found: Found | None, detail: str) -> Found:
    if found is None:
        raise HTTPException(status_code=404, detail=detail)
    return found
