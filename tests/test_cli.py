"""The `autodiag` command, run as a user would: real files, exit codes, one-line errors."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import Session, select

from app import cli
from app.accounts.models import Role, User
from app.config import PROJECT_ROOT
from app.db import make_engine

FIXTURE = Path(__file__).parent / "fixtures" / "catalog"
EXAMPLE = PROJECT_ROOT / "questionnaires" / "examples" / "answers.yaml"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """Call the console script's entry point with arguments; return (exit code, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["autodiag", *args])
        capsys.readouterr()
        try:
            cli.main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def mini_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    shutil.copytree(FIXTURE, root)
    monkeypatch.setattr(cli.settings, "catalog_dir", root)
    return root


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_lists_every_version_and_questionnaire(run: Run) -> None:
    code, out, _ = run("criteria", "validate")
    assert code == 0
    assert "OK x60-600@1.0.0:" in out
    assert "OK full@1.0.0:" in out
    assert "partial" in out.split("OK express@1.0.0:")[1]


def test_validate_reports_every_problem_one_per_line_and_exits_2(run: Run, tmp_path: Path) -> None:
    root = tmp_path / "broken"
    shutil.copytree(FIXTURE, root)
    path = root / "criteria/mini/1.1.0.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("weight: 2", "weight: 0"), encoding="utf-8")
    (root / "questionnaires/mini-full/1.0.0.yaml").write_text("id: [", encoding="utf-8")
    code, out, err = run("criteria", "validate", "--path", str(root))
    assert code == 2
    lines = err.strip().splitlines()
    assert "criteria/mini/1.1.0.yaml: DEO-01: weight: Input should be greater than 0" in lines
    assert any(line.startswith("questionnaires/mini-full/1.0.0.yaml: invalid YAML") for line in lines)
    assert lines[-1].startswith("error: ")
    assert "problem(s)" in lines[-1]
    assert "Traceback" not in err + out


