"""python manage.py originals list [--expired] [--format json|text]
| hold ID... [--release] | prune [--dry-run] | capture URL --title T --collection ID [--user U]"""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from wagtail.models import Collection

from backups import originals
from backups.fetch import FetchError
from backups.models import Original, Retained
from backups.objectstore import ObjectStoreError


class Command(BaseCommand):
    help = "原件：列出、司法保全、清理过期原件、从网址采集。"

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        listing = commands.add_parser("list", help="列出原件清单")
        listing.add_argument("--expired", action="store_true",
                             help="只列出已过保存期且未保全的原件")
        listing.add_argument("--format", choices=("json", "text"), default="text")
        hold = commands.add_parser("hold", help="对原件进行司法保全")
        hold.add_argument("ids", nargs="+", type=int)
        hold.add_argument("--release", action="store_true", help="改为解除保全")
        prune = commands.add_parser("prune", help="删除已过保存期的原件")
        prune.add_argument("--dry-run", action="store_true")
        capture = commands.add_parser("capture", help="从网址采集为新文档")
        capture.add_argument("url")
        capture.add_argument("--title", required=True)
        capture.add_argument("--collection", type=int, required=True, help="文档库 ID")
        capture.add_argument("--user", help="记录为操作人的用户名")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "do_" + action)(**options)
        except (Retained, FetchError, ObjectStoreError) as error:
            raise CommandError(str(error)) from error

    def do_list(self, *, expired, format, **_):
        rows = Original.objects.expired() if expired else Original.objects.all()
        if format == "json":
            fields = ["id", "sha256", "size", "filename", "content_type", "source",
                      "source_url", "operator", "category", "created_at", "retain_until",
                      "legal_hold"]
            self.stdout.write(json.dumps(list(rows.values(*fields)), ensure_ascii=False,
                                         default=str))
            return
        for row in rows:
            self.stdout.write(f"{row.pk:>6}  {row.sha256[:12]}  {row.size:>12,}  "
                              f"保存至 {timezone.localtime(row.retain_until):%Y-%m-%d}"
                              f"{'  司法保全' if row.legal_hold else ''}  {row.filename}")

    def do_hold(self, *, ids, release, **_):
        rows = Original.objects.filter(pk__in=ids)
        missing = set(ids) - set(rows.values_list("pk", flat=True))
        if missing:
            raise CommandError(f"没有这些原件：{', '.join(map(str, sorted(missing)))}")
        with transaction.atomic():
            for row in rows:
                row.legal_hold = not release
                row.save()
        self.stdout.write(f"已{'解除' if release else '设置'}司法保全：{len(ids)} 件。")

    def do_prune(self, *, dry_run, **_):
        pruned = originals.prune_expired(dry_run=dry_run)
        verb = "将删除" if dry_run else "已删除"
        for row in pruned.rows:
            self.stdout.write(f"{verb} {row.pk} {row.filename}（保存至 "
                              f"{timezone.localtime(row.retain_until):%Y-%m-%d}）")
        self.stdout.write(f"{verb} {len(pruned.rows)} 条过期原件登记，{len(pruned.removed_files)}"
                          f" 个文件（{pruned.size / 1e6:,.1f} MB）；保全中和未到期的原件不动。")

    def do_capture(self, *, url, title, collection, user=None, **_):
        try:
            target = Collection.objects.get(pk=collection)
        except Collection.DoesNotExist as error:
            raise CommandError(f"没有这个文档集合：{collection}") from error
        operator = None
        if user:
            try:
                operator = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist as error:
                raise CommandError(f"没有这个用户：{user}") from error
        document = originals.add_document_from_source(url=url, title=title, collection=target,
                                                      user=operator)
        original = originals.originals_of(document)[0]
        self.stdout.write(f"已采集为文档 {document.pk}“{document.title}”：原件 {original.pk}，"
                          f"{original.size:,} 字节，SHA-256 {original.sha256}")
