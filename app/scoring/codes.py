"""The scoring core's codes: findings, verdicts, reasons and actions, each with its French msgid.

The core says why with codes and their parameters (`Reason`, `Action`), never with sentences of its
own: each code's French msgid is here, so `reason` and `action` give the French that snapshots,
the API and the CLI carry, and `app.scoring.views` gives a page the same in its language.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Finding(StrEnum):
    """The predicted audit finding for one criterion."""

    CONFORME = "conforme"
    ECART_MINEUR = "ecart_mineur"
    ECART_MAJEUR = "ecart_majeur"
    NON_RENSEIGNE = "non_renseigne"
    NON_APPLICABLE = "non_applicable"

    @property
    def label(self) -> str:
        return FINDING_LABELS[self]


def N_(message: str) -> str:  # noqa: N802 - gettext's usual name for a marker
    """Mark a label for the translation catalogs; pages show it through `_()` (`app.locale`).

    The core stays pure (it imports nothing of the web), so its labels are French msgids.
    """
    return message


FINDING_LABELS = {
    Finding.CONFORME: N_("Conforme"),
    Finding.ECART_MINEUR: N_("Écart mineur"),
    Finding.ECART_MAJEUR: N_("Écart majeur"),
    Finding.NON_RENSEIGNE: N_("Non renseigné"),
    Finding.NON_APPLICABLE: N_("Non applicable"),
}
GAP_FINDINGS = (Finding.ECART_MAJEUR, Finding.NON_RENSEIGNE, Finding.ECART_MINEUR)


class Verdict(StrEnum):
    PRET = "pret"
    ESTIMATION_FAVORABLE = "estimation_favorable"
    """The best a partial questionnaire gives under scoring v2: never « prêt » on part of the criteria."""
    PRESQUE_PRET = "presque_pret"
    PAS_PRET = "pas_pret"

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self]


VERDICT_LABELS = {
    Verdict.PRET: N_("Prêt pour l'audit"),
    Verdict.ESTIMATION_FAVORABLE: N_("Estimation favorable — à confirmer par le questionnaire complet"),
    Verdict.PRESQUE_PRET: N_("Presque prêt"),
    Verdict.PAS_PRET: N_("Pas prêt"),
}


Params = Mapping[str, str | int]
"""The values a code's sentence names (`%(level)s`), so a page can say it in its own language."""
NO_PARAMS: Params = MappingProxyType({})


class Reason(StrEnum):
    """Why a criterion has its finding; `msgid` is the French sentence, filled from `reason_params`."""

    LEVEL_REACHED = "level_reached"
    CRITICAL_TOO_LOW = "critical_too_low"
    BELOW_TARGET = "below_target"
    UNPROVEN = "unproven"
    UNANSWERED = "unanswered"
    UNJUSTIFIED_NOT_APPLICABLE = "unjustified_not_applicable"
    DECLARED_NOT_APPLICABLE = "declared_not_applicable"
    OUT_OF_PROFILE = "out_of_profile"
    NOT_APPLICABLE_REFUSED = "not_applicable_refused"
    CRITICAL_INFERRED = "critical_inferred"
    PARTLY_PROVEN = "partly_proven"
    EXPIRED_EVIDENCE = "expired_evidence"
    UNDATED_EVIDENCE = "undated_evidence"

    @property
    def msgid(self) -> str:
        return REASON_MSGIDS[self]


REASON_MSGIDS = {
    Reason.LEVEL_REACHED: N_("Niveau %(level)s (%(label)s)"),
    Reason.CRITICAL_TOO_LOW: N_("Critère critique au niveau %(level)s (%(label)s)"),
    Reason.BELOW_TARGET: N_("Niveau %(level)s (%(label)s) sur %(target)s attendu"),
    Reason.UNPROVEN: N_(
        "Déclaré au niveau %(level)s sans preuve jointe : plafonné au niveau %(cap)s (déclaré, non prouvé)"
    ),
    Reason.UNANSWERED: N_("Non renseigné"),
    Reason.UNJUSTIFIED_NOT_APPLICABLE: N_("Déclaré non applicable sans justification"),
    Reason.DECLARED_NOT_APPLICABLE: N_("Non applicable : %(justification)s"),
    Reason.OUT_OF_PROFILE: N_("Ne s'applique pas au profil de la structure"),
    Reason.NOT_APPLICABLE_REFUSED: N_(
        "Non applicable refusé : seul le profil de la structure peut écarter ce critère ; indiquez un niveau"
    ),
    Reason.CRITICAL_INFERRED: N_(
        "Critère critique au niveau %(level)s (%(label)s), mais déduit (confiance L) : écart mineur à "
        "confirmer sur le texte de la norme"
    ),
    Reason.PARTLY_PROVEN: N_(
        "Déclaré au niveau %(level)s, preuves incomplètes : plafonné au niveau %(cap)s ; manque : %(missing)s"
    ),
    Reason.EXPIRED_EVIDENCE: N_(
        "Déclaré au niveau %(level)s, plafonné au niveau %(cap)s : preuve périmée pour « %(item)s » "
        "(document du %(date)s, validité %(months)s mois)"
    ),
    Reason.UNDATED_EVIDENCE: N_(
        "Déclaré au niveau %(level)s, plafonné au niveau %(cap)s : « %(item)s » demande un document daté "
        "de moins de %(months)s mois, et la preuve jointe n'a pas de date"
    ),
}


class Action(StrEnum):
    """What a gap's suggested action is: the criterion's own text (criteria-file content), or the core's."""

    CRITERION = "criterion"
    ANSWER = "answer"
    ATTACH_EVIDENCE = "attach_evidence"

    @property
    def msgid(self) -> str:
        """The French sentence of a core action; the criterion's own has none (`Gap.criterion_action`)."""
        return ACTION_MSGIDS[self]


ACTION_MSGIDS = {
    Action.ANSWER: N_("Renseigner ce critère : niveau atteint, ou non applicable avec une justification."),
    Action.ATTACH_EVIDENCE: N_("Joindre les preuves attendues : %(evidence)s."),
}
