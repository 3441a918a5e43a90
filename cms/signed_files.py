"""Readers get the signed bytes of every file: the bytes whose SHA-256 the leader's approval
of the live revision names (review.register.signed), never a file replaced since.

A document or image replaced in the admin keeps its old bytes in the write-once originals
store (backups.originals), under their SHA-256: those are what readers get until the next
approval of each page that uses the file signs the new ones. If the signed bytes are nowhere
to be found, readers get a 503 with a Chinese message and the administrators an error in the
log — never bytes nobody signed.

Images reach the public only as renditions (``/media/images/<name>``) of an image that live,
public content of the request's site uses, made from the signed original; originals
(``/media/original_images/``) only reach staff who may use the image in the admin.
"""

import hashlib
import logging
import mimetypes
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.http import FileResponse, Http404, HttpResponse
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.models import Page, ReferenceIndex, Site
from wagtail.permissions import policy_registry

from backups.stores import store
from cms.models import ArticlePage
from review.register.signed import signed_approval, signed_file

logger = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "该文件的签名批准版本暂时无法提供，已通知网站管理员。"
CHUNK = 1 << 20


class SignedBytesUnavailable(Exception):
    """Neither the originals store nor the current file holds the signed bytes."""


def _hash_of(handle) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def open_signed(*, signed: dict, current_file):
    """A binary file holding exactly the bytes ``signed["sha256"]`` names: the original kept
    under that hash, else the current file if it still has that hash."""
    sha256 = signed["sha256"]
    originals = store()
    try:
        if originals.exists(sha256):
            return originals.open(sha256)
    except Exception:  # a bucket that does not answer: try the current file
        logger.exception("原件库无法读取 %s", sha256)
    if current_file:
        try:
            with current_file.open("rb") as handle:
                matches = _hash_of(handle) == sha256
        except OSError:
            matches = False
        if matches:
            return current_file.open("rb")
    raise SignedBytesUnavailable(sha256)


def unavailable(*, what: str, signed: dict) -> HttpResponse:
    """503 for the reader; an error for the administrators (the log is where alerts go)."""
    logger.error("签名批准的文件无法提供：%s（SHA-256 %s）不在原件库中，当前文件也已不同",
                 what, signed.get("sha256"))
    return HttpResponse(UNAVAILABLE_MESSAGE, status=503,
                        content_type="text/plain; charset=utf-8")


def serve_signed_download(*, obj, document, requested_name: str, what: str):
    """The signed bytes and file name of ``document`` as a download, for live ``obj``."""
    signed = signed_file(signed_approval(obj), kind=document._meta.model_name,
                         file_id=document.pk)
    if signed is None:
        raise Http404("No such file.")
    if requested_name not in (signed.get("filename"), document.filename):
        raise Http404("No such file.")
    try:
        handle = open_signed(signed=signed, current_file=document.file)
    except SignedBytesUnavailable:
        return unavailable(what=what, signed=signed)
    filename = signed.get("filename") or document.filename
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type, as_attachment=True,
                        filename=filename)


# --- Images -----------------------------------------------------------------------------------


def staff_may_see(user, image) -> bool:
    """Editors who may pick or change the image in the admin see it as it is now (their
    previews and listings)."""
    return bool(user.is_authenticated and user.is_active
                and policy_registry.get_by_type(get_image_model())
                .user_has_any_permission_for_instance(
                    user, ["change", "choose"], image))


def _pages_using(image) -> set[int]:
    """Pages that may show ``image``: Wagtail's reference index, and article covers (the
    register decides which of them really do)."""
    page_type = ContentType.objects.get_for_model(Page)
    ids = {int(pk) for pk in ReferenceIndex.get_references_to(image)
           .filter(base_content_type=page_type).values_list("object_id", flat=True)
           if str(pk).isdigit()}
    ids.update(ArticlePage.objects.filter(cover_image=image).values_list("pk", flat=True))
    return ids


def signed_image(*, site, image) -> dict | None:
    """The signed file entry for ``image`` in the approval of a live, public page of
    ``site`` that uses it (the most recent approval when several do)."""
    if site is None:
        return None
    pages = (Page.objects.live().public().in_site(site).filter(pk__in=_pages_using(image))
             .order_by("-last_published_at"))
    for page in pages:
        signed = signed_file(signed_approval(page), kind=image._meta.model_name,
                             file_id=image.pk)
        if signed is not None:
            return signed
    return None


def _signed_rendition_path(*, sha256: str, filter_spec: str, focal_point_key: str,
                           name: str) -> Path:
    """Where a rendition made from signed bytes is kept: under the signed hash, so that a
    replaced image never shares it."""
    spec = hashlib.sha256(f"{filter_spec}|{focal_point_key}".encode()).hexdigest()[:16]
    extension = os.path.splitext(name)[1].lower()
    root = Path(getattr(settings, "SIGNED_RENDITIONS_DIR", None)
                or Path(settings.DATA_DIR) / "signed-renditions")
    return root / sha256[:2] / sha256 / f"{spec}{extension}"


def signed_rendition(*, rendition, signed: dict) -> Path:
    """The rendition ``rendition`` describes, made from the signed original (once)."""
    image = rendition.image
    path = _signed_rendition_path(sha256=signed["sha256"], filter_spec=rendition.filter_spec,
                                  focal_point_key=rendition.focal_point_key,
                                  name=rendition.file.name)
    if path.is_file():
        return path
    with open_signed(signed=signed, current_file=image.file) as source:
        generated = image.generate_rendition_file(
            Filter(spec=rendition.filter_spec),
            source=File(source, name=signed.get("filename") or image.file.name))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as out:
            generated.seek(0)
            for chunk in iter(lambda: generated.read(CHUNK), b""):
                out.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return path


def _image_response(handle, name: str) -> FileResponse:
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "public, max-age=300"
    return response


def rendition(request, name: str):
    """``/media/images/<name>``: a rendition, for the public only of an image live content of
    this site uses, made from the bytes its approval signed."""
    rendition_model = get_image_model().get_rendition_model()
    row = (rendition_model.objects.select_related("image")
           .filter(file=f"images/{name}").first())
    if row is None:
        raise Http404("No such image.")
    image = row.image
    if staff_may_see(request.user, image):
        response = _image_response(row.file.open("rb"), name)
        response["Cache-Control"] = "private, no-store"
        return response
    signed = signed_image(site=Site.find_for_request(request), image=image)
    if signed is None:
        raise Http404("No such image.")
    try:
        path = signed_rendition(rendition=row, signed=signed)
    except SignedBytesUnavailable:
        return unavailable(what=f"图片 #{image.pk}《{image.title}》", signed=signed)
    return _image_response(path.open("rb"), name)


def original(request, name: str):
    """``/media/original_images/<name>``: never public; staff who may use the image."""
    image = get_image_model().objects.filter(file=f"original_images/{name}").first()
    if image is None or not staff_may_see(request.user, image):
        raise Http404("No such image.")
    response = _image_response(image.file.open("rb"), name)
    response["Cache-Control"] = "private, no-store"
    return response
