"""The import and export commands of the protected names, wording rules and typos, modelled
on import_lexicon/export_lexicon: all or nothing, every change in the history, one rescan of
live content queued when anything changed."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from review.exceptions import LexiconFileError
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
        key, model = self.spec.key, self.model
        fields = [c for c in self.spec.columns if c not in key]
        existing = {tuple(getattr(entry, k) for k in key): entry for entry in model.objects.all()}
        added, updated, skipped = [], [], 0
        for row in rows:
            entry = existing.get(tuple(row[k] for k in key))
            if entry is None:
                added.append(model(**{c: row[c] for c in self.spec.columns}))
            elif any(getattr(entry, f) != row[f] for f in fields):
                for f in fields:
                    setattr(entry, f, row[f])
                entry.updated_at = timezone.now()  # bulk updates skip auto_now
                updated.append(entry)
            else:
                skipped += 1
        bulk_create_with_history(added, model, batch_size=1000)
        if updated:
            bulk_update_with_history(updated, model, [*fields, "updated_at"], batch_size=1000)
        removed = 0
        if replace:
            listed = {tuple(row[k] for k in key) for row in rows}
            for entry_key, entry in existing.items():
                if entry_key not in listed:
                    entry.delete()  # one by one, so that each deletion is in the history
                    removed += 1
        return {"added": len(added), "updated": len(updated), "skipped": skipped,
                "removed": removed}


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
