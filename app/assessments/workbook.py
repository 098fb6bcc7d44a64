"""The offline workbook's format: its sheets, columns and signatures, shared by export and import.

The sheet « Questionnaire » has one row per applicable question; the director edits the level
(a dropdown), the N/A justification and the comment, and nothing else (the sheet is protected
without a password: a guide, not a lock). Hidden columns hold each row's criterion id, the answer
revision it was exported at, whether it was carried over, a digest of the values exported and an
HMAC of all of them under the app's secret key; the hidden sheet « Signature » ties the file to
one assessment and to the exact questionnaire and criteria versions. `workbook_export.py` writes
it; `workbook_import.py` and `workbook_rows.py` read it back, `workbook_changes.py` applies it.
"""

from __future__ import annotations

import hashlib
import hmac

from app.assessments.models import AnswerRow
from app.catalog.models import CriteriaVersion
from app.locale import gettext as _

FORMAT = "autodiag-classeur/1"
QUESTIONS_SHEET = "Questionnaire"
INSTRUCTIONS_SHEET = "Instructions"
SIGNATURE_SHEET = "Signature"
LISTS_SHEET = "Listes"
META_KEYS = ("format", "assessment", "questionnaire", "questionnaire_sha256", "criteria", "criteria_sha256")
HIDDEN = ("critere_id", "revision", "reprise", "empreinte", "signature")
"""Header codes of the hidden columns, checked on import: a moved column is caught, not misread."""
COLUMNS = "ABCDEFGHIJKLMN"
SECTION, CRITERION, QUESTION, LEVEL, JUSTIFICATION, COMMENT, EVIDENCE, LEVELS, STATE = range(9)
ID, REVISION, CARRIED, DIGEST, SIGNATURE = range(9, 14)
EDITABLE = (LEVEL, JUSTIFICATION, COMMENT)
WIDTHS = (22, 10, 55, 26, 40, 50, 36, 70, 34)


def column_letter(index: int) -> str:
    return COLUMNS[index]


def mac(key: str, *parts: object) -> str:
    """An HMAC-SHA256 of `parts` under the app's secret key (hex, 128 bits: enough to detect tampering)."""
    message = "\x1f".join(str(part) for part in parts).encode()
    return hmac.new(key.encode(), b"autodiag-workbook\x1e" + message, hashlib.sha256).hexdigest()[:32]


def digest(level: str, justification: str, comment: str) -> str:
    """A short digest of a row's editable values (level as « 0 »…« 3 », « na » or «  »)."""
    return hashlib.sha256("\x1f".join((level, justification, comment)).encode()).hexdigest()[:16]


def row_mac(
    key: str, *, assessment_id: int, criterion_id: str, revision: int, carried: int, values: str
) -> str:
    return mac(key, "row", assessment_id, criterion_id, revision, carried, values)


def meta_mac(key: str, meta: dict[str, str]) -> str:
    return mac(key, "meta", *(meta[name] for name in META_KEYS), meta["exported_at"])


def level_choices(version: CriteriaVersion) -> list[str]:
    """The dropdown's entries: « 0 — Absent » … « 3 — … », then « Non applicable »."""
    return [f"{s.level} — {s.label}" for s in version.scale] + [_("Non applicable")]


def level_token(answer: AnswerRow | None) -> str:
    if answer is None:
        return ""
    return "na" if answer.not_applicable else "" if answer.level is None else str(answer.level)


def text_of(value: object) -> str:
    """A cell's text as the web stores it: stripped, with Unix line ends; numbers and dates as written.

    The export digests texts this way too, so a row nobody touched reads back as exported."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()
