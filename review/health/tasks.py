"""Fingerprinting external links when content is approved and published: a thin receiver of
Wagtail's publication signals enqueues, after the commit, a task that takes the published
revision's id, fetches its external targets and keeps each one's fingerprint
(review.health.linkcheck.fingerprint_targets). Safe to run twice: it only refreshes them."""

from django.db import transaction
from django_tasks import task
from wagtail.models import Page, Revision

from review.health import links, sources
from review.health.linkcheck import fingerprint_targets, network_hosts


def external_links_of(obj) -> list[str]:
    """The external addresses the object's HTML links to."""
    from review.screening.objects import content_slots

    site = obj.get_site() if isinstance(obj, Page) else None
    base = site.root_url + "/" if site is not None else "http://localhost/"
    hosts = {host for host, _port in network_hosts()}
    found = []
    for slot in content_slots(obj):
        if not slot.is_html:
            continue
        for link in links.extract_links(slot.get(), base_url=base):
            if links.host_of(link.url) not in hosts and link.url not in found:
                found.append(link.url)
    return found


def on_published(sender, instance, revision=None, **kwargs) -> None:
    """Receiver of ``published`` (sent for pages and snippets)."""
    if revision is not None:
        request_fingerprint(revision_id=revision.pk)


def request_fingerprint(*, revision_id: int) -> None:
    if sources.setting("HEALTH_FINGERPRINT_ON_PUBLISH", True):
        transaction.on_commit(lambda: fingerprint_publication.enqueue(revision_id))


@task()
def fingerprint_publication(revision_id: int) -> int:
    """Fingerprint the external targets of the published revision ``revision_id``."""
    revision = Revision.objects.filter(pk=revision_id).first()
    if revision is None:
        return 0
    urls = external_links_of(revision.as_object())
    return len(fingerprint_targets(urls)) if urls else 0
