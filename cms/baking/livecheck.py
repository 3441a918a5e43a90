"""check-live for the baked files: is every file the public is served the one recorded at
publication, rendered after the page's latest publication, and for a page still online?

Plugged into ``publication_log check-live`` through the ``review_live_checks`` hook
(review never imports cms). Each finding restores itself: the file is rendered again from the
signed content (a removed page's file is removed), and a file nobody baked is deleted.
"""

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.db.models import Max
from wagtail.models import Page, Site, get_default_page_content_type

from cms.baking import files, paths
from cms.baking.engine import BakeReport, _Baker, bake_root, page_url_path, site_directory_of
from cms.baking.models import BakedFile
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
    site_names = sites_by_directory().keys()
    public = set(Page.objects.live().public().values_list("pk", flat=True))
    latest_seq = _latest_page_entries()
    findings: list[FileMismatch] = []
    recorded: set[tuple[str, str]] = set()
    records = (BakedFile.objects.order_by("site", "path")
               .values_list("site", "path", "sha256", "page_id", "entry__seq")
               .iterator(chunk_size=5000))
    for count, (site, path, sha256, page_id, entry_seq) in enumerate(records, start=1):
        recorded.add((site, path))
        actual = _sha256_file(root / site / path)
        if site not in site_names:
            reason = "所属网站已不存在，文件却仍在发布"
        elif actual is None:
            reason = "已发布的文件不见了"
        elif actual != sha256:
            reason = "文件内容与发布时记录的 SHA-256 不符"
        elif page_id is not None and page_id not in public:
            reason = "页面已不在线上，文件却仍在发布"
        elif page_id is not None and latest_seq.get(page_id, 0) > (entry_seq or 0):
            reason = f"文件生成于该页面最新的发布登记（第 {latest_seq[page_id]} 条）之前"
        else:
            reason = ""
        if reason:
            findings.append(FileMismatch(site, path, reason, page_id, entry_seq))
        if progress and count % 1000 == 0:
            progress(count)
    findings.extend(_unrecorded_files(root=root, recorded=recorded))
    return findings


def sites_by_directory() -> dict[str, Site]:
    return {site_directory_of(site): site for site in Site.objects.select_related("root_page")}


def _latest_page_entries() -> dict[int, int]:
    rows = (RegisterEntry.objects.filter(content_type=get_default_page_content_type())
            .values("object_id").annotate(latest=Max("seq")).values_list("object_id", "latest"))
    return {int(pk): seq for pk, seq in rows if pk.isdigit()}


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
        if url_path == paths.SITEMAP_PATH:
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
