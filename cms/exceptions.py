"""The cms package's exceptions: one tree under ``CmsError`` (the teachers' resources add
their branch in cms/resources/exceptions.py).

``CmsError``
    ``OrganisationError`` (also ``ValueError``): bad input for provisioning a portal or a
    school site; nothing was changed (``cms.organisations``, the create_* commands).

    ``PipelineError``: a step of the publishing pipeline driven from code did not happen as
    asked (``cms.publishing``: the demo and scripts).

    ``DemoError``: the demo cannot run on this database; nothing was changed
    (``cms.demo.build``).

    ``ResourceError`` (also ``ValueError``) and its branch: cms.resources.exceptions.

Refusals of the compliance engine (``review.exceptions.Refused`` and its subclasses, such as
``PublicationRefused``) are review's tree, not this one: cms raises them where it refuses on
the engine's behalf (``cms.resources.exceptions.InternalApprovalRefused``).
"""


class CmsError(Exception):
    """Something cms/ was asked to do cannot be done; the message says why."""


class OrganisationError(CmsError, ValueError):
    """Bad input for provisioning; nothing was changed."""


class PipelineError(CmsError):
    """A step of the pipeline did not happen as asked; see the message."""


class DemoError(CmsError):
    """The demo cannot run on this database; nothing was changed."""


class ResourceError(CmsError, ValueError):
    """Bad input about teachers' resources; nothing was changed."""
