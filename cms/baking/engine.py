"""Baking: render the planned targets and write, replace or remove their files.

The tree is ``BAKE_DIR/<site directory>/`` (``paths``); files are replaced atomically and only
when their bytes change (``files``), so an unchanged page keeps its Last-Modified. A page that
is not live and public, or no longer answers 200, has its file removed. Every file written
is recorded (``BakedFile``) with its SHA-256 and the register entry it reflects; a removed
file's record goes with it.
"""

import datetime
import functools
import json
import logging
import multiprocessing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from wagtail.models import Page, Site, get_default_page_content_type

from cms.baking import files, paths
from cms.baking.audience import write_restricted
from cms.baking.models import DELETING, BakedFile
from cms.baking.plan import Kind, Plan, Target
from cms.baking.render import render
from cms.models import ArticlePage, ColumnPage
from review.models import RegisterEntry, RegisterHead

logger = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
STATE_FILE = ".bake-state.json"
RECORD_BATCH = 1000
CHUNK = 250  # targets loaded together (and handed to a worker process) at a time
# A record announced this long ago without being completed was left by a crash, not by a bake
# still running (a bake renders a file in well under a second; a chunk in well under this).
PENDING_GRACE = datetime.timedelta(minutes=10)


@dataclass
class BakeReport:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    # Every file of the tree that is current after this bake (for pruning whole sites).
    current: set[Path] = field(default_factory=set)
    # URLs whose rendering failed (a server error): their old files are kept.
    failed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"写入 {self.written} 个文件，未变 {self.unchanged} 个，删除 {self.removed} 个"
        return text + (f"，失败 {len(self.failed)} 个" if self.failed else "")

    def add(self, other: "BakeReport") -> None:
        self.written += other.written
        self.unchanged += other.unchanged
        self.removed += other.removed
        self.current |= other.current
        self.failed += other.failed


def bake_root() -> Path:
    return Path(settings.BAKE_DIR)


def site_directory_of(site: Site) -> str:
    return paths.site_directory(hostname=site.hostname, port=site.port)


def site_root(*, root: Path, site: Site) -> Path:
    return root / site_directory_of(site)


def page_url_path(page: Page, site_id: int) -> str | None:
    """The page's decoded URL path on its site, None if it is not on ``site_id``."""
    parts = page.get_url_parts()
    if parts is None or parts[0] != site_id:
        return None
    return unquote(parts[2])


