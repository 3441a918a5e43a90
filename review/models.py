"""The compliance engine's models, re-exported from its sub-packages so that Django finds
them under the app label ``review`` (as ``wagtail/models/__init__.py`` does).

Generic over any Wagtail page or snippet with revisions; nothing here knows the cms models.
Code inside ``review`` imports from the sub-packages, never from here.
"""

from review.health.models import (
    AvailabilityProbe,
    HealthSnapshot,
    LinkCheck,
    LinkTarget,
    LinkUse,
)
from review.pipeline.models import (
    Approval,
    FirstReviewTask,
    LeaderApprovalTask,
    ReviewTaskMixin,
    ScreeningTask,
    ScreeningTaskState,
    SigningCredential,
    TakedownAcknowledgement,
)
from review.register.models import (
    AppendOnlyError,
    AppendOnlyModel,
    AppendOnlyQuerySet,
    Checkpoint,
    RegisterEntry,
    RegisterHead,
    SecurityCheckpoint,
    SecurityEvent,
    SecurityLogHead,
)
from review.screening.models import (
    CATEGORY_LABELS,
    AllowListEntry,
    LexiconEntry,
    LexiconRescan,
    ProtectedName,
    Severity,
    TypoEntry,
    WordingRule,
    _validate_term,  # named by migration 0008
)

__all__ = [
    "CATEGORY_LABELS",
    "AllowListEntry",
    "AppendOnlyError",
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "Approval",
    "AvailabilityProbe",
    "Checkpoint",
    "FirstReviewTask",
    "HealthSnapshot",
    "LeaderApprovalTask",
    "LexiconEntry",
    "LexiconRescan",
    "LinkCheck",
    "LinkTarget",
    "LinkUse",
    "ProtectedName",
    "RegisterEntry",
    "RegisterHead",
    "ReviewTaskMixin",
    "ScreeningTask",
    "ScreeningTaskState",
    "SecurityCheckpoint",
    "SecurityEvent",
    "SecurityLogHead",
    "Severity",
    "SigningCredential",
    "TakedownAcknowledgement",
    "TypoEntry",
    "WordingRule",
    "_validate_term",
]
