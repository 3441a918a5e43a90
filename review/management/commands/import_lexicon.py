"""python manage.py import_lexicon FILE [--category C] [--severity S] [--replace] [--allow]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from review.exceptions import LexiconFileError
from review.screening.lexicon_io import decode, parse
from review.screening.matching import SEVERITIES
from review.screening.models import AllowListEntry, LexiconEntry
from review.screening.rescan import one_rescan


class Command(BaseCommand):
    help = ("导入敏感词库：带表头 word,category,severity[,note] 的 CSV，或每行一个词的纯文本"
            "（类别、级别取自参数）。任何一行有错则整个文件不导入。")

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV or plain-text file (UTF-8 or GB18030)")
        parser.add_argument("--category", default="",
                            help="category for rows (or files) that give none")
        parser.add_argument("--severity", choices=SEVERITIES, default="",
                            help="severity for rows (or files) that give none")
        parser.add_argument("--replace", action="store_true",
                            help="delete entries the file does not list")
        parser.add_argument("--allow", action="store_true",
                            help="the file is the allow list (word[,note])")

    def handle(self, *args, file, category, severity, replace, allow, **options):
        path = Path(file)
        try:
            text = decode(path.read_bytes())
            rows = parse(text, allow_list=allow, category=category, severity=severity)
        except OSError as error:
            raise CommandError(f"无法读取 {path}：{error.strerror}") from error
        except LexiconFileError as error:
            raise CommandError(f"{path} 有 {len(error.errors)} 处错误，未导入任何词条：\n"
                               + "\n".join(error.errors)) from error
        model = AllowListEntry if allow else LexiconEntry
        fields = ["note"] if allow else ["category", "severity", "note"]
        # A command only queues the rescan: its process ends before a thread would finish.
        with transaction.atomic(), one_rescan(reason=f"导入词库 {path.name}", background=False):
            counts = self.apply(model, fields, rows, replace=replace)
        self.stdout.write("新增 {added}，更新 {updated}，未变 {skipped}，删除 {removed}".format(
            **counts))
        if any(counts[key] for key in ("added", "updated", "removed")):
            self.stdout.write("已排队复查已发布内容（manage.py rescan_live）。")

    def apply(self, model, fields, rows, *, replace: bool) -> dict[str, int]:
        existing = {entry.word: entry for entry in model.objects.all()}
        added, updated, skipped = [], [], 0
        for row in rows:
            values = {field: getattr(row, field) for field in fields}
            entry = existing.get(row.word)
            if entry is None:
                added.append(model(word=row.word, **values))
            elif any(getattr(entry, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(entry, field, value)
                entry.updated_at = timezone.now()  # bulk updates skip auto_now
                updated.append(entry)
            else:
                skipped += 1
        bulk_create_with_history(added, model, batch_size=1000)
        if updated:
            bulk_update_with_history(updated, model, [*fields, "updated_at"], batch_size=1000)
        removed = 0
        if replace:
            listed = {row.word for row in rows}
            for entry in existing.values():
                if entry.word not in listed:
                    entry.delete()  # one by one, so that each deletion is in the history
                    removed += 1
        return {"added": len(added), "updated": len(updated), "skipped": skipped,
                "removed": removed}
