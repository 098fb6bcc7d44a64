"""`autodiag criteria …` and `autodiag score`: browse, check, compare and release criteria versions,
and score an answers file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from app.catalog.loader import LOCK_NAME, CatalogError, load_catalog, read_lock, sha256
from app.catalog.models import CriteriaVersion, ExpectedEvidence
from app.catalog.service import Catalog, diff, json_schemas
from app.catalog.translations import TRANSLATED_LANGUAGES, translate_catalog
from app.cli.console import fail, out, print_json
from app.config import settings
from app.scoring.answers import AnswersError, parse_text, resolve, scored
from app.scoring.models import Result

criteria_app = typer.Typer(no_args_is_help=True, help="Browse, check and compare criteria versions.")
RefOption = Annotated[
    str | None, typer.Option("--ref", help="Criteria version, e.g. x60-600@1.0.0 (default: latest released).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def load(path: Path | None = None) -> Catalog:
    """The catalog, or every problem on its own line and a one-line failure."""
    try:
        return load_catalog(path or settings.catalog_dir)
    except CatalogError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        fail(f"{len(error.problems)} problem(s) in the criteria and questionnaire files")


def _version(catalog: Catalog, ref: str | None) -> CriteriaVersion:
    try:
        return catalog.criteria_version(ref or next(iter(catalog.referentials())))
    except (LookupError, StopIteration) as error:
        fail(str(error) or "no criteria version")


@criteria_app.command("validate")
def criteria_validate(
    path: Annotated[Path | None, typer.Option(help="Folder holding criteria/ and questionnaires/.")] = None,
) -> None:
    """Load and cross-check every criteria and questionnaire file, and their translations."""
    catalog = load(path)
    for ref, version in sorted(catalog.criteria.items()):
        typer.echo(f"OK {ref}: {len(version.active)} criteria, {version.status}")
    for ref, q in sorted(catalog.questionnaires.items()):
        partial = ", partial" if q.partial else ""
        typer.echo(f"OK {ref}: {len(q.criterion_ids)} questions on {q.criteria}{partial}, {q.status}")
    for language in TRANSLATED_LANGUAGES:
        try:
            _translated, fallbacks = translate_catalog(catalog, language)
        except CatalogError as error:
            for problem in error.problems:
                typer.echo(str(problem), err=True)
            fail(f"{len(error.problems)} problem(s) in the {language} translation files")
        for fallback in fallbacks:
            typer.echo(f"warning: {fallback}", err=True)
        typer.echo(f"OK translations into {language}: {len(fallbacks)} text(s) shown in French")


@criteria_app.command("list")
def criteria_list(ref: RefOption = None, as_json: JsonFlag = False) -> None:
    """List the criteria of a version."""
    version = _version(load(), ref)
    if as_json:
        rows = [
            {
                "id": c.id,
                "area": c.area,
                "workshop": c.workshop,
                "critical": c.critical,
                "weight": c.weight,
                "confidence": c.confidence.value,
                "status": c.status,
                "title": c.title,
            }
            for c in version.criteria
        ]
        print_json({"criteria_version": version.ref, "criteria": rows})
        return
    table = Table("Id", "Domaine", "Atelier", "Critique", "Poids", "Conf.", "Titre", title=version.ref)
    for c in version.criteria:
        title = c.title + (" (retiré)" if c.status == "withdrawn" else "")
        critical = "oui" if c.critical else ""
        table.add_row(c.id, c.area, c.workshop, critical, f"{c.weight:g}", c.confidence.value, title)
    out.print(table)


@criteria_app.command("show")
def criteria_show(criterion_id: str, ref: RefOption = None, as_json: JsonFlag = False) -> None:
    """Show one criterion in full."""
    version = _version(load(), ref)
    criterion = version.by_id.get(criterion_id.upper())
    if criterion is None:
        fail(f"unknown criterion {criterion_id} in {version.ref}")
    if as_json:
        print_json(criterion.model_dump(mode="json", exclude_defaults=False))
        return
    out.print(f"[bold]{criterion.id} — {criterion.title}[/bold]  ({version.ref})", highlight=False)
    facts = [
        ("Domaine", version.area(criterion.area).title),
        ("Atelier", version.workshop(criterion.workshop).title),
        ("Critique", "oui" if criterion.critical else "non"),
        ("Bloquant", "oui" if criterion.blocking else "non"),
        (
            "Non applicable possible",
            "oui" if version.allows_na(criterion) else "non (seul le profil l'écarte)",
        ),
        ("Poids", f"{criterion.weight:g}"),
        ("Confiance", criterion.confidence.value),
        ("Exigence", criterion.requirement),
        ("Ce que regarde l'auditeur", criterion.guidance),
        ("Preuves attendues", "; ".join(_evidence_line(e) for e in criterion.expected_evidence)),
        ("Action suggérée", criterion.action),
        ("Sources", "; ".join(criterion.sources)),
    ]
    for label, value in facts:
        out.print(f"[bold]{label}[/bold] : {value}", highlight=False)


def _evidence_line(item: ExpectedEvidence) -> str:
    optional = "" if item.required else " (facultative)"
    validity = f" (valable {item.validity_months} mois)" if item.validity_months else ""
    return f"{item.label}{optional}{validity}"


@criteria_app.command("diff")
def criteria_diff(old: str, new: str, as_json: JsonFlag = False) -> None:
    """Compare two versions of a referential, e.g. x60-600@1.0.0 x60-600@1.1.0."""
    catalog = load()
    before, after = _version(catalog, old), _version(catalog, new)
    if before.referential != after.referential:
        fail(f"{before.ref} and {after.ref} are not versions of the same referential")
    changes = diff(before, after)
    if as_json:
        print_json(changes.as_dict())
        return
    typer.echo(f"{changes.old} → {changes.new}")
    typer.echo(f"added: {', '.join(changes.added) or 'none'}")
    for criterion_id, successors in changes.withdrawn:
        typer.echo(f"withdrawn: {criterion_id} → {', '.join(successors) or 'no successor'}")
    for criterion_id, fields in changes.changed.items():
        typer.echo(f"changed: {criterion_id} ({', '.join(fields)})")
    typer.echo(f"scoring changed: {', '.join(changes.scoring_changed) or 'no'}")
    for label, found in (
        ("profile", changes.profile_changed),
        ("certification", changes.certification_changed),
    ):
        for key, what in found.items():
            typer.echo(f"{label} {what}: {key}")
    for line in changes.changelog:
        typer.echo(f"changelog: {line}")


@criteria_app.command("schema")
def criteria_schema(
    questionnaire: Annotated[bool, typer.Option(help="The questionnaire format instead.")] = False,
    write: Annotated[bool, typer.Option(help="Rewrite the committed schema files.")] = False,
) -> None:
    """Print the JSON Schema of the criteria (or questionnaire) file format."""
    schemas = json_schemas()
    if write:
        for path, text in schemas.items():
            (settings.catalog_dir / path).write_text(text, encoding="utf-8")
            typer.echo(f"wrote {path}")
        return
    typer.echo(schemas[list(schemas)[1 if questionnaire else 0]], nl=False)


@criteria_app.command("release")
def criteria_release(ref: str) -> None:
    """Record a released file's SHA-256 in its releases.lock, e.g. x60-600@1.1.0 or full@1.1.0."""
    name, _, version = ref.partition("@")
    kind = next(
        (k for k in ("criteria", "questionnaires") if (settings.catalog_dir / k / name).is_dir()), None
    )
    path = settings.catalog_dir / (kind or "criteria") / name / f"{version}.yaml"
    if kind is None or not version or not path.is_file():
        fail(
            f"no file for {ref} (expected criteria/{name}/{version}.yaml or questionnaires/{name}/{version}.yaml)"
        )
    if "status: released" not in path.read_text(encoding="utf-8"):
        fail(f"{path.name} is not marked `status: released`")
    lock = path.parent / LOCK_NAME
    if path.name in read_lock(lock):
        fail(f"{ref} is already released; a released version never changes")
    with lock.open("a", encoding="utf-8") as handle:
        handle.write(f"{sha256(path.read_bytes())}  {path.name}\n")
    typer.echo(f"released {ref}")


