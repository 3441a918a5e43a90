"""manage.py deactivate_dormant: deactivate accounts without a login for 90 days (daily)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cms.accounts.dormant import REPORT_HEADERS, deactivate_dormant, format_table, report_rows


class Command(BaseCommand):
    help = ("停用长期未登录的账号（等保：清理多余、过期的账号）：超过 --days 天（默认 "
            "ACCOUNTS_DORMANT_DAYS，90 天）没有登录的账号（从未登录的从创建时算起，超级用户"
            "也一样）被停用，结束其全部会话，记入安全审计日志，并打印报告。可重复运行。")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None,
                            help="多少天没有登录算长期未登录（默认 ACCOUNTS_DORMANT_DAYS）")
        parser.add_argument("--dry-run", action="store_true",
                            help="只列出将被停用的账号，不停用")

    def handle(self, *args, days, dry_run, **options):
        days = settings.ACCOUNTS_DORMANT_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days 须是正整数。")
        accounts = deactivate_dormant(days=days, dry_run=dry_run)
        if not accounts:
            self.stdout.write(f"没有超过 {days} 天未登录的在用账号。")
            return
        verb = "将停用" if dry_run else "已停用"
        self.stdout.write(f"{verb} {len(accounts)} 个超过 {days} 天未登录的账号"
                          f"{'（试运行，未作改动）' if dry_run else ''}：")
        self.stdout.write(format_table(REPORT_HEADERS, report_rows(accounts)))
