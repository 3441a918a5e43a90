"""What site health reads: the sites, what the composition root says about them through
hooks, the publication register's dates, and the settings.

Hooks (each optional; the first that answers wins):

``review_health_columns(*, root_page) -> list[dict] | None``
    The site's live columns: ``{"id", "title", "kind", "interval_days", "parent_id",
    "expects_content", "own_content"}`` (``interval_days`` None: never due). Without it a
    site has no columns to watch.
``review_health_recipients(*, root_page) -> list[User]``
    Who gets the site's daily report (its web administrators and leaders); ``root_page``
    None asks for the bureau's people, who get every site's.
``review_health_scope(*, user) -> list[int] | bool``
    The root pages of the sites ``user`` may see the health of; True for all of them (the
    bureau). Without it only superusers see anything.
``review_health_internal_target(*, site, path, query) -> bool | None``
    Whether an internal address exists (True), is gone (False), or the hook cannot tell
    (None: the engine looks at the baked tree, then at pages, documents and media).
``review_health_baked_root(*, site) -> pathlib.Path | None``
    The directory holding the site's baked public files.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Min
from wagtail import hooks
from wagtail.models import Page, Site

from review.exceptions import HealthError
from review.health.fetch import Politeness
from review.health.ledger import Column, Thresholds
from review.register.models import RegisterEntry

STEPLEN = Page.steplen


@dataclass(frozen=True, kw_only=True)
class SiteRef:
    site_id: int
    slug: str
    title: str
    root_page_id: int
    root_path: str
    root_url: str


def setting(name: str, default):
    return getattr(settings, name, default)


def thresholds() -> Thresholds:
    return Thresholds(
        column_warning_fraction=setting("HEALTH_COLUMN_WARNING_FRACTION", 0.7),
        homepage_days=setting("HEALTH_HOMEPAGE_DAYS", 14),
        homepage_warning_days=setting("HEALTH_HOMEPAGE_WARNING_DAYS", 10),
        blank_warning_above=setting("HEALTH_BLANK_COLUMNS_WARNING_ABOVE", 2),
        blank_veto_at=setting("HEALTH_BLANK_COLUMNS_VETO_AT", 5),
        overdue_warning_above=setting("HEALTH_OVERDUE_COLUMNS_WARNING_ABOVE", 6),
        overdue_short_veto_at=setting("HEALTH_OVERDUE_SHORT_COLUMNS_VETO_AT", 5),
        overdue_all_veto_at=setting("HEALTH_OVERDUE_COLUMNS_VETO_AT", 10),
        availability_warning_share=setting("HEALTH_AVAILABILITY_WARNING_SHARE", 0.03),
        availability_veto_share=setting("HEALTH_AVAILABILITY_VETO_SHARE", 0.05),
    )


def politeness() -> Politeness:
    return Politeness(
        concurrency=setting("HEALTH_LINK_CONCURRENCY", 16),
        host_interval=setting("HEALTH_LINK_HOST_INTERVAL", 0.5),
        timeout=setting("HEALTH_LINK_TIMEOUT", 10.0),
        user_agent=setting("HEALTH_USER_AGENT", "SiteHealth/1.0 (link check)"),
        obey_robots=setting("HEALTH_LINK_OBEY_ROBOTS", True),
    )


def _first(name: str, **kwargs):
    for hook in hooks.get_hooks(name):
        answer = hook(**kwargs)
        if answer is not None:
            return answer
    return None


def public_messages() -> dict[int, dict]:
    """Site root page id → {"overdue": n, "over_3_months": n}: valid public messages past
    their reply deadline and unanswered for more than three months, from whichever app takes
    messages (hook ``review_health_public_messages``, returning such a mapping); none if no
    app does."""
    merged: dict[int, dict] = {}
    for hook in hooks.get_hooks("review_health_public_messages"):
        for root_page_id, counts in hook().items():
            entry = merged.setdefault(root_page_id, {"overdue": 0, "over_3_months": 0})
            entry["overdue"] += counts.get("overdue", 0)
            entry["over_3_months"] += counts.get("over_3_months", 0)
    return merged


def all_sites() -> list[SiteRef]:
    refs = []
    for site in Site.objects.select_related("root_page").order_by("-is_default_site",
                                                                    "site_name", "pk"):
        root = site.root_page
        refs.append(SiteRef(site_id=site.pk, slug=root.slug, title=site.site_name or root.title,
                            root_page_id=root.pk, root_path=root.path, root_url=site.root_url))
    return refs


def sites(*, slug: str | None = None, user=None) -> list[SiteRef]:
    """The sites asked for (all, or the one with root page slug ``slug``), confined to what
    ``user`` may see when given. HealthError for an unknown slug."""
    found = all_sites()
    if slug is not None:
        found = [site for site in found if site.slug == slug]
        if not found:
            known = "、".join(site.slug for site in all_sites()) or "（无）"
            raise HealthError(f"没有标识为“{slug}”的网站。现有网站：{known}。")
    if user is not None:
        visible = visible_root_pages(user)
        if visible is not None:
            found = [site for site in found if site.root_page_id in visible]
    return found


def visible_root_pages(user) -> set[int] | None:
    """Root pages of the sites ``user`` may see the health of; None for all."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return None
    answer = _first("review_health_scope", user=user)
    return None if answer is True else set(answer or ())


