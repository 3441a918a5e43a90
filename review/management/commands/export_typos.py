"""python manage.py export_typos [FILE]: 易错词 as import_typos reads them."""

from review.management.expression_lists import ExportCommand
from review.screening import expression_io
from review.screening.models import TypoEntry


class Command(ExportCommand):
    help = "导出易错词为 CSV：wrong,right。"
    model = TypoEntry
    spec = expression_io.TYPOS
