"""The resources' exceptions: the ``ResourceError`` branch of cms's tree (cms/exceptions.py),
and the refusals the resources make on the compliance engine's behalf.

``ResourceError`` (a ``cms.exceptions.CmsError`` and a ``ValueError``)
    ``SemesterCodeError``: a semester code is not of the form 2026-2027-1
    (cms.resources.rules).

    ``UploadError``: bad input for an upload; nothing was stored; ``messages`` lists every
    problem (cms.resources.services).

    ``SecondPreparationError``: a second preparation (二次备课) cannot be
    filed as asked (cms.resources.lesson_plans.derive); nothing was changed.

    ``SecondPreparationRefused`` (also review.exceptions.Refused, hence Django's
    ``PermissionDenied``): the teaching-group leader's decision is refused
    (cms.resources.actions.decide_second_preparation); nothing was changed.

``InternalApprovalRefused`` (a review.exceptions.Refused): an internal resource cannot be
    approved (cms.resources.actions.approve_internally); nothing was changed.

A ``Refused`` announces its reason when it is made (review.exceptions.refused): inside a
request the person sees it as an admin message and the request's writes are rolled back.
"""

from cms.exceptions import ResourceError
from review.exceptions import Refused


class SemesterCodeError(ResourceError):
    pass


class UploadError(ResourceError):
    """Bad input for an upload; nothing was stored. ``messages`` lists every problem."""

    def __init__(self, messages: list[str]):
        super().__init__("；".join(messages))
        self.messages = messages


class SecondPreparationError(ResourceError):
    """Refused; nothing was changed."""


class SecondPreparationRefused(Refused, SecondPreparationError):
    """The teaching-group leader's decision was refused; nothing was changed."""

    heading = "二次备课未能处理"


class InternalApprovalRefused(Refused):
    heading = "校内审核未完成"
