"""The link check (死链检测): what readers are served, read from the baked tree.

Internal links, images and attachments are resolved without HTTP: the composition root's
``review_health_internal_target`` hook, the baked tree, then live pages, documents, static and
media files. Each distinct address is resolved once per run and only the broken ones are kept
with the pages linking to them, so memory grows with the number of distinct addresses, not of
links. External links are inventoried in the same walk; with ``external`` they are fetched
(review.health.fetch), judged (review.health.links) and fingerprinted against the fingerprint
taken at approval (review.health.fingerprint).
"""

import datetime
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from wagtail.documents import get_document_model
from wagtail.models import Page, Site

from review.health import fingerprint as fp
from review.health import links, sources
from review.health.fetch import Fetched, fetch_all
from review.health.models import LinkCheck, LinkTarget, LinkUse, url_hash

# Pages recorded per broken or external address: enough to fix it, bounded in memory.
MAX_PAGES_PER_URL = 50
_LISTING = re.compile(r"^index(?:-page[1-9][0-9]*)?\.html$")
_DOCUMENT = re.compile(r"^/documents/([0-9]+)/")


@dataclass
class SiteScan:
    site: Site
    files: int = 0
    links: int = 0
    internal_checked: int = 0
    broken: dict[str, dict] = field(default_factory=dict)    # url -> {kind, pages: set}
    external: dict[str, dict] = field(default_factory=dict)  # url -> {kind, pages: set}
    homepage_links: set[str] = field(default_factory=set)


class Resolver:
    """Whether internal addresses exist, each asked once per run."""

    def __init__(self, *, sites_by_host: dict[tuple[str, int | None], Site]) -> None:
        self.sites_by_host = sites_by_host
        self.cache: dict[str, bool] = {}
        self.roots: dict[int, Path | None] = {}
        self.documents: set[int] | None = None
        self.pages: dict[int, dict[str, int]] = {}

    def page_ids(self, site: Site) -> dict[str, int]:
        """The site's live pages by public path, read once per run (one query, no query
        per link)."""
        if site.pk not in self.pages:
            self.pages[site.pk] = _page_urls(site)
        return self.pages[site.pk]

    def site_for(self, url: str) -> Site | None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return (self.sites_by_host.get((host, parts.port))
                or self.sites_by_host.get((host, None)))

    def exists(self, url: str, *, site: Site) -> bool:
        known = self.cache.get(url)
        if known is None:
            known = self.cache[url] = self._exists(url, site=site)
        return known

    def _root(self, site: Site) -> Path | None:
        if site.pk not in self.roots:
            self.roots[site.pk] = sources.baked_root(site)
        return self.roots[site.pk]

    def _exists(self, url: str, *, site: Site) -> bool:
        parts = urlsplit(url)
        path = unquote(parts.path or "/")
        if path.endswith("/") and path in self.page_ids(site):
            return True  # a live page: baked, or rendered by the application if not yet
        answer = sources.internal_target(site=site, path=path, query=parts.query)
        if answer is not None:
            return answer
        root = self._root(site)
        if root is not None and ".." not in path:
            relative = path.lstrip("/")
            candidate = root / relative / "index.html" if path.endswith("/") else root / relative
            if candidate.is_file():
                return True
        if path.startswith("/static/"):
            return finders.find(path.removeprefix("/static/")) is not None
        if path.startswith("/media/"):
            return default_storage.exists(path.removeprefix("/media/"))
        match = _DOCUMENT.match(path)
        if match:
            if self.documents is None:
                self.documents = set(get_document_model().objects.values_list("pk", flat=True))
            return int(match.group(1)) in self.documents
        return False


def network_hosts() -> dict[tuple[str, int | None], Site]:
    hosts = {}
    for site in Site.objects.select_related("root_page"):
        hosts[(site.hostname.lower(), site.port)] = site
        if site.port in (80, 443):
            hosts.setdefault((site.hostname.lower(), None), site)
    return hosts


def _page_urls(site: Site) -> dict[str, int]:
    """Public path (``/a/b/``) → page id, for the site's live pages."""
    prefix = site.root_page.url_path
    return {url_path[len(prefix) - 1:]: pk for pk, url_path in
            Page.objects.filter(path__startswith=site.root_page.path, live=True)
            .values_list("pk", "url_path").iterator(chunk_size=5000)}


def _baked_html(root: Path):
    """(public path, HTML) for each baked listing or page file under ``root``, read one at
    a time."""
    for directory, _subdirectories, files in os.walk(root):
        relative = Path(directory).relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        for name in files:
            if _LISTING.match(name):
                folder = "" if str(relative) == "." else f"{relative.as_posix()}/"
                yield f"/{folder}", (Path(directory) / name).read_text("utf-8", errors="replace")


def _remember(store: dict, url: str, *, kind: str, page_id: int | None) -> None:
    entry = store.setdefault(url, {"kind": kind, "pages": set()})
    if page_id is not None and len(entry["pages"]) < MAX_PAGES_PER_URL:
        entry["pages"].add(page_id)


