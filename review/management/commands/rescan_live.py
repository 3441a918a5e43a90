"""python manage.py rescan_live [--now]: run queued lexicon rescans (cron this)."""

from django.core.management.base import BaseCommand

from review.screening.findings import Finding
from review.screening.models import LexiconRescan
from review.screening.rescan import run_pending


class Command(BaseCommand):
    help = "用当前词库复查已发布内容（处理词库变更后排队的复查；--now 立即复查一次）。"

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true",
                            help="没有排队的复查时新建一个，并立即执行")

    def handle(self, *args, now, **options):
        if now and not LexiconRescan.objects.filter(
                status=LexiconRescan.Status.PENDING).exists():
            LexiconRescan.objects.create(reason="手动复查")
        for rescan in run_pending(progress=self.progress):
            self.stderr.write("")
            self.stdout.write(f"复查 #{rescan.pk}：检查 {rescan.checked} 项，"
                              f"{len(rescan.matches)} 项命中敏感词")
            for match in rescan.matches:
                words = "、".join(sorted({Finding.from_json(f).rule for f in match["findings"]}))
                self.stdout.write(f"  {match['title']}（{match['admin_url']}）：{words}")

    def progress(self, done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            self.stderr.write(f"\r已检查 {done}/{total}", ending="")
            self.stderr.flush()
