"""The admin side: the organisation's queue, one message and its handling, statistics, and
the designation of handlers. Every view is confined (cms.interaction.scope): a message
outside the viewer's organisations is a 404, by URL too."""

import datetime

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from wagtail.models import Page

from cms.interaction import scope, stats
from cms.interaction.actions import (
    MANUAL_STATUSES,
    AddNoteAction,
    AnswerPrivatelyAction,
    AssignAction,
    DesignateHandlerAction,
    SetStatusAction,
    ViewContactAction,
    handlers_of,
)
from cms.interaction.deadlines import stage
from cms.interaction.exceptions import NotAllowed
from cms.interaction.models import Handler, Kind, Message, Status
from cms.interaction.replies import DraftReplyAction
from cms.interaction.submission import calendar
from review.register.security import client_address
from review.screening.findings import Finding, describe_finding

PER_PAGE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _queue_queryset(request):
    """The viewer's queue, filtered as asked; quarantined messages only when asked for."""
    queryset = scope.visible_messages(request.user).select_related("organisation", "assignee")
    params = request.GET
    status = params.get("status", "")
    if status in Status.values:
        queryset = queryset.filter(status=status)
    elif params.get("quarantined") != "1":
        queryset = queryset.exclude(status=Status.QUARANTINED)
    if params.get("kind") in Kind.values:
        queryset = queryset.filter(kind=params["kind"])
    if params.get("mine") == "1":
        queryset = queryset.filter(assignee=request.user)
    query = params.get("q", "").strip()[:100]
    if query:
        queryset = queryset.filter(Q(title__icontains=query) | Q(body__icontains=query)
                                   | Q(code=query.upper()))
    return queryset, query