def scan_site(site: Site, *, resolver: Resolver,
              progress: Callable[[int], None] | None = None) -> SiteScan:
    """Walk what readers get of ``site`` (its baked tree, or its live pages' content when it
    has none) and resolve every internal address."""
    scan = SiteScan(site=site)
    page_ids = resolver.page_ids(site)
    root = sources.baked_root(site)
    # The baked tree when the site has been baked (its homepage file exists), else the
    # live pages' own HTML.
    baked = root is not None and (root / "index.html").is_file()
    documents = _baked_html(root) if baked else _content_html(site)
    base = site.root_url
    own_prefix = base.lower() + "/"
    for public_path, html in documents:
        page_id = page_ids.get(public_path)
        scan.files += 1
        for link in links.extract_links(html, base_url=base + public_path):
            scan.links += 1
            target_site = site if link.url.startswith(own_prefix) else resolver.site_for(link.url)
            if target_site is None:
                _remember(scan.external, link.url, kind=link.kind, page_id=page_id)
                if public_path == "/":
                    scan.homepage_links.add(link.url)
                continue
            if not resolver.exists(link.url, site=target_site):
                _remember(scan.broken, link.url, kind=link.kind, page_id=page_id)
                if public_path == "/":
                    scan.homepage_links.add(link.url)
        if progress is not None and scan.files % 1000 == 0:
            progress(scan.files)
    scan.internal_checked = len(resolver.cache)
    return scan


def _content_html(site: Site):
    """(public path, HTML of its rich text) for each live page: the check without a bake."""
    from review.screening.objects import content_slots

    prefix = site.root_page.url_path
    pages = Page.objects.filter(path__startswith=site.root_page.path, live=True).specific()
    for page in pages.iterator(chunk_size=500):
        html = "".join(slot.get() for slot in content_slots(page) if slot.is_html)
        yield page.url_path[len(prefix) - 1:], html


def _target(url: str, *, external: bool, kind: str) -> LinkTarget:
    target = LinkTarget.objects.filter(url_hash=url_hash(url)).first()
    if target is None:
        target = LinkTarget(url=url, host=links.host_of(url), external=external, kind=kind)
        target.save()
    return target


@transaction.atomic
def record_scan(scan: SiteScan, *, now: datetime.datetime) -> None:
    """Keep the scan: broken internal targets with their pages (fixed ones marked ok), and
    the site's external links (the pages linking to each)."""
    site = scan.site
    previous = set(LinkUse.objects.filter(site=site).values_list("target_id", flat=True))
    LinkUse.objects.filter(site=site).delete()
    uses = []
    kept = set()
    for url, found in scan.broken.items():
        target = _target(url, external=False, kind=found["kind"])
        if target.state != LinkTarget.State.BROKEN:
            target.state = LinkTarget.State.BROKEN
            target.status = 404
            target.error = "站内找不到该地址"
            LinkCheck.objects.create(target=target, checked_at=now, state=target.state,
                                     status=404, error=target.error)
        target.last_checked_at = now
        target.save()
        kept.add(target.pk)
        uses += [LinkUse(target=target, site=site, page_id=page_id, seen_at=now,
                         on_homepage=url in scan.homepage_links) for page_id in found["pages"]]
    for url, found in scan.external.items():
        target = _target(url, external=True, kind=found["kind"])
        kept.add(target.pk)
        uses += [LinkUse(target=target, site=site, page_id=page_id, seen_at=now,
                         on_homepage=url in scan.homepage_links) for page_id in found["pages"]]
    # Internal targets this site linked to and no longer links to broken: fixed.
    for target in LinkTarget.objects.filter(pk__in=previous - kept, external=False,
                                            state=LinkTarget.State.BROKEN):
        if not LinkUse.objects.filter(target=target).exists():
            target.state = LinkTarget.State.OK
            target.status = None
            target.error = ""
            target.last_checked_at = now
            target.save()
            LinkCheck.objects.create(target=target, checked_at=now, state=target.state)
    LinkUse.objects.bulk_create(uses, batch_size=1000, ignore_conflicts=True)


def check_internal(*, site_slug: str | None = None,
                   progress: Callable[[int], None] | None = None) -> list[SiteScan]:
    resolver = Resolver(sites_by_host=network_hosts())
    scans = []
    now = timezone.now()
    for ref in sources.sites(slug=site_slug):
        site = Site.objects.select_related("root_page").get(pk=ref.site_id)
        scan = scan_site(site, resolver=resolver, progress=progress)
        record_scan(scan, now=now)
        scans.append(scan)
    return scans


# --- External targets ------------------------------------------------------------------------

