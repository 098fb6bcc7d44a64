"""Submission: the review before it, then the signed snapshot of what was submitted.

A snapshot is the canonical JSON of everything the result depends on, its SHA-256 and its
Ed25519 signature. Anyone holding the public key can check a snapshot offline:
    Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(signature), canonical_bytes)
The canonical form is JSON with sorted keys, no insignificant spaces, UTF-8 text: the same data
always gives the same bytes, hence the same hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from sqlmodel import Session

from app.accounts import notifications
from app.accounts.models import User
from app.assessments import carry, service
from app.assessments.models import Assessment, AssessmentStatus, LinkRow, Loaded, PieceRow, Snapshot
from app.catalog.service import Catalog
from app.db import audit, pk, utcnow
from app.locale import gettext as _
from app.locale import ngettext
from app.scoring import codes
from app.scoring import models as scoring
from app.structures.models import Structure

KEY_FILE = "snapshot_signing_key.pem"


def canonical_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        """A short, stable name for the public key: the start of its SHA-256."""
        return hashlib.sha256(self.public_bytes).hexdigest()[:16]

    def sign(self, data: Any) -> tuple[str, str, str]:
        """Return (canonical JSON, its SHA-256, base64 signature of the canonical bytes)."""
        raw = canonical_bytes(data)
        signature = base64.b64encode(self.private_key.sign(raw)).decode("ascii")
        return raw.decode("utf-8"), hashlib.sha256(raw).hexdigest(), signature


def verify(public_bytes: bytes, canonical_json: str, signature: str) -> bool:
    """Check a snapshot's signature with the raw 32-byte public key."""
    try:
        key = Ed25519PublicKey.from_public_bytes(public_bytes)
        key.verify(base64.b64decode(signature, validate=True), canonical_json.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


def load_or_create_signer(data_dir: Path, pem: str = "") -> Signer:
    """Use the PEM key given in settings, else the one kept in `data_dir`, created on first start."""
    if pem:
        key = load_pem_private_key(pem.encode("ascii"), password=None)
    else:
        path = data_dir / KEY_FILE
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fresh = Ed25519PrivateKey.generate().private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
            )
            _create_once(path, fresh)
        key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the snapshot signing key must be an Ed25519 private key (PEM, PKCS#8)")
    return Signer(key)


def _create_once(path: Path, content: bytes) -> None:
    """Write `path` complete or not at all; when two workers race, the first key wins."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if another worker already created it
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


@dataclass(frozen=True)
class Review:
    """What to look at before submitting; `blocking` problems prevent submission."""

    unanswered: list[str]
    unjustified_na: list[str]
    unproven: list[str]
    to_reconfirm: list[str]
    """Answers carried from an earlier assessment or version, not re-confirmed yet."""

    @property
    def blocking(self) -> bool:
        return bool(self.unjustified_na or self.to_reconfirm)


def unconfirmed_gaps(left: int) -> str:
    """The refusal of an incomplete submission whose box does not state the count of unanswered questions."""
    return ngettext(
        "%(num)d question applicable est sans réponse : répondez-y, ou cochez la case qui le confirme "
        "pour soumettre quand même.",
        "%(num)d questions applicables sont sans réponse : répondez-y, ou cochez la case qui le confirme "
        "pour soumettre quand même.",
        left,
    ) % {"num": left}


def review_of(result: scoring.Result, *, to_reconfirm: list[str]) -> Review:
    """The review of an assessment scored as `result`, whose `to_reconfirm` answers wait for the director."""
    unjustified = [
        r.criterion for r in result.criteria if r.reason_code is codes.Reason.UNJUSTIFIED_NOT_APPLICABLE
    ]
    unanswered = [
        r.criterion
        for r in result.criteria
        if r.finding is codes.Finding.NON_RENSEIGNE and r.criterion not in unjustified
    ]
    unproven = [r.criterion for r in result.criteria if r.capped]
    return Review(unanswered, unjustified, unproven, to_reconfirm)


def review(session: Session, *, catalog: Catalog, assessment: Assessment, structure: Structure) -> Review:
    loaded = service.load(session, assessment)
    result = service.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=loaded.inputs()
    )
    questionnaire = service.bound(catalog, assessment).questionnaire
    return review_of(result, to_reconfirm=carry.to_reconfirm(questionnaire, loaded.answers.values()))


def submit(
    session: Session,
    *,
    catalog: Catalog,
    assessment: Assessment,
    structure: Structure,
    user: User,
    signer: Signer,
    incomplete_confirmed: str | None = None,
) -> Snapshot:
    """Freeze the assessment and store its signed snapshot.

    From the page, `incomplete_confirmed` is the ticked box stating how many questions are left
    unanswered: an incomplete assessment needs it to state that very count (None: not asked, as
    for the API and the demo).
    """
    service.lock_draft(session, assessment)
    session.refresh(assessment)  # written below: as it is under the lock (its revision may have grown)
    loaded = service.load(session, assessment)
    inputs = loaded.inputs()
    result = service.evaluate_loaded(
        catalog=catalog, assessment=assessment, structure=structure, inputs=inputs
    )
    questionnaire = service.bound(catalog, assessment).questionnaire
    checked = review_of(result, to_reconfirm=carry.to_reconfirm(questionnaire, loaded.answers.values()))
    if checked.unjustified_na:
        raise service.AssessmentError(_("Des réponses « non applicable » n'ont pas de justification."))
    if checked.to_reconfirm:
        message = _(
            "Des réponses reprises restent à reconfirmer (%(criteria)s) : confirmez-les, ou modifiez-les, "
            "avant de soumettre."
        )
        raise service.AssessmentError(message % {"criteria": ", ".join(checked.to_reconfirm)})
    left = len(checked.unanswered)
    if incomplete_confirmed is not None and left and incomplete_confirmed != str(left):
        raise service.AssessmentError(unconfirmed_gaps(left))
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = utcnow()
    assessment.submitted_profile = dict(structure.profile)  # the same profile `result` was scored with
    data = content(assessment=assessment, structure=structure, user=user, loaded=loaded, result=result)
    canonical, digest, signature = signer.sign(data)
    snapshot = Snapshot(
        assessment_id=pk(assessment),
        revision=assessment.revision,
        canonical_json=canonical,
        sha256=digest,
        signature=signature,
        key_id=signer.key_id,
    )
    session.add_all([assessment, snapshot])
    audit(
        session,
        actor_id=user.id,
        action="assessment.submit",
        obj=assessment,
        structure_id=structure.id,
        after={"snapshot_sha256": digest},
    )
    notifications.notify(
        session,
        users=notifications.reviewers(session, pk(structure)),
        notice=notifications.Notice.SUBMISSIONS,
        event_key=f"assessment_submitted:{assessment.id}:{assessment.revision}",
        template="assessment_submitted",
        context={
            "structure": structure.name,
            "person": user.name,
            "path": f"/autoevaluations/{assessment.id}/relecture",
        },
    )
    session.commit()
    session.refresh(snapshot)
    return snapshot


def content(
    *, assessment: Assessment, structure: Structure, user: User, loaded: Loaded, result: scoring.Result
) -> dict[str, Any]:
    """Everything the result of a submitted assessment depends on, as plain data."""
    answers = {
        criterion_id: {
            "level": answer.level,
            "not_applicable": answer.not_applicable,
            "justification": answer.justification,
            "comment": answer.comment,
            "evidence": [
                _piece(link, piece)
                for link, piece in sorted(loaded.links.get(criterion_id, []), key=lambda pair: pair[1].id)
            ],
        }
        for criterion_id, answer in sorted(loaded.answers.items())
    }
    return {
        "format": "autodiag-snapshot/1",
        "assessment": {
            "id": assessment.id,
            "revision": assessment.revision,
            "submitted_at": assessment.submitted_at.isoformat(),  # type: ignore[union-attr]
            "submitted_by": user.email,
        },
        "structure": {
            "id": structure.id,
            "name": structure.name,
            "profile": service.profile_of(assessment, structure),
        },
        "questionnaire": {"ref": assessment.questionnaire_ref, "sha256": assessment.questionnaire_sha256},
        "criteria": {"ref": assessment.criteria_ref, "sha256": assessment.criteria_sha256},
        "answers": answers,
        "result": result.as_dict(),
    }


def _piece(link: LinkRow, piece: PieceRow) -> dict[str, Any]:
    return {
        "id": piece.id,
        "kind": piece.kind,
        "title": piece.title,
        "filename": piece.filename,
        "content_type": piece.content_type,
        "size": piece.size,
        "sha256": piece.sha256,
        "document_date": piece.document_date.isoformat() if piece.document_date else None,
        "owner": piece.owner,
        "link": piece.link,
        "covers": sorted(filter(None, link.covers.split(","))),
    }
