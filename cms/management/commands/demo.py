import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cms.accounts.demo import give_demo_second_factors
from cms.accounts.factors import base32_secret, demo_totp_key
from cms.demo import build, content
from cms.models import Role


class Command(BaseCommand):
    help = "创建演示教育网（门户、两所学校、各角色用户和文章）；--articles N 批量添加文章用于压测。"

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, metavar="N",
                            help="批量添加 N 篇生成的文章（分布在各校各栏目）")
        parser.add_argument("--port", type=int, default=8000,
                            help="演示站点端口，与开发服务器一致（默认 8000）")
        parser.add_argument("--if-empty", action="store_true",
                            help="数据库已有内容时跳过而不报错（供一键启动脚本使用）")
        parser.add_argument("--production-keys", action="store_true",
                            help="演示领导的签名密钥按生产强度（Argon2id 64 MiB）封存，"
                                 "供计时签名的压测使用（默认用低强度：演示口令是公开的）")

    def handle(self, *args, articles, port, if_empty, production_keys, **options):
        if articles is not None and articles < 1:
            raise CommandError("--articles 必须是正整数。")
        if build.has_content():
            if not (if_empty or articles):
                raise CommandError("数据库中已有内容，演示数据只能在空数据库上创建。"
                                   "如需重建，请先删除 CMS_DATA_DIR 目录（默认 ./var/）。")
            if if_empty:
                self.stdout.write("数据库中已有内容，跳过创建演示数据。")
        else:
            started = time.monotonic()
            try:
                summary = build.build_demo(
                    port=port,
                    signing_kdf=build.demo_signing_kdf(production_keys=production_keys))
            except build.DemoError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(self.style.SUCCESS(
                f"已创建演示教育网：{summary['organisations']} 个网站，{summary['users']} 个用户，"
                f"{summary['articles']} 篇文章，{summary['documents']} 个附件"
                f"（{time.monotonic() - started:.1f} 秒）。"
            ))
            scheduled = summary["scheduled"]
            self.stdout.write(f"定时发布示例《{scheduled.title}》将于 "
                              f"{timezone.localtime(scheduled.go_live_at):%H:%M} 自动上线"
                              "（须运行调度进程和工作进程：./dev.sh start 会一并启动）。")
        if articles:
            self._add_articles(articles)
        # Demo accounts made before second factors existed get the demo's device too.
        give_demo_second_factors(users=get_user_model().objects.filter(
            username__in=[account[0] for account in build.existing_demo_accounts()]))
        self._print_accounts()

    def _add_articles(self, count: int) -> None:
        started = time.monotonic()

        def progress(done: int) -> None:
            width = 30
            filled = width * done // count
            self.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{count}",
                              ending="")
            self.stdout.flush()

        try:
            added = build.add_generated_articles(count=count, progress=progress)
        except build.DemoError as error:
            raise CommandError(str(error)) from error
        elapsed = time.monotonic() - started
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"已添加 {added} 篇文章，用时 {elapsed:.1f} 秒（{added / elapsed:,.0f} 篇/秒）。"
            "搜索索引未更新，如需搜索请运行 manage.py update_index。"
        ))

    def _print_accounts(self) -> None:
        accounts = build.existing_demo_accounts()
        if not accounts:
            return
        self.stdout.write(f"\n演示账号（密码均为 {content.DEMO_PASSWORD}）：")
        self.stdout.write(f"  {'用户名':<18}{'角色':<10}{'姓名'}")
        roles = {"superuser": "超级管理员", **dict(Role.choices)}
        for username, name, _organisation, role in accounts:
            self.stdout.write(f"  {username:<21}{roles[role]:<10}{name}")
        if demo_totp_key():
            self.stdout.write(
                "网站管理员、领导、账号管理员和超级管理员登录后还须输入第二因子验证码"
                "（仅开发环境）：运行 "
                ".venv/bin/python manage.py totp_code <用户名> 查看当前验证码，或把演示密钥 "
                f"{base32_secret(key_hex=demo_totp_key())} 添加到身份验证器应用（这些账号共用）。")
        self.stdout.write("后台：http://127.0.0.1:8000/admin/   门户：http://127.0.0.1:8000/   "
                          "学校：http://yizhong.localhost:8000/  http://shiyan.localhost:8000/")
