"""Who may see and act on which organisation's messages (confinement, invariant 5).

* An organisation's web administrators and leaders see its queue; its designated handlers
  (``Handler``) see it too.
* Administrators and handlers act on it (assign, status, notes, replies).
* Only designated handlers read senders' contact details — not administrators, leaders or
  superusers as such — and every reading is in the security audit log.
Reports go to the bureau: they are in the portal's queue only.
"""

from django.db.models import QuerySet

from cms.interaction.models import Handler, Message
from cms.models import OrganisationRole, Role

VIEWING_ROLES = (Role.ADMINISTRATOR, Role.LEADER)
ACTING_ROLES = (Role.ADMINISTRATOR,)


def _role_orgs(user, roles) -> set[int]:
    if not user.is_authenticated or not user.is_active:
        return set()
    return set(OrganisationRole.objects.filter(group__user=user, role__in=roles)
               .values_list("home_page_id", flat=True))


def handler_orgs(user) -> set[int]:
    if not user.is_authenticated or not user.is_active:
        return set()
    return set(Handler.objects.filter(user=user).values_list("organisation_id", flat=True))


def viewing_orgs(user) -> set[int]:
    return _role_orgs(user, VIEWING_ROLES) | handler_orgs(user)


def acting_orgs(user) -> set[int]:
    return _role_orgs(user, ACTING_ROLES) | handler_orgs(user)


def administered_orgs(user) -> set[int]:
    return _role_orgs(user, (Role.ADMINISTRATOR,))


def staff_orgs(user) -> set[int]:
    """Organisations the user is staff of, in any role (who may be designated a handler)."""
    if not user.is_authenticated:
        return set()
    return set(OrganisationRole.objects.filter(group__user=user)
               .values_list("home_page_id", flat=True))


def visible_messages(user) -> QuerySet[Message]:
    return Message.objects.filter(organisation_id__in=viewing_orgs(user))


def may_view(user, message: Message) -> bool:
    return message.organisation_id in viewing_orgs(user)


def may_act(user, message: Message) -> bool:
    return message.organisation_id in acting_orgs(user)


def may_read_contact(user, message: Message) -> bool:
    return message.organisation_id in handler_orgs(user)


def uses_interaction(user) -> bool:
    return bool(viewing_orgs(user))
