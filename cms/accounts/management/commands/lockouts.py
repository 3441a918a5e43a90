"""manage.py lockouts: list current login lockouts, or lift one, recorded in the security
audit log (axes' own axes_reset_* commands are not): for the maintainers when no account
administrator can sign in to do it in the admin."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cms.accounts.lockout import ADDRESS, USERNAME, NotLocked, lockouts_now, unlock


class Command(BaseCommand):
    help = ("列出当前的登录锁定；--unlock-username 或 --unlock-address 提前解锁"
            "（记入安全审计日志）。")

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--unlock-username", metavar="NAME", help="解锁该账号")
        group.add_argument("--unlock-address", metavar="IP", help="解锁该登录地址")

    @transaction.atomic
    def handle(self, *args, unlock_username=None, unlock_address=None, **options):
        if unlock_username or unlock_address:
            kind, value = ((USERNAME, unlock_username) if unlock_username
                           else (ADDRESS, unlock_address))
            try:
                unlock(kind=kind, value=value, by=None, address="")
            except NotLocked:
                raise CommandError(f"“{value}”当前没有被锁定，未做更改。") from None
            self.stdout.write(f"已解除“{value}”的登录锁定。")
            return
        for lockout in lockouts_now():
            until = timezone.localtime(lockout.until)
            self.stdout.write(f"{lockout.kind_label}\t{lockout.value}\t失败 {lockout.failures} 次"
                              f"\t锁定至 {until:%Y-%m-%d %H:%M:%S}")
