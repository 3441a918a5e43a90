"""python manage.py probe_sites [--site SLUG]: probe each site's homepage once (可用性); the
schedule runs it every HEALTH_PROBE_MINUTES minutes."""

from django.core.management.base import BaseCommand, CommandError

from review.exceptions import HealthError
from review.health.availability import probe_sites, prune


class Command(BaseCommand):
    help = "探测各网站首页能否在限定时间内打开（可用性监测），并清理过期的探测记录。"

    def add_arguments(self, parser):
        parser.add_argument("--site", metavar="SLUG", help="只探测这个网站（首页的 slug）")

    def handle(self, *args, site, **options):
        try:
            probes = probe_sites(site_slug=site)
        except HealthError as error:
            raise CommandError(str(error)) from error
        for probe in probes:
            state = "正常" if probe.ok else f"失败（{probe.error}）"
            self.stdout.write(f"{probe.site.site_name or probe.site.hostname}：{state}，"
                              f"{probe.elapsed_ms} 毫秒")
        prune()
