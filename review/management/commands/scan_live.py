"""python manage.py scan_live [--site SLUG] [--format json|xlsx] [--output FILE]

What inspectors will crawl, checked with every detector: every live page (of one site with
``--site``: the slug of its root page, or its host name) and the files it links to, and, for
the whole network, every live snippet. JSON on stdout:
``{"site", "checked", "objects": [{"title", "url", "admin_url", "content_type", "object_id",
"findings": [finding dicts, as ``scan`` writes them]}]}`` (objects with findings only);
XLSX (one row a finding) to ``--output`` or stdout. Exit 0 when nothing blocks, 1 when
anything does.
"""

import io
import json
import sys

from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from openpyxl import Workbook
from wagtail.models import Page, Site

from review.management.commands.scan import OUTPUT_KEYS
from review.screening.findings import KIND_LABELS, SEVERITY_LABELS, readable_location
from review.screening.objects import current_lexicon, field_labels, screen_findings
from review.screening.rescan import _admin_url, live_objects
from review.screening.screener import BLOCK

XLSX_COLUMNS = ("页面", "地址", "级别", "类型", "规则", "内容", "建议", "位置", "上下文")


class Command(BaseCommand):
    help = "用全部检查项检查所有已发布页面及其附件（检查组会抓取的内容），输出 JSON 或 XLSX。"

    def add_arguments(self, parser):
        parser.add_argument("--site", metavar="SLUG",
                            help="只检查这个站点（根页面的 slug，或主机名）")
        parser.add_argument("--format", choices=("json", "xlsx"), default="json",
                            help="输出格式（默认 json）")
        parser.add_argument("--output", help="写入这个文件（默认标准输出）")

    def handle(self, *args, site, format, output, **options):
        objects = self.objects(site)
        lexicon = current_lexicon()
        results, checked, blocked = [], 0, False
        for obj in objects:
            checked += 1
            findings = screen_findings(obj, lexicon=lexicon)
            if not findings:
                continue
            blocked = blocked or any(f.severity == BLOCK for f in findings)
            results.append({
                "title": str(obj),
                "url": (obj.get_full_url() or "") if isinstance(obj, Page) else "",
                "admin_url": _admin_url(obj),
                "content_type": ContentType.objects.get_for_model(obj).pk,
                "object_id": str(obj.pk),
                "labels": field_labels(type(obj)),
                "findings": findings,
            })
        if format == "json":
            data = json.dumps({"site": site, "checked": checked, "objects": [
                {**{k: v for k, v in r.items() if k != "labels"},
                 "findings": [{key: getattr(f, key) for key in (*OUTPUT_KEYS, "field")}
                              for f in r["findings"]]} for r in results]},
                ensure_ascii=False, indent=2)
            self.emit(data.encode(), output, text=data)
        else:
            self.emit(self.workbook(results), output)
        self.stderr.write(f"检查 {checked} 项，{len(results)} 项有问题。")
        if blocked:
            sys.exit(1)

    def objects(self, slug: str | None):
        if not slug:
            return live_objects()
        site = Site.objects.filter(Q(root_page__slug=slug) | Q(hostname=slug)).first()
        if site is None:
            raise CommandError(f"没有站点“{slug}”（可用根页面的 slug 或主机名）。")
        return Page.objects.live().descendant_of(site.root_page, inclusive=True).specific(
        ).iterator(chunk_size=500)

    def workbook(self, results: list[dict]) -> bytes:
        book = Workbook()
        sheet = book.active
        sheet.title = "检查结果"
        sheet.append(XLSX_COLUMNS)
        for result in results:
            for f in result["findings"]:
                sheet.append([
                    result["title"], result["url"], SEVERITY_LABELS.get(f.severity, f.severity),
                    KIND_LABELS.get(f.kind, f.kind), f.rule, f.shown_match, f.suggestion,
                    readable_location(f.field, labels=result["labels"]),
                    # A personal number is never repeated whole in a report.
                    f.context.replace(f.match, f.shown_match)[:200],
                ])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def emit(self, data: bytes, output: str | None, *, text: str | None = None) -> None:
        if output:
            with open(output, "wb") as handle:
                handle.write(data)
        elif text is not None:
            self.stdout.write(text)
        else:
            sys.stdout.buffer.write(data)