class _Baker:
    def __init__(self, *, root: Path, report: BakeReport,
                 full_sites: frozenset[int] = frozenset(), fresh_since: int | None = None):
        self.root = root
        self.report = report
        # A file whose record already reflects this register seq (another task rendered it
        # after the events this bake is for) is left as it is: a burst of approvals does not
        # render the same listings and homes once per approval.
        self.fresh_since = fresh_since
        # Sites rebuilt whole: every file rendered again (their chrome may have changed).
        self.full_sites = full_sites
        self.sites: dict[int, Site] = {}
        # Read before rendering anything: what is rendered reflects at least this entry.
        self.entry_id = register_head_entry_id()
        self.records: dict[tuple[str, str], BakedFile] = {}

    def site(self, site_id: int) -> Site:
        if site_id not in self.sites:
            self.sites[site_id] = Site.objects.select_related("root_page").get(pk=site_id)
        return self.sites[site_id]

    def site_dir(self, site_id: int) -> Path:
        return site_root(root=self.root, site=self.site(site_id))

    def site_name(self, site_id: int) -> str:
        return self.site_dir(site_id).name

    def put(self, *, site_id: int, url_path: str, page_number: int = 1,
            page: Page | None = None, page_id: int | None = None,
            serve_kwargs: Mapping[str, Any] | None = None, inputs: str = "") -> None:
        """Render ``url_path`` and write its file; ``page``, when given, is the specific page
        at ``url_path`` itself (not at a feed of it), which spares routing to it, and
        ``serve_kwargs`` what its ``serve`` (and ``get_context``) are given (render), and
        ``inputs`` the fingerprint of what an archive page shows (recorded with it)."""
        relative = paths.file_for_url(url_path=url_path, page_number=page_number)
        if relative is None:
            return
        target = self.site_dir(site_id) / relative
        if self.fresh_since is not None and self.is_fresh(site_id=site_id, relative=relative):
            self.report.unchanged += 1
            self.report.current.add(target)
            return
        rendered = render(site=self.site(site_id), url_path=url_path, page_number=page_number,
                          page=page, serve_kwargs=serve_kwargs)
        page_id = page.pk if page is not None else page_id
        if rendered.status >= 500:  # keep what readers had; `bake` tries again next time
            logger.error("静态化失败：%s%s 返回 %s", self.site_name(site_id), url_path,
                         rendered.status)
            self.report.failed.append(f"{self.site_name(site_id)}{url_path}"
                                      + (f"?page={page_number}" if page_number > 1 else ""))
            self.report.current.add(target)  # kept: a full rebuild does not prune it either
            return
        if rendered.status != 200:  # a redirect (link column), gone, refused: not a file
            self.drop(site_id=site_id, relative=relative)
            return
        self.write(site_id=site_id, relative=relative, data=rendered.content, page_id=page_id,
                   inputs=inputs)

    def is_fresh(self, *, site_id: int, relative: PurePosixPath) -> bool:
        """Whether the file exists and its record reflects ``fresh_since`` or later."""
        row = (BakedFile.objects.filter(site=self.site_name(site_id), path=str(relative),
                                        pending_sha256="", entry__seq__gte=self.fresh_since)
               .exists())
        return row and (self.site_dir(site_id) / relative).is_file()

    def write(self, *, site_id: int, relative: PurePosixPath, data: bytes,
              page_id: int | None, inputs: str = "") -> None:
        """Put the file in place, recorded before it is renamed there (``announce``)."""
        target = self.site_dir(site_id) / relative
        sha256 = files.sha256_bytes(data)
        announce = functools.partial(self.announce, site_id=site_id, relative=relative,
                                     sha256=sha256, page_id=page_id)
        if files.write_atomically(path=target, data=data, before_replace=announce):
            self.report.written += 1
        else:
            self.report.unchanged += 1
        self.report.current.add(target)
        self.record(site_id=site_id, relative=relative, sha256=sha256, size=len(data),
                    page_id=page_id, inputs=inputs)

    def announce(self, *, site_id: int, relative: PurePosixPath, sha256: str,
                 page_id: int | None) -> None:
        """Record the file as about to become ``sha256`` (committed before the rename): a
        crash between this and the completed record leaves a row that says so, which
        ``reconcile_pending`` settles by what is on disk. A new file's row claims no
        bytes yet; an existing one keeps its own until completed."""
        BakedFile.objects.bulk_create(
            [BakedFile(site=self.site_name(site_id), path=str(relative), sha256="", size=0,
                       page_id=page_id, entry_id=self.entry_id, baked_at=timezone.now(),
                       pending_sha256=sha256)],
            update_conflicts=True, unique_fields=["site", "path"],
            update_fields=["pending_sha256", "page", "entry", "baked_at"])

    def record(self, *, site_id: int, relative: PurePosixPath, sha256: str, size: int,
               page_id: int | None, inputs: str = "") -> None:
        """Remember the file's hash, written with the next batch (an unchanged file's row
        too: its ``entry`` moves on to the register state it was just rendered from)."""
        key = (self.site_name(site_id), str(relative))
        self.records[key] = BakedFile(site=key[0], path=key[1], sha256=sha256, size=size,
                                      page_id=page_id, entry_id=self.entry_id,
                                      baked_at=timezone.now(), pending_sha256="",
                                      inputs=inputs)
        if len(self.records) >= RECORD_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.records:
            BakedFile.objects.bulk_create(
                list(self.records.values()), update_conflicts=True,
                unique_fields=["site", "path"],
                update_fields=["sha256", "size", "page", "entry", "baked_at", "pending_sha256",
                               "inputs"])
            self.records.clear()

    def drop(self, *, site_id: int, relative: PurePosixPath) -> None:
        """Remove the file and its record: the record marked first, deleted once the file is
        gone (a crash between leaves a row ``reconcile_pending`` settles)."""
        site_dir = self.site_dir(site_id)
        key = (self.site_name(site_id), str(relative))
        self.records.pop(key, None)
        rows = BakedFile.objects.filter(site=key[0], path=key[1])
        rows.update(pending_sha256=DELETING)
        if files.remove_file(path=site_dir / relative, stop_at=site_dir):
            self.report.removed += 1
        rows.delete()

    def bake_many(self, targets: list[Target], progress: Callable[[], None] | None = None
                  ) -> None:
        """Bake targets, their pages loaded together (specific, with who may see them)."""
        ids = {target.page_id for target in targets if target.page_id is not None}
        pages = {page.pk: page for page in Page.objects.filter(pk__in=ids).specific()}
        public = set(Page.objects.live().public().filter(pk__in=ids)
                     .values_list("pk", flat=True))
        for target in targets:
            self.bake(target, page=pages.get(target.page_id), public=target.page_id in public)
            if progress is not None:
                progress()

    def bake(self, target: Target, *, page: Page | None, public: bool) -> None:
        if target.kind == Kind.SITEMAP:
            self.bake_sitemap(site_id=target.site_id, page_id=target.page_id)
            return
        if page is None:
            return
        url_path = page_url_path(page, target.site_id)
        if url_path is None or paths.file_for_url(url_path=url_path) is None:
            return
        if target.kind == Kind.PAGE:
            urls = [(url_path, page)]  # the page itself: rendered without routing to it
            # A listing's feed (a column's, the site's for its home) changes with it.
            if isinstance(page, ColumnPage) or page.pk == self.site(target.site_id).root_page_id:
                urls.append((paths.feed_url(url_path), None))
            for url, routed in urls:
                if public:
                    self.put(site_id=target.site_id, url_path=url, page=routed, page_id=page.pk)
                else:
                    self.drop(site_id=target.site_id, relative=paths.file_for_url(url_path=url))
        elif target.kind == Kind.LISTING_REST:
            self.bake_listing_rest(page=page, site_id=target.site_id, url_path=url_path,
                                   public=public)

    def bake_listing_rest(self, *, page: Page, site_id: int, url_path: str,
                          public: bool) -> None:
        """A column's archive pages (``cms.baking.listing``: numbered from the oldest), those
        beyond the newest removed. Outside a whole-site rebuild, an archive page is rendered
        only when what it shows changed (``Listing.archive_inputs`` differs from its
        record's): a publication in a long column renders the newest page or two, not every
        page. A page left as it is has its record moved on to the register head (it was
        checked against it)."""
        numbers = range(0)
        name = self.site_name(site_id)
        folder = paths.file_for_url(url_path=url_path).parent
        prefix = "" if str(folder) == "." else f"{folder}/"
        if public and isinstance(page, ColumnPage):
            listing = page.listing().read()  # the column's list read once for all its pages
            numbers = listing.archive_pages
            force = site_id in self.full_sites
            recorded = {} if force else dict(
                BakedFile.objects.filter(site=name, path__startswith=f"{prefix}index-page",
                                         pending_sha256="")
                .values_list("path", "inputs"))
            revisions = dict(ArticlePage.objects.descendant_of(page).live()
                             .values_list("pk", "live_revision_id"))
            kept = []
            for number in numbers:
                relative = paths.file_for_url(url_path=url_path, page_number=number)
                inputs = listing.archive_inputs(number=number, article_revisions=revisions)
                target = self.site_dir(site_id) / relative
                if recorded.get(str(relative)) == inputs and target.is_file():
                    kept.append(str(relative))
                    self.report.unchanged += 1
                    self.report.current.add(target)
                    continue
                self.put(site_id=site_id, url_path=url_path, page_number=number, page=page,
                         serve_kwargs={"listing": listing}, inputs=inputs)
            for start in range(0, len(kept), RECORD_BATCH):
                BakedFile.objects.filter(site=name, path__in=kept[start:start + RECORD_BATCH]
                                         ).update(entry_id=self.entry_id, baked_at=timezone.now())
        directory = self.site_dir(site_id) / folder
        if directory.is_dir():
            for existing in list(directory.iterdir()):
                number = paths.listing_page_number(existing.name)
                if (number is not None and number > 1 and number not in numbers
                        and existing.is_file()):
                    self.drop(site_id=site_id,
                              relative=existing.relative_to(self.site_dir(site_id)))

    def bake_sitemap(self, *, site_id: int, page_id: int | None) -> None:
        """The sitemap index and the part listing ``page_id`` (cms.sitemaps), or every part
        (and no file for a part that lists nothing any more) when ``page_id`` is None."""
        self.put(site_id=site_id, url_path=paths.SITEMAP_PATH)
        if page_id is not None:
            numbers = {paths.sitemap_part_of(page_id)}
        else:
            site = self.site(site_id)
            pages = (Page.objects.live().public().descendant_of(site.root_page, inclusive=True)
                     .values_list("pk", flat=True))
            numbers = {paths.sitemap_part_of(pk) for pk in pages.iterator()}
            for existing in self.site_dir(site_id).glob("sitemap-*.xml"):
                number = paths.sitemap_part_number(f"/{existing.name}")
                if number is not None and number not in numbers:
                    self.drop(site_id=site_id, relative=PurePosixPath(existing.name))
        for number in sorted(numbers):  # put drops the file of a part that lists nothing
            self.put(site_id=site_id, url_path=paths.sitemap_part_path(number))

    def prune(self, site_id: int) -> None:
        """Remove every file of a fully rebuilt site that this bake did not produce, and the
        records of files it no longer has."""
        self.flush()
        site_dir = self.site_dir(site_id)
        # Records of files this bake did not produce are marked first (as ``drop`` does).
        current = {str(path.relative_to(site_dir)) for path in self.report.current
                   if site_dir in path.parents}
        stale = [pk for pk, path in BakedFile.objects.filter(site=site_dir.name)
                 .values_list("pk", "path").iterator() if path not in current]
        for start in range(0, len(stale), RECORD_BATCH):
            BakedFile.objects.filter(pk__in=stale[start:start + RECORD_BATCH]).update(
                pending_sha256=DELETING)
        for path in files.files_under(site_dir):
            if path not in self.report.current:
                files.remove_file(path=path, stop_at=site_dir)
                self.report.removed += 1
        for start in range(0, len(stale), RECORD_BATCH):
            BakedFile.objects.filter(pk__in=stale[start:start + RECORD_BATCH]).delete()