def fingerprint_of(fetched: Fetched, *, lexicon=None) -> fp.Fingerprint:
    """The target as fetched: its final address, title, and the screener's findings in its
    text (the full screener, so every detector screening has applies). Pass ``lexicon``
    (``current_lexicon()``, read in the main thread) when called in a fetching thread."""
    from review.screening.objects import current_lexicon
    from review.screening.screener import screen_html

    lexicon = lexicon if lexicon is not None else current_lexicon()
    html = fetched.body.decode(_charset(fetched.content_type), errors="replace")
    findings = screen_html(html, lexicon=lexicon) if html else []
    title = links.page_title(html)
    return fp.take(url=fetched.url, final_url=fetched.outcome.final_url,
                   status=fetched.outcome.status, title=title, text=html,
                   harmful=fp.harmful_matches(findings, categories=frozenset(
                       sources.setting("HEALTH_HARMFUL_CATEGORIES", fp.HARMFUL_CATEGORIES))))


def _fingerprinter():
    """Fingerprinting of answers that are pages, for the fetching threads."""
    from review.screening.objects import current_lexicon

    lexicon = current_lexicon()

    def then(fetched: Fetched):
        if links.judge(fetched.outcome) != links.OK:
            return None
        return fingerprint_of(fetched, lexicon=lexicon)
    return then


def _charset(content_type: str) -> str:
    match = re.search(r"charset=([\w-]+)", content_type or "", re.IGNORECASE)
    name = match.group(1).lower() if match else "utf-8"
    return "gb18030" if name in ("gb2312", "gbk") else name


def judge_target(target: LinkTarget, fetched: Fetched, *, now: datetime.datetime) -> LinkTarget:
    """Update ``target`` from one fetch (not saved): its state, failure run and fingerprint."""
    outcome = fetched.outcome
    verdict = links.judge(outcome)
    target.last_checked_at = now
    target.status = outcome.status
    target.error = outcome.error[:255]
    target.final_url = outcome.final_url
    target.mutations = []
    target.harmful = False
    if outcome.error == "robots.txt 禁止":
        target.state = LinkTarget.State.SKIPPED
        return target
    if verdict == links.SUSPECT:
        target.failures += 1
        target.first_failure_at = target.first_failure_at or now
        hours = sources.setting("HEALTH_SUSPECT_CONFIRM_HOURS", 24)
        needed = sources.setting("HEALTH_SUSPECT_CONFIRM_FAILURES", 3)
        confirmed = (target.failures >= needed
                     and now - target.first_failure_at >= datetime.timedelta(hours=hours))
        target.state = LinkTarget.State.BROKEN if confirmed else LinkTarget.State.SUSPECT
        return target
    target.failures = 0
    target.first_failure_at = None
    if verdict == links.BROKEN:
        target.state = LinkTarget.State.BROKEN
        return target
    latest = (fetched.digest if isinstance(fetched.digest, fp.Fingerprint)
              else fingerprint_of(fetched))
    target.latest_fingerprint = latest.to_json()
    approved = (fp.Fingerprint.from_json(target.approved_fingerprint)
                if target.approved_fingerprint else None)
    reasons = fp.mutations(approved=approved, now=latest)
    target.mutations = list(reasons)
    target.harmful = fp.HARMFUL in reasons
    target.state = LinkTarget.State.MUTATED if reasons else LinkTarget.State.OK
    return target


def check_external(*, site_slug: str | None = None, now: datetime.datetime | None = None,
                   fetcher=fetch_all) -> list[LinkTarget]:
    """Fetch every external target linked from the sites' pages (as the latest scan found
    them), judge each, keep a history row per check, and alert on new mutations."""
    now = now or timezone.now()
    refs = sources.sites(slug=site_slug)
    targets = list(LinkTarget.objects.filter(
        external=True, uses__site_id__in=[ref.site_id for ref in refs]).distinct())
    by_url = {target.url: target for target in targets}
    fetched_all = fetcher(list(by_url), politeness=sources.politeness(),
                          want_body=lambda url: True, then=_fingerprinter())
    newly_mutated = []
    for fetched in fetched_all:
        target = by_url[fetched.url]
        was = (target.state, tuple(target.mutations or ()))
        judge_target(target, fetched, now=now)
        target.save()
        LinkCheck.objects.create(target=target, checked_at=now, state=target.state,
                                 status=target.status, error=target.error,
                                 final_url=target.final_url, mutations=target.mutations)
        if target.state == LinkTarget.State.MUTATED and was != (target.state,
                                                                tuple(target.mutations)):
            newly_mutated.append(target)
    if newly_mutated:
        from review.health.daily import alert_mutations

        alert_mutations(newly_mutated)
    return targets


def fingerprint_targets(urls: list[str], *, now: datetime.datetime | None = None,
                        fetcher=fetch_all) -> list[LinkTarget]:
    """Take the approval fingerprint of each external address (a page linking to them was
    just approved): what a later check compares with."""
    now = now or timezone.now()
    done = []
    for fetched in fetcher(urls, politeness=sources.politeness(), want_body=lambda url: True,
                           then=_fingerprinter()):
        target = _target(fetched.url, external=True, kind=links.ANCHOR)
        if isinstance(fetched.digest, fp.Fingerprint):
            target.approved_fingerprint = fetched.digest.to_json()
            target.fingerprinted_at = now
            target.save()
        done.append(target)
    return done
