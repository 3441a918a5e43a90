"""python manage.py export_wording [FILE]: 规范表述规则 as import_wording reads them."""

from review.management.expression_lists import ExportCommand
from review.screening import expression_io
from review.screening.models import WordingRule


class Command(ExportCommand):
    help = "导出规范表述规则为 CSV：wrong,right,severity,note。"
    model = WordingRule
    spec = expression_io.WORDING
