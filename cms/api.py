"""API v3 wiring: every refusal an RFC 7807 problem in Chinese naming the field at fault.

Wagtail's API answers validation errors in English ("Validation failed", Pydantic's "Field
required") and lets some bad input end in a 500 HTML page: a StreamField block whose value
has the wrong shape, an id that is no number. Here the handlers speak Chinese, translate the
common Pydantic errors, keep each error's ``loc``, and map those inputs to 422. The limits on
bodies and query numbers are checked before the view (cms/api_input.py). Anonymous readers
get live pages and resources only as signed (``signed_for_anonymous_readers``).
"""

import logging
from functools import wraps
from http import HTTPStatus

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, connections, transaction
from django.db.models import ProtectedError
from django.http import Http404
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ValidationError as PydanticValidationError
from wagtail.api.rich_text import RichTextFormatError
from wagtail.api.v3 import form_data
from wagtail.api.v3.api import api
from wagtail.api.v3.errors import as_validation_error, problem_response
from wagtail.api.v3.routers.pages import router as pages_router
from wagtail.models import Page, RevisionMixin
from wagtail.utils.forms import FormValidationError

from cms.full_disk import full_disk_problem, is_full_disk
from cms.resources.api import router as resources_router
from review.exceptions import FileInUse
from review.register.livecheck import SignedRevisionUnavailable, signed_object_for, signed_objects

logger = logging.getLogger("cms.api")

TITLES = {
    400: "请求有误", 401: "未认证", 403: "无权操作", 404: "未找到", 405: "不支持的请求方法",
    409: "与现有内容冲突", 413: "请求正文过大", 422: "请求内容有误", 429: "请求过多",
    500: "服务器内部错误",
}

# Pydantic's error types, in Chinese ({…} from the error's ctx).
_MESSAGES = {
    "missing": "缺少必填字段。",
    "extra_forbidden": "不接受这个字段。",
    "int_parsing": "须为整数。",
    "int_type": "须为整数。",
    "int_from_float": "须为整数。",
    "float_parsing": "须为数字。",
    "float_type": "须为数字。",
    "bool_parsing": "须为 true 或 false。",
    "bool_type": "须为 true 或 false。",
    "string_type": "须为字符串。",
    "list_type": "须为数组。",
    "dict_type": "须为对象。",
    "model_type": "须为对象。",
    "model_attributes_type": "须为对象。",
    "literal_error": "只能是 {expected}。",
    "enum": "只能是 {expected}。",
    "greater_than": "须大于 {gt}。",
    "greater_than_equal": "须不小于 {ge}。",
    "less_than": "须小于 {lt}。",
    "less_than_equal": "须不大于 {le}。",
    "string_too_long": "最多 {max_length} 个字符。",
    "string_too_short": "至少 {min_length} 个字符。",
    "too_long": "最多 {max_length} 项。",
    "too_short": "至少 {min_length} 项。",
    "datetime_parsing": "须为日期时间（ISO 8601）。",
    "datetime_from_date_parsing": "须为日期时间（ISO 8601）。",
    "date_parsing": "须为日期（YYYY-MM-DD）。",
    "date_from_datetime_parsing": "须为日期（YYYY-MM-DD）。",
    "json_invalid": "不是有效的 JSON。",
    "union_tag_invalid": "meta.type 须为可创建的页面类型之一。",
    "union_tag_not_found": "缺少 meta.type（页面类型）。",
    "url_parsing": "须为网址。",
    "uuid_parsing": "须为 UUID。",
    "value_error": "取值无效：{reason}",
    "assertion_error": "取值无效：{reason}",
}


def chinese_message(error: dict) -> str:
    """The Chinese message for a Pydantic/Ninja error dict (its own message if unknown or
    already Chinese)."""
    message = str(error.get("msg", ""))
    if any("\u4e00" <= char <= "\u9fff" for char in message):
        return message
    template = _MESSAGES.get(error.get("type", ""))
    if template is None:
        return f"取值无效：{message}" if message else "取值无效。"
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    context.setdefault("reason", message.removeprefix("Value error, ")
                       .removeprefix("Assertion failed, "))
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template.split("{")[0] + message


def _problem(status: int, detail: str, errors: list | None = None):
    return problem_response(status=status, title=TITLES.get(status) or HTTPStatus(status).phrase,
                            detail=detail, errors=errors)