def reconcile_pending(*, root: Path, older_than: datetime.timedelta = PENDING_GRACE) -> int:
    """Settle the records a crash left pending (announced, not completed) by what is on
    disk; rows announced less than ``older_than`` ago belong to a bake still running. The
    new bytes in place: the record is completed. The old bytes still there: the record
    keeps them but claims no register entry any more (check-live reports the file stale if a
    publication affects it, and the next bake rewrites it). No file (never created, or
    removed): the record goes. A file that is neither is left for check-live to report."""
    settled = 0
    cutoff = timezone.now() - older_than
    rows = BakedFile.objects.exclude(pending_sha256="").filter(baked_at__lte=cutoff)
    for record in rows.iterator():
        path = root / record.site / record.path
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            data = None
        actual = files.sha256_bytes(data) if data is not None else None
        if actual is None:
            BakedFile.objects.filter(pk=record.pk).delete()
        elif actual == record.pending_sha256:
            BakedFile.objects.filter(pk=record.pk).update(sha256=actual, size=len(data),
                                                         pending_sha256="")
        elif actual == record.sha256:
            BakedFile.objects.filter(pk=record.pk).update(entry=None, pending_sha256="")
        else:
            continue
        settled += 1
    if settled:
        logger.warning("静态化：%s 个文件的记录在中断后已按磁盘上的文件更正", settled)
    return settled


