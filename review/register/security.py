"""The security audit log (安全审计日志): who did what to which account, from where, and how
it ended — logins, lockouts, second factors, passwords, roles, accounts, signing credentials,
API tokens, exports of the register. Chained like the publication register, so an edit,
deletion or reordering is detected offline.

``record_security_event`` is the one way in; callers pass everything as arguments.
"""

import getpass

from django.db import transaction
from django.utils import timezone

from review.canonical import entry_hash
from review.register.entries import iso_utc
from review.register.models import SecurityEvent, SecurityLogHead

# The events the log knows, with the Chinese label shown to account administrators.
EVENTS: dict[str, str] = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "lockout": "账号锁定",
    "unlock": "解除锁定",
    "second_factor_enrolled": "登记第二因子",
    "second_factor_removed": "移除第二因子",
    "second_factor_failed": "第二因子验证失败",
    "reauthenticated": "重新验证身份",
    "password_changed": "修改密码",
    "password_reset": "重置密码",
    "role_granted": "授予角色",
    "role_revoked": "撤销角色",
    "account_created": "创建账号",
    "account_changed": "修改账号",
    "account_deactivated": "停用账号",
    "account_deleted": "删除账号",
    "credential_enrolled": "登记签名凭证",
    "credential_revoked": "吊销签名凭证",
    "approval_voided": "领导签名作废",
    "token_created": "创建 API 令牌",
    "token_revoked": "吊销 API 令牌",
    "api_throttled": "API 令牌尝试过多",
    "register_exported": "导出发布登记",
    "security_log_exported": "导出安全审计日志",
    "audit_log_pruned": "清理过期的操作日志",
    "audience_changed": "修改已公开页面的访问范围",
    "live_content_mismatch": "线上内容与签名不符",
    "redirect_saved": "设置站内跳转",
    "redirect_deleted": "删除站内跳转",
    "action_refused": "操作被拒绝",
    "page_password_failed": "页面访问密码错误",
    "page_password_blocked": "页面访问密码错误过多",
    "interaction_contact_viewed": "查看留言人联系方式",
    "interaction_handler_designated": "指定留言处理人",
    "interaction_handler_removed": "取消留言处理人",
}


def _name(user) -> str:
    if user is None or not getattr(user, "pk", None):
        return ""
    return user.get_username()


def command_actor() -> str:
    """Who runs a management command: the operating-system account, marked as such (it is
    not an account of the CMS)."""
    try:
        return f"系统账户 {getpass.getuser()}"[:150]
    except (KeyError, OSError):  # no user name in the environment nor the password database
        return "系统账户"


def event_label(*, event: str) -> str:
    """The Chinese name of an event, as account administrators read it."""
    return EVENTS.get(event, event)


def client_address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "")[:64] if request is not None else ""


@transaction.atomic
def record_security_event(*, event: str, outcome: str = SecurityEvent.Outcome.SUCCESS,
                          actor=None, actor_name: str = "", subject: str = "",
                          address: str = "", data: dict | None = None) -> SecurityEvent:
    """Append one event, chained to the head, in the caller's transaction (so an event about
    a change that rolls back is rolled back with it).

    ``actor`` is the user who acted (or ``actor_name`` when there is no user, such as a failed
    login under an unknown name); ``subject`` names what was acted on ("user:yz_teacher",
    "credential:ab12…"); ``data`` holds JSON-able details (never passwords or codes).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown security event {event!r}")
    head = SecurityLogHead.objects.select_for_update().get_or_create(pk=1)[0]
    at = timezone.now()
    entry = {
        "seq": head.seq + 1,
        "at": iso_utc(at),
        "event": event,
        "outcome": str(outcome),
        "actor": _name(actor) or actor_name,
        "subject": subject,
        "address": address,
        "data": data or {},
        "prev_hash": head.entry_hash,
    }
    row = SecurityEvent.objects.create(
        seq=entry["seq"], at=at, event=event, outcome=entry["outcome"], actor=entry["actor"],
        subject=subject[:255], address=address[:64], entry=entry, entry_hash=entry_hash(entry))
    head.seq, head.entry_hash = row.seq, row.entry_hash
    head.save(update_fields=["seq", "entry_hash"])
    return row
