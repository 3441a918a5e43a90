from django.core.management.base import BaseCommand, CommandError

from cms.organisations import OrganisationError, create_school


class Command(BaseCommand):
    help = "创建学校网站：站点、首页、默认栏目、网站管理员/领导/教师用户组和文档库。"

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="学校名称，如 城关第一中学")
        parser.add_argument("--slug", required=True, help="标识，小写字母、数字和连字符")
        parser.add_argument("--hostname", required=True, help="学校网站的域名")
        parser.add_argument("--port", type=int, default=80, help="站点端口（默认 80）")

    def handle(self, *args, name, slug, hostname, port, **options):
        try:
            school = create_school(name=name, slug=slug, hostname=hostname, port=port)
        except OrganisationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"已创建学校网站：{school.home_page.title}"))
        self.stdout.write(f"  网址：{school.site.root_url}/")
        self.stdout.write(f"  栏目：{'、'.join(c.title for c in school.home_page.get_children())}")
        self.stdout.write(f"  用户组：{'、'.join(g.name for g in school.groups.values())}")
        self.stdout.write(f"  文档库：{school.collection.name}")
