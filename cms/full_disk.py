"""A full disk is answered with a clear error and leaves nothing half-written.

- ``MediaStorage``: uploads (documents, images, renditions) are written to a hidden file
  beside their target and renamed into place once whole, so a disk that fills half-way
  leaves no partial file under ``media/`` (Django's storage writes in place, or copies a
  large upload's temporary file in place, and leaves what it wrote).
- ``FullDiskMiddleware``: a request that ran out of space answers 507 with a Chinese
  message (the admin: the message on the page the user came from), not a generic 500; the
  request's transaction has been rolled back (ATOMIC_REQUESTS), so no row is left either.
- ``full_disk_problem``: the same for API v3 (an RFC 7807 problem, registered in cms.api).
- ``refuses_full_disk``: a management command stops with the message, not a traceback.
"""

import errno
import functools
import os
import tempfile

from django.contrib import messages
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.core.management.base import CommandError
from django.db import DatabaseError, connections, transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.html import escape

FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
MESSAGE = ("服务器磁盘空间不足，文件没有保存（没有留下不完整的文件）。"
           "请联系网站管理员清理空间后重试。")
COMMAND_MESSAGE = ("磁盘空间不足，已停止：已写出的每个文件都是完整的（先写临时文件再替换），"
                   "未完成的部分下次运行会重做。请清理磁盘空间后重新运行。")
STAGING_PREFIX = ".upload-"


def is_full_disk(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return error.errno in FULL
    # The database's disk: SQLite says "database or disk is full", PostgreSQL DiskFull (53100).
    if isinstance(error, DatabaseError):
        cause = error.__cause__
        return ("disk is full" in str(error)
                or getattr(cause, "sqlstate", None) == "53100"
                or getattr(cause, "pgcode", None) == "53100")
    return False


class _Staged(File):
    """A file already written whole beside its target: Django's storage moves it (a rename
    in one directory) instead of writing it in place."""

    def __init__(self, path: str):
        super().__init__(None, name=path)
        self.path = path

    def temporary_file_path(self) -> str:
        return self.path

    def close(self) -> None:
        pass


class MediaStorage(FileSystemStorage):
    def _save(self, name, content):
        target = self.path(name)
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        fd, staged = tempfile.mkstemp(dir=directory, prefix=STAGING_PREFIX)
        try:
            try:
                for chunk in content.chunks():
                    self._write(fd, chunk.encode() if isinstance(chunk, str) else chunk)
            finally:
                os.close(fd)
            name = super()._save(name, _Staged(staged))
            if self.file_permissions_mode is None:  # mkstemp's 0600 would hide it from nginx
                os.chmod(self.path(name), 0o644)
            return name
        finally:
            if os.path.exists(staged):  # not moved into place: the write failed
                os.unlink(staged)

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]


class FullDiskMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_full_disk(exception):
            return None
        _roll_back_open_transactions()  # an outer transaction (review.context) would commit
        if request.path.startswith("/api/"):
            return problem()
        if request.headers.get("x-requested-with") == "XMLHttpRequest":  # multiple upload
            return JsonResponse({"success": False, "error_message": MESSAGE}, status=507)
        if request.method == "POST" and request.path.startswith("/admin/"):
            messages.error(request, MESSAGE)  # shown on the form the upload came from
            return HttpResponseRedirect(request.get_full_path(), status=303)
        return HttpResponse(f"<!doctype html><meta charset=utf-8><title>存储空间不足</title>"
                            f"<p>{escape(MESSAGE)}</p>", status=507)


def problem() -> HttpResponse:
    from wagtail.api.v3.errors import problem_response

    return problem_response(status=507, title="存储空间不足", detail=MESSAGE)


def full_disk_problem(request, exc: Exception):
    """API v3's handler: it runs inside the request's transaction, which answering would
    commit (a document row without its original, say): roll it back first."""
    if not is_full_disk(exc):
        raise exc
    _roll_back_open_transactions()
    return problem()


def _roll_back_open_transactions() -> None:
    for alias in connections:
        if connections[alias].in_atomic_block:
            transaction.set_rollback(True, using=alias)


def refuses_full_disk(handle):
    """For a command's ``handle``: a full disk stops it with COMMAND_MESSAGE."""
    @functools.wraps(handle)
    def wrapper(*args, **kwargs):
        try:
            return handle(*args, **kwargs)
        except OSError as error:
            if not is_full_disk(error):
                raise
            raise CommandError(f"{COMMAND_MESSAGE}（{error.strerror or error}）") from error
    return wrapper