def bake_plan(*, plan: Plan, root: Path | None = None, progress: Progress | None = None,
              jobs: int = 1, fresh_since: int | None = None) -> BakeReport:
    """Bake the plan's targets — in order, or shared among ``jobs`` processes — and prune the
    sites it rebuilds whole. Records a crashed bake left pending are settled first.
    ``fresh_since``: leave files whose records reflect this register seq or later."""
    root = root or bake_root()
    reconcile_pending(root=root)
    report = BakeReport()
    total = len(plan.targets)
    chunks = [plan.targets[start:start + CHUNK] for start in range(0, total, CHUNK)]
    if jobs > 1 and len(chunks) > 1 and can_bake_in_parallel():
        # Forked children must not share the parent's database connections.
        connections.close_all()
        done = 0
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for baked, part in pool.imap_unordered(
                    functools.partial(_bake_chunk, root, plan.full_sites, fresh_since),
                    chunks):
                report.add(part)
                done += baked
                if progress is not None:
                    progress(done, total)
    else:
        baker = _Baker(root=root, report=report, full_sites=plan.full_sites,
                       fresh_since=fresh_since)
        counter = iter(range(1, total + 1))
        tick = (lambda: progress(next(counter), total)) if progress is not None else None
        try:
            for chunk in chunks:
                baker.bake_many(chunk, progress=tick)
        finally:  # what was written is recorded, even when a later target fails
            baker.flush()
    pruner = _Baker(root=root, report=report)
    for site_id in sorted(plan.full_sites):
        pruner.prune(site_id)
    write_restricted(root=root)  # what BakedFileMiddleware never serves (cms.baking.audience)
    return report


