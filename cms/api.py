"""API v3 wiring: answer refusals that Wagtail's API does not map with RFC 7807 problems."""

from django.db import DatabaseError
from django.db.models import ProtectedError
from wagtail.api.v3.api import api
from wagtail.api.v3.errors import problem_response

from cms.full_disk import full_disk_problem


def protected_content(request, exc: ProtectedError):
    # Published content is kept for tracing: its approvals and register entries protect it.
    return problem_response(status=409, detail="该内容曾经发布并已登记，不能删除；请改为紧急撤稿。")


def register_api_error_handlers() -> None:
    api.add_exception_handler(ProtectedError, protected_content)
    # A full disk: 507 with a Chinese problem, not a 500 (other errors stay errors).
    api.add_exception_handler(OSError, full_disk_problem)
    api.add_exception_handler(DatabaseError, full_disk_problem)
