"""WAGTAIL_FINISH_WORKFLOW_ACTION. Wagtail imports this while loading its models, so the
module imports no models (only the transaction API and Wagtail's log context)."""

from django.db import transaction
from wagtail.log_actions import LogContext


def publish_approved(workflow_state, user=None):
    """Publish the latest revision, which the leader signed.

    Permission checks are skipped because the signed approval is the authority here (leaders
    hold no publish right); the publication guard still refuses anything not signed. The
    model's own ``publish`` runs (a resource approved for internal use is not made live), so
    the leader is named through Wagtail's log context, as Wagtail's admin views name the
    acting user: the register's ``published_by`` and Wagtail's log entries agree.
    """
    revision = workflow_state.content_object.get_latest_revision()
    # One transaction for the publication, its register entry and whatever the publication
    # sets off (a column's approved removal or move), also outside a request.
    with transaction.atomic(), LogContext(user=user):
        revision.publish(user=user, skip_permission_checks=True)
