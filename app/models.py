"""Every table, imported in one place so migrations and tests see the whole schema."""

from app.accounts.models import ApiRateWindow, ApiToken, LoginAttempt, PasswordReset, User, UserSession
from app.assessments.models import ActionItem, Answer, Assessment, Evidence, EvidenceLink, Snapshot
from app.cohorts.models import Cohort, CohortStructure, CohortTrainer, CohortWorkshop
from app.cycle.models import AuditOutcome, CalendarFeed, CertificationRecord
from app.db import AuditEntry
from app.mail.models import OutboxMessage
from app.members.models import Invitation
from app.reviews.models import EvidenceRating, ReviewDecision, ReviewItem
from app.structures.models import AuditorGrant, Membership, Structure

__all__ = [
    "ActionItem",
    "Answer",
    "ApiRateWindow",
    "ApiToken",
    "Assessment",
    "AuditEntry",
    "AuditOutcome",
    "AuditorGrant",
    "CalendarFeed",
    "CertificationRecord",
    "Cohort",
    "CohortStructure",
    "CohortTrainer",
    "CohortWorkshop",
    "Evidence",
    "EvidenceLink",
    "EvidenceRating",
    "Invitation",
    "LoginAttempt",
    "Membership",
    "OutboxMessage",
    "PasswordReset",
    "ReviewDecision",
    "ReviewItem",
    "Snapshot",
    "Structure",
    "User",
    "UserSession",
]
