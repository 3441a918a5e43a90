"""The pipeline's models, in one place for Django (as ``wagtail/models/__init__.py`` does):
the records (credentials, approvals, takedown acknowledgements) and the workflow tasks.

Nothing inside ``review`` imports from this module: the tasks call the signing logic, which
needs the records, so logic imports ``review.pipeline.records`` and ``review.pipeline.tasks``
directly.
"""

from review.pipeline.records import Approval, SigningCredential, TakedownAcknowledgement
from review.pipeline.tasks import (
    FirstReviewTask,
    LeaderApprovalTask,
    ReviewTaskMixin,
    ScreeningTask,
    ScreeningTaskState,
)

__all__ = [
    "Approval", "FirstReviewTask", "LeaderApprovalTask", "ReviewTaskMixin", "ScreeningTask",
    "ScreeningTaskState", "SigningCredential", "TakedownAcknowledgement",
]
