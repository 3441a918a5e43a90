"""One snapshot a day per site, the daily report e-mail made from two of them, and the
immediate alert when an external link has mutated.

The daily report goes to each site's recipients (the ``review_health_recipients`` hook: its
web administrators and leaders) with that site's changes, and to the bureau's with every
site's; grouped by severity; nothing is sent for a site whose items did not change since the
day before (``HEALTH_DAILY_REPORT_ONLY_CHANGES``, on by default). Running it twice a day sends
once: a snapshot remembers that it was reported.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page, Site

from review.health import ledger, sources
from review.health.fingerprint import REASON_LABELS
from review.health.models import HealthSnapshot, LinkTarget, LinkUse
from review.health.report import site_health

SERIOUS = "serious"
ACTION = "action"
NOTICE = "notice"
SEVERITY_LABELS = {SERIOUS: "严重（单项否决）", ACTION: "需要处理", NOTICE: "预警"}
SEVERITY_ORDER = (SERIOUS, ACTION, NOTICE)


@dataclass(frozen=True, kw_only=True, order=True)
class Item:
    severity: str
    key: str
    text: str


def items_of(report: dict) -> set[Item]:
    """What a site's report holds that people act on, each with its severity."""
    found = set()
    for code in report.get("veto", []):
        found.add(Item(severity=SERIOUS, key=f"veto:{code}",
                       text=f"单项否决：{ledger.LABELS.get(code, code)}"))
    for code in report.get("warnings", []):
        if code in (ledger.WARN_BROKEN, ledger.WARN_SUSPECT, ledger.WARN_MUTATED):
            continue  # listed link by link below
        found.add(Item(severity=NOTICE, key=f"warning:{code}",
                       text=f"预警：{ledger.LABELS.get(code, code)}"))
    for column in report.get("columns", []):
        if column["state"] == ledger.OVERDUE:
            found.add(Item(severity=ACTION, key=f"column:{column['id']}:overdue",
                           text=(f"栏目“{column['title']}”已超过 "
                                 f"{column['interval_days']} 天未更新")))
        elif column["state"] == ledger.WARNING:
            found.add(Item(severity=NOTICE, key=f"column:{column['id']}:warning",
                           text=f"栏目“{column['title']}”还剩 {column['days_left']} 天须更新"))
    for column in report.get("blank_columns", []):
        found.add(Item(severity=ACTION, key=f"blank:{column['id']}",
                       text=f"空白栏目“{column['title']}”"))
    links = report.get("links", {})
    for problem in links.get("mutated", []):
        found.add(Item(severity=SERIOUS, key=f"mutated:{problem['url']}",
                       text=f"外链变异：{problem['url']}（页面 {problem['pages']}）"))
    for problem in links.get("broken", []):
        found.add(Item(severity=ACTION, key=f"broken:{problem['url']}",
                       text=f"错误链接：{problem['url']}（{problem['status'] or '无响应'}）"))
    for problem in links.get("suspect", []):
        found.add(Item(severity=NOTICE, key=f"suspect:{problem['url']}",
                       text=f"疑似错误链接：{problem['url']}"))
    return found


@dataclass(frozen=True, kw_only=True)
class Changes:
    new: tuple[Item, ...]
    resolved: tuple[Item, ...]
    open: tuple[Item, ...]

    @property
    def changed(self) -> bool:
        return bool(self.new or self.resolved)


def changes(*, previous: dict | None, current: dict) -> Changes:
    before = {item.key: item for item in items_of(previous or {})}
    now = {item.key: item for item in items_of(current)}
    return Changes(new=tuple(sorted(now[key] for key in now.keys() - before.keys())),
                   resolved=tuple(sorted(before[key] for key in before.keys() - now.keys())),
                   open=tuple(sorted(now.values())))


def today(now: datetime.datetime) -> datetime.date:
    return timezone.localtime(now).date()


def take_snapshots(*, now: datetime.datetime | None = None) -> list[HealthSnapshot]:
    """Today's snapshot of every site (replaced if taken again today, keeping whether it was
    reported)."""
    now = now or timezone.now()
    snapshots = []
    for health in site_health(sources.sites(), now=now):
        report = health.to_json()
        snapshot, _ = HealthSnapshot.objects.update_or_create(
            site_id=health.site.site_id, day=today(now),
            defaults={"taken_at": now, "score": health.verdict.score, "report": report})
        snapshots.append(snapshot)
    return snapshots


