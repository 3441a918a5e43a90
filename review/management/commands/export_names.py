"""python manage.py export_names [FILE]: 规范名称 as import_names reads them."""

from review.management.expression_lists import ExportCommand
from review.screening import expression_io
from review.screening.models import ProtectedName


class Command(ExportCommand):
    help = "导出规范名称为 CSV：name,title,note。"
    model = ProtectedName
    spec = expression_io.NAMES
