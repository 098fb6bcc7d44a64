"""Signed snapshots: canonical JSON of a submitted assessment, its SHA-256 and Ed25519 signature.

Anyone holding the public key can check a snapshot offline:
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
