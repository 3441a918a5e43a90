"""Availability (可用性): each site's homepage probed on a schedule; a probe fails when the
page does not open with a success status within the limit (15 s, as inspectors count)."""

import datetime

from django.utils import timezone
from wagtail.models import Site

from review.health import sources
from review.health.fetch import Politeness, fetch_one
from review.health.models import AvailabilityProbe


def probe_url(site: Site) -> str:
    return site.root_url + "/"


def probe_sites(*, site_slug: str | None = None,
                now: datetime.datetime | None = None) -> list[AvailabilityProbe]:
    """Probe every site's homepage once; a probe row each."""
    now = now or timezone.now()
    limit = float(sources.setting("HEALTH_PROBE_TIMEOUT", 15.0))
    politeness = Politeness(timeout=limit, obey_robots=False,
                            user_agent=sources.setting("HEALTH_USER_AGENT", "SiteHealth/1.0"))
    probes = []
    for ref in sources.sites(slug=site_slug):
        site = Site.objects.get(pk=ref.site_id)
        fetched = fetch_one(probe_url(site), politeness=politeness)
        outcome = fetched.outcome
        ok = (outcome.status is not None and 200 <= outcome.status < 400
              and outcome.elapsed_ms <= limit * 1000)
        probes.append(AvailabilityProbe(
            site=site, at=now, ok=ok, status=outcome.status, elapsed_ms=outcome.elapsed_ms,
            error=(outcome.error or ("" if ok else f"HTTP {outcome.status}"))[:255]))
    AvailabilityProbe.objects.bulk_create(probes)
    return probes


def prune(*, now: datetime.datetime | None = None) -> int:
    """Probes older than the history kept (HEALTH_PROBE_KEEP_DAYS, default 400 days)."""
    now = now or timezone.now()
    keep = datetime.timedelta(days=sources.setting("HEALTH_PROBE_KEEP_DAYS", 400))
    deleted, _ = AvailabilityProbe.objects.filter(at__lt=now - keep).delete()
    return deleted