def dashboard_url(slug: str | None = None) -> str:
    path = (reverse("review_health_site", args=[slug]) if slug
            else reverse("review_health_index"))
    return f"{getattr(settings, 'WAGTAILADMIN_BASE_URL', '')}{path}"


def _body(title: str, found: Changes, *, url: str) -> str:
    lines = [f"{title}：与昨天相比的变化"]
    for severity in SEVERITY_ORDER:
        new = [item for item in found.new if item.severity == severity]
        still = [item for item in found.open if item.severity == severity and item not in new]
        if not (new or still):
            continue
        lines.append(f"\n【{SEVERITY_LABELS[severity]}】")
        lines += [f"  新增 {item.text}" for item in new]
        lines += [f"  仍未处理 {item.text}" for item in still]
    if found.resolved:
        lines.append("\n【已解决】")
        lines += [f"  {item.text}" for item in found.resolved]
    lines.append(f"\n查看并处理：{url}")
    return "\n".join(lines)


def _addresses(users) -> list[str]:
    return sorted({user.email for user in users if getattr(user, "email", "")
                   and getattr(user, "is_active", True)})


def send_daily(*, now: datetime.datetime | None = None) -> dict:
    """Snapshot today, compare with the day before, e-mail what changed. Returns counts."""
    now = now or timezone.now()
    only_changes = sources.setting("HEALTH_DAILY_REPORT_ONLY_CHANGES", True)
    snapshots = take_snapshots(now=now)
    sent = 0
    bureau_parts = []
    for snapshot in snapshots:
        if snapshot.reported_at is not None:
            continue
        previous = (HealthSnapshot.objects.filter(site_id=snapshot.site_id, day__lt=snapshot.day)
                    .order_by("-day").first())
        found = changes(previous=previous.report if previous else None, current=snapshot.report)
        site = Site.objects.select_related("root_page").get(pk=snapshot.site_id)
        title = f"{site.site_name or site.root_page.title} 网站健康日报（得分 {snapshot.score}）"
        if found.changed or not only_changes:
            body = _body(title, found, url=dashboard_url(site.root_page.slug))
            to = _addresses(sources.recipients(root_page=site.root_page))
            if to:
                send_mail(f"[{settings.WAGTAIL_SITE_NAME}] {title}", body,
                          settings.DEFAULT_FROM_EMAIL, to)
                sent += 1
            bureau_parts.append(body)
        snapshot.reported_at = now
        snapshot.save(update_fields=["reported_at"])
    if bureau_parts:
        to = _addresses(sources.recipients(root_page=None))
        if to:
            send_mail(f"[{settings.WAGTAIL_SITE_NAME}] 全网网站健康日报",
                      ("\n\n" + "-" * 40 + "\n\n").join(bureau_parts) +
                      f"\n\n全网总览：{dashboard_url()}",
                      settings.DEFAULT_FROM_EMAIL, to)
            sent += 1
    return {"snapshots": len(snapshots), "sent": sent}


def alert_mutations(targets: list[LinkTarget]) -> None:
    """Tell each linking site's people and the bureau at once (after the commit): a mutated
    external link is a veto item until the linking page comes down."""
    by_site: dict[int, list[str]] = {}
    for target in targets:
        reasons = "、".join(REASON_LABELS.get(reason, reason) for reason in target.mutations)
        for use in LinkUse.objects.filter(target=target).select_related("page"):
            by_site.setdefault(use.site_id, []).append(
                f"《{use.page.title}》链接的 {target.url}：{reasons}")
    bureau = _addresses(sources.recipients(root_page=None))
    for site_id, lines in by_site.items():
        site = Site.objects.select_related("root_page").get(pk=site_id)
        to = sorted(set(_addresses(sources.recipients(root_page=site.root_page))) | set(bureau))
        if not to:
            continue
        subject = f"[{settings.WAGTAIL_SITE_NAME}] 【紧急】{site.site_name} 外部链接变异"
        body = ("以下页面链接的外部网站已变异，请立即撤下页面或修改链接：\n"
                + "\n".join(f"  {line}" for line in lines)
                + f"\n\n一键撤稿：{dashboard_url(site.root_page.slug)}")
        transaction.on_commit(lambda s=subject, b=body, t=to: send_mail(
            s, b, settings.DEFAULT_FROM_EMAIL, t))


def page_title(page_id: int) -> str:
    page = Page.objects.filter(pk=page_id).first()
    return page.title if page else f"#{page_id}"
