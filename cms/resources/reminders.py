"""Reminders to teachers short of their quota, a configurable number of days before the
semester ends. Run daily (cron); each teacher gets one reminder per semester."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cms.models import SchoolHomePage
from cms.resources.models import QuotaReminder, Semester
from cms.resources.reports import semester_report

DEFAULT_DAYS_BEFORE_END = 14


def reminder_days() -> int:
    return int(getattr(settings, "RESOURCES_REMINDER_DAYS", DEFAULT_DAYS_BEFORE_END))


def due(*, semester: Semester, days: int, today) -> bool:
    """Inside the window: ``days`` or fewer before the end, and not yet ended."""
    return 0 <= (semester.end_date - today).days <= days


def send_quota_reminders(*, days: int, today=None, dry_run: bool = False) -> list[str]:
    """E-mail every teacher short of the current semester's quota, once; the usernames."""
    today = today or timezone.localdate()
    semester = Semester.objects.filter(start_date__lte=today, end_date__gte=today).first()
    if semester is None or not due(semester=semester, days=days, today=today):
        return []
    already = set(QuotaReminder.objects.filter(semester=semester)
                  .values_list("teacher_id", flat=True))
    rows = [row for row in semester_report(schools=SchoolHomePage.objects.all(),
                                           semester=semester)
            if not row.progress.complete and row.teacher_id not in already]
    emails = dict(_emails([row.teacher_id for row in rows]))
    link = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("resources_mine")
    reminded = []
    for row in rows:
        address = emails.get(row.teacher_id)
        if not address:
            continue
        if dry_run:
            reminded.append(row.teacher)
            continue
        try:
            with transaction.atomic():
                QuotaReminder.objects.create(teacher_id=row.teacher_id, semester=semester,
                                             shortfalls=row.progress.shortfalls)
        except IntegrityError:
            continue  # another run got there first
        days_left = (semester.end_date - today).days
        send_mail(
            subject=f"【{row.school_name}】{semester}资源上传提醒",
            message=(f"{row.teacher_name}老师：\n\n{semester}将于 {semester.end_date:%Y年%m月%d日}"
                     f"结束（还有 {days_left} 天）。您本学期审核通过的资源为 "
                     f"{row.progress.total} 件，{row.progress.describe_shortfalls()}。\n\n"
                     f"请在“我的学期资源”上传：{link}\n"),
            from_email=None, recipient_list=[address])
        reminded.append(row.teacher)
    return reminded


def _emails(user_ids):
    return (get_user_model().objects.filter(pk__in=user_ids).exclude(email="")
            .values_list("pk", "email"))
