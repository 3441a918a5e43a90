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
from dataclasses import dataclass
from pathlib import Path

import willow
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.forms.utils import flatatt
from django.http import FileResponse, Http404, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.models import Page, ReferenceIndex, Site
from wagtail.permissions import policy_registry

from backups.models import Original
from backups.stores import store
from cms.models import ArticlePage
from review.register.models import RegisterEntry
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


def _pages_signing(image, sha256: str) -> set[int]:
    """Pages whose register entries name ``sha256``, when it is an original of ``image``
    (the manifest's index answers that first: an address nobody signed costs no scan).
    The register, not the reference index, which a lost background task may leave behind."""
    if not Original.objects.filter(sha256=sha256, object_type=ContentType.objects
                                   .get_for_model(image), object_id=str(image.pk)).exists():
        return set()
    return {int(pk) for pk in RegisterEntry.objects
            .filter(content_type=ContentType.objects.get_for_model(Page),
                    entry__icontains=sha256)
            .values_list("object_id", flat=True).distinct() if str(pk).isdigit()}


def signed_uses(*, site, image, sha256: str | None = None) -> list[dict]:
    """The signed file entries for ``image`` in the approvals of the live, public pages of
    ``site`` that use it, the most recently published first (with ``sha256``: only those
    that signed these bytes)."""
    if site is None:
        return []

    def uses_among(page_ids) -> list[dict]:
        pages = (Page.objects.live().public().in_site(site).filter(pk__in=page_ids)
                 .order_by("-last_published_at"))
        found = []
        for page in pages:
            signed = signed_file(signed_approval(page), kind=image._meta.model_name,
                                 file_id=image.pk)
            if signed is not None and sha256 in (None, signed.get("sha256")):
                found.append(signed)
        return found

    return uses_among(_pages_using(image)) or (
        uses_among(_pages_signing(image, sha256)) if sha256 else [])


def public_image_filters() -> frozenset[str]:
    """The rendition specs readers may ask for (the public templates'): no one makes the
    server render an image in a thousand sizes."""
    return frozenset(getattr(settings, "PUBLIC_IMAGE_FILTERS", ("width-800",)))


def _signed_rendition_path(*, sha256: str, spec: str, focal_point_key: str) -> Path:
    """Where a rendition made from signed bytes is kept: under the signed hash, so that a
    replaced image never shares it."""
    key = hashlib.sha256(f"{spec}|{focal_point_key}".encode()).hexdigest()[:16]
    root = Path(getattr(settings, "SIGNED_RENDITIONS_DIR", None)
                or Path(settings.DATA_DIR) / "signed-renditions")
    return root / sha256[:2] / sha256 / key


def signed_rendition(*, image, spec: str, signed: dict) -> Path:
    """The rendition ``spec`` of ``image`` made from its signed bytes (made once, then kept);
    its extension names the format."""
    filter_ = Filter(spec=spec)
    base = _signed_rendition_path(sha256=signed["sha256"], spec=spec,
                                  focal_point_key=filter_.get_cache_key(image))
    existing = sorted(base.parent.glob(f"{base.name}.*")) if base.parent.is_dir() else []
    if existing:
        return existing[0]
    with open_signed(signed=signed, current_file=image.file) as source:
        generated = image.generate_rendition_file(
            filter_, source=File(source, name=signed.get("filename") or image.file.name))
    path = base.with_name(f"{base.name}{os.path.splitext(generated.name)[1].lower()}")
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


