"""python manage.py export_lexicon [FILE] [--allow]: the lexicon as import_lexicon reads it."""

from pathlib import Path

from django.core.management.base import BaseCommand

from review.screening.lexicon_io import Row, write_csv
from review.screening.models import AllowListEntry, LexiconEntry


class Command(BaseCommand):
    help = "导出敏感词库（或允许短语）为 CSV：word,category,severity,note。"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="输出文件（默认为标准输出）")
        parser.add_argument("--allow", action="store_true", help="导出允许短语表")

    def handle(self, *args, file, allow, **options):
        if allow:
            rows = [Row(0, word, note=note) for word, note in
                    AllowListEntry.objects.order_by("word").values_list("word", "note")]
        else:
            rows = [Row(0, *values) for values in LexiconEntry.objects.order_by(
                "category", "word").values_list("word", "category", "severity", "note")]
        text = write_csv(rows, allow_list=allow)
        if file == "-":
            self.stdout.write(text, ending="")
        else:
            Path(file).write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(rows)} 条写入 {file}")
