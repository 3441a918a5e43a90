"""Baked files and page view restrictions: a restricted page is never served from its file.

The bake writes files only for live public pages (engine), and a restriction of live content
takes it down (review.pipeline.audience_guard), which removes its files. Two more safeguards,
for restrictions made any other way: every change of a restriction re-bakes the pages under
it (their files go), and ``BakedFileMiddleware`` asks ``restricted_file`` before serving one.

``restricted_file`` answers without a database query (a baked read needs none): after every
change of a restriction, and after every bake, the folders of restricted pages are written to
``RESTRICTED_FILE`` at the top of the tree (beside the bake state, outside every site's
folder, so nginx never serves it), which each process reads again when it changes.
"""

import json
import os
from pathlib import Path, PurePosixPath

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from wagtail.models import Page, PageViewRestriction, Site

from cms.baking import files, paths

RESTRICTED_FILE = ".restricted.json"
_memo: dict[str, object] = {"key": None, "folders": {}}


def restricted_folders() -> dict[str, list[str]]:
    """Per site directory, the folders (relative, "" for the whole site) of pages that a view
    restriction keeps from anonymous readers: the restricted pages and everything below."""
    folders: dict[str, set[str]] = {}
    sites = list(Site.objects.select_related("root_page"))
    restricted = set(PageViewRestriction.objects.exclude(
        restriction_type=PageViewRestriction.NONE).values_list("page__path", flat=True))
    for page_path in sorted(restricted):
        for site in sites:
            root = site.root_page.path
            if root.startswith(page_path):  # the site's root page or above: the whole site
                folders.setdefault(_site_directory(site), set()).add("")
            elif page_path.startswith(root) and (url_path := _url_path(page_path)):
                relative = paths.file_for_url(url_path=url_path)
                folder = "" if relative is None else relative.parent.as_posix()
                folders.setdefault(_site_directory(site), set()).add(
                    "" if folder == "." else folder)
    return {site: sorted(found) for site, found in sorted(folders.items())}


def _site_directory(site: Site) -> str:
    return paths.site_directory(hostname=site.hostname, port=site.port)


def _url_path(page_path: str) -> str | None:
    page = Page.objects.filter(path=page_path).first()
    parts = page.get_url_parts() if page is not None else None
    return parts[2] if parts else None


def write_restricted(*, root: Path | None = None) -> None:
    from cms.baking.engine import bake_root  # the engine writes this after every bake

    root = root or bake_root()
    data = json.dumps(restricted_folders(), indent=1, sort_keys=True).encode()
    root.mkdir(parents=True, exist_ok=True)
    files.write_atomically(path=root / RESTRICTED_FILE, data=data)


def _folders(root: Path) -> dict[str, list[str]]:
    """The restricted folders as last written, re-read only when the file changed."""
    index = os.path.join(root, RESTRICTED_FILE)
    try:
        stat = os.stat(index)
    except FileNotFoundError:
        return {}
    key = (index, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if _memo["key"] != key:
        with open(index, "rb") as handle:
            _memo["folders"] = json.loads(handle.read() or b"{}")
        _memo["key"] = key
    return _memo["folders"]


def restricted_file(*, root: Path, site: str, relative: PurePosixPath) -> bool:
    """Whether the baked file ``site/relative`` belongs to a restricted page (or lies below
    one): such a file is not served, whatever made it."""
    for folder in _folders(root).get(site, ()):
        parts = PurePosixPath(folder).parts if folder else ()
        if relative.parts[:len(parts)] == parts:
            return True
    return False


def restriction_changed(sender, instance, **kwargs) -> None:
    """Re-bake the pages under a changed restriction (files of pages no longer public go),
    and write the restricted folders once the change commits."""
    from cms.baking.signals import queue_pages

    if kwargs.get("raw"):
        return
    if isinstance(instance, PageViewRestriction):
        page_ids = [instance.page_id]
    else:  # a group, whose restrictions changed (m2m from the group's side)
        page_ids = list(instance.pageviewrestriction_set.values_list("page_id", flat=True))
    ids = set()
    for page in Page.objects.filter(pk__in=page_ids):
        ids.update(Page.objects.descendant_of(page, inclusive=True).values_list("pk", flat=True))
    queue_pages(page_ids=ids)
    transaction.on_commit(write_restricted, robust=True)


def restriction_groups_changed(sender, instance, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        restriction_changed(sender, instance)


def connect() -> None:
    post_save.connect(restriction_changed, sender=PageViewRestriction,
                      dispatch_uid="cms_baking_restriction_saved")
    post_delete.connect(restriction_changed, sender=PageViewRestriction,
                        dispatch_uid="cms_baking_restriction_deleted")
    m2m_changed.connect(restriction_groups_changed, sender=PageViewRestriction.groups.through,
                        dispatch_uid="cms_baking_restriction_groups")
