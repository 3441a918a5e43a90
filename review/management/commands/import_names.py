"""python manage.py import_names FILE [--replace]: protected names, CSV ``name,title,note``
(title and note may be empty) or plain text, one name a line."""

from review.management.expression_lists import ImportCommand
from review.screening import expression_io
from review.screening.models import ProtectedName


class Command(ImportCommand):
    help = ("导入规范名称：CSV name,title,note（title、note 可空），或每行一个名称的纯文本。"
            "任何一行有错则整个文件不导入。")
    model = ProtectedName
    spec = expression_io.NAMES
    what = "规范名称"
