"""The import and export commands of the protected names, wording rules and typos, modelled
on import_lexicon/export_lexicon: all or nothing, every change in the history, one rescan of
live content queued when anything changed."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from review.exceptions import LexiconFileError
from review.management.upsert import upsert_with_history
from review.screening import expression_io
from review.screening.lexicon_io import decode
from review.screening.rescan import one_rescan


class ImportCommand(BaseCommand):
    model = None
    spec: expression_io.Spec
    what = ""

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 文件（UTF-8 或 GB18030 编码）")
        parser.add_argument("--replace", action="store_true", help="删除文件中未列出的条目")

    def handle(self, *args, file, replace, **options):
        path = Path(file)
        try:
            rows = expression_io.parse(decode(path.read_bytes()), self.spec)
        except OSError as error:
            raise CommandError(f"无法读取 {path}：{error.strerror}") from error
        except LexiconFileError as error:
            raise CommandError(f"{path} 有 {len(error.errors)} 处错误，未导入任何{self.what}：\n"
                               + "\n".join(error.errors)) from error
        # A command only queues the rescan: its process ends before a thread would finish.
        with transaction.atomic(), one_rescan(reason=f"导入{self.what} {path.name}",
                                              background=False):
            counts = self.apply(rows, replace=replace)
        self.stdout.write("新增 {added}，更新 {updated}，未变 {skipped}，删除 {removed}".format(
            **counts))
        if any(counts[key] for key in ("added", "updated", "removed")):
            self.stdout.write("已排队复查已发布内容（manage.py rescan_live）。")

    def apply(self, rows: list[dict], *, replace: bool) -> dict[str, int]:
        key = tuple(self.spec.key)
        return upsert_with_history(model=self.model, rows=rows, key=key, replace=replace,
                                   fields=[c for c in self.spec.columns if c not in key])


class ExportCommand(BaseCommand):
    model = None
    spec: expression_io.Spec

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="输出文件（默认为标准输出）")

    def handle(self, *args, file, **options):
        rows = list(self.model.objects.order_by(*self.spec.key).values(*self.spec.columns))
        text = expression_io.write_csv(rows, self.spec)
        if file == "-":
            self.stdout.write(text, ending="")
        else:
            Path(file).write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(rows)} 条写入 {file}")
