"""What the education network tells site health (review.health) through its hooks: the
columns with their kinds and update intervals (cms.columns), who sees which site's health
(a school its own, the bureau every school), who gets the daily report, and where the baked
public files are."""

import re

from django.db.models import Q
from wagtail import hooks

from cms.columns import UPDATE_INTERVAL_DAYS, ColumnKind

# Roles that run a site and answer for its health (teachers only contribute content).
HEALTH_ROLES = ("administrator", "leader")
_ATTACHMENT = re.compile(r"^/attachments/([0-9]+)/[^/]+$")
_RESOURCE_FILE = re.compile(r"^/attachments/resources/([0-9]+)/[^/]+$")


@hooks.register("review_health_columns")
def health_columns(*, root_page):
    from cms.models import ColumnPage
    from cms.resources.public import resources_listed_by
    from review.health.sources import subtree

    # The subtree as a range on the path index (descendant_of's LIKE cannot use it on SQLite).
    columns = list(subtree(root_page.path, model=ColumnPage).live()
                   .only("pk", "title", "kind", "intro", "path", "depth", "link_url")
                   .order_by("path"))
    by_path = {column.path: column.pk for column in columns}
    described = []
    for column in columns:
        if column.kind == ColumnKind.STATIC:
            own = bool(re.sub(r"<[^>]+>|\s", "", column.intro or ""))
        elif column.kind == ColumnKind.LINK:
            own = True
        else:
            # Teachers' resources are listed below a teaching column's articles.
            own = column.kind in (ColumnKind.TEACHING, ColumnKind.RESEARCH,
                                  ColumnKind.RESOURCES) and (
                resources_listed_by(column=column).exists())
        described.append({
            "id": column.pk, "title": column.title, "kind": column.kind,
            "interval_days": UPDATE_INTERVAL_DAYS.get(column.kind),
            "parent_id": by_path.get(column.path[:-ColumnPage.steplen]),
            "expects_content": column.kind != ColumnKind.LINK, "own_content": own,
        })
    return described


@hooks.register("review_health_scope")
def health_scope(*, user):
    """A school's administrators and leaders see their school; the bureau's see every site."""
    from cms.models import OrganisationRole, PortalPage

    home_ids = set(OrganisationRole.objects.filter(group__user=user, role__in=HEALTH_ROLES)
                   .values_list("home_page_id", flat=True))
    if PortalPage.objects.filter(pk__in=home_ids).exists():
        return True
    return sorted(home_ids)


@hooks.register("review_health_recipients")
def health_recipients(*, root_page):
    from django.contrib.auth import get_user_model

    from cms.models import OrganisationRole, PortalPage

    homes = (list(PortalPage.objects.values_list("pk", flat=True)) if root_page is None
             else [root_page.pk])
    groups = OrganisationRole.objects.filter(home_page_id__in=list(homes), role__in=HEALTH_ROLES)
    return list(get_user_model().objects.filter(
        groups__in=groups.values("group_id"), is_active=True).distinct())


@hooks.register("review_health_baked_root")
def health_baked_root(*, site):
    from cms.baking.engine import bake_root, site_root

    return site_root(root=bake_root(), site=site)


@hooks.register("review_health_internal_target")
def health_internal_target(*, site, path, query):
    """Attachments of live articles and teachers' public resource files, and the baked
    tree; None leaves the rest (pages, documents, media) to review.health."""
    from cms.baking.engine import bake_root, site_root
    from cms.baking.paths import file_for_request
    from cms.models import ArticleAttachment

    match = _ATTACHMENT.match(path)
    if match:
        return ArticleAttachment.objects.filter(pk=int(match.group(1)),
                                                page__live=True).exists()
    match = _RESOURCE_FILE.match(path)
    if match:
        from cms.resources.models import ResourceFile

        return ResourceFile.objects.filter(Q(pk=int(match.group(1)))).exists()
    relative = file_for_request(path=path, query_string=query)
    if relative is not None and (site_root(root=bake_root(), site=site) / relative).is_file():
        return True
    return None
