"""python manage.py check_links [--site SLUG] [--external]: the link check now. Internal
links, images and attachments are resolved against the baked tree and the database; with
--external the external targets are fetched too (politely) and compared with their
fingerprints taken at approval."""

import time

from django.core.management.base import BaseCommand, CommandError

from review.exceptions import HealthError
from review.health import linkcheck
from review.health.models import LinkTarget


class Command(BaseCommand):
    help = ("立即检查链接：站内链接、图片和附件（对照静态化文件与数据库）；"
            "--external 同时检查外部链接。")

    def add_arguments(self, parser):
        parser.add_argument("--site", metavar="SLUG", help="只检查这个网站（首页的 slug）")
        parser.add_argument("--external", action="store_true",
                            help="同时访问外部链接（有并发上限、按主机限速、遵守 robots.txt）")

    def handle(self, *args, site, external, **options):
        started = time.monotonic()
        try:
            scans = linkcheck.check_internal(site_slug=site)
        except HealthError as error:
            raise CommandError(str(error)) from error
        for scan in scans:
            self.stdout.write(
                f"{scan.site.site_name or scan.site.hostname}：读取 {scan.files} 个页面文件，"
                f"{scan.links} 个链接，站内错误链接 {len(scan.broken)} 个，"
                f"外部链接 {len(scan.external)} 个")
        if external:
            targets = linkcheck.check_external(site_slug=site)
            counts = {state: 0 for state in LinkTarget.State.values}
            for target in targets:
                counts[target.state] += 1
            summary = "，".join(f"{LinkTarget.State(state).label} {count}"
                               for state, count in counts.items() if count)
            self.stdout.write(f"外部链接 {len(targets)} 个：{summary or '无'}")
        self.stdout.write(f"用时 {time.monotonic() - started:.1f} 秒。")