def _summary(errors: list[dict]) -> str:
    parts = []
    for error in errors[:5]:
        where = ".".join(str(part) for part in error.get("loc") or ())
        parts.append(f"{where}：{error['msg']}" if where else error["msg"])
    more = f"（另有 {len(errors) - 5} 处）" if len(errors) > 5 else ""
    return "；".join(parts) + more


def validation_error(request, exc):
    if isinstance(exc, FormValidationError):
        errors = [{"type": code, "loc": list(path), "msg": message}
                  for path, coded_messages in exc.loc_errors
                  for message, code in coded_messages]
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = [{"type": "value_error", "loc": ["body", field], "msg": message}
                      for field, messages in exc.message_dict.items() for message in messages]
        else:
            errors = [{"type": "value_error", "loc": ["body"], "msg": message}
                      for message in exc.messages]
    else:
        # Without the input Pydantic echoes (a 2 MB body would come back) or its docs URL.
        raw = exc.errors if isinstance(exc, NinjaValidationError) else exc.errors()
        errors = [{key: value for key, value in error.items() if key not in ("input", "url")}
                  for error in raw]
    for error in errors:
        error["msg"] = chinese_message(error)
        error.pop("ctx", None)
    return _problem(422, "请求内容有误：" + _summary(errors), errors)


def permission_denied(request, exc: PermissionDenied):
    # API v3 never trusts the session: 401 unless a bearer token resolved.
    if not request.user.is_authenticated:
        return _problem(401, "需要有效的 API 令牌（请求头 Authorization: Bearer <令牌>）。")
    message = str(exc)
    if not any("\u4e00" <= char <= "\u9fff" for char in message):
        message = "没有权限进行这项操作。"
    return _problem(403, message)


def not_found(request, exc: Http404):
    return _problem(404, "未找到所请求的内容。")


_HTTP_ERRORS = {
    "Cannot parse request body": "请求正文不是有效的 JSON。",
    "Unauthorized": "需要有效的 API 令牌（请求头 Authorization: Bearer <令牌>）。",
    "Forbidden": "没有权限进行这项操作。",
    "Method not allowed": "不支持这种请求方法。",
}


def http_error(request, exc: HttpError):
    message = str(exc)
    if message.startswith("limit cannot be higher than"):
        message = f"limit 不能大于 {message.rsplit(' ', 1)[-1]}。"
    return _problem(exc.status_code, _HTTP_ERRORS.get(message, message))


def rich_text_format_error(request, exc: RichTextFormatError):
    return _problem(422, f"富文本格式有误：{exc}", [
        {"type": "rich_text_format", "loc": ["body"], "msg": f"富文本格式有误：{exc}"}])


def number_out_of_range(request, exc: OverflowError):
    return _problem(422, "数值超出范围（最大 9223372036854775807）。")


def protected_content(request, exc: ProtectedError):
    # Published content is kept for tracing: its approvals and register entries protect it.
    return _problem(409, "该内容曾经发布并已登记，不能删除；请改为紧急撤稿。")


def file_in_use(request, exc: FileInUse):
    # Live content's signed approval names the file: it stays while that content is live.
    return problem_response(status=409, title="文件正在使用", detail=str(exc))


def os_or_database_error(request, exc: Exception):
    # A full disk: 507 with a Chinese problem; any other such error is a fault of ours.
    if is_full_disk(exc):
        return full_disk_problem(request, exc)
    return unexpected_error(request, exc)


def unexpected_error(request, exc: Exception):
    """A fault of ours: logged with its traceback, answered as a problem (not an HTML page),
    so a client can tell it from a refusal."""
    logger.error("API v3 %s %s failed", request.method, request.path, exc_info=exc)
    # Answered rather than raised, so the request's transaction (ATOMIC_REQUESTS) would
    # commit whatever was written before the fault: roll it back, as the exception would.
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            transaction.set_rollback(True, using=connection.alias)
    return _problem(500, "服务器内部错误，已记录，请稍后重试或联系管理员。")


# --- StreamField values of the wrong shape ---------------------------------------------------

_flatten_block_value = form_data.flatten_block_value


def _loc(prefix: str) -> tuple:
    """The form prefix ``body-0-value-image`` as a location: ("body", 0, "value", "image")."""
    return tuple(int(part) if part.isdigit() else part for part in prefix.split("-"))


