from django.core.management.base import BaseCommand, CommandError

from cms.organisations import OrganisationError, create_portal


class Command(BaseCommand):
    help = "创建教育局门户（默认站点）及县级网站管理员/领导/教师用户组。"

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="如 某某县教育局")
        parser.add_argument("--hostname", required=True, help="门户域名")
        parser.add_argument("--port", type=int, default=80, help="站点端口（默认 80）")

    def handle(self, *args, name, hostname, port, **options):
        try:
            portal = create_portal(name=name, hostname=hostname, port=port)
        except OrganisationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"已创建门户：{portal.home_page.title}"))
        self.stdout.write(f"  网址：{portal.site.root_url}/")
        self.stdout.write(f"  用户组：{'、'.join(g.name for g in portal.groups.values())}")
