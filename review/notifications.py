"""Workflow e-mail that carries the reviewer's comment (Wagtail's own drops it: wagtail#7542,
wagtail#10196): the next stage's reviewers on every submission and approval, the author and
every earlier reviewer on a rejection, the author on publication. Sent after commit."""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.models import TaskState

User = get_user_model()


def _send(recipients: Iterable, subject: str, body: str) -> None:
    addresses = sorted({u.email for u in recipients if u is not None and u.is_active and u.email})
    if not addresses:
        return
    prefixed = f"[{settings.WAGTAIL_SITE_NAME}] {subject}"
    transaction.on_commit(lambda: send_mail(prefixed, body, settings.DEFAULT_FROM_EMAIL,
                                            addresses, fail_silently=True))


def _link(obj) -> str:
    url = AdminURLFinder().get_edit_url(obj) or ""
    return f"{settings.WAGTAILADMIN_BASE_URL}{url}"


def _earlier_reviewers(workflow_state) -> list:
    states = workflow_state.task_states.filter(status=TaskState.STATUS_APPROVED)
    return [state.finished_by for state in states.select_related("finished_by")]


def on_task_submitted(sender, instance, user=None, **kwargs):
    task = instance.task.specific
    if not hasattr(task, "groups"):
        return  # automatic tasks have no reviewers
    workflow_state = instance.workflow_state
    obj = workflow_state.content_object
    reviewers = (User.objects.filter(groups__in=task.groups.all(), is_active=True)
                 .exclude(pk=workflow_state.requested_by_id).distinct())
    _send(reviewers, f"待您处理（{task.name}）：《{obj}》",
          f"《{obj}》由 {workflow_state.requested_by or '系统'} 提交，现等待“{task.name}”。\n"
          f"审核：{_link(obj)}\n")


def on_workflow_rejected(sender, instance, user=None, **kwargs):
    obj = instance.content_object
    state = instance.current_task_state
    comment = state.comment if state else ""
    recipients = [instance.requested_by, *_earlier_reviewers(instance)]
    _send([r for r in recipients if r != user], f"已退回修改：《{obj}》",
          f"《{obj}》在“{state.task.name if state else ''}”被 {user or '自动检查'} 退回。\n"
          f"退回意见：{comment}\n修改：{_link(obj)}\n")


def on_workflow_approved(sender, instance, user=None, **kwargs):
    obj = instance.content_object
    _send([instance.requested_by], f"已审批发布：《{obj}》",
          f"《{obj}》已经 {user} 签名审批并发布，已记入发布登记。\n{_link(obj)}\n")


def on_takedown(obj, entry) -> None:
    from review.takedown import leaders_of

    record = entry.entry["approval"]
    _send(leaders_of(obj), f"紧急撤稿，请确认：《{obj}》",
          f"{record['operator']} 于 {record['taken_down_at']} 撤下了《{obj}》。\n"
          f"原因：{record['reason']}\n请在控制面板确认：{settings.WAGTAILADMIN_BASE_URL}/admin/\n")
