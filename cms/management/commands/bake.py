"""manage.py bake: bring the baked public files (静态化) up to date, or rebuild them."""

import os
import time

from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Site

from cms.baking import engine
from cms.baking.plan import Plan, plan_events, site_targets
from cms.full_disk import refuses_full_disk


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self, stream, label: str):
        self.stream, self.label, self.drawn_at = stream, label, 0.0  # a command's OutputWrapper

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.drawn_at < 0.1:
            return
        self.drawn_at = now
        filled = self.WIDTH * done // total if total else self.WIDTH
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                          f"{done}/{total}", ending="\n" if done >= total else "")
        self.stream.flush()


def find_site(name: str) -> Site | None:
    """A site by its home page's slug (as given to create_school; the portal's is "portal")
    or by its host name."""
    return (Site.objects.filter(root_page__slug=name).first()
            or Site.objects.filter(hostname=name.lower()).first())


class Command(BaseCommand):
    help = ("静态化：把网站的公开页面生成为文件（BAKE_DIR）。默认只处理上次运行以来发布登记中的"
            "发布与撤稿；--all 全部重新生成并删除多余文件。")

    def add_arguments(self, parser):
        parser.add_argument("--site", action="append", metavar="SLUG",
                            help="只处理这个网站（首页标识或域名，可重复）；默认全部网站")
        parser.add_argument("--all", action="store_true", dest="full",
                            help="全部重新生成，而不只是上次以来的变化")
        parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                            help="并行进程数（默认为处理器核数）")

    @refuses_full_disk
    def handle(self, *args, site=None, full=False, jobs=1, **options):
        if jobs < 1:
            raise CommandError("--jobs 至少为 1")
        if site:
            sites = []
            for name in site:
                found = find_site(name)
                if found is None:
                    raise CommandError(f"未知网站：{name}（请用网站首页的标识或域名）")
                sites.append(found)
        else:
            sites = list(Site.objects.order_by("pk"))
        root = engine.bake_root()
        # Read the register first: events appended while we bake are baked again next time.
        until = engine.register_seq()
        total = engine.BakeReport()
        for one in sites:
            plan = self.plan_for(site=one, root=root, until=until, full=full)
            label = f"{one.hostname}（{'全部' if one.pk in plan.full_sites else '增量'}）"
            progress = ProgressBar(self.stderr, label)
            report = engine.bake_plan(plan=plan, root=root, progress=progress, jobs=jobs)
            if not report.failed:  # else the next run starts from the same point again
                engine.record_state(root=root, sites=[one], register_seq=until)
            self.stdout.write(f"{one.hostname}：{report}")
            total.add(report)
        if total.failed:
            for url in total.failed:
                self.stderr.write(f"生成失败（保留原文件）：{url}")
            raise CommandError(f"{len(total.failed)} 个页面生成失败：{total}。请查看日志后重试。")
        self.stdout.write(self.style.SUCCESS(f"完成：{total}。文件位于 {root}"))

    def plan_for(self, *, site: Site, root, until: int, full: bool) -> Plan:
        since = None if full else engine.last_baked_seq(root=root, site=site)
        if since is None:  # --all, or never baked: the whole site
            return Plan(targets=[target for target, _ in site_targets(site_id=site.pk)],
                        full_sites=frozenset({site.pk}))
        planned = plan_events(page_ids=engine.pages_with_events_since(seq=since, until=until))
        # Events elsewhere may plan this site's pages too (the portal home), and this site's
        # events other sites' pages: keep to the site asked for.
        return Plan(targets=[t for t in planned.targets if t.site_id == site.pk],
                    full_sites=planned.full_sites & {site.pk})
