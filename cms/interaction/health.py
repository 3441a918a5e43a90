"""The interaction indicator for the site-health dashboard: valid public messages left
unanswered for more than three months fail a site at inspection.

``unanswered_over_three_months()`` is a plain function over the database returning one
frozen record per site (every site, zeros included), for review/health or any other caller
to show. Quarantined and closed messages do not count; reports are the bureau's (portal).
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Min, Q
from django.utils import timezone
from wagtail.models import Site

from cms.interaction.deadlines import months_before
from cms.interaction.models import OPEN_STATUSES, Message


@dataclass(frozen=True, kw_only=True)
class Backlog:
    site_id: int
    hostname: str
    site_name: str
    home_page_id: int
    unanswered_over_3_months: int
    oldest_received_at: datetime.datetime | None

    @property
    def failing(self) -> bool:
        return self.unanswered_over_3_months > 0

    def to_json(self) -> dict:
        """Plain data, for a caller that must not import cms (review/health through a hook)."""
        return {"site_id": self.site_id, "hostname": self.hostname, "site_name": self.site_name,
                "home_page_id": self.home_page_id,
                "unanswered_over_3_months": self.unanswered_over_3_months,
                "oldest_received_at": (self.oldest_received_at.isoformat()
                                       if self.oldest_received_at else None),
                "failing": self.failing}


def _three_months_before(today: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(months_before(today, 3),
                                                         datetime.time.min))


def counts_by_organisation(*, today: datetime.date | None = None) -> dict[int, dict]:
    """Organisation (site root page) id → {"overdue": n, "over_3_months": n}: what the
    site-health verdict reads (hook ``review_health_public_messages``)."""
    today = today or timezone.localdate()
    rows = (Message.objects.filter(status__in=OPEN_STATUSES).values("organisation_id")
            .annotate(overdue=Count("pk", filter=Q(due_on__lt=today)),
                      over_3_months=Count("pk", filter=Q(
                          received_at__lt=_three_months_before(today))))
            .order_by())
    return {row["organisation_id"]: {"overdue": row["overdue"],
                                     "over_3_months": row["over_3_months"]} for row in rows}


def unanswered_over_three_months(*, today: datetime.date | None = None) -> list[Backlog]:
    today = today or timezone.localdate()
    cutoff = _three_months_before(today)
    counts = {row["organisation_id"]: row for row in Message.objects.filter(
        status__in=OPEN_STATUSES, received_at__lt=cutoff).values("organisation_id")
        .annotate(n=Count("pk"), oldest=Min("received_at"))}
    out = []
    for site in Site.objects.order_by("hostname", "port"):
        row = counts.get(site.root_page_id, {})
        out.append(Backlog(site_id=site.pk, hostname=site.hostname,
                           site_name=site.site_name or site.hostname,
                           home_page_id=site.root_page_id,
                           unanswered_over_3_months=row.get("n", 0),
                           oldest_received_at=row.get("oldest")))
    return out