def _page_approval(request, page) -> dict | None:
    """``signed_approval(page)`` (or of a snippet: a resource), once per request and
    object."""
    cache = getattr(request, "_signed_approvals", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._signed_approvals = cache
    key = (page._meta.label_lower, page.pk, getattr(page, "live_revision_id", None))
    if key not in cache:
        cache[key] = signed_approval(page)
    return cache[key]


def signed_image_tag(*, request, page, image, spec: str, attributes: dict) -> str:
    """The ``<img>`` readers get for ``image`` on live ``page``: a rendition of the bytes
    the page's approval signed, at an address naming that hash. Previews and drafts (staff
    only) get Wagtail's own rendition of the image as it is now; a live page whose approval
    does not name the image shows none."""
    if image is None:
        return ""
    previewing = getattr(request, "is_preview", False)
    if previewing or page is None or not getattr(page, "live", False):
        attributes.setdefault("alt", image.default_alt_text)
        return image.get_rendition(spec).img_tag(attributes)
    signed = signed_file(_page_approval(request, page), kind=image._meta.model_name,
                         file_id=image.pk)
    if signed is None or spec not in public_image_filters():
        logger.warning("线上页面 #%s 的图片 #%s 不在签名批准中（或规格 %s 不公开），未显示",
                       page.pk, image.pk, spec)
        return ""
    try:
        path = signed_rendition(image=image, spec=spec, signed=signed)
    except SignedBytesUnavailable:
        logger.error("签名批准的图片无法提供：图片 #%s（SHA-256 %s）", image.pk,
                     signed["sha256"])
        return ""
    if "alt" not in attributes:
        attributes = {**attributes, "alt": signed.get("alt", image.default_alt_text)}
    with path.open("rb") as handle:
        width, height = willow.Image.open(handle).get_size()
    url = reverse("signed_image", args=[image.pk, signed["sha256"], spec])
    return format_html('<img src="{}" width="{}" height="{}"{}>', url, width, height,
                       flatatt(attributes))


@dataclass(frozen=True)
class ShownAttachment:
    """An attachment as readers see it: the signed file name, size and title."""

    url: str
    filename: str
    size: int | None
    title: str

    @property
    def extension(self) -> str:
        return os.path.splitext(self.filename)[1].lstrip(".")


def shown_attachment(*, request, page, item) -> ShownAttachment | None:
    """``item`` (an ArticleAttachment) on ``page`` as readers see it: on a live page, the
    file name, size and title the approval signed (an approval made before titles were
    signed gives the document's title); in previews, the document as it is now. None when a
    live page's approval does not name the document (it is not offered)."""
    document = item.document
    signed = None
    if not getattr(request, "is_preview", False) and getattr(page, "live", False):
        signed = signed_file(_page_approval(request, page), kind=document._meta.model_name,
                             file_id=document.pk)
        if signed is None:
            return None
    filename = signed.get("filename") if signed else document.filename
    size = signed.get("size") if signed else document.get_file_size()
    title = item.title or (signed.get("title") if signed and "title" in signed
                           else document.title)
    return ShownAttachment(url=reverse("attachment", args=[item.pk, filename]),
                           filename=filename, size=size, title=title)


def shown_resource_file(*, request, resource, item) -> ShownAttachment | None:
    """``item`` (a ResourceFile) of live ``resource`` as readers see it in a listing: the
    file name and size its approval signed, whatever replaced the document since. None when
    the approval does not name the document (it is not offered)."""
    document = item.document
    signed = signed_file(_page_approval(request, resource), kind=document._meta.model_name,
                         file_id=document.pk)
    if signed is None:
        return None
    filename = signed.get("filename") or document.filename
    return ShownAttachment(url=reverse("resource_file", args=[item.pk, filename]),
                           filename=filename, size=signed.get("size"),
                           title=signed.get("title") or document.title)


def signed_image(request, image_id: int, sha256: str, spec: str):
    """``/media/images/signed/<id>/<sha256>/<spec>``: the rendition of the signed bytes,
    for the public only while live, public content of this site signed those bytes."""
    image = get_image_model().objects.filter(pk=image_id).first()
    if image is None or spec not in public_image_filters():
        raise Http404("No such image.")
    uses = signed_uses(site=Site.find_for_request(request), image=image, sha256=sha256)
    if not uses:
        raise Http404("No such image.")
    signed = uses[0]
    try:
        path = signed_rendition(image=image, spec=spec, signed=signed)
    except SignedBytesUnavailable:
        return unavailable(what=f"图片 #{image.pk}《{image.title}》", signed=signed)
    response = _image_response(path.open("rb"), path.name)
    # The address names the signed bytes: it never shows anything else.
    response["Cache-Control"] = "public, max-age=86400"
    return response


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
    uses = signed_uses(site=Site.find_for_request(request), image=image)
    if not uses:
        raise Http404("No such image.")
    signed = uses[0]
    try:
        path = signed_rendition(image=image, spec=row.filter_spec, signed=signed)
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


# --- check-live: the bytes readers get of each signed file ------------------------------------


def _file_label(*, kind: str, file_id: int, signed: dict) -> str:
    what = "图片" if kind == get_image_model()._meta.model_name else "文档"
    return f"{what} #{file_id}《{signed.get('title') or signed.get('filename') or ''}》"


class SignedOriginal:
    """What readers get of a signed file is what ``open_signed`` serves: the original kept
    under the signed SHA-256 (a file replaced since is a new version waiting for approval,
    and is neither a finding nor reverted), else the current file while it still has those
    bytes. The answer of the ``review_signed_file`` hook (review.register.filecheck)."""

    def __init__(self, *, kind: str, file_id: int, signed: dict):
        self.kind, self.file_id, self.signed = kind, file_id, signed
        self.sha256 = signed["sha256"]

    def _current(self):
        model = {get_image_model()._meta.model_name: get_image_model(),
                 get_document_model()._meta.model_name: get_document_model()}.get(self.kind)
        return model.objects.filter(pk=self.file_id).first() if model else None

    def _current_holds_signed_bytes(self, current) -> bool:
        if current is None or not current.file:
            return False
        try:
            with current.file.open("rb") as handle:
                return _hash_of(handle) == self.sha256
        except OSError:
            return False

    def _stored_digest(self) -> str | None:
        """The SHA-256 of what the originals store holds under the signed one (None: it
        holds nothing there)."""
        originals = store()
        if not originals.exists(self.sha256):
            return None
        with originals.open(self.sha256) as handle:
            return _hash_of(handle)

    def problem(self) -> str | None:
        try:
            digest = self._stored_digest()
        except Exception as error:  # a bucket that does not answer is a finding, not a crash
            return f"原件库无法读取（{type(error).__name__}）"
        if digest == self.sha256:
            return None
        if digest is not None:
            return f"原件库中签名批准的原件已被改动（现在的 SHA-256 为 {digest[:12]}…）"
        current = self._current()
        if self._current_holds_signed_bytes(current):
            return "原件库中缺少签名批准的原件（读者暂由当前文件得到签名的字节）"
        if current is None:
            return "原件库中缺少签名批准的原件，文件本身也已被删除：读者得不到它"
        return "原件库中缺少签名批准的原件，当前文件也已不同：读者得不到签名批准的文件"

    def restore(self) -> str:
        from backups.originals import capture
        from backups.store import ContentStore
        from review.exceptions import CannotRestore

        label = _file_label(kind=self.kind, file_id=self.file_id, signed=self.signed)
        digest = self._stored_digest()
        if digest == self.sha256:
            return "原件完好，无需恢复"
        current = self._current()
        if not self._current_holds_signed_bytes(current):
            raise CannotRestore(
                f"{label}签名批准的字节（SHA-256 {self.sha256}）在原件库中"
                f"{'已被改动' if digest else '缺失'}，当前文件也不是这些字节。请从站点备份"
                "（manage.py backup pull / restore）或对象存储的锁定版本中取回这个原件，"
                "放回原件库；或重新提交使用它的内容审批（审批将签名当前文件）。")
        originals = store()
        if digest is not None:
            if not isinstance(originals, ContentStore):
                raise CannotRestore(
                    f"{label}在对象锁定的原件库中的原件已被改动，不能覆盖：请在存储桶中恢复"
                    f"对象 {self.sha256} 的锁定版本。")
            # A local copy whose bytes are not its name is no original: the signed bytes,
            # from the current file, take its place.
            originals.remove(self.sha256)
        capture(file_field=current.file, owner=current)
        return "已用当前文件（字节与签名一致）把签名批准的原件放回原件库"


def signed_original(*, kind: str, file_id: int, signed: dict) -> SignedOriginal | None:
    """``review_signed_file``: cms serves documents and images by their signed SHA-256."""
    if kind not in (get_image_model()._meta.model_name, get_document_model()._meta.model_name):
        return None
    return SignedOriginal(kind=kind, file_id=file_id, signed=signed)
