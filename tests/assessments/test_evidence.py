"""Evidence files and references: storage by SHA-256, type by content, links, deletion rules."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.assessments import answering, evidence, files, service
from app.assessments.models import Evidence, EvidenceLink
from app.assessments.snapshot import load_or_create_signer, submit
from app.catalog.service import Catalog
from tests.factories import director_with_structure

FILES = Path(__file__).parent.parent / "fixtures" / "files"
PDF = (FILES / "charte.pdf").read_bytes()


def stored_files(store: Path) -> list[Path]:
    return [p for p in store.rglob("*") if p.is_file()]


def test_a_pdf_is_stored_once_by_its_sha256(tmp_path: Path) -> None:
    first = files.store_file(tmp_path, io.BytesIO(PDF), max_bytes=1_000_000)
    again = files.store_file(tmp_path, io.BytesIO(PDF), max_bytes=1_000_000)
    assert first == again
    assert (first.content_type, first.extension, first.size) == ("application/pdf", "pdf", len(PDF))
    assert first.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stored_files(tmp_path) == [tmp_path / first.sha256[:2] / first.sha256]


def test_an_oversized_file_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    with pytest.raises(files.TooLargeError) as refused:
        files.store_file(tmp_path, io.BytesIO(PDF * 100), max_bytes=len(PDF) * 10)
    assert refused.value.status == 413
    assert stored_files(tmp_path) == []


def test_a_disguised_file_is_refused_by_its_content_and_nothing_is_left(tmp_path: Path) -> None:
    with pytest.raises(files.UnsupportedTypeError) as refused:
        files.store_file(tmp_path, io.BytesIO((FILES / "texte-deguise.pdf").read_bytes()), max_bytes=10_000)
    assert refused.value.status == 415
    assert stored_files(tmp_path) == []


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(evidence.EvidenceError, match="vide"):
        files.store_file(tmp_path, io.BytesIO(b""), max_bytes=10)


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("../../etc/passwd.pdf", "pdf", "passwd.pdf"),
        ('C:\\Users\\x\\Charte "finale".PDF', "pdf", "Charte finale.pdf"),
        ("rapport.exe", "pdf", "rapport.pdf"),
        ("\x00\n.", "png", "preuve.png"),
    ],
)
def test_download_names_are_sanitised(name: str, extension: str, expected: str) -> None:
    assert files.download_name(name, extension) == expected


def test_one_piece_supports_several_criteria_and_is_in_the_snapshot(
    session: Session, catalog: Catalog, tmp_path: Path
) -> None:
    user, structure = director_with_structure(session)
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=user, questionnaire_ref="express"
    )
    stored = files.store_file(tmp_path / "store", io.BytesIO(PDF), max_bytes=1_000_000)
    piece = evidence.add(
        session,
        structure=structure,
        user=user,
        title="Charte signée 2025",
        stored=stored,
        filename="charte.pdf",
    )
    for criterion in ("DEO-01", "DEO-02"):
        evidence.attach(
            session,
            assessment=assessment,
            evidence=piece,
            criterion_id=criterion,
            # every required item of DEO-01: scoring v2 asks them all at level 3
            covers=["adoption-charte-reference", "charte", "charte-signee"] if criterion == "DEO-01" else [],
            user=user,
        )
    answering.save_answer(
        session,
        catalog=catalog,
        assessment=assessment,
        user=user,
        criterion_id="DEO-01",
        base_revision=0,
        level=3,
        not_applicable=False,
        justification="",
        comment="",
    )
    result = service.evaluate(session, catalog=catalog, assessment=assessment, structure=structure)
    deo01 = next(r for r in result.criteria if r.criterion == "DEO-01")
    assert not deo01.capped
    expected = {e.id: e.label for e in catalog.criteria_version("x60-600").by_id["DEO-01"].expected_evidence}
    assert expected["charte-signee"] not in deo01.missing_evidence
    assert expected["livret-accueil"] in deo01.missing_evidence
    snapshot = submit(
        session,
        catalog=catalog,
        assessment=assessment,
        structure=structure,
        user=user,
        signer=load_or_create_signer(tmp_path),
    )
    assert stored.sha256 in snapshot.canonical_json
    with pytest.raises(evidence.EvidenceError, match="soumise"):
        evidence.delete(session, evidence=piece, user=user)


def test_a_reference_needs_a_title_and_a_web_link(session: Session) -> None:
    user, structure = director_with_structure(session)
    with pytest.raises(evidence.EvidenceError, match="titre"):
        evidence.add(session, structure=structure, user=user, title="  ")
    with pytest.raises(evidence.EvidenceError, match="http"):
        evidence.add(session, structure=structure, user=user, title="Procédure", link="javascript:alert(1)")
    reference = evidence.add(
        session,
        structure=structure,
        user=user,
        title="Procédure",
        owner="Direction",
        link="https://intranet.example.org/procedure",
    )
    assert reference.kind == "reference"


def test_evidence_of_another_structure_cannot_be_attached(session: Session, catalog: Catalog) -> None:
    user, structure = director_with_structure(session)
    other_user, other = director_with_structure(session)
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=user, questionnaire_ref="express"
    )
    foreign = evidence.add(session, structure=other, user=other_user, title="Autre")
    with pytest.raises(evidence.EvidenceError, match="autre structure"):
        evidence.attach(
            session, assessment=assessment, evidence=foreign, criterion_id="DEO-01", covers=[], user=user
        )


def test_draft_evidence_can_be_detached_and_deleted(session: Session, catalog: Catalog) -> None:
    user, structure = director_with_structure(session)
    assessment = service.start(
        session, catalog=catalog, structure=structure, user=user, questionnaire_ref="express"
    )
    piece = evidence.add(session, structure=structure, user=user, title="Registre")
    link = evidence.attach(
        session, assessment=assessment, evidence=piece, criterion_id="DEO-01", covers=[], user=user
    )
    evidence.detach(session, assessment=assessment, link=link, user=user)
    assert session.exec(select(EvidenceLink)).all() == []
    evidence.attach(
        session, assessment=assessment, evidence=piece, criterion_id="DEO-02", covers=[], user=user
    )
    evidence.delete(session, evidence=piece, user=user)
    assert session.exec(select(Evidence)).all() == []
    assert session.exec(select(EvidenceLink)).all() == []
