"""The daily deadline check: a warning to the handlers before a reply is due, escalation to
the organisation's leaders and the bureau once it is overdue. Each is sent once per message
(``warned_at``, ``escalated_at``): the check is safe to run twice."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from cms.interaction.actions import handlers_of
from cms.interaction.deadlines import Stage, stage
from cms.interaction.models import OPEN_STATUSES, Message
from cms.interaction.submission import calendar
from cms.models import PortalPage, Role


@dataclass(frozen=True)
class CheckResult:
    warned: int
    escalated: int


def _emails(users) -> list[str]:
    return sorted({u.email for u in users if u.email})


def role_members(organisation_id: int, role: str):
    return get_user_model().objects.filter(
        is_active=True, groups__organisation_role__home_page_id=organisation_id,
        groups__organisation_role__role=role).distinct()


def _send(subject: str, body: str, recipients: list[str]) -> None:
    if recipients:
        transaction.on_commit(lambda: send_mail(
            f"[{settings.WAGTAIL_SITE_NAME}] {subject}", body, settings.DEFAULT_FROM_EMAIL,
            recipients, fail_silently=True))


def check_deadlines(*, today=None) -> CheckResult:
    today = today or timezone.localdate()
    cal = calendar()
    warn_days = settings.CMS_INTERACTION_WARN_WORKING_DAYS
    portal = PortalPage.objects.first()
    warned = escalated = 0
    messages = (Message.objects.filter(status__in=OPEN_STATUSES)
                .filter(escalated_at__isnull=True).select_related("organisation", "assignee"))
    for message in messages.iterator():
        where = stage(due=message.due_on, today=today, warn_days=warn_days, calendar=cal)
        # Never a sender's contact details or the text in an e-mail: the title and code
        # prefix only.
        about = (f"{message.get_kind_display()}“{message.title}”（{message.organisation.title}，"
                 f"{timezone.localtime(message.received_at):%Y-%m-%d} 收到，"
                 f"答复期限 {message.due_on:%Y-%m-%d}）")
        with transaction.atomic():
            if where == Stage.OVERDUE:
                people = [*role_members(message.organisation_id, Role.LEADER),
                          *handlers_of(message.organisation_id)]
                if portal is not None:
                    people += [*role_members(portal.pk, Role.ADMINISTRATOR),
                               *role_members(portal.pk, Role.LEADER)]
                _send("留言逾期未答复", f"{about}已超过答复期限，请督促尽快答复。", _emails(people))
                Message.objects.filter(pk=message.pk).update(escalated_at=timezone.now())
                escalated += 1
            elif where == Stage.WARNING and message.warned_at is None:
                people = [message.assignee] if message.assignee else \
                    list(handlers_of(message.organisation_id))
                _send("留言即将到期", f"{about}即将到期，请及时答复。", _emails(people))
                Message.objects.filter(pk=message.pk).update(warned_at=timezone.now())
                warned += 1
    return CheckResult(warned=warned, escalated=escalated)
