from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cms.accounts.devices import reset_second_factors


class Command(BaseCommand):
    help = ("移除用户的全部身份验证器和恢复码（手机和恢复码都丢失时），用户下次登录时重新设置；"
            "记入安全审计日志。")

    def add_arguments(self, parser):
        parser.add_argument("username", help="用户名")

    def handle(self, *args, username, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有用户 {username}。")
        removed = reset_second_factors(user=user, actor_name="manage.py reset_second_factor")
        self.stdout.write(f"已移除 {username} 的 {removed} 个第二因子，"
                          "其下次登录后台时须重新设置。")
