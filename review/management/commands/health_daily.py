"""python manage.py health_daily: today's health snapshot of every site and the daily report
e-mail of what changed (nothing sent for a site without changes, unless
HEALTH_DAILY_REPORT_ONLY_CHANGES is off). Run daily by the schedule; twice sends once."""

from django.core.management.base import BaseCommand

from review.health.daily import send_daily


class Command(BaseCommand):
    help = "生成各网站当天的健康快照，并把与昨天相比的变化发邮件给网站管理员、领导和教育局。"

    def handle(self, *args, **options):
        result = send_daily()
        self.stdout.write(f"快照 {result['snapshots']} 个网站，发出 {result['sent']} 封日报。")
