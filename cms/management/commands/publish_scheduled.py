"""Wagtail's ``publish_scheduled``, made safe to run every minute under the guard.

Wagtail's command publishes due revisions in one loop: one refusal (a revision whose approval
no longer verifies, say because the leader's credential was revoked after signing) would stop
every later one, every minute, for good. Here each revision is published in its own
transaction; a refused one is reported, loses its schedule (so it is not retried until a leader
approves it again) and is logged, and the rest go ahead. Expired content is taken down with a
reason for the register.
"""

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.management.commands.publish_scheduled import Command as WagtailCommand
from wagtail.models import DraftStateMixin, Page, Revision

from review.context import Refused
from review.pipeline.actions import TakedownAction

EXPIRY_REASON = "到期自动下线（内容设定的下线时间已到）"


class Command(WagtailCommand):
    help = "发布到期的定时版本（其领导签名审批仍须有效），并撤下已过期的内容。"

    def handle(self, *args, **options):
        if options["dryrun"]:
            return super().handle(*args, **options)
        expired = self.take_down_expired()
        published, refused = self.publish_due()
        self.stdout.write(f"下线 {expired} 项，定时发布 {published} 项，拒绝 {refused} 项。")

    def take_down_expired(self) -> int:
        models = [Page, *(m for m in apps.get_models()
                          if issubclass(m, DraftStateMixin) and not issubclass(m, Page))]
        count = 0
        for model in models:
            for obj in list(model.objects.filter(live=True, expire_at__lt=timezone.now())):
                TakedownAction(obj, user=None, reason=EXPIRY_REASON, set_expired=True,
                               log_action="wagtail.unpublish.scheduled"
                               ).execute(skip_permission_checks=True)
                count += 1
        return count

    def publish_due(self) -> tuple[int, int]:
        published = refused = 0
        due = Revision.objects.filter(approved_go_live_at__lt=timezone.now()) \
            .order_by("approved_go_live_at", "pk")
        for revision in due:
            try:
                with transaction.atomic():
                    revision.publish(log_action="wagtail.publish.scheduled")
                published += 1
            except Refused as error:
                refused += 1
                Revision.objects.filter(pk=revision.pk).update(approved_go_live_at=None)
                log(instance=revision.as_object(), action="review.schedule_refused",
                    revision=revision, data={"reason": str(error)})
                self.stderr.write(f"未发布《{revision.object_str}》（版本 {revision.pk}）："
                                  f"{error}；已取消定时，须重新审批。")
        return published, refused
