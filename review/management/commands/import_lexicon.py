"""python manage.py import_lexicon FILE [--category C] [--severity S] [--replace] [--allow]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from review.exceptions import LexiconFileError
from review.management.upsert import upsert_with_history
from review.screening.lexicon_io import decode, parse
from review.screening.matching import SEVERITIES
from review.screening.models import AllowListEntry, LexiconEntry
from review.screening.rescan import one_rescan


class Command(BaseCommand):
    help = ("导入敏感词库：带表头 word,category,severity[,note] 的 CSV，或每行一个词的纯文本"
            "（类别、级别取自参数）。任何一行有错则整个文件不导入。")

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 或纯文本文件（UTF-8 或 GB18030 编码）")
        parser.add_argument("--category", default="",
                            help="未注明类别的行（或文件）所用的类别")
        parser.add_argument("--severity", choices=SEVERITIES, default="",
                            help="未注明级别的行（或文件）所用的级别")
        parser.add_argument("--replace", action="store_true",
                            help="删除文件中未列出的词条")
        parser.add_argument("--allow", action="store_true",
                            help="文件是允许短语表（word[,note]）")

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
        return upsert_with_history(
            model=model, key=("word",), fields=fields, replace=replace,
            rows=[{"word": row.word, **{field: getattr(row, field) for field in fields}}
                  for row in rows])