def user_sees_all(user) -> bool:
    return visible_root_pages(user) is None


def columns_of(site: SiteRef) -> list[Column]:
    root = Page.objects.get(pk=site.root_page_id)
    described = _first("review_health_columns", root_page=root) or []
    return [Column(id=item["id"], title=item["title"], kind=item.get("kind", ""),
                   interval_days=item.get("interval_days"), parent_id=item.get("parent_id"),
                   expects_content=item.get("expects_content", True),
                   own_content=item.get("own_content", False)) for item in described]


def recipients(*, root_page) -> list:
    return list(_first("review_health_recipients", root_page=root_page) or [])


def internal_target(*, site: Site, path: str, query: str) -> bool | None:
    return _first("review_health_internal_target", site=site, path=path, query=query)


def baked_root(site: Site) -> Path | None:
    return _first("review_health_baked_root", site=site)


@dataclass(frozen=True, kw_only=True)
class Dates:
    """From the publication register: per column, the last publication of live content in it
    or below it, and the column's own first publication; per site the same for the site."""

    column_last: dict[int, datetime.datetime]
    column_opened: dict[int, datetime.datetime]
    site_last: datetime.datetime | None
    site_opened: datetime.datetime | None
    has_content: set[int]


def subtree(path: str, *, model=Page):
    """The pages below ``path`` as a range on the path's unique index (a LIKE prefix cannot
    use it on SQLite): every descendant's path is the prefix followed by characters of the
    tree's alphabet, so it lies between the prefix and the prefix padded with the alphabet's
    last character, in any collation that orders that alphabet as ASCII does."""
    last = Page.alphabet[-1]
    return model.objects.filter(path__gt=path, path__lte=path + last * (255 - len(path)))


def _entries():
    return RegisterEntry.objects.filter(kind=RegisterEntry.Kind.PUBLICATION,
                                        content_type=ContentType.objects.get_for_model(Page))


def _chunks(items: list, size: int = 500):
    for index in range(0, len(items), size):
        yield items[index:index + size]


def _latest_of(page_ids: list[int]) -> datetime.datetime | None:
    latest = [_entries().filter(object_id__in=[str(pk) for pk in chunk])
              .aggregate(last=Max("published_at"))["last"] for chunk in _chunks(page_ids)]
    latest = [moment for moment in latest if moment is not None]
    return max(latest) if latest else None