def test_list_as_json_gives_every_criterion(run: Run) -> None:
    code, out, _ = run("criteria", "list", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["criteria_version"] == "x60-600@1.1.0"  # the latest released
    assert len(data["criteria"]) >= 50
    assert {c["area"] for c in data["criteria"]} == {
        "deontologie",
        "processus",
        "structuration",
        "evaluation",
    }


def test_list_prints_a_table(run: Run, mini_root: Path) -> None:
    code, out, _ = run("criteria", "list", "--ref", "mini@1.1.0")
    assert code == 0
    assert "DEO-03" in out
    assert "(retiré)" in out


def test_show_prints_the_criterion_and_refuses_an_unknown_one(run: Run, mini_root: Path) -> None:
    code, out, _ = run("criteria", "show", "DEO-01", "--ref", "mini@1.0.0")
    assert code == 0
    assert "Charte signée" in out
    code, _, err = run("criteria", "show", "XYZ-99", "--ref", "mini@1.0.0")
    assert (code, err.strip()) == (2, "error: unknown criterion XYZ-99 in mini@1.0.0")


def test_show_json(run: Run, mini_root: Path) -> None:
    code, out, _ = run("criteria", "show", "PRO-02", "--ref", "mini@1.0.0", "--json")
    assert code == 0
    assert json.loads(out)["applies_if"] == {"field": "registres", "includes": "b"}


def test_diff_names_added_withdrawn_changed_and_scoring(run: Run, mini_root: Path) -> None:
    code, out, _ = run("criteria", "diff", "mini@1.0.0", "mini@1.1.0", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["added"] == ["DEO-03", "STR-02", "EVA-02"]
    assert {"criterion": "DEO-02", "successors": ["DEO-03"]} in data["withdrawn"]
    assert {"criterion": "EVA-01", "successors": []} in data["withdrawn"]
    assert data["changed"] == {"PRO-01": ["requirement"]}
    assert data["scoring_changed"] == ["version"]
    code, text, _ = run("criteria", "diff", "mini@1.0.0", "mini@1.1.0")
    assert "withdrawn: PRO-02 → STR-02" in text


def test_diff_of_the_real_versions_shows_every_change_of_1_1_0(run: Run) -> None:
    code, out, _ = run("criteria", "diff", "x60-600@1.0.0", "x60-600@1.1.0", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["added"] == ["DEO-14", "STR-34", "STR-35", "STR-36"]
    assert data["withdrawn"] == [
        {"criterion": "STR-05", "successors": ["STR-04"]},
        {"criterion": "STR-26", "successors": ["STR-35", "STR-36"]},
    ]
    for moved in ("DEO-04", "DEO-06", "DEO-08", "DEO-09", "DEO-10"):
        assert "workshop" in data["changed"][moved]
    assert "confidence" in data["changed"]["PRO-12"]
    assert "critical" in data["changed"]["STR-29"]
    assert "blocking" in data["changed"]["DEO-01"]
    assert "blocking" in data["changed"]["EVA-01"]
    assert {"version", "not_applicable", "evidence", "major_confidence", "partial_best"} <= set(
        data["scoring_changed"]
    )
    assert data["profile_changed"] == {
        "adultes_relais": "added",
        "niveaux_scolaires": "removed",
        "registres": "changed",
    }
    assert set(data["certification_changed"]) == {
        "certificateur",
        "cycle",
        "duree-audit",
        "preparation",
        "revision-nf",
        "non-conformites",
    }
    assert any("Charte de référence" in line for line in data["changelog"])
    code, text, _ = run("criteria", "diff", "x60-600@1.0.0", "x60-600@1.1.0")
    assert "certification added: cycle" in text
    assert "profile removed: niveaux_scolaires" in text
    assert (
        "changelog: STR-05 (maîtrise des documents) est fusionné dans STR-04 (système documentaire)." in text
    )


def test_diff_refuses_an_unknown_version(run: Run, mini_root: Path) -> None:
    code, _, err = run("criteria", "diff", "mini@1.0.0", "mini@7.0.0")
    assert code == 2
    assert err.strip().startswith("error: unknown criteria version mini@7.0.0")


def test_schema_prints_the_criteria_json_schema(run: Run) -> None:
    code, out, _ = run("criteria", "schema")
    assert code == 0
    assert json.loads(out)["title"] == "CriteriaVersion"
    code, out, _ = run("criteria", "schema", "--questionnaire")
    assert json.loads(out)["title"] == "Questionnaire"


def test_release_records_the_hash_once(run: Run, mini_root: Path) -> None:
    draft = mini_root / "criteria/mini/1.1.0.yaml"
    code, _, err = run("criteria", "release", "mini@1.1.0")
    assert (code, err.strip()) == (2, "error: 1.1.0.yaml is not marked `status: released`")
    text = draft.read_text(encoding="utf-8").replace(
        "status: draft", "status: released\npublished: 2026-11-01"
    )
    draft.write_text(text, encoding="utf-8")
    assert run("criteria", "release", "mini@1.1.0")[0] == 0
    assert "1.1.0.yaml" in (mini_root / "criteria/mini/releases.lock").read_text()
    code, _, err = run("criteria", "release", "mini@1.1.0")
    assert code == 2
    assert "already released" in err
    assert run("criteria", "validate")[0] == 0


def test_score_example_prints_verdict_areas_and_gaps_by_workshop(run: Run) -> None:
    code, out, _ = run("score", str(EXAMPLE))
    assert code == 0
    assert "Verdict : " in out
    for title in ("Politique Qualité", "Formation des équipes", "Évaluation de l'utilité sociale"):
        assert title in out


def test_score_json_has_the_documented_shape(run: Run) -> None:
    code, out, _ = run("score", str(EXAMPLE), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["verdict"] in {"pret", "presque_pret", "pas_pret"}
    assert set(data["areas"]) == {"deontologie", "processus", "structuration", "evaluation"}
    assert 0 < data["progress"]["answered"] < data["progress"]["applicable"]
    gap = data["gaps"][0]
    assert set(gap) >= {
        "criterion",
        "severity",
        "workshop",
        "priority",
        "deadline_days",
        "missing_evidence",
        "action",
    }
    assert [g["priority"] for g in data["gaps"]] == list(range(1, len(data["gaps"]) + 1))


def test_score_reads_json_too(run: Run, tmp_path: Path, mini_root: Path) -> None:
    doc = {"questionnaire": "mini-express", "answers": {"DEO-01": {"level": 3, "evidence": ["charte"]}}}
    code, out, _ = run("score", str(write(tmp_path, "a.json", json.dumps(doc))), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["partial"] is True
    assert data["questionnaire"] == "mini-express@1.0.0"
    assert data["findings"] == {"DEO-01": "conforme", "PRO-01": "non_renseigne", "EVA-01": "non_renseigne"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "questionnaire: mini-full\nanswers:\n  DEO-01: {level: 4}\n",
            "answers.DEO-01.level: must be 0, 1, 2, 3 or na",
        ),
        (
            "questionnaire: mini-full\nanswers:\n  DEO-01: {level: '3'}\n",
            "answers.DEO-01.level: must be 0, 1, 2, 3 or na",
        ),
        (
            "questionnaire: mini-full\nanswers:\n  DEO-09: {level: 1}\n",
            "answers.DEO-09: not a question of mini-full@1.0.0",
        ),
        (
            "questionnaire: mini-full\nanswers:\n  EVA-01: {level: na}\n",
            "answers.EVA-01.justification: required when level is na",
        ),
        (
            "questionnaire: mini-full\nanswers:\n  DEO-01: {level: 2, evidence: [{title: x, covers: [nope]}]}\n",
            "answers.DEO-01.evidence.0.covers: unknown expected evidence nope (known: charte, registre)",
        ),
        (
            "questionnaire: mini-full\nanswers:\n  DEO-01: {level: 2, comment: x}\n",
            "answers.DEO-01.comment: Extra inputs are not permitted",
        ),
        ("questionnaire: mini-full\nprofile: {nuit: oui}\n", "profile.nuit: must be true or false"),
        (
            "questionnaire: mini-full\nprofile: {registres: [a, z]}\n",
            "profile.registres: must be a list of a, b",
        ),
        (
            "questionnaire: mini-full\nprofile: {taille: grande}\n",
            "profile.taille: not a profile question of mini-full@1.0.0",
        ),
        ("questionnaire: nope\n", "questionnaire: no released questionnaire named 'nope'"),
        ("questionnaire: mini-full@2.0.0\n", "questionnaire: unknown questionnaire mini-full@2.0.0"),
        ("questionnaire: Full!\n", "questionnaire: String should match pattern"),
        ("answers: {}\n", "questionnaire: Field required"),
        ("- a\n- b\n", "expected a mapping with questionnaire, profile and answers"),
        ("questionnaire: [\n", "invalid YAML at line 2, column 1"),
        ("questionnaire: mini-full\nprofile: {nuit: 3}\n", "profile.nuit: Input should be"),
        (
            "questionnaire: a\nquestionnaire: b\n",
            "invalid YAML at line 2, column 1: duplicate key 'questionnaire'",
        ),
    ],
)
def test_score_refuses_a_bad_answers_file_naming_the_field(
    run: Run, tmp_path: Path, mini_root: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "answers.yaml", text)
    code, out, err = run("score", str(path))
    assert code == 2
    assert out == ""
    assert f"{path}: {expected}" in err, err
    assert "Traceback" not in err


def test_score_refuses_a_missing_file(run: Run, tmp_path: Path) -> None:
    code, _, err = run("score", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert err.count("\n") == 1
    assert "cannot read" in err


def test_the_console_script_is_installed_and_fails_in_one_line(run: Run, tmp_path: Path) -> None:
    """Run the real `autodiag` executable: no traceback for a user error, exit code 2."""
    executable = Path(sys.executable).with_name("autodiag")
    done = subprocess.run(
        [str(executable), "score", str(tmp_path / "missing.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
    usage = subprocess.run([str(executable), "criteria", "nope"], capture_output=True, text=True, check=False)
    assert usage.returncode == 2


def test_score_refuses_malformed_json(run: Run, tmp_path: Path, mini_root: Path) -> None:
    path = write(tmp_path, "answers.json", '{"questionnaire": "mini-full",}')
    code, _, err = run("score", str(path))
    assert code == 2
    assert f"{path}: invalid JSON at line 1, column 31: Expecting property name" in err


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    """Point the CLI at a fresh migrated database (SQLite, then PostgreSQL); give the password by env."""
    monkeypatch.setattr(cli.settings, "database_url", database_url)
    monkeypatch.setattr(cli.settings, "data_dir", tmp_path)
    monkeypatch.setenv("AUTODIAG_NEW_PASSWORD", "une phrase de passe solide")
    return database_url


def users_in(database_url: str) -> list[User]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        users = list(session.exec(select(User)).all())
    engine.dispose()
    return users


CREATE_CAMILLE = (
    "users",
    "create",
    "--email",
    "Camille@Example.org",
    "--name",
    "Camille Martin",
    "--role",
    "director",
)


def test_users_create_makes_an_account_with_an_argon2_hash(run: Run, database: str) -> None:
    code, out, err = run(*CREATE_CAMILLE)
    assert (code, err) == (0, "")
    assert "camille@example.org" in out
    [user] = users_in(database)
    assert (user.email, user.name, user.role) == ("camille@example.org", "Camille Martin", Role.DIRECTOR)
    assert user.password_hash.startswith("$argon2id$")


def test_users_create_refuses_a_taken_email_in_one_line(run: Run, database: str) -> None:
    assert run(*CREATE_CAMILLE)[0] == 0
    code, _, err = run(*CREATE_CAMILLE)
    assert (code, err) == (2, "error: L'adresse électronique « camille@example.org » est déjà utilisée.\n")
    assert len(users_in(database)) == 1


def test_users_create_refuses_a_short_password_in_one_line(
    run: Run, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTODIAG_NEW_PASSWORD", "trop court")
    code, _, err = run(*CREATE_CAMILLE)
    assert (code, err) == (2, "error: Le mot de passe doit compter au moins 12 caractères.\n")
    assert users_in(database) == []


def test_users_create_refuses_an_unknown_role_in_one_line(run: Run, database: str) -> None:
    code, _, err = run(*CREATE_CAMILLE[:-1], "chef")
    assert (code, err) == (2, "error: unknown role 'chef': choose one of admin, director, trainer, auditor\n")


def test_users_create_without_a_password_or_a_terminal_says_how_to_give_one(
    run: Run, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AUTODIAG_NEW_PASSWORD")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(*CREATE_CAMILLE)
    assert code == 2
    assert err.count("\n") == 1
    assert "AUTODIAG_NEW_PASSWORD" in err


def test_db_upgrade_builds_the_schema_of_a_new_database(
    run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    monkeypatch.setattr(cli.settings, "database_url", url)
    code, out, _ = run("db", "upgrade")
    assert code == 0
    assert "is at the latest schema" in out
    engine = make_engine(url)
    assert {"user", "login_attempt", "audit_entry"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_db_upgrade_reports_an_unreachable_database_in_one_line(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.settings, "database_url", "postgresql+psycopg://autodiag:secret@127.0.0.1:1/none")
    code, _, err = run("db", "upgrade")
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("error: cannot migrate postgresql+psycopg://autodiag:***@127.0.0.1:1/none: ")


def test_score_refuses_na_on_a_deontology_criterion_of_1_1_0_naming_the_field(
    run: Run, tmp_path: Path
) -> None:
    doc = {
        "questionnaire": "full@1.1.0",
        "answers": {
            "DEO-06": {"level": "na", "justification": "Pas de données"},
            "STR-14": {"level": "na", "justification": "Aucune intervention de nuit"},
        },
    }
    code, _, err = run("score", str(write(tmp_path, "a.json", json.dumps(doc))))
    assert code == 2
    assert (
        "answers.DEO-06.level: na is not allowed on a deontology criterion in x60-600@1.1.0 "
        "(only the profile can make it not applicable): give a level 0 to 3"
    ) in err
    assert "STR-14" not in err  # neither deontology nor critical: N/A stays possible


def test_score_json_of_1_1_0_gives_blocking_criteria_confidence_and_separate_counts(
    run: Run, tmp_path: Path
) -> None:
    doc = {
        "questionnaire": "express@1.1.0",
        "reference_date": "2026-06-30",
        "answers": {
            "PRO-12": {"level": 0},
            "EVA-05": {
                "level": 3,
                "evidence": [
                    {
                        "title": "Rapport 2024",
                        "covers": ["rapport-activite", "transmission"],
                        "document_date": "2025-03-01",
                    }
                ],
            },
        },
    }
    code, out, _ = run("score", str(write(tmp_path, "a.json", json.dumps(doc))), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["scoring_version"] == "2.0"
    assert data["counts"] == {"ecart_majeur": 0, "ecart_mineur": 2, "non_renseigne": 16}
    gaps = {g["criterion"]: g for g in data["gaps"]}
    assert (gaps["PRO-12"]["severity"], gaps["PRO-12"]["confidence"]) == ("ecart_mineur", "L")
    assert "périmée" in gaps["EVA-05"]["reason"]
    assert "2025-03-01" in gaps["EVA-05"]["reason"]
    assert "DEO-01" in data["blocking"]
    assert "PRO-12" not in data["blocking"]
    assert data["verdict"] == "pas_pret"


@pytest.mark.sqlite_only
def test_serve_logs_each_request_once_as_json(tmp_path: Path) -> None:
    """uvicorn's access line would repeat the app's own JSON line (id, route, status, duration)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "AUTODIAG_DATA_DIR": str(tmp_path), "AUTODIAG_MAIL_WORKER": "false"}
    autodiag = str(Path(sys.executable).with_name("autodiag"))
    server = subprocess.Popen(
        [autodiag, "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer"
                assert server.poll() is None, server.communicate()[1][-2000:]
                time.sleep(0.2)
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    lines = [line for line in (out + err).splitlines() if "/healthz" in line]
    assert len(lines) == 1, lines
    assert json.loads(lines[0])["route"] == "/healthz"
