"""The `autodiag` command. Every expected error is one line on stderr and exit code 2."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from app import demo as demo_data
from app.accounts.models import ApiToken, Role, Scope, User
from app.accounts.service import create_token, create_user, revoke_token, tokens_of
from app.assessments.snapshot import load_or_create_signer
from app.catalog.loader import LOCK_NAME, CatalogError, load_catalog, read_lock, sha256
from app.catalog.models import CriteriaVersion
from app.catalog.service import Catalog, diff, json_schemas
from app.catalog.translations import TRANSLATED_LANGUAGES, translate_catalog
from app.config import settings
from app.db import make_engine, upgrade, utcnow
from app.errors import ServiceError
from app.main import open_database
from app.scoring.answers import AnswersError, parse_text, resolve, scored
from app.scoring.models import Result

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
criteria_app = typer.Typer(no_args_is_help=True, help="Browse, check and compare criteria versions.")
app.add_typer(criteria_app, name="criteria")
db_app = typer.Typer(no_args_is_help=True, help="Manage the database schema.")
app.add_typer(db_app, name="db")
users_app = typer.Typer(no_args_is_help=True, help="Manage user accounts.")
app.add_typer(users_app, name="users")
tokens_app = typer.Typer(no_args_is_help=True, help="Manage personal API tokens.")
app.add_typer(tokens_app, name="tokens")
out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 120)

RefOption = Annotated[
    str | None, typer.Option("--ref", help="Criteria version, e.g. x60-600@1.0.0 (default: latest released).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class CliError(Exception):
    """An error the user can fix; shown as one line."""


def fail(message: str) -> NoReturn:
    raise CliError(message)


def _catalog(path: Path | None = None) -> Catalog:
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


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False))


@criteria_app.command("validate")
def criteria_validate(
    path: Annotated[Path | None, typer.Option(help="Folder holding criteria/ and questionnaires/.")] = None,
) -> None:
    """Load and cross-check every criteria and questionnaire file, and their translations."""
    catalog = _catalog(path)
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
    version = _version(_catalog(), ref)
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
        _print_json({"criteria_version": version.ref, "criteria": rows})
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
    version = _version(_catalog(), ref)
    criterion = version.by_id.get(criterion_id.upper())
    if criterion is None:
        fail(f"unknown criterion {criterion_id} in {version.ref}")
    if as_json:
        _print_json(criterion.model_dump(mode="json", exclude_defaults=False))
        return
    out.print(f"[bold]{criterion.id} — {criterion.title}[/bold]  ({version.ref})", highlight=False)
    facts = [
        ("Domaine", version.area(criterion.area).title),
        ("Atelier", version.workshop(criterion.workshop).title),
        ("Critique", "oui" if criterion.critical else "non"),
        ("Poids", f"{criterion.weight:g}"),
        ("Confiance", criterion.confidence.value),
        ("Exigence", criterion.requirement),
        ("Ce que regarde l'auditeur", criterion.guidance),
        ("Preuves attendues", "; ".join(e.label for e in criterion.expected_evidence)),
        ("Action suggérée", criterion.action),
        ("Sources", "; ".join(criterion.sources)),
    ]
    for label, value in facts:
        out.print(f"[bold]{label}[/bold] : {value}", highlight=False)


@criteria_app.command("diff")
def criteria_diff(old: str, new: str, as_json: JsonFlag = False) -> None:
    """Compare two versions of a referential, e.g. x60-600@1.0.0 x60-600@1.1.0."""
    catalog = _catalog()
    before, after = _version(catalog, old), _version(catalog, new)
    if before.referential != after.referential:
        fail(f"{before.ref} and {after.ref} are not versions of the same referential")
    changes = diff(before, after)
    if as_json:
        _print_json(changes.as_dict())
        return
    typer.echo(f"{changes.old} → {changes.new}")
    typer.echo(f"added: {', '.join(changes.added) or 'none'}")
    for criterion_id, successors in changes.withdrawn:
        typer.echo(f"withdrawn: {criterion_id} → {', '.join(successors) or 'no successor'}")
    for criterion_id, fields in changes.changed.items():
        typer.echo(f"changed: {criterion_id} ({', '.join(fields)})")
    typer.echo(f"scoring changed: {', '.join(changes.scoring_changed) or 'no'}")


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


@app.command("score")
def score_command(answers_file: Path, as_json: JsonFlag = False) -> None:
    """Score an answers file (YAML or JSON): verdict, area scores and gaps by workshop."""
    catalog = _catalog()
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
    result = scored(request)
    if as_json:
        _print_json({"questionnaire": q.ref, **result.as_dict()})
        return
    _print_result(request.version, q.ref, result)


def _print_result(version: CriteriaVersion, questionnaire_ref: str, result: Result) -> None:
    partial = " — estimation partielle" if result.partial else ""
    out.print(
        f"{questionnaire_ref} sur {version.ref} (règles {result.scoring_version}){partial}", highlight=False
    )
    out.print(
        f"[bold]Verdict : {result.verdict.label}[/bold] ({result.majors} écart(s) majeur(s), {result.minors} mineur(s))"
    )
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
                f"{gap.criterion} {gap.title}",
                gap.severity.label,
                f"{gap.deadline_days} j",
                gap.reason,
                gap.action,
                "; ".join(gap.missing_evidence),
            )
        out.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema; in production, run it before starting a new version."""
    engine = make_engine(settings.sqlalchemy_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        upgrade(engine)
    except SQLAlchemyError as error:
        fail(f"cannot migrate {where}: {str(error).splitlines()[0]}")
    finally:
        engine.dispose()
    typer.echo(f"{where} is at the latest schema")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in address.")],
    name: Annotated[str, typer.Option(help="Name shown in the app.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(Role)}.")],
) -> None:
    """Create an account; the password comes from AUTODIAG_NEW_PASSWORD, or is typed twice."""
    if role not in set(Role):
        fail(f"unknown role {role!r}: choose one of {', '.join(Role)}")
    password = _new_password()
    try:
        engine = open_database(settings)
        with Session(engine) as session:
            user = create_user(session, email=email, name=name, role=Role(role), password=password)
        engine.dispose()
    except ServiceError as error:
        fail(error.message)
    except SQLAlchemyError as error:
        fail(f"database error (is it migrated? see `autodiag db upgrade`): {str(error).splitlines()[0]}")
    typer.echo(f"created {user.role.value} account {user.email} (id {user.id})")


