import re

from django.conf import settings
from django.urls import include, path, re_path
from django.views.decorators.cache import never_cache
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.admin.auth import require_admin_access
from wagtail.api.v3.urls import api
from wagtail.documents import urls as wagtaildocs_urls

from cms import api as cms_api
from cms import signed_files, sitemaps, views
from cms.accounts import reports as confined_reports
from cms.accounts.password_views import AccountView, PasswordResetConfirmView
from cms.feeds import LatestArticlesFeed
from cms.resources.api import router as resources_api
from review.privacy import GuardedPrivacyView
from review.views import AnnouncingWorkflowActionView, ReviewCompareView

# Routers join Wagtail's API v3 before its URLs are built (Django Ninja requires it).
api.add_router("/resources/", resources_api)

_media = re.escape(settings.MEDIA_URL.lstrip("/"))

urlpatterns = [
    # Wagtail's reports, confined to what the viewer may see, on their own addresses.
    *confined_reports.urlpatterns,
    # Wagtail's account page and e-mailed reset link, noting who changed their own password
    # (cms.accounts).
    path("admin/account/", require_admin_access(never_cache(AccountView.as_view())),
         name="wagtailadmin_account"),
    path("admin/password_reset/confirm/<uidb64>/<token>/",
         never_cache(PasswordResetConfirmView.as_view()),
         name="wagtailadmin_password_reset_confirm"),
    # Wagtail's privacy dialog, telling first what the audience guard refuses or takes down.
    path("admin/pages/<int:page_id>/privacy/",
         require_admin_access(never_cache(GuardedPrivacyView.as_view())),
         name="review_set_privacy"),
    # Wagtail's workflow action view, saying what the step led to (review.pipeline.outcomes).
    path("admin/pages/workflow/action/<int:page_id>/<slug:action_name>/<int:task_state_id>/",
         require_admin_access(never_cache(AnnouncingWorkflowActionView.as_view())),
         name="review_workflow_action"),
    # Wagtail's page comparison, showing new content against nothing (review.views).
    re_path(r"^admin/pages/(?P<pk>\d+)/revisions/compare/(?P<revision_id_a>live|earliest|\d+)"
            r"\.\.\.(?P<revision_id_b>live|latest|\d+)/$",
            require_admin_access(never_cache(ReviewCompareView.as_view())),
            name="review_revisions_compare"),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # API v3's index, and its OpenAPI document with the problems it answers (cms/api.py),
    # before Wagtail's own URLs.
    path("api/v3/", cms_api.index, name="api_index"),
    path("api/v3/openapi.json", cms_api.openapi_json, name="api_openapi"),
    path("api/v3/", api.urls),
    path("search/", views.search, name="search"),
    # The public forms for messages and reports, and their status page (cms.interaction).
    path("interaction/", include("cms.interaction.urls")),
    path("attachments/<int:attachment_id>/<str:filename>", views.attachment, name="attachment"),
    path("attachments/resources/<int:file_id>/<str:filename>", views.resource_file,
         name="resource_file"),
    # Images, also in production (nginx passes /media/ here): renditions for the public only
    # of images live content uses, made from the signed bytes (the public templates link to
    # signed/<id>/<sha256>/<spec>, which names the bytes; Wagtail's rendition names serve the
    # admin and pages rendered before); originals for staff only.
    # Nothing else under MEDIA_ROOT is ever served (documents go through the views above).
    re_path(rf"^{_media}images/signed/(?P<image_id>[0-9]+)/(?P<sha256>[0-9a-f]{{64}})/"
            r"(?P<spec>[A-Za-z0-9|.-]{1,100})$", signed_files.signed_image, name="signed_image"),
    re_path(rf"^{_media}images/(?P<name>[^/]+)$", signed_files.rendition,
            name="public_image_rendition"),
    re_path(rf"^{_media}original_images/(?P<name>[^/]+)$", signed_files.original,
            name="image_original"),
    # A sitemap index and its parts (cms.sitemaps).
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<int:number>.xml", sitemaps.part, name="sitemap_part"),
    # Browsers ask every site for /favicon.ico; it is a static file like the others.
    path("favicon.ico", views.favicon, name="favicon"),
    # A site's feed and its columns' (slugs never contain a dot: no page is called feed.xml).
    re_path(r"^(?P<folder>(?:[^/]+/)*)feed\.xml$", LatestArticlesFeed(), name="feed"),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

urlpatterns += [path("", include(wagtail_urls))]
