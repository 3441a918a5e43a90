"""Each site's health: the ledger, blank columns, links, availability and the verdict, read in
a handful of queries for the whole network (the register's dates in one grouped query), and
the ``site_health`` JSON contract, text and XLSX made from it."""

import datetime
import io
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from review.health import ledger, sources
from review.health.ledger import LABELS, STATE_LABELS
from review.health.models import AvailabilityProbe, LinkTarget, LinkUse

LINK_SHEET_LABELS = (("broken", "错误链接"), ("suspect", "疑似错误"), ("mutated", "外链变异"))
LINK_STATES = (LinkTarget.State.BROKEN, LinkTarget.State.SUSPECT, LinkTarget.State.MUTATED)


@dataclass(frozen=True, kw_only=True)
class LinkProblem:
    target_id: int
    url: str
    status: int | None
    state: str
    pages: tuple[int, ...]
    on_homepage: bool
    mutations: tuple[str, ...]
    harmful: bool
    error: str


@dataclass(frozen=True, kw_only=True)
class SiteHealth:
    site: sources.SiteRef
    homepage: ledger.Clock
    homepage_days: int | None
    columns: tuple[ledger.ColumnLedger, ...]
    blank: tuple[ledger.Column, ...]
    links: dict[str, tuple[LinkProblem, ...]]
    failure_share: float | None
    probes: int
    verdict: ledger.Verdict

    def to_json(self) -> dict:
        """Exactly the ``site_health`` contract's object for one site."""
        return {
            "site": self.site.slug,
            "score": self.verdict.score,
            "homepage": {"last_update": _iso(self.homepage.last_update),
                         "days": self.homepage_days, "state": self.homepage.state},
            "columns": [{"id": entry.column.id, "title": entry.column.title,
                         "kind": entry.column.kind, "last_update": _iso(entry.clock.last_update),
                         "interval_days": entry.clock.interval_days,
                         "days_left": entry.clock.days_left, "state": entry.clock.state}
                        for entry in self.columns],
            "blank_columns": [{"id": column.id, "title": column.title} for column in self.blank],
            "links": {state: [{"url": problem.url, "status": problem.status,
                               "pages": list(problem.pages)} for problem in problems]
                      for state, problems in self.links.items()},
            "availability": {"failure_share_7d": (None if self.failure_share is None
                                                  else round(self.failure_share, 4))},
            "veto": list(self.verdict.veto),
            "warnings": list(self.verdict.warnings),
        }


