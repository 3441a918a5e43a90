"""manage.py remind_quotas [--days N] [--dry-run] — run daily (cron)."""

from django.core.management.base import BaseCommand, CommandError

from cms.resources.reminders import reminder_days, send_quota_reminders


class Command(BaseCommand):
    help = "学期结束前 N 天，给未完成资源要求的教师发邮件提醒（每学期一次）；每天运行。"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="学期结束前多少天开始提醒（默认 RESOURCES_REMINDER_DAYS 或 14）")
        parser.add_argument("--dry-run", action="store_true", help="只列出，不发送")

    def handle(self, *args, days=None, dry_run=False, **options):
        days = reminder_days() if days is None else days
        if days < 0:
            raise CommandError("--days 不能为负数。")
        reminded = send_quota_reminders(days=days, dry_run=dry_run)
        verb = "将提醒" if dry_run else "已提醒"
        self.stdout.write(f"{verb} {len(reminded)} 位教师" +
                          (f"：{'、'.join(reminded)}" if reminded else "。"))
