"""python manage.py import_wording FILE [--replace]: 规范表述规则, CSV wrong,right,severity,note."""

from review.management.expression_lists import ImportCommand
from review.screening import expression_io
from review.screening.models import WordingRule


class Command(ImportCommand):
    help = "导入规范表述规则：CSV wrong,right,severity,note。任何一行有错则整个文件不导入。"
    model = WordingRule
    spec = expression_io.WORDING
    what = "规范表述规则"
