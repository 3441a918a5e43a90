"""Receiving a message or report from the public.

Order matters: the honeypot and the rate limits are checked before anything is read or
screened, so a flood costs one cache increment per request. A refused submission stores
nothing but one count (``RefusalCount``); a screened one whose text the screener blocks is
kept, quarantined (out of the queue by default, counted).
"""

import datetime
import secrets
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from wagtail.models import Page

from cms.accounts.api_throttle import count
from cms.interaction import crypto
from cms.interaction.deadlines import Calendar, add_working_days
from cms.interaction.exceptions import Refused
from cms.interaction.intake import check_contact, check_text
from cms.interaction.models import Kind, Message, RateCounter, RefusalCount, Status
from cms.models import PortalPage
from review.screening.findings import BLOCK
from review.screening.objects import current_lexicon
from review.screening.screener import screen_text

# Ticket codes: no 0/O, 1/I/L, so that one read out over the phone is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12  # 31^12 ≈ 7.9e17 codes
PREFIX = "cms:interaction"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())[:32]


def calendar() -> Calendar:
    return Calendar.from_iso(holidays=settings.CMS_INTERACTION_HOLIDAYS,
                             workdays=settings.CMS_INTERACTION_WORKDAYS)


def due_date(received: datetime.datetime) -> datetime.date:
    return add_working_days(start=timezone.localdate(received),
                            days=settings.CMS_INTERACTION_REPLY_WORKING_DAYS,
                            calendar=calendar())


def count_refusal(*, site_root_id: int | None, reason: str) -> None:
    """One more refusal of ``reason`` today on the site: the only trace a refusal leaves."""
    day = timezone.localdate()
    rows = RefusalCount.objects.filter(site_root_id=site_root_id, day=day, reason=reason)
    if rows.update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            RefusalCount.objects.create(site_root_id=site_root_id, day=day, reason=reason,
                                        count=1)
    except IntegrityError:  # another process created it first
        rows.update(count=F("count") + 1)


def _throttle_cache():
    return caches[getattr(settings, "CMS_THROTTLE_CACHE", "default")]


def shared_cache() -> bool:
    """Whether the throttle cache is one every process sees (Redis, Memcached, the
    database); Django's local-memory cache is per process."""
    return not isinstance(_throttle_cache(), LocMemCache)


def count_in_database(key: str, *, window: int, now: float) -> int:
    """Add one to ``key``'s count in the current fixed window; the count so far."""
    number = int(now // window)
    rows = RateCounter.objects.filter(key=key, window=number)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window=number, count=1)
                return 1
            except IntegrityError:  # another process created it first
                rows.update(count=F("count") + 1)
        return rows.values_list("count", flat=True).get()


def prune_rate_counters(*, now: float | None = None) -> int:
    """Counters of windows that are over (run daily)."""
    now = time.time() if now is None else now
    return RateCounter.objects.filter(
        window__lt=int(now // settings.CMS_INTERACTION_RATE_WINDOW) - 1).delete()[0]


def _count(key: str) -> int:
    window = settings.CMS_INTERACTION_RATE_WINDOW
    if shared_cache():
        return count(_throttle_cache(), key, window=window)
    return count_in_database(key, window=window, now=time.time())


def check_rates(*, site_root_id: int, address: str) -> None:
    """Per address and per site, counted where every process and server counts (the shared
    throttle cache, or the database when that cache is per process). Every attempt counts,
    refused ones included: a flood stays refused."""
    if _count(f"{PREFIX}:address:{address}") > settings.CMS_INTERACTION_ADDRESS_LIMIT:
        raise Refused("rate_address", "您提交得太频繁了，请稍后再试。", status=429)
    if _count(f"{PREFIX}:site:{site_root_id}") > settings.CMS_INTERACTION_SITE_LIMIT:
        raise Refused("rate_site", "本网站此刻收到的留言过多，请稍后再试。", status=429)


def receiving_organisation(*, kind: str, site_root: Page) -> Page:
    """A message goes to the site's own organisation; a report to the bureau."""
    if kind == Kind.REPORT:
        portal = PortalPage.objects.first()
        if portal is not None:
            return portal
    return site_root


def submit(*, kind: str, site_root: Page, data: dict, address: str,
           now: float | None = None) -> Message:
    """Check and store one submission; ``Refused`` (counted, nothing stored) otherwise.
    ``data`` is the form's raw values: title, body, name, phone, email, url, website (the
    honeypot)."""
    try:
        return _submit(kind=kind, site_root=site_root, data=data, address=address)
    except Refused as refusal:
        count_refusal(site_root_id=site_root.pk, reason=refusal.reason)
        raise


def _submit(*, kind: str, site_root: Page, data: dict, address: str) -> Message:
    if (data.get("website") or "").strip():
        raise Refused("honeypot", "提交未被接受。如果您是使用浏览器正常填写，请刷新页面后重试。")
    check_rates(site_root_id=site_root.pk, address=address)
    title = check_text(data.get("title", ""), field="title", label="标题",
                       max_chars=settings.CMS_INTERACTION_MAX_TITLE)
    body = check_text(data.get("body", ""), field="body", label="内容",
                      max_chars=settings.CMS_INTERACTION_MAX_BODY)
    url = ""
    if kind == Kind.REPORT:
        url = check_text(data.get("url", ""), field="url", label="举报的网址或栏目",
                         max_chars=500, required=False)
    contact = check_contact(name=data.get("name", ""), phone=data.get("phone", ""),
                            email=data.get("email", ""))
    started = time.monotonic()
    lexicon = current_lexicon()
    findings = [f for part, text in (("title", title), ("body", body), ("url", url)) if text
                for f in screen_text(text, lexicon=lexicon, field=part)]
    blocked = any(f.severity == BLOCK for f in findings)
    received = timezone.now()
    code = new_code()
    message = Message.objects.create(
        code=code, kind=kind, organisation=receiving_organisation(kind=kind,
                                                                  site_root=site_root),
        sent_from=site_root, title=title, body=body, reported_url=url,
        contact_sealed=crypto.seal(contact, code=code) if any(contact.values()) else b"",
        received_at=received, due_on=due_date(received),
        status=Status.QUARANTINED if blocked else Status.NEW,
        screening=[dict(f.to_json(), match=f.shown_match) for f in findings])
    message._screening_seconds = time.monotonic() - started
    return message


def find_by_code(code: str) -> Message | None:
    code = normalise_code(code)
    if len(code) < 8:
        return None
    return Message.objects.filter(code=code).select_related("reply_page").first()