def flatten_block_value(block, value, prefix, data):
    """Wagtail's ``flatten_block_value`` (API JSON → form data, recursively), with a value of
    the wrong shape refused at its place: Wagtail indexes and converts what the JSON holds
    (``item["type"]``, ``value.get``, ``int("x")``), and a list, string or word where an
    object or id belongs ended in a 500."""
    try:
        return _flatten_block_value(block, value, prefix, data)
    except (PydanticValidationError, RichTextFormatError):
        raise
    except DjangoValidationError as e:
        if "unrecognised block type" not in " ".join(e.messages):
            raise
        kinds = "、".join(getattr(block, "child_blocks", {}))
        raise as_validation_error(e, f"没有这种内容块；可用的有 {kinds}。",
                                  loc=("body", *_loc(prefix))) from e
    except (TypeError, ValueError, LookupError, AttributeError, OverflowError) as e:
        message = f"{_block_name(block)}的值格式不对（{_expected_shape(block)}）。"
        raise as_validation_error(e, message, loc=("body", *_loc(prefix))) from e


def _block_name(block) -> str:
    from wagtail.blocks import BaseStreamBlock, BaseStructBlock
    from wagtail.contrib.table_block.blocks import TableBlock
    from wagtail.images.blocks import ImageChooserBlock

    label = str(getattr(block, "label", "") or "")
    if any("\u4e00" <= char <= "\u9fff" for char in label):
        return label
    for kind, name in ((ImageChooserBlock, "图片"), (TableBlock, "表格"),
                       (BaseStreamBlock, "正文"), (BaseStructBlock, "内容块")):
        if isinstance(block, kind):
            return name
    return "内容块"


def _expected_shape(block) -> str:
    from wagtail.blocks import BaseStreamBlock, BaseStructBlock, ListBlock
    from wagtail.contrib.table_block.blocks import TableBlock
    from wagtail.images.blocks import ImageChooserBlock

    if isinstance(block, BaseStreamBlock):
        return '应为 [{"type": …, "value": …}, …]'
    if isinstance(block, ListBlock):
        return "应为数组"
    if isinstance(block, TableBlock):
        return '应为 {"data": [[…], …]} 形式的表格'
    if isinstance(block, BaseStructBlock):
        return "应为对象，字段为 " + "、".join(block.child_blocks)
    if isinstance(block, ImageChooserBlock):
        return "应为图片 id（整数）"
    return "类型不符"


def register_api_error_handlers() -> None:
    for exception in (PydanticValidationError, NinjaValidationError, DjangoValidationError):
        api.add_exception_handler(exception, validation_error)
    api.add_exception_handler(PermissionDenied, permission_denied)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(RichTextFormatError, rich_text_format_error)
    api.add_exception_handler(OverflowError, number_out_of_range)
    api.add_exception_handler(ProtectedError, protected_content)
    api.add_exception_handler(FileInUse, file_in_use)
    api.add_exception_handler(OSError, os_or_database_error)
    api.add_exception_handler(DatabaseError, os_or_database_error)
    api.add_exception_handler(Exception, unexpected_error)
    # Wagtail's form_data calls flatten_block_value through its module, recursively, so each
    # level goes through the wrapper and an error is reported at the innermost place.
    form_data.flatten_block_value = flatten_block_value
    # Anonymous readers get live pages and resources only as signed (issue 17).
    pages_router.add_decorator(signed_for_anonymous_readers)
    resources_router.add_decorator(signed_for_anonymous_readers)


# --- what anonymous readers get ----------------------------------------------------------------

def _specific_in_order(pages: list) -> list:
    """The specific pages of ``pages``, in their order (a query per page type)."""
    if all(type(page) is not Page for page in pages):
        return pages
    specific = Page.objects.filter(pk__in=[page.pk for page in pages]).specific().in_bulk()
    return [specific[page.pk] for page in pages if page.pk in specific]


def _as_signed(obj, *, address: str):
    """``obj`` as its leader signed it; 404 when nothing live was signed for it, 503 when
    neither it nor its signed revision is what was signed."""
    try:
        signed = signed_object_for(obj.specific if isinstance(obj, Page) else obj,
                                   address=address)
    except SignedRevisionUnavailable:
        raise HttpError(503, "该内容正在核查，暂不提供。") from None
    if signed is None:
        raise Http404("没有这项内容。")
    return signed