def _new_password() -> str:
    # An operator's one-off input rather than configuration, so not a `Settings` field.
    password = os.environ.get("AUTODIAG_NEW_PASSWORD")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        fail("set AUTODIAG_NEW_PASSWORD, or run the command in a terminal to type the password")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _account(session: Session, email: str) -> User:
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        fail(f"no account with the email {email!r}")
    return user


@tokens_app.command("create")
def tokens_create(
    email: Annotated[str, typer.Option(help="The account the token acts for.")],
    name: Annotated[str, typer.Option(help="What the token is for.")],
    scope: Annotated[list[str], typer.Option(help=f"Repeat for each: {', '.join(Scope)}.")],
    days: Annotated[int, typer.Option(help="Days until it expires.")] = 90,
) -> None:
    """Create a token and print it (on stdout, alone): it is shown this once."""
    with _database() as session:
        try:
            token, secret = create_token(
                session, user=_account(session, email), name=name, scopes=scope, days=days
            )
        except ServiceError as error:
            fail(error.message)
    typer.echo(
        f"token {token.id} {token.name!r} for {email}, {token.scopes}, until {token.expires_at:%Y-%m-%d}",
        err=True,
    )
    typer.echo(secret)


@tokens_app.command("list")
def tokens_list(email: Annotated[str, typer.Option(help="Whose tokens.")]) -> None:
    """List an account's tokens: id, name, start, scopes, expiry, last use, state."""
    with _database() as session:
        now = utcnow()
        for token in tokens_of(session, user=_account(session, email)):
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
            typer.echo(
                f"{token.id}\t{token.name}\t{token.prefix}…\t{token.scopes}\t"
                f"until {token.expires_at:%Y-%m-%d}\t{used}\t{token.state(now)}"
            )


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id (see `tokens list`)."""
    with _database() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            fail(f"no token with the id {token_id}")
        owner = session.get(User, token.user_id)
        assert owner is not None  # a foreign key
        revoke_token(session, token=token, actor=owner)
    typer.echo(f"revoked token {token_id}")


@contextmanager
def _database() -> Iterator[Session]:
    try:
        engine = open_database(settings)
        with Session(engine) as session:
            yield session
        engine.dispose()
    except SQLAlchemyError as error:
        fail(f"database error (is it migrated? see `autodiag db upgrade`): {str(error).splitlines()[0]}")


OPENAPI_FILE = Path("examples") / "openapi.json"


@app.command("openapi")
def openapi(
    write: Annotated[bool, typer.Option(help=f"Rewrite the committed copy, {OPENAPI_FILE}.")] = False,
) -> None:
    """Print the API's OpenAPI document (the one served at /api/v1/openapi.json)."""
    from app.api.routes import openapi_text

    text = openapi_text()
    if write:
        (settings.catalog_dir / OPENAPI_FILE).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {OPENAPI_FILE}")
        return
    typer.echo(text, nl=False)


@app.command("demo")
def demo() -> None:
    """Seed a demo structure, its accounts, a submitted and a half-filled assessment (not in production)."""
    if settings.environment == "production":
        fail("the demo has fixed passwords: it is refused in production")
    catalog = _catalog()
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    with Session(engine) as session:
        signer = load_or_create_signer(settings.data_dir, settings.snapshot_signing_key)
        seeded = demo_data.seed(session, catalog=catalog, signer=signer)
    engine.dispose()
    typer.echo("Démo créée :" if seeded.created else "Démo déjà en place :")
    for email, _, role, password in seeded.accounts:
        typer.echo(f"  {role.label:<28} {email:<30} mot de passe : {password}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = settings.host,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = settings.port,
    reload: Annotated[bool, typer.Option(help="Restart on code changes, re-read changed templates.")] = False,
) -> None:
    """Serve the web application with uvicorn."""
    import uvicorn

    _catalog()  # fail in one clear line before uvicorn starts
    if reload:
        os.environ["AUTODIAG_RELOAD_TEMPLATES"] = "true"  # read by the Settings of the reloaded process
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, reload=reload)


def main() -> None:
    """Entry point: run the command, turning expected errors into one line and exit code 2."""
    try:
        app()
    except CliError as error:
        typer.echo(f"error: {error}", err=True)
        sys.exit(2)
