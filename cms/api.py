"""API v3 wiring: answer refusals that Wagtail's API does not map with RFC 7807 problems."""

from django.db.models import ProtectedError
from wagtail.api.v3.api import api
from wagtail.api.v3.errors import problem_response

from review.exceptions import FileInUse


def protected_content(request, exc: ProtectedError):
    # Published content is kept for tracing: its approvals and register entries protect it.
    return problem_response(status=409, detail="该内容曾经发布并已登记，不能删除；请改为紧急撤稿。")


def file_in_use(request, exc: FileInUse):
    # Live content's signed approval names the file: it stays while that content is live.
    return problem_response(status=409, title="文件正在使用", detail=str(exc))


def register_api_error_handlers() -> None:
    api.add_exception_handler(ProtectedError, protected_content)
    api.add_exception_handler(FileInUse, file_in_use)