def score_command(answers_file: Path, as_json: JsonFlag = False) -> None:
    """Score an answers file (YAML or JSON): verdict, area scores and gaps by workshop."""
    catalog = load()
    try:
        text = answers_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"{answers_file}: cannot read ({error.__class__.__name__}: {error})")
    try:
        request = resolve(catalog, parse_text(text, json_only=answers_file.suffix == ".json"))
    except AnswersError as error:
        for problem in error.problems:
            typer.echo(f"{answers_file}: {problem}", err=True)
        fail(f"{answers_file}: {len(error.problems)} problem(s)")
    q = request.questionnaire
    result = scored(request, today=date.today())
    if as_json:
        print_json({"questionnaire": q.ref, **result.as_dict()})
        return
    _print_result(request.version, q.ref, result)


def _print_result(version: CriteriaVersion, questionnaire_ref: str, result: Result) -> None:
    partial = " — estimation partielle" if result.partial else ""
    out.print(
        f"{questionnaire_ref} sur {version.ref} (règles {result.scoring_version}){partial}", highlight=False
    )
    out.print(
        f"[bold]Verdict : {result.verdict.label}[/bold] ({result.majors} écart(s) majeur(s), "
        f"{result.minors} mineur(s), {result.unanswered} non renseigné(s))"
    )
    if result.blocking:
        out.print(f"À lever avant l'audit : {', '.join(result.blocking)}", highlight=False)
    progress = result.progress
    out.print(
        f"Avancement : {progress.answered}/{progress.applicable} questions applicables ({progress.percent} %)"
    )
    areas = Table("Domaine", "Score /100", "Répondus")
    for area in result.areas:
        value = "—" if area.score is None else f"{area.score:.1f}"
        areas.add_row(version.area(area.area).title, value, f"{area.answered}/{area.applicable}")
    out.print(areas)
    for workshop_id, gaps in result.gaps_by_workshop([w.id for w in version.workshops]).items():
        table = Table(
            "Prio.",
            "Critère",
            "Gravité",
            "Délai",
            "Pourquoi",
            "Action",
            "Preuves manquantes",
            title=f"Atelier « {version.workshop(workshop_id).title} » : {len(gaps)} écart(s)",
        )
        for gap in gaps:
            table.add_row(
                str(gap.priority),
                f"{gap.criterion} {gap.title}" + (" (déduit, confiance L)" if gap.confidence == "L" else ""),
                gap.severity.label,
                f"{gap.deadline_days} j",
                gap.reason,
                gap.action,
                "; ".join(gap.missing_evidence),
            )
        out.print(table)