def can_bake_in_parallel() -> bool:
    """Other processes see the data only when it is committed and in a database they can
    open: not inside the caller's transaction (a test's), not in an in-memory SQLite."""
    if connection.in_atomic_block:
        return False
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return False
    return "fork" in multiprocessing.get_all_start_methods()


def _bake_chunk(root: Path, full_sites: frozenset[int], fresh_since: int | None,
                targets: list[Target]) -> tuple[int, BakeReport]:
    """A worker process's share of a parallel bake: how many targets, and what came of them.
    (Renders are GET requests: on SQLite they read without the write lock, so the workers do
    not take turns; cms.middleware.SqliteReadsMiddleware.)"""
    report = BakeReport()
    baker = _Baker(root=root, report=report, full_sites=full_sites, fresh_since=fresh_since)
    try:
        baker.bake_many(targets)
    finally:
        baker.flush()
    return len(targets), report


# The state of the last `manage.py bake`: per site directory, the publication register's
# sequence number it had caught up with.

def read_state(*, root: Path) -> dict:
    try:
        state = json.loads((root / STATE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"sites": {}}
    return state if isinstance(state.get("sites"), dict) else {"sites": {}}


def record_state(*, root: Path, sites: Iterable[Site], register_seq: int) -> None:
    state = read_state(root=root)
    now = timezone.now().astimezone(datetime.UTC).isoformat()
    for site in sites:
        state["sites"][site_directory_of(site)] = {"register_seq": register_seq, "baked_at": now}
    root.mkdir(parents=True, exist_ok=True)
    files.write_atomically(path=root / STATE_FILE,
                           data=json.dumps(state, indent=2, sort_keys=True).encode())


def last_baked_seq(*, root: Path, site: Site) -> int | None:
    entry = read_state(root=root)["sites"].get(site_directory_of(site))
    return entry.get("register_seq") if isinstance(entry, dict) else None


# Publication events since a point, read from the publication register: every publication,
# restoration and takedown of a page is one entry (review.register), scheduled ones included.

def register_seq() -> int:
    return RegisterHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0


def register_head_entry_id() -> int | None:
    return RegisterEntry.objects.filter(seq=register_seq()).values_list("pk", flat=True).first()


def pages_with_events_since(*, seq: int, until: int) -> list[int]:
    # Pages are keyed by wagtailcore.Page, however specific (review.register).
    entries = RegisterEntry.objects.filter(seq__gt=seq, seq__lte=until,
                                           content_type=get_default_page_content_type())
    return sorted({int(pk) for pk in entries.values_list("object_id", flat=True)
                   if str(pk).isdigit()})
