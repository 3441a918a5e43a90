"""The public forms (留言/咨询, 举报) and the status page, served by the application on every
site (the rest of the public site is baked files: nginx passes ``/interaction/`` here, see
cms.baking.paths.DYNAMIC_PREFIXES). Plain HTML forms: they work without JavaScript; every
error is tied to its field (``aria-describedby``, ``aria-invalid``) and listed at the top."""

import math
import time

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from wagtail.models import Site

from cms.accounts.api_throttle import count_failure, seconds_blocked
from cms.interaction.exceptions import Refused
from cms.interaction.models import Kind, Status
from cms.interaction.submission import count_refusal, find_by_code, submit
from review.register.security import client_address

STATUS_PREFIX = "cms:interaction-status"

CONTACT_FIELDS = [
    {"name": "name", "label": "姓名", "type": "text", "maxlength": 50, "autocomplete": "name"},
    {"name": "phone", "label": "联系电话", "type": "tel", "maxlength": 30,
     "autocomplete": "tel"},
    {"name": "email", "label": "电子邮箱", "type": "email", "maxlength": 254,
     "autocomplete": "email"},
]
FORMS = {
    Kind.MESSAGE: {
        "heading": "我要留言",
        "intro": "向本单位提问、咨询或提出建议（如校长信箱）。我们将在 {days} 个工作日内答复；"
                 "答复去除个人信息后在本网站“留言回复”栏目公开。",
        "fields": [
            {"name": "title", "label": "标题", "type": "text", "required": True,
             "maxlength": "max_title"},
            {"name": "body", "label": "留言内容", "type": "textarea", "required": True,
             "maxlength": "max_body"},
            *CONTACT_FIELDS,
        ],
        "contact_help": "联系方式选填，加密保存，仅本单位指定的留言处理人可见，不会公开。",
        "submit": "提交留言",
    },
    Kind.REPORT: {
        "heading": "我要举报",
        "intro": "举报本网站群上的有害信息或工作人员的违规行为。举报由教育局受理，"
                 "举报人信息严格保密，答复不公开，凭查询码查看。",
        "fields": [
            {"name": "url", "label": "举报的网址或栏目", "type": "text", "maxlength": 500,
             "help": "选填：有害信息所在的网页地址或栏目名称。"},
            {"name": "title", "label": "举报事项", "type": "text", "required": True,
             "maxlength": "max_title"},
            {"name": "body", "label": "举报内容", "type": "textarea", "required": True,
             "maxlength": "max_body"},
            *CONTACT_FIELDS,
        ],
        "contact_help": "可以匿名举报。联系方式选填，加密保存，仅受理举报的指定人员可见。",
        "submit": "提交举报",
    },
}


def _site_root(request):
    site = Site.find_for_request(request)
    if site is None:
        raise Http404
    return site.root_page.specific


def _fields(kind: str, values: dict, errors: dict) -> list[dict]:
    limits = {"max_title": settings.CMS_INTERACTION_MAX_TITLE,
              "max_body": settings.CMS_INTERACTION_MAX_BODY}
    out = []
    for spec in FORMS[kind]["fields"]:
        field = dict(spec)
        field["maxlength"] = limits.get(field.get("maxlength"), field.get("maxlength"))
        field["value"] = values.get(field["name"], "")
        field["error"] = errors.get(field["name"], "")
        field["contact"] = spec in CONTACT_FIELDS
        out.append(field)
    return out


def _form_response(request, kind: str, *, values=None, errors=None, message="", status=200):
    spec = FORMS[kind]
    context = {
        "kind": kind, "heading": spec["heading"],
        "intro": spec["intro"].format(days=settings.CMS_INTERACTION_REPLY_WORKING_DAYS),
        "contact_help": spec["contact_help"], "submit_label": spec["submit"],
        "fields": _fields(kind, values or {}, errors or {}),
        "form_error": message, "errors": errors or {},
    }
    return render(request, "interaction/form.html", context, status=status)


def _refused_early(request, site_root) -> Refused | None:
    """Refusals decided before the body is read: too large, or files attached."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.CMS_INTERACTION_MAX_REQUEST_BYTES:
        return Refused("too_large", "提交的内容过大，请精简后再提交。", status=413)
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return Refused("binary", "只接受网页表单提交的文字。", status=415)
    if request.FILES:
        return Refused("binary", "不能上传文件，请只填写文字。", status=415)
    return None


def _submission_view(kind: str):
    @never_cache
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request):
        site_root = _site_root(request)
        if request.method != "POST":
            return _form_response(request, kind)
        refusal = _refused_early(request, site_root)
        if refusal is not None:
            count_refusal(site_root_id=site_root.pk, reason=refusal.reason)
            return _form_response(request, kind, message=refusal.message,
                                  status=refusal.status)
        values = {key: request.POST.get(key, "") for key in
                  ("title", "body", "url", "name", "phone", "email", "website")}
        try:
            message = submit(kind=kind, site_root=site_root, data=values,
                             address=client_address(request))
        except Refused as refusal:
            if refusal.status == 429:
                # A flood is answered by a small page of its own: no site navigation to read
                # from the database for each refused request.
                window = settings.CMS_INTERACTION_RATE_WINDOW
                response = render(request, "interaction/too_many.html", {
                    "message": refusal.message, "minutes": math.ceil(window / 60)}, status=429)
                response["Retry-After"] = str(window)
                return response
            errors = {refusal.field: refusal.message} if refusal.field else {}
            shown = {k: v for k, v in values.items() if k != "website"}
            if refusal.reason in ("binary", "too_large"):
                shown = {}  # never echo binary or oversized input back
            return _form_response(request, kind, values=shown, errors=errors,
                                  message=refusal.message, status=refusal.status)
        return render(request, "interaction/received.html",
                      {"message": message, "heading": FORMS[kind]["heading"]})

    view.__name__ = f"{kind}_form"
    return view


message_form = _submission_view(Kind.MESSAGE)
report_form = _submission_view(Kind.REPORT)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def status(request):
    """The sender's view of their message, by its ticket code (POSTed: no code in URLs,
    logs or referrers). Wrong codes are counted per address: codes cannot be guessed fast."""
    _site_root(request)
    context = {"error": "", "message": None, "code": ""}
    if request.method == "POST":
        address = client_address(request)
        wait = seconds_blocked(prefix=STATUS_PREFIX, address=address, now=time.time())
        if wait:
            context["error"] = f"查询码错误次数过多，请 {math.ceil(wait / 60)} 分钟后再试。"
            return render(request, "interaction/status.html", context, status=429)
        message = find_by_code(request.POST.get("code", ""))
        if message is None:
            count_failure(prefix=STATUS_PREFIX, address=address, now=time.time(),
                          limit=settings.CMS_INTERACTION_STATUS_FAILURE_LIMIT,
                          window=settings.CMS_INTERACTION_STATUS_FAILURE_WINDOW)
            context["error"] = "没有找到这个查询码，请核对后重新输入（共 12 位字母和数字）。"
            return render(request, "interaction/status.html", context, status=404)
        context["message"] = message
        context["reply_live"] = (message.status == Status.ANSWERED
                                 and message.reply_page is not None and message.reply_page.live)
    return render(request, "interaction/status.html", context)
