import pytest
from django.utils import timezone

from cms.interaction.actions import DesignateHandlerAction
from cms.interaction.models import Kind, Message, Status
from cms.interaction.submission import due_date, new_code


@pytest.fixture
def handlers(network):
    """School A's teacher, school B's teacher and the bureau's teacher as their
    organisation's designated handlers."""
    out = {}
    for key, org in (("a", network.school_a), ("b", network.school_b),
                     ("county", network.portal)):
        user = network.users[f"{key}_teacher"]
        DesignateHandlerAction(org.home_page, user=network.users[f"{key}_administrator"],
                               handler_user=user).execute()
        out[key] = user
    return out


def make_message(org, *, title="作业太多", body="请问初二作业量是否有规定？", kind=Kind.MESSAGE,
                 status=Status.NEW, received_at=None, contact=None):
    from cms.interaction import crypto

    received_at = received_at or timezone.now()
    code = new_code()
    return Message.objects.create(
        code=code, kind=kind, organisation=org.home_page, sent_from=org.home_page,
        title=title, body=body, received_at=received_at, due_on=due_date(received_at),
        status=status,
        contact_sealed=crypto.seal(contact, code=code) if contact else b"")