def queue(request):
    if not scope.uses_interaction(request.user):
        raise Http404
    queryset, query = _queue_queryset(request)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(stats.queue_xlsx(queryset), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="messages.xlsx"'
        return response
    page = Paginator(queryset.order_by("-received_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("p"))
    today = timezone.localdate()
    cal = calendar()
    rows = [(m, stage(due=m.due_on, today=today, calendar=cal,
                      warn_days=settings.CMS_INTERACTION_WARN_WORKING_DAYS)
             if m.is_open else "") for m in page.object_list]
    quarantined = scope.visible_messages(request.user).filter(
        status=Status.QUARANTINED).count()
    params = request.GET.copy()
    params.pop("p", None)
    return render(request, "interaction/queue.html", {
        "page": page, "rows": rows, "query": query, "statuses": Status.choices,
        "kinds": Kind.choices, "params": request.GET, "quarantined": quarantined,
        "querystring": params.urlencode(),
    })


def _visible(request, pk) -> Message:
    message = get_object_or_404(Message.objects.select_related("organisation", "assignee",
                                                               "reply_page"), pk=pk)
    if not scope.may_view(request.user, message):
        raise Http404
    return message


@require_http_methods(["GET", "POST"])
def detail(request, pk: int):
    message = _visible(request, pk)
    contact = None
    if request.method == "POST":
        try:
            result = _act(request, message)
        except NotAllowed as refusal:
            flash.error(request, f"{refusal}（未作任何更改。）")
            return redirect("interaction_detail", pk=message.pk)
        if isinstance(result, dict):  # the contact details, shown in this response only
            contact = result
        else:
            return redirect("interaction_detail", pk=message.pk)
    findings = [describe_finding(Finding.from_json(f)) for f in message.screening]
    return render(request, "interaction/detail.html", {
        "message": message, "contact": contact, "findings": findings,
        "notes": message.notes.select_related("author"),
        "may_act": scope.may_act(request.user, message),
        "may_read_contact": scope.may_read_contact(request.user, message),
        "handlers": handlers_of(message.organisation_id),
        "manual_statuses": [(s.value, s.label) for s in MANUAL_STATUSES],
        "has_contact": bool(message.contact_sealed),
    })


def _act(request, message: Message):
    action = request.POST.get("action", "")
    user = request.user
    if action == "contact":
        return ViewContactAction(message, user=user).execute(address=client_address(request))
    if action == "assign":
        assignee_id = request.POST.get("assignee") or None
        assignee = (get_user_model().objects.filter(pk=assignee_id).first()
                    if assignee_id and assignee_id.isdigit() else None)
        if assignee_id and assignee is None:
            raise NotAllowed("没有这个用户。")
        AssignAction(message, user=user, assignee=assignee).execute()
        flash.success(request, f"已分派给 {assignee}。" if assignee else "已取消分派。")
    elif action == "status":
        SetStatusAction(message, user=user, status=request.POST.get("status", "")).execute()
        flash.success(request, f"状态已改为“{message.get_status_display()}”。")
    elif action == "note":
        AddNoteAction(message, user=user, text=request.POST.get("text", "")).execute()
        flash.success(request, "已添加内部备注。")
    elif action == "answer":
        AnswerPrivatelyAction(message, user=user, text=request.POST.get("text", "")).execute()
        flash.success(request, "已答复：答复只向举报人显示（凭查询码查看）。")
    elif action == "draft_reply":
        page = DraftReplyAction(message, user=user, title=request.POST.get("title", ""),
                                question=request.POST.get("question", ""),
                                reply=request.POST.get("reply", "")).execute()
        flash.success(request, f"公开答复“{page.title}”已提交审批：经自动检查、网站管理员初审和"
                               "领导签名后发布。")
    else:
        raise NotAllowed("未知的操作。")
    return None


def stats_view(request):
    """Per organisation and month; the bureau (portal staff) sees every organisation and
    the total."""
    from cms.models import PortalPage

    orgs = scope.viewing_orgs(request.user)
    if not orgs:
        raise Http404
    portal = PortalPage.objects.first()
    bureau = portal is not None and portal.pk in orgs
    organisation_ids = (list(Page.objects.filter(depth=2).values_list("pk", flat=True))
                        if bureau else list(orgs))
    rows = stats.monthly(organisation_ids=organisation_ids)
    total_rows = stats.totals(rows) if bureau else []
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(stats.stats_xlsx(total_rows + rows), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="message-statistics.xlsx"'
        return response
    chart = stats.trend_svg(total_rows if bureau else rows) if bureau or len(orgs) == 1 else ""
    refused = stats.refusals(site_root_ids=organisation_ids,
                             since=timezone.localdate() - datetime.timedelta(days=30))
    return render(request, "interaction/stats.html", {"rows": rows, "totals": total_rows,
                                                      "bureau": bureau, "chart": chart,
                                                      "refused": refused})


@require_http_methods(["GET", "POST"])
def handlers_view(request):
    """An organisation's web administrators designate its handlers among its staff."""
    orgs = scope.administered_orgs(request.user)
    if not orgs:
        raise Http404
    organisations = list(Page.objects.filter(pk__in=orgs).order_by("path"))
    if request.method == "POST":
        organisation = next((o for o in organisations
                             if str(o.pk) == request.POST.get("organisation")), None)
        target = get_user_model().objects.filter(
            username=request.POST.get("username", "").strip()).first()
        if organisation is None or target is None:
            flash.error(request, "没有这个单位或用户，未作任何更改。")
        else:
            try:
                done = DesignateHandlerAction(
                    organisation, user=request.user, handler_user=target,
                    remove=request.POST.get("remove") == "1",
                    address=client_address(request)).execute()
            except NotAllowed as refusal:
                flash.error(request, f"{refusal}（未作任何更改。）")
            else:
                verb = "取消了" if request.POST.get("remove") == "1" else "指定了"
                flash.success(request, f"已{verb} {target} 的留言处理人身份。" if done
                              else "没有变化。")
        return redirect(reverse("interaction_handlers"))
    designations = Handler.objects.filter(organisation_id__in=orgs).select_related(
        "user", "organisation").order_by("organisation__path", "user__username")
    return render(request, "interaction/handlers.html",
                  {"organisations": organisations, "designations": designations})