def network_dates(*, sites: list[SiteRef], columns: dict[int, list[Column]],
                  now: datetime.datetime, window_days: int) -> dict[int, Dates]:
    """The register's dates for every site at once (by site id).

    The register is read newest first (its index on publication time) and the read stops
    once every column with live content and every site has its last publication, or at
    entries older than ``window_days`` before ``now`` (the longest interval: an older column
    is overdue either way); a column still without a date then gets it from its own pages'
    entries only. A network whose columns are kept up to date reads a few recent entries,
    not its history; nothing walks all pages.
    """
    column_ids = [column.id for site in sites for column in columns[site.site_id]]
    not_content = set(column_ids) | {site.root_page_id for site in sites}
    paths = dict(Page.objects.filter(pk__in=column_ids).values_list("pk", "path"))
    column_at = {paths[pk]: pk for pk in column_ids if pk in paths}
    site_at = {site.root_path: site.site_id for site in sites}
    root_depth = {len(site.root_path) for site in sites}

    def content_under(path: str):
        return subtree(path).filter(live=True).exclude(pk__in=not_content)

    has_content = {site.site_id: {pk for pk in (column.id for column in columns[site.site_id])
                                  if pk in paths and content_under(paths[pk]).exists()}
                   for site in sites}
    wanted_sites = {site.site_id for site in sites if content_under(site.root_path).exists()}
    wanted_columns = set().union(*has_content.values()) if has_content else set()

    column_last: dict[int, datetime.datetime] = {}
    site_last: dict[int, datetime.datetime] = {}
    horizon = now - datetime.timedelta(days=window_days + 1)
    entries = (_entries().filter(published_at__gte=horizon).order_by("-published_at")
               .values_list("object_id", "published_at"))
    done = not (wanted_columns or wanted_sites)
    offset, size = 0, 2000
    while not done:
        chunk = list(entries[offset:offset + size])
        offset += size
        if not chunk:
            break
        ids = [int(object_id) for object_id, _at in chunk if object_id.isdigit()]
        page_paths = dict(Page.objects.filter(pk__in=ids, live=True)
                          .exclude(pk__in=not_content).values_list("pk", "path"))
        for object_id, published_at in chunk:
            path = page_paths.get(int(object_id)) if object_id.isdigit() else None
            if path is None:
                continue
            for depth in root_depth:
                site_id = site_at.get(path[:depth])
                if site_id is not None:
                    site_last.setdefault(site_id, published_at)
            for end in range(STEPLEN, len(path), STEPLEN):
                column_id = column_at.get(path[:end])
                if column_id is not None:
                    column_last.setdefault(column_id, published_at)
            if wanted_columns <= column_last.keys() and wanted_sites <= site_last.keys():
                done = True
                break
    for column_id in wanted_columns - column_last.keys():
        latest = _latest_of(list(content_under(paths[column_id]).values_list("pk", flat=True)))
        if latest is not None:
            column_last[column_id] = latest
    for site in sites:
        if site.site_id in wanted_sites and site.site_id not in site_last:
            latest = _latest_of(list(content_under(site.root_path)
                                     .values_list("pk", flat=True)))
            if latest is not None:
                site_last[site.site_id] = latest

    # When each column and home page first went live: the clock of one without content.
    opened: dict[int, datetime.datetime] = {}
    for chunk in _chunks(sorted(not_content)):
        rows = (_entries().filter(object_id__in=[str(pk) for pk in chunk]).values("object_id")
                .annotate(first=Min("published_at")).order_by())
        opened.update({int(row["object_id"]): row["first"] for row in rows})
    return {site.site_id: Dates(
        column_last={column.id: column_last[column.id] for column in columns[site.site_id]
                     if column.id in column_last},
        column_opened={column.id: opened[column.id] for column in columns[site.site_id]
                       if column.id in opened},
        site_last=site_last.get(site.site_id), site_opened=opened.get(site.root_page_id),
        has_content=has_content[site.site_id]) for site in sites}
