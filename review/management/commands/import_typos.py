"""python manage.py import_typos FILE [--replace]: 易错词, CSV wrong,right."""

from review.management.expression_lists import ImportCommand
from review.screening import expression_io
from review.screening.models import TypoEntry


class Command(ImportCommand):
    help = "导入易错词：CSV wrong,right。任何一行有错则整个文件不导入。"
    model = TypoEntry
    spec = expression_io.TYPOS
    what = "易错词"