def signed_for_anonymous_readers(view_func):
    """API reads as anonymous readers are shown them: each live page or snippet (a
    teacher's public resource) as its leader signed it (review.register.livecheck), like the
    public site. A title or body written past ``save()`` (an ``update()``, SQL) is not
    served; an object put online without a publication answers 404 and is left out of lists.
    Staff and token readers (the editing tier) see the database as Wagtail does."""

    @wraps(view_func)
    def view(request, *args, **kwargs):
        result = view_func(request, *args, **kwargs)
        if request.method != "GET" or request.user.is_authenticated:
            return result
        if isinstance(result, RevisionMixin):
            return _as_signed(result, address=request.path)
        if isinstance(result, dict) and isinstance(result.get("items"), list):
            items = result["items"]
            if items and all(isinstance(item, Page) for item in items):
                result["items"] = signed_objects(_specific_in_order(items))
            elif items and all(isinstance(item, RevisionMixin) for item in items):
                result["items"] = signed_objects(items)
        return result

    return view


# --- the index and the OpenAPI document --------------------------------------------------------

PROBLEM_JSON = "application/problem+json"
_ERROR_STATUSES = {
    "400": "请求有误（例如 limit 超过上限，?site= 指向多个站点）。",
    "401": "缺少有效的 API 令牌。",
    "403": "令牌的用户无权进行这项操作（包括发布流程的拒绝）。",
    "404": "所请求的内容不存在或不可见。",
    "409": "与现有内容冲突（例如曾经发布的内容不能删除）。",
    "413": "请求正文超过 2 MB。",
    "422": "请求内容有误：errors 逐项给出位置（loc）和说明（msg）。",
    "429": "请求过多（令牌验证失败过多或令牌的频率上限），见 Retry-After。",
}


def _needs_token(operation: dict) -> bool:
    security = operation.get("security")
    return bool(security) and all(requirement for requirement in security)


def document_problems(schema: dict) -> dict:
    """``schema`` with the problems each operation may answer, and their shape."""
    from wagtail.api.v3.errors import ProblemDetail

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ProblemDetail"] = ProblemDetail.model_json_schema(
        ref_template="#/components/schemas/{model}")
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = {"400", "404", "422", "429"}
            if _needs_token(operation) or method != "get":
                statuses |= {"401", "403"}
            if method in ("post", "put", "patch", "delete"):
                statuses.add("409")
            if "requestBody" in operation:
                statuses.add("413")
            for status in sorted(statuses):
                operation["responses"].setdefault(
                    status, {"description": _ERROR_STATUSES[status], "content": problem})
    return schema


def openapi_json(request):
    """API v3's OpenAPI document (Django Ninja's), with the problems it answers."""
    from django.conf import settings
    from ninja.responses import Response

    if not getattr(settings, "WAGTAILAPI_DOCS_ENABLED", True):
        raise Http404
    return Response(document_problems(api.get_openapi_schema(path_params={})))


def index(request):
    """``/api/v3/``: what is here, with links to the OpenAPI document and the docs."""
    from django.http import JsonResponse
    from django.urls import reverse

    def url(name, **kwargs):
        return request.build_absolute_uri(reverse(name, kwargs=kwargs))

    return JsonResponse({
        "name": "教育网站群 API v3",
        "description": "Wagtail API v3：匿名读取当前站点已发布的公开内容；本单位人员用 API 令牌"
                       "（Authorization: Bearer <令牌>）读写本单位的页面和文档。",
        "openapi": url("wagtailapi_v3:openapi-json"),
        "docs": url("wagtailapi_v3:openapi-view"),
        "endpoints": {
            "pages": url("wagtailapi_v3:list_pages"),
            "documents": request.build_absolute_uri("/api/v3/documents/"),
            "images": request.build_absolute_uri("/api/v3/images/"),
            "resources": request.build_absolute_uri("/api/v3/resources/"),
            "sites": request.build_absolute_uri("/api/v3/sites/"),
            "whoami": request.build_absolute_uri("/api/v3/whoami/"),
        },
        "limits": {"body_bytes": 2 * 1024 * 1024, "json_depth": 32, "markup_depth": 100,
                   "markup_tags": 20_000},
    }, json_dumps_params={"ensure_ascii": False})
