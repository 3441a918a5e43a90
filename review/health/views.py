"""The site-health dashboard in the admin: the network (the bureau) or one site (a school,
its own only), the indicator table, the trends, the XLSX and the printable monthly report,
and the one-click emergency takedown of a page linking to a mutated target."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from wagtail.models import Page

from review.exceptions import HealthError, Refused
from review.health import charts, ledger, report, sources
from review.health.fingerprint import REASON_LABELS
from review.health.models import HealthSnapshot, LinkTarget, LinkUse
from review.pipeline.actions import TakedownAction, may_take_down

TREND_DAYS = 60


def _visible_sites(request) -> list[sources.SiteRef]:
    refs = sources.sites(user=request.user)
    if not refs:
        raise PermissionDenied
    return refs


def _site(request, slug: str) -> sources.SiteRef:
    try:
        found = sources.sites(slug=slug)
    except HealthError as error:
        raise PermissionDenied from error  # same answer as another school's: names nothing
    visible = sources.visible_root_pages(request.user)
    if visible is not None and found[0].root_page_id not in visible:
        raise PermissionDenied
    return found[0]


def index(request):
    refs = _visible_sites(request)
    if len(refs) == 1 and not sources.user_sees_all(request.user):
        return redirect("review_health_site", refs[0].slug)
    healths = report.site_health(refs)
    trends = _score_trends([ref.site_id for ref in refs])
    rows = [{"health": health, "data": health.to_json(),
             "veto_labels": [ledger.LABELS.get(c, c) for c in health.verdict.veto],
             "warning_labels": [ledger.LABELS.get(c, c) for c in health.verdict.warnings],
             "sparkline": charts.sparkline(trends.get(health.site.site_id, []))}
            for health in healths]
    return render(request, "review/health/index.html", {
        "rows": rows, "failing": sum(1 for row in rows if row["data"]["veto"]),
        "month": timezone.localdate().strftime("%Y-%m")})


def _score_trends(site_ids: list[int]) -> dict[int, list[tuple[datetime.date, float]]]:
    since = timezone.localdate() - datetime.timedelta(days=TREND_DAYS)
    trends: dict[int, list] = {}
    for site_id, day, score in (HealthSnapshot.objects.filter(site_id__in=site_ids, day__gte=since)
                                .order_by("day").values_list("site_id", "day", "score")):
        trends.setdefault(site_id, []).append((day, score))
    return trends


def _indicator_rows(health: report.SiteHealth) -> list[dict]:
    """The indicator table: each veto line with the site's value, the warning and veto
    thresholds, and where it is fixed."""
    t = sources.thresholds()
    data = health.to_json()
    overdue = [c for c in data["columns"] if c["state"] == ledger.OVERDUE]
    short = [c for c in overdue if c["interval_days"] and c["interval_days"]
             <= ledger.SHORT_INTERVAL_MAX_DAYS]
    share = health.failure_share

    def state(veto_code, warning_code):
        if veto_code in health.verdict.veto:
            return "veto"
        return "warning" if warning_code in health.verdict.warnings else "ok"

    return [
        {"label": "首页更新", "value": ("从未更新" if health.homepage_days is None
                                       else f"{health.homepage_days} 天前"),
         "line": f"预警 {t.homepage_warning_days} 天，否决 {t.homepage_days} 天",
         "state": state(ledger.VETO_HOMEPAGE, ledger.WARN_HOMEPAGE), "anchor": "#columns"},
        {"label": "栏目更新", "value": f"超期 {len(overdue)} 个（其中动态/通知类 {len(short)} 个）",
         "line": (f"预警 超过 {t.overdue_warning_above} 个；否决 动态/通知类 ≥ "
                  f"{t.overdue_short_veto_at} 个或全部 ≥ {t.overdue_all_veto_at} 个"),
         "state": state(ledger.VETO_COLUMNS, ledger.WARN_COLUMNS_OVERDUE), "anchor": "#columns"},
        {"label": "空白栏目", "value": f"{len(data['blank_columns'])} 个",
         "line": f"预警 超过 {t.blank_warning_above} 个，否决 ≥ {t.blank_veto_at} 个",
         "state": state(ledger.VETO_BLANK, ledger.WARN_BLANK), "anchor": "#blank"},
        {"label": "网站可用性（近 7 天首页访问失败率）",
         "value": "无探测记录" if share is None else f"{share:.1%}（{health.probes} 次探测）",
         "line": (f"预警 {t.availability_warning_share:.0%}，"
                  f"否决 {t.availability_veto_share:.0%}"),
         "state": state(ledger.VETO_UNREACHABLE, ledger.WARN_AVAILABILITY), "anchor": "#trend"},
        {"label": "链接到有害内容（外链变异）",
         "value": f"{len(data['links']['mutated'])} 个变异外链",
         "line": "出现色情、赌博内容即否决；跳转他站、域名待售须处理",
         "state": state(ledger.VETO_HARMFUL_LINK, ledger.WARN_MUTATED), "anchor": "#links"},
        {"label": "错误链接", "value": (f"确认 {len(data['links']['broken'])} 个，"
                                     f"疑似 {len(data['links']['suspect'])} 个"),
         "line": "仅 404/403/410 计为确认；超时与服务器错误连续 3 次、跨 24 小时后确认",
         "state": "warning" if data["links"]["broken"] else "ok", "anchor": "#links"},
    ]


def _link_rows(health: report.SiteHealth, user) -> list[dict]:
    page_ids = {pk for problems in health.links.values() for problem in problems
                for pk in problem.pages}
    pages = {page.pk: page for page in Page.objects.filter(pk__in=page_ids).specific()}
    rows = []
    for state in (LinkTarget.State.MUTATED, LinkTarget.State.BROKEN, LinkTarget.State.SUSPECT):
        for problem in health.links[state]:
            linking = [{"page": pages[pk], "edit": reverse("wagtailadmin_pages:edit", args=[pk]),
                        "may_take_down": may_take_down(pages[pk], user=user)}
                       for pk in problem.pages if pk in pages]
            rows.append({"problem": problem, "state_label": LinkTarget.State(state).label,
                         "reasons": "、".join(REASON_LABELS.get(r, r) for r in problem.mutations),
                         "pages": linking})
    return rows


def site(request, slug: str):
    ref = _site(request, slug)
    health = report.site_health([ref])[0]
    snapshots = list(HealthSnapshot.objects.filter(site_id=ref.site_id).order_by("-day")
                     [:TREND_DAYS])[::-1]
    score_points = [(snapshot.day, snapshot.score) for snapshot in snapshots]
    availability_points = [
        (snapshot.day, 100 * (snapshot.report.get("availability", {}).get("failure_share_7d")
                              or 0)) for snapshot in snapshots]
    data = health.to_json()
    return render(request, "review/health/site.html", {
        "health": health, "data": data, "ref": ref,
        "veto_labels": [ledger.LABELS.get(c, c) for c in health.verdict.veto],
        "warning_labels": [ledger.LABELS.get(c, c) for c in health.verdict.warnings],
        "indicators": _indicator_rows(health),
        "deductions": [{"label": ledger.LABELS.get(d.code, d.code), "count": d.count,
                        "points": d.points} for d in health.verdict.deductions],
        "columns": [{"entry": entry, "state_label": ledger.STATE_LABELS[entry.clock.state],
                     "edit": reverse("wagtailadmin_pages:edit", args=[entry.column.id]),
                     "add": reverse("wagtailadmin_explore", args=[entry.column.id])}
                    for entry in health.columns],
        "blank": [{"column": column,
                   "add": reverse("wagtailadmin_explore", args=[column.id])}
                  for column in health.blank],
        "links": _link_rows(health, request.user),
        "harmful": any(p.harmful for p in health.links[LinkTarget.State.MUTATED]),
        "score_chart": charts.line_chart(score_points, maximum=100, label="得分"),
        "availability_chart": charts.line_chart(availability_points, maximum=10,
                                                label="失败率 %", lines=(3, 5)),
        "month": timezone.localdate().strftime("%Y-%m"),
    })


def xlsx(request, slug: str | None = None):
    refs = [_site(request, slug)] if slug else _visible_sites(request)
    data = report.as_xlsx(report.site_health(refs))
    response = HttpResponse(data, content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    name = f"site-health-{slug or 'network'}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def monthly(request, slug: str, month: str):
    ref = _site(request, slug)
    try:
        first = datetime.date.fromisoformat(f"{month}-01")
    except ValueError:
        messages.error(request, f"月份“{month}”格式不对，应为 YYYY-MM。")
        return redirect("review_health_site", slug)
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    snapshots = list(HealthSnapshot.objects.filter(site_id=ref.site_id, day__gte=first,
                                                   day__lte=last).order_by("day"))
    health = report.site_health([ref])[0]
    days = [{"day": s.day, "score": s.score,
             "veto": "、".join(ledger.LABELS.get(c, c) for c in s.report.get("veto", [])),
             "warnings": "、".join(ledger.LABELS.get(c, c) for c in s.report.get("warnings", [])),
             "share": s.report.get("availability", {}).get("failure_share_7d")}
            for s in snapshots]
    return render(request, "review/health/monthly.html", {
        "ref": ref, "month": first, "days": days, "health": health, "data": health.to_json(),
        "indicators": _indicator_rows(health),
        "average": (round(sum(d["score"] for d in days) / len(days), 1) if days else None),
        "veto_days": sum(1 for d in days if d["veto"]),
        "chart": charts.line_chart([(d["day"], d["score"]) for d in days], maximum=100,
                                   label="得分"),
        "generated": timezone.localtime(),
    })


@require_POST
def takedown(request, target_id: int, page_id: int):
    """One click: take down a page linking to a mutated target, with the reason filled in,
    through the registered emergency takedown (review.pipeline.actions.TakedownAction)."""
    target = get_object_or_404(LinkTarget, pk=target_id)
    use = LinkUse.objects.filter(target=target, page_id=page_id).select_related("site").first()
    if use is None:
        raise PermissionDenied
    visible = sources.visible_root_pages(request.user)
    if visible is not None and use.site.root_page_id not in visible:
        raise PermissionDenied
    page = Page.objects.get(pk=page_id).specific
    reasons = "、".join(REASON_LABELS.get(r, r) for r in target.mutations) or target.state
    try:
        TakedownAction(page, user=request.user,
                       reason=f"外链变异：{target.url}（{reasons}）").execute()
    except Refused as error:
        messages.error(request, f"未能撤下《{page.title}》：{error}")
    else:
        messages.success(request, f"已紧急撤下《{page.title}》（链接的外部网站已变异），"
                                  "已记入发布登记并通知领导。")
    return redirect("review_health_site", use.site.root_page.slug)
