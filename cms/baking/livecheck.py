"""check-live for the baked files: is every file the public is served the one recorded at
publication, rendered after the latest publication it shows (``Freshness``: a page's own, or
for listings, homes, feeds and sitemaps, of what they list), and for a page still online? Has
every live public page of a baked site its file?

Plugged into ``publication_log check-live`` through the ``review_live_checks`` hook
(review never imports cms). Each finding restores itself: the file is rendered again from the
signed content (a removed page's file is removed), and a file nobody baked is deleted.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max
from django.utils import timezone
from wagtail.models import Page, Site, get_default_page_content_type

from cms.baking import files, paths
from cms.baking.engine import (
    PENDING_GRACE,
    BakeReport,
    _Baker,
    bake_root,
    page_url_path,
    reconcile_pending,
    site_directory_of,
)
from cms.baking.models import BakedFile
from cms.columns import ColumnKind
from cms.models import ArticlePage, ColumnPage, PortalPage
from review.models import RegisterEntry

# A temporary file younger than this is a bake in progress, not a finding.
TEMPORARY_GRACE_SECONDS = 600


@dataclass(frozen=True)
class FileMismatch:
    site: str
    path: str
    reason: str
    page_id: int | None = None
    entry_seq: int | None = None

    @property
    def model(self) -> str:  # for notifications: the page's staff hear of it
        return "wagtailcore.page" if self.page_id else "file"

    @property
    def object_id(self) -> str:
        return str(self.page_id or "")

    def __str__(self) -> str:
        where = f"（发布登记第 {self.entry_seq} 条）" if self.entry_seq else ""
        return f"文件 {self.site}/{self.path}：{self.reason}{where}"

    def restore(self, *, user=None) -> str:
        return restore_file(site=self.site, path=self.path)


def _sha256_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def check_files(*, root: Path | None = None, progress: Callable[[int], None] | None = None
                ) -> list[FileMismatch]:
    root = root or bake_root()
    # Records a crash left pending are settled by what is on disk first (bookkeeping only:
    # no public file changes), so an interrupted bake is not reported as tampering.
    reconcile_pending(root=root)
    sites = sites_by_directory()
    public = set(Page.objects.live().public().values_list("pk", flat=True))
    freshness = Freshness.read(sites=sites)
    in_progress = timezone.now() - PENDING_GRACE
    findings: list[FileMismatch] = []
    recorded: set[tuple[str, str]] = set()
    records = (BakedFile.objects.order_by("site", "path")
               .values_list("site", "path", "sha256", "page_id", "entry__seq",
                            "pending_sha256", "baked_at")
               .iterator(chunk_size=5000))
    for count, (site, path, sha256, page_id, entry_seq, pending, baked_at) in enumerate(
            records, start=1):
        recorded.add((site, path))
        if pending and baked_at > in_progress:
            continue  # a bake is writing it right now
        actual = _sha256_file(root / site / path)
        required = freshness.required(site=site, path=path, page_id=page_id)
        if site not in sites:
            reason = "所属网站已不存在，文件却仍在发布"
        elif actual is None:
            reason = "已发布的文件不见了"
        elif actual != sha256:
            reason = "文件内容与发布时记录的 SHA-256 不符"
        elif page_id is not None and page_id not in public:
            reason = "页面已不在线上，文件却仍在发布"
        elif required > (entry_seq or 0):
            reason = f"文件生成于它应当反映的最新发布登记（第 {required} 条）之前"
        else:
            reason = ""
        if reason:
            findings.append(FileMismatch(site, path, reason, page_id, entry_seq))
        if progress and count % 1000 == 0:
            progress(count)
    findings.extend(_missing_page_files(root=root, sites=sites, public=public,
                                        recorded=recorded))
    findings.extend(_unrecorded_files(root=root, recorded=recorded))
    return findings


def sites_by_directory() -> dict[str, Site]:
    return {site_directory_of(site): site for site in Site.objects.select_related("root_page")}


@dataclass
class Freshness:
    """The latest publication register entry each baked file must reflect.

    What a publication re-renders (cms.baking.plan) decides it: a page's own file, its own
    latest entry; a column's listing pages and feed, the latest entry of any page beneath it
    (it lists them); a site's home page, feed and sitemap, the latest entry of any page of the
    site; the portal's home, of any page of the network. A publication of anything but an
    article (a column, a home page) changes the navigation of every page of its site, so
    every file of the site must reflect it. Takedowns are entries too, so a listing that
    still shows a taken-down article is stale."""

    latest: dict[int, int]  # page id → its latest entry's seq
    pages: dict[int, tuple[str, bool]]  # page id → (tree path, is an article)
    beneath: dict[str, int]  # tree path → the latest seq of the page or any page beneath it
    site_latest: dict[str, int]  # site directory → the latest seq of any page of the site
    site_chrome: dict[str, int]  # site directory → the latest seq of a non-article page
    # (site directory, sitemap part) → the latest seq of a page of the site the part lists
    site_parts: dict[tuple[str, int], int]
    portal_id: int | None
    network_latest: int

    @classmethod
    def read(cls, *, sites: dict[str, Site]) -> "Freshness":
        latest = _latest_page_entries()
        article_type = ContentType.objects.get_for_model(ArticlePage).pk
        pages = {pk: (path, content_type == article_type) for pk, path, content_type
                 in Page.objects.values_list("pk", "path", "content_type_id").iterator()}
        # A page belongs to the site of the deepest site root above it.
        roots = sorted(((site.root_page.path, name) for name, site in sites.items()),
                       key=lambda root: -len(root[0]))
        beneath: dict[str, int] = {}
        site_latest: dict[str, int] = {}
        site_chrome: dict[str, int] = {}
        site_parts: dict[tuple[str, int], int] = {}
        for pk, seq in latest.items():
            if pk not in pages:
                continue  # deleted
            path, is_article = pages[pk]
            for end in range(Page.steplen, len(path) + 1, Page.steplen):
                beneath[path[:end]] = max(beneath.get(path[:end], 0), seq)
            site = next((name for root, name in roots if path.startswith(root)), None)
            if site is not None:
                site_latest[site] = max(site_latest.get(site, 0), seq)
                part = (site, paths.sitemap_part_of(pk))
                site_parts[part] = max(site_parts.get(part, 0), seq)
                if not is_article:
                    site_chrome[site] = max(site_chrome.get(site, 0), seq)
        return cls(latest=latest, pages=pages, beneath=beneath, site_latest=site_latest,
                   site_chrome=site_chrome, site_parts=site_parts,
                   portal_id=PortalPage.objects.values_list("pk", flat=True).first(),
                   network_latest=max(latest.values(), default=0))

    def required(self, *, site: str, path: str, page_id: int | None) -> int:
        if page_id is None:  # the sitemap index: every page of the site; a part: its pages
            part = paths.sitemap_part_number(f"/{path}")
            if part is not None:
                return self.site_parts.get((site, part), 0)
            return self.site_latest.get(site, 0)
        if page_id == self.portal_id:
            return self.network_latest
        if page_id not in self.pages:
            return 0
        tree_path, is_article = self.pages[page_id]
        own = self.latest.get(page_id, 0) if is_article else self.beneath.get(tree_path, 0)
        return max(own, self.site_chrome.get(site, 0))


def _latest_page_entries() -> dict[int, int]:
    rows = (RegisterEntry.objects.filter(content_type=get_default_page_content_type())
            .values("object_id").annotate(latest=Max("seq")).values_list("object_id", "latest"))
    return {int(pk): seq for pk, seq in rows if pk.isdigit()}


def _missing_page_files(*, root: Path, sites: dict[str, Site], public: set[int],
                        recorded: set[tuple[str, str]]) -> list[FileMismatch]:
    """Live public pages of a baked site without a file (their bake never ran: the process
    was killed after the publication committed). A link column redirects: it has none."""
    findings = []
    link_columns = set(ColumnPage.objects.filter(kind=ColumnKind.LINK)
                       .values_list("pk", flat=True))
    baked_sites = {name for name in sites if (root / name).is_dir()}
    for name in sorted(baked_sites):
        site = sites[name]
        pages = (Page.objects.live().public().descendant_of(site.root_page, inclusive=True)
                 .filter(pk__in=public).exclude(pk__in=link_columns).order_by("path"))
        for page in pages.iterator():
            url_path = page_url_path(page, site.pk)
            relative = paths.file_for_url(url_path=url_path) if url_path else None
            if relative is not None and (name, str(relative)) not in recorded:
                findings.append(FileMismatch(name, str(relative), "页面已发布，却没有静态文件",
                                             page.pk))
    return findings


def _unrecorded_files(*, root: Path, recorded: set[tuple[str, str]]) -> list[FileMismatch]:
    """Files in the served tree that no bake recorded: planted, or left by a crash."""
    if not root.is_dir():
        return []
    now = time.time()
    findings = []
    for site_dir in sorted(root.iterdir()):
        if not site_dir.is_dir():
            continue  # the tree's own state file
        for path in sorted(files.files_under(site_dir)):
            relative = path.relative_to(site_dir).as_posix()
            if (site_dir.name, relative) in recorded:
                continue
            if (path.name.startswith(files.TEMP_PREFIX) and path.name.endswith(files.TEMP_SUFFIX)
                    and now - path.stat().st_mtime < TEMPORARY_GRACE_SECONDS):
                continue
            findings.append(FileMismatch(site_dir.name, relative, "没有发布记录的文件"))
    return findings


def restore_file(*, site: str, path: str, root: Path | None = None) -> str:
    """Make ``site/path`` what a bake makes it now: the page's current signed rendering, or
    no file when no live public page answers there."""
    root = root or bake_root()
    relative = PurePosixPath(path)
    site_obj = sites_by_directory().get(site)
    url = paths.url_for_file(relative)
    baker = _Baker(root=root, report=BakeReport())
    if site_obj is not None and url is not None:
        url_path, page_number = url
        baker.sites[site_obj.pk] = site_obj
        if paths.is_sitemap(url_path):
            baker.put(site_id=site_obj.pk, url_path=url_path)
        else:
            page = _page_at(site=site_obj, url_path=paths.page_url_of(url_path))
            if page is not None:
                baker.put(site_id=site_obj.pk, url_path=url_path, page_number=page_number,
                          page_id=page.pk)
        baker.flush()
        if (root / site / relative) in baker.report.current:
            return "已按签名批准的内容重新生成"
    BakedFile.objects.filter(site=site, path=path).delete()
    files.remove_file(path=root / site / relative, stop_at=root)
    return "已删除（不应公开的文件）"


def _page_at(*, site: Site, url_path: str) -> Page | None:
    """The live public page at ``url_path`` on ``site``."""
    full_path = site.root_page.url_path + url_path.lstrip("/")
    page = Page.objects.live().public().filter(url_path=full_path).first()
    if page is None or page_url_path(page, site.pk) != url_path:
        return None
    return page