def _iso(moment: datetime.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment is not None else None


def _link_problems(site_ids: list[int]) -> dict[int, dict[str, list[LinkProblem]]]:
    rows = (LinkUse.objects.filter(site_id__in=site_ids, target__state__in=LINK_STATES)
            .values_list("site_id", "target_id", "target__url", "target__status",
                         "target__state", "page_id", "on_homepage", "target__mutations",
                         "target__harmful", "target__error")
            .order_by("target__url", "page_id"))
    grouped: dict[tuple[int, int], dict] = {}
    for (site_id, target_id, url, status, state, page_id, on_homepage, mutations, harmful,
         error) in rows:
        entry = grouped.setdefault((site_id, target_id), {
            "url": url, "status": status, "state": state, "pages": [], "home": False,
            "mutations": tuple(mutations or ()), "harmful": harmful, "error": error})
        entry["pages"].append(page_id)
        entry["home"] = entry["home"] or on_homepage
    result: dict[int, dict[str, list[LinkProblem]]] = {
        site_id: {state.value: [] for state in LINK_STATES} for site_id in site_ids}
    for (site_id, target_id), entry in grouped.items():
        result[site_id][entry["state"]].append(LinkProblem(
            target_id=target_id, url=entry["url"], status=entry["status"], state=entry["state"],
            pages=tuple(entry["pages"]), on_homepage=entry["home"],
            mutations=entry["mutations"], harmful=entry["harmful"], error=entry["error"]))
    return result


def availability(site_ids: list[int], *, now: datetime.datetime,
                 days: int = 7) -> dict[int, tuple[float | None, int]]:
    """Site id → (share of failed probes over the last ``days`` days or None, probes)."""
    rows = (AvailabilityProbe.objects.filter(site_id__in=site_ids,
                                             at__gte=now - datetime.timedelta(days=days))
            .values("site_id").annotate(total=Count("pk"), failed=Count("pk", filter=Q(ok=False)))
            .order_by())
    shares = {site_id: (None, 0) for site_id in site_ids}
    for row in rows:
        shares[row["site_id"]] = (row["failed"] / row["total"] if row["total"] else None,
                                  row["total"])
    return shares


def site_health(refs: list[sources.SiteRef], *,
                now: datetime.datetime | None = None) -> list[SiteHealth]:
    now = now or timezone.now()
    thresholds = sources.thresholds()
    site_ids = [ref.site_id for ref in refs]
    problems = _link_problems(site_ids)
    shares = availability(site_ids, now=now)
    messages = sources.public_messages()
    columns_by_site = {ref.site_id: sources.columns_of(ref) for ref in refs}
    intervals = [column.interval_days for columns in columns_by_site.values()
                 for column in columns if column.interval_days is not None]
    all_dates = sources.network_dates(sites=refs, columns=columns_by_site, now=now,
                                      window_days=max([thresholds.homepage_days, *intervals]))
    healths = []
    for ref in refs:
        columns = columns_by_site[ref.site_id]
        dates = all_dates[ref.site_id]
        entries = ledger.column_ledger(columns=columns, last_updates=dates.column_last,
                                       opened=dates.column_opened, thresholds=thresholds, now=now)
        homepage = ledger.homepage_clock(last_update=dates.site_last, baseline=dates.site_opened,
                                         thresholds=thresholds, now=now)
        blank = ledger.blank_columns(columns=columns, has_content=dates.has_content)
        site_links = problems[ref.site_id]
        broken = site_links[LinkTarget.State.BROKEN]
        mutated = site_links[LinkTarget.State.MUTATED]
        share, probes = shares[ref.site_id]
        verdict = ledger.verdict(
            homepage=homepage, ledger=entries, blank=blank, broken=len(broken),
            broken_on_homepage=sum(1 for problem in broken if problem.on_homepage),
            suspect=len(site_links[LinkTarget.State.SUSPECT]),
            mutated=sum(1 for problem in mutated if not problem.harmful),
            harmful=sum(1 for problem in mutated if problem.harmful),
            failure_share=share, thresholds=thresholds,
            messages_overdue=messages.get(ref.root_page_id, {}).get("overdue", 0),
            messages_over_3_months=messages.get(ref.root_page_id, {}).get("over_3_months", 0))
        healths.append(SiteHealth(
            site=ref, homepage=homepage,
            homepage_days=None if dates.site_last is None else (now - dates.site_last).days,
            columns=tuple(entries), blank=tuple(blank),
            links={state: tuple(items) for state, items in site_links.items()},
            failure_share=share, probes=probes, verdict=verdict))
    return healths


def as_json(healths: list[SiteHealth]) -> dict:
    return {"sites": [health.to_json() for health in healths]}


def as_text(healths: list[SiteHealth]) -> str:
    lines = []
    for health in healths:
        data = health.to_json()
        verdict = "不合格（单项否决）" if data["veto"] else "合格"
        lines.append(f"== {health.site.title}（{health.site.slug}）"
                     f"  得分 {data['score']}  {verdict}")
        home = data["homepage"]
        lines.append(f"首页最近更新：{home['last_update'] or '从未'}（{home['days']} 天前）"
                     f"  {STATE_LABELS[home['state']]}")
        for code in data["veto"]:
            lines.append(f"  [否决] {code} {LABELS.get(code, '')}")
        for code in data["warnings"]:
            lines.append(f"  [预警] {code} {LABELS.get(code, '')}")
        lines.append("栏目更新：")
        for column in data["columns"]:
            interval = ("不要求" if column["interval_days"] is None
                        else f"{column['interval_days']} 天")
            left = ("" if column["days_left"] is None
                    else f"剩余 {column['days_left']} 天，")
            lines.append(f"  {column['title']}（{column['kind']}）"
                         f"最近 {column['last_update'] or '从未'}，周期 {interval}，{left}"
                         f"{STATE_LABELS[column['state']]}")
        if data["blank_columns"]:
            lines.append("空白栏目：" + "、".join(c["title"] for c in data["blank_columns"]))
        for state, label in (("broken", "错误链接"), ("suspect", "疑似错误链接"),
                             ("mutated", "外链变异")):
            for problem in data["links"][state]:
                lines.append(f"  {label}：{problem['url']}（{problem['status']}）"
                             f" 页面 {problem['pages']}")
        share = data["availability"]["failure_share_7d"]
        lines.append("近 7 天首页访问失败率：" + ("无探测记录" if share is None
                                          else f"{share:.1%}"))
        lines.append("")
    return "\n".join(lines)


def as_xlsx(healths: list[SiteHealth]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    summary = book.active
    summary.title = "总览"
    summary.append(["网站", "标识", "得分", "单项否决", "预警", "首页最近更新", "首页状态",
                    "超期栏目", "空白栏目", "错误链接", "疑似错误", "外链变异", "7天失败率"])
    for health in healths:
        data = health.to_json()
        summary.append([
            health.site.title, health.site.slug, data["score"],
            "、".join(LABELS.get(c, c) for c in data["veto"]),
            "、".join(LABELS.get(c, c) for c in data["warnings"]),
            data["homepage"]["last_update"] or "", STATE_LABELS[data["homepage"]["state"]],
            sum(1 for c in data["columns"] if c["state"] == ledger.OVERDUE),
            len(data["blank_columns"]), len(data["links"]["broken"]),
            len(data["links"]["suspect"]), len(data["links"]["mutated"]),
            data["availability"]["failure_share_7d"]])
    columns = book.create_sheet("栏目更新")
    columns.append(["网站", "栏目", "类型", "最近更新", "更新周期（天）", "剩余天数", "状态"])
    links_sheet = book.create_sheet("链接")
    links_sheet.append(["网站", "类别", "地址", "HTTP 状态", "页面"])
    for health in healths:
        data = health.to_json()
        for column in data["columns"]:
            columns.append([health.site.slug, column["title"], column["kind"],
                            column["last_update"] or "", column["interval_days"],
                            column["days_left"], STATE_LABELS[column["state"]]])
        for state, label in LINK_SHEET_LABELS:
            for problem in data["links"][state]:
                links_sheet.append([health.site.slug, label, problem["url"], problem["status"],
                                    ",".join(map(str, problem["pages"]))])
    for sheet in book.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
