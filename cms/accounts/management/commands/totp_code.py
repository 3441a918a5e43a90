import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from cms.accounts.factors import current_totp_code, requires_second_factor


class Command(BaseCommand):
    help = "显示用户身份验证器当前的验证码（仅开发环境，DEBUG=True 时可用），用于登录演示账号。"

    def add_arguments(self, parser):
        parser.add_argument("username", help="用户名，如 yizhong_admin")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("totp_code 只能在开发环境（DEBUG=True）使用：生产环境的验证码"
                               "只显示在用户自己的身份验证器上。")
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"没有用户 {username}。")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            more = ("登录后台时会先引导其添加。" if requires_second_factor(user)
                    else "该账号只用密码登录。")
            raise CommandError(f"用户 {username} 没有身份验证器：{more}")
        now = time.time()
        code = current_totp_code(key_hex=device.key, at=now, step=device.step, t0=device.t0,
                                 digits=device.digits, drift=device.drift)
        remaining = device.step - int(now - device.t0) % device.step
        self.stdout.write(code)
        self.stderr.write(f"（{username} 的当前验证码，{remaining} 秒内有效；"
                          "每个验证码只能用一次）")
