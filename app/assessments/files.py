"""The evidence file store: uploads checked and kept by SHA-256 outside the web root, and their names.

An upload's type is read from its content, never its name; office documents' archives are checked
for what they unpack to; a file is renamed into place only once whole and checked.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import filetype

from app.errors import ServiceError
from app.locale import N_, format_size
from app.locale import gettext as _

CHUNK = 1024 * 1024
ACCEPTED = {
    "pdf": N_("Document PDF"),
    "png": N_("Image PNG"),
    "jpg": N_("Image JPEG"),
    "gif": N_("Image GIF"),
    "webp": N_("Image WebP"),
    "doc": N_("Document Word"),
    "docx": N_("Document Word"),
    "xls": N_("Classeur Excel"),
    "xlsx": N_("Classeur Excel"),
    "ppt": N_("Présentation PowerPoint"),
    "pptx": N_("Présentation PowerPoint"),
    "odt": N_("Texte OpenDocument"),
    "ods": N_("Classeur OpenDocument"),
    "odp": N_("Présentation OpenDocument"),
    "rtf": N_("Document RTF"),
}


OFFICE_ZIPS = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp"})
"""Office documents that are zip archives: what they unpack to is checked before they are kept."""
MAX_OFFICE_UNPACKED = 100 * 1024 * 1024
MAX_OFFICE_ENTRIES = 2000
"""Far above any real document (a 300-page report with pictures unpacks to a few tens of MB in a few
hundred entries), far below what would stall the auditors' tools that open it."""


class EvidenceError(ServiceError):
    """A refused file, reference or link (422 unless its status says otherwise)."""


class TooLargeError(EvidenceError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=413)


class UnsupportedTypeError(EvidenceError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=415)


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str
    extension: str


def store_file(evidence_dir: Path, stream: BinaryIO, *, max_bytes: int) -> StoredFile:
    """Copy an upload into the store, named by its SHA-256; nothing half-written is ever visible.

    The bytes go to a temporary file in the store's folder, are checked (size while reading,
    type from the content, never from the name), then renamed into place in one step.
    """
    evidence_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    descriptor, temporary = tempfile.mkstemp(dir=evidence_dir, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLargeError(too_large(max_bytes))
                digest.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if size == 0:
            raise EvidenceError(_("Le fichier est vide."))
        kind = filetype.guess(temporary)
        if kind is None or kind.extension not in ACCEPTED:
            raise UnsupportedTypeError(
                _(
                    "Type de fichier refusé : sont acceptés les PDF, images (PNG, JPEG, GIF, WebP), "
                    "documents Word, Excel, PowerPoint, OpenDocument et RTF."
                )
            )
        if kind.extension in OFFICE_ZIPS:
            check_office_document(temporary)
        final = file_path(evidence_dir, digest.hexdigest())
        final.parent.mkdir(exist_ok=True)
        os.replace(temporary, final)  # the same content may already be there: same bytes, same name
        return StoredFile(digest.hexdigest(), size, kind.mime, kind.extension)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def check_office_document(path: str) -> None:
    """Refuse an office document with too many entries, or that unpacks beyond `MAX_OFFICE_UNPACKED`.

    The sizes a zip declares are checked first, then counted while unpacking (a zip may lie about
    them; a lie also fails its checksum), stopping as soon as the limit is passed.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_OFFICE_ENTRIES or sum(e.file_size for e in entries) > MAX_OFFICE_UNPACKED:
                raise EvidenceError(_unpacks_too_much())
            budget = MAX_OFFICE_UNPACKED
            for entry in entries:
                with archive.open(entry) as member:
                    while chunk := member.read(CHUNK):
                        budget -= len(chunk)
                        if budget < 0:
                            raise EvidenceError(_unpacks_too_much())
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, ValueError, EOFError):
        raise EvidenceError(
            _("Ce document bureautique est endommagé ou chiffré : il ne peut pas être ouvert.")
        ) from None


def _unpacks_too_much() -> str:
    return _(
        "Ce document se décompresse en plus de %(size)s ou compte plus de %(entries)s éléments : "
        "il est refusé. Enregistrez-le à nouveau, ou en PDF."
    ) % {"size": format_size(MAX_OFFICE_UNPACKED), "entries": MAX_OFFICE_ENTRIES}


def too_large(max_bytes: int) -> str:
    return _("Le fichier dépasse la taille maximale de %(size)s : réduisez-le ou découpez-le.") % {
        "size": format_size(max_bytes)
    }


def file_path(evidence_dir: Path, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a SHA-256")
    return evidence_dir / sha256[:2] / sha256


def download_name(filename: str, extension: str) -> str:
    """A safe attachment name: no path, no control characters, the detected extension."""
    stem = Path(filename.replace("\\", "/")).name.rsplit(".", 1)[0]
    stem = "".join(
        ch for ch in unicodedata.normalize("NFC", stem) if ch.isprintable() and ch not in '"<>:/|?*'
    )
    return f"{stem.strip(' .')[:120] or 'preuve'}.{extension}"


def content_disposition(filename: str) -> str:
    """`attachment`, with an ASCII fallback name and the real one in RFC 5987 `filename*`."""
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = download_name(ascii_name.replace("\\", "").replace(";", ""), extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
