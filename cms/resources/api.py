"""Teachers' public resources in the headless API v3: what the public site lists, read-only.

``GET /api/v3/resources/`` and ``GET /api/v3/resources/{id}/`` answer anyone with the live,
public resources of the site named by the request's host (a school's site: its own; the
bureau's portal: every school's), newest first. Drafts, internal and taken-down resources
are never here (404 for their ids). Files link to the same download as the site
(``/attachments/resources/…``), which serves them only while the resource is live and public.
"""

import datetime

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from wagtail.models import Site

from cms.models import SchoolHomePage
from cms.resources.public import live_public_resources

router = Router(tags=["resources"])


class ResourceFileOut(Schema):
    filename: str
    url: str
    file_size: int | None
    sha256: str


class ResourceOut(Schema):
    id: int
    registry_number: str
    title: str
    kind: str
    kind_label: str
    subject: str
    grade: str
    semester: str
    school: str
    description: str
    first_published_at: datetime.datetime | None
    files: list[ResourceFileOut]

    @staticmethod
    def resolve_kind_label(resource) -> str:
        return resource.get_kind_display()

    @staticmethod
    def resolve_semester(resource) -> str:
        return resource.semester.code

    @staticmethod
    def resolve_school(resource) -> str:
        return resource.school.slug

    @staticmethod
    def resolve_files(resource, context) -> list[dict]:
        request = context["request"]
        return [{
            "filename": item.document.filename,
            "url": request.build_absolute_uri(
                reverse("resource_file", args=[item.pk, item.document.filename])),
            "file_size": item.document.file_size, "sha256": item.sha256,
        } for item in resource.files.all()]


def _site_resources(request: HttpRequest):
    resources = (live_public_resources().select_related("school", "semester")
                 .prefetch_related("files__document").order_by("-first_published_at", "-pk"))
    site = Site.find_for_request(request)
    if site is None:
        return resources.none()
    school = SchoolHomePage.objects.filter(pk=site.root_page_id).first()
    return resources.filter(school=school) if school is not None else resources


@router.get("/", response=list[ResourceOut], url_name="resources_listing",
            summary="Live public resources of the site", auth=None)
@paginate(LimitOffsetPagination)
def list_resources(request: HttpRequest):
    return _site_resources(request)


@router.get("/{resource_id}/", response=ResourceOut, url_name="resources_detail",
            summary="A live public resource", auth=None)
def get_resource(request: HttpRequest, resource_id: int):
    resource = _site_resources(request).filter(pk=resource_id).first()
    if resource is None:
        raise Http404("No such resource.")
    return resource
