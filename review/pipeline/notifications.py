"""Workflow e-mail that carries the reviewer's comment (Wagtail's own drops it: wagtail#7542,
wagtail#10196): the next stage's reviewers on every submission and approval, the author and
every earlier reviewer on a rejection, the author on publication. Sent after commit."""

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.models import TaskState

from review.people import display_name, display_names
from review.pipeline.takedown import leaders_of
from review.pipeline.tasks import (
    FirstReviewTask,
    LeaderApprovalTask,
    ScreeningTask,
    ScreeningTaskState,
)
from review.screening.findings import blocking, describe_finding
from review.screening.objects import field_labels

User = get_user_model()
# Records are read in Beijing time, whatever the server's or the reader's time zone.
BEIJING = ZoneInfo("Asia/Shanghai")


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
          f"《{obj}》由 {display_name(workflow_state.requested_by)} 提交，现等待“{task.name}”。\n"
          f"审核：{_link(obj)}\n")


def on_workflow_rejected(sender, instance, user=None, **kwargs):
    obj = instance.content_object
    state = instance.current_task_state
    if state is not None and isinstance(state.task.specific, ScreeningTask):
        _screening_returned(instance, state)
        return
    comment = state.comment if state else ""
    recipients = [instance.requested_by, *_earlier_reviewers(instance)]
    who = display_name(user, nobody="自动检查")
    _send([r for r in recipients if r != user], f"已退回修改：《{obj}》",
          f"《{obj}》在“{state.task.name if state else ''}”被 {who} 退回。\n"
          f"退回意见：{comment}\n修改：{_link(obj)}\n")


def _screening_returned(workflow_state, state) -> None:
    """The automatic screening returned a submission: its author (who submitted it, and is
    the ``user`` of the signal) is told what was found and where, so they need not reopen
    the editor to learn why."""
    obj = workflow_state.content_object
    findings = blocking(ScreeningTaskState.objects.get(pk=state.pk).finding_records())
    labels = field_labels(type(obj))
    lines = [f"{number}. {describe_finding(finding, labels=labels)}"
             for number, finding in enumerate(findings[:20], start=1)]
    if len(findings) > 20:
        lines.append(f"……共 {len(findings)} 处。")
    _send([workflow_state.requested_by], f"未通过自动检查，已退回：《{obj}》",
          f"您提交的《{obj}》未通过自动内容检查，已退回给您，没有进入审核。\n\n"
          "发现以下须修改的问题：\n" + "\n".join(lines)
          + f"\n\n请修改后重新提交：{_link(obj)}\n")


def on_workflow_approved(sender, instance, user=None, **kwargs):
    obj = instance.content_object
    _send([instance.requested_by], f"已审批发布：《{obj}》",
          f"《{obj}》已经 {display_name(user)} 签名审批并发布，已记入发布登记。\n{_link(obj)}\n")


def local_time(value: str) -> str:
    """An ISO time as the register keeps it (UTC), as people read it: Beijing time to the
    second (``2026-12-02T02:22:44.154883Z`` → ``2026-12-02 10:22:44``)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def on_takedown(obj, entry) -> None:
    record = entry.entry["approval"]
    operator = display_names(usernames=[record["operator"]]).get(record["operator"],
                                                                 record["operator"])
    _send(leaders_of(obj), f"紧急撤稿，请确认：《{obj}》",
          f"{operator} 于 {local_time(record['taken_down_at'])}（北京时间）撤下了《{obj}》。\n"
          f"原因：{record['reason']}\n请在控制面板确认：{settings.WAGTAILADMIN_BASE_URL}/admin/\n")


def _staff_of(obj) -> list:
    """The administrators and leaders reviewing in the object's workflow."""
    workflow = obj.get_workflow() if obj is not None and hasattr(obj, "get_workflow") else None
    if workflow is None:
        return []
    groups = [task.groups.all() for model in (FirstReviewTask, LeaderApprovalTask)
              for task in model.objects.filter(workflow_tasks__workflow=workflow)]
    return list(User.objects.filter(groups__in=[g.pk for qs in groups for g in qs],
                                    is_active=True).distinct())


def on_live_mismatches(findings: list[tuple[object, str]]) -> None:
    """check-live found content differing from what was signed: tell each site's staff, and
    the system's superusers of what belongs to no workflow (a file planted in the served
    tree)."""
    by_recipient: dict = {}
    superusers = None
    for obj, line in findings:
        recipients = _staff_of(obj)
        if not recipients:
            if superusers is None:
                superusers = list(User.objects.filter(is_superuser=True, is_active=True))
            recipients = superusers
        for user in recipients:
            by_recipient.setdefault(user, []).append(line)
    for user, lines in by_recipient.items():
        _send([user], "发布检查发现线上内容与签名批准的内容不符",
              "以下内容与发布登记中签名批准的内容不符（可能被绕过系统改动）：\n\n"
              + "\n".join(lines) + "\n\n请核查；`publication_log check-live --restore` 可恢复。\n")


def _bureau() -> list:
    """Who watches the whole network: the holders of ``review.view_securityevent`` (the
    bureau's account and web administrators) and the superusers."""
    permission = Permission.objects.filter(content_type__app_label="review",
                                           codename="view_securityevent")
    return list(User.objects.filter(
        Q(is_superuser=True) | Q(groups__permissions__in=permission)
        | Q(user_permissions__in=permission), is_active=True).distinct())


def on_render_mismatch(obj, line: str) -> None:
    """Rendering found live content differing from what was signed (a write that skipped
    the guard) and showed the signed version or nothing: tell the object's site staff and
    the bureau, once per tampering (review.register.livecheck.alarm_mismatch)."""
    recipients = {*_staff_of(obj), *_bureau()}
    _send(recipients, f"线上内容与签名批准的内容不符：《{obj}》",
          "网站在显示或静态化以下内容时发现，数据库中的内容与发布登记中签名批准的内容不符"
          "（可能被绕过系统直接改动）。读者看到的是签名批准的版本，未签名的内容没有公开：\n\n"
          f"{line}\n\n请核查；`publication_log check-live --restore` 可恢复。\n")


def send_checkpoint(checkpoint) -> None:
    """Checkpoints are meant to leave the system: every leader gets a copy to keep."""
    leaders = User.objects.filter(groups__leaderapprovaltask__in=LeaderApprovalTask.objects.all(),
                                  is_active=True).distinct()
    _send(leaders, f"发布登记检查点：共 {checkpoint.size} 条",
          "这是发布登记的签名检查点。请原样保存（邮件归档、打印或拷贝到只读介质）：\n"
          "日后可用它核验登记没有被改写。\n\n" + checkpoint.note)
