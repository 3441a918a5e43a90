from django.contrib import messages
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.log_actions import LogFormatter
from wagtail.models import Page
from wagtail.snippets.models import register_snippet

from review import reports, security_report, views
from review.health import admin_hooks  # noqa: F401  (site health's URLs, menu and jobs)
from review.pipeline.outcomes import announce
from review.pipeline.takedown import unacknowledged_for
from review.pipeline.tasks import LeaderApprovalTask
from review.register.entries import base_content_type
from review.register.models import RegisterEntry
from review.reports import user_may_see_register
from review.screening import lexicon_admin
from review.screening.lexicon_admin import ScreeningViewSetGroup, user_may_manage_lexicon


@hooks.register("register_log_actions")
def register_review_log_actions(actions):
    actions.register_action("review.screened", "自动内容检查", "自动内容检查完成")
    actions.register_action("review.screening_overridden", "忽略自动检查提示",
                            "审核人说明理由后忽略了自动检查的复核提示")
    actions.register_action("review.credential_enrolled", "登记签名凭证", "登记了签名凭证")

    # The compliance engine's actions (review.pipeline.actions): each message shows what
    # was logged with it.
    @actions.register_action("review.signed")
    class Signed(LogFormatter):
        label = "领导签名审批"

        def format_message(self, log_entry):
            data = log_entry.data
            return (f"领导已签名审批（密钥 {data.get('key_id', '')[:12]}…，"
                    f"{data.get('alg', '')}，内容哈希 {data.get('content_sha256', '')[:12]}…）")

    @actions.register_action("review.approval_voided")
    class ApprovalVoided(LogFormatter):
        label = "领导签名作废"

        def format_message(self, log_entry):
            data = log_entry.data
            return (f"{data.get('approver', '')} 的签名审批已作废（密钥 "
                    f"{data.get('key_id', '')[:12]}…）：{data.get('reason', '')}")

    @actions.register_action("review.credential_revoked")
    class CredentialRevoked(LogFormatter):
        label = "吊销签名凭证"

        def format_message(self, log_entry):
            data = log_entry.data
            name = f"“{data['name']}”" if data.get("name") else ""
            reset = data.get("reason") == "password_reset_by_other"
            because = "（因密码被他人重置）" if reset else ""
            return f"吊销了签名凭证{name}（密钥 {data.get('key_id', '')[:12]}…）{because}"

    @actions.register_action("review.taken_down")
    class TakenDown(LogFormatter):
        label = "紧急撤稿"

        def format_message(self, log_entry):
            data = log_entry.data
            ordered = (f"，依据发布登记第 {data['authorised_by_seq']} 条的签名审批"
                       if data.get("authorised_by_seq") else "")
            return f"紧急撤稿（发布登记第 {data.get('seq')} 条{ordered}）：{data.get('reason')}"

    @actions.register_action("review.takedown_acknowledged")
    class TakedownAcknowledged(LogFormatter):
        label = "确认撤稿"

        def format_message(self, log_entry):
            data = log_entry.data
            note = f"：{data['note']}" if data.get("note") else ""
            return f"领导确认了撤稿（发布登记第 {data.get('seq')} 条）{note}"

    @actions.register_action("review.restored")
    class Restored(LogFormatter):
        label = "恢复签名内容"

        def format_message(self, log_entry):
            return log_entry.data.get("reason") or "恢复为发布登记中签名批准的内容"

    @actions.register_action("review.number_masked")
    class NumberMasked(LogFormatter):
        label = "个人信息打码"

        def format_message(self, log_entry):
            return f"个人号码已打码为 {log_entry.data.get('masked')}，保存为新草稿"

    @actions.register_action("review.suggestion_applied")
    class SuggestionApplied(LogFormatter):
        label = "一键替换表述"

        def format_message(self, log_entry):
            return (f"“{log_entry.data.get('old')}”已替换为“{log_entry.data.get('new')}”，"
                    "保存为新草稿")
    actions.register_action("review.schedule_refused", "定时发布被拒绝",
                            "定时发布被拒绝：审批签名不再有效，已取消定时")


@hooks.register("insert_global_admin_js")
def passkey_script():
    return format_html('<script src="{}" defer></script>', static("review/js/passkeys.js"))


def _without_publish(menu_items):
    # Publishing happens when the leader signs; offering the button would only end in a refusal.
    menu_items[:] = [item for item in menu_items if item.name != "action-publish"]


@hooks.register("construct_page_action_menu")
def hide_page_publish(menu_items, request, context):
    _without_publish(menu_items)


@hooks.register("construct_snippet_action_menu")
def hide_snippet_publish(menu_items, request, context):
    _without_publish(menu_items)


@hooks.register("register_admin_urls")
def register_review_urls():
    return [
        path("register/", reports.register_report, name="review_register"),
        path("register/<int:seq>/form/", reports.register_form, name="review_register_form"),
        path("security-log/", security_report.security_log_report, name="review_security_log"),
        path("signing-credentials/", views.credentials, name="review_credentials"),
        path("signing-credentials/<int:credential_id>/revoke/", views.revoke,
             name="review_credential_revoke"),
        path("signing-credentials/passkey/options/", views.passkey_registration_options,
             name="review_passkey_options"),
        path("signing-credentials/passkey/", views.passkey_enrol, name="review_passkey_enrol"),
        path("approvals/<int:task_state_id>/prepare/", views.prepare_approval,
             name="review_prepare_approval"),
        path("takedown/<int:page_id>/", views.takedown, name="review_takedown"),
        path("takedown/acknowledge/<int:entry_id>/", views.acknowledge_takedown,
             name="review_acknowledge_takedown"),
        path("screening/mask/<int:content_type_id>/<str:object_id>/",
             views.mask_personal_information, name="review_mask"),
        path("screening/replace/<int:content_type_id>/<str:object_id>/",
             views.apply_suggestion, name="review_apply_suggestion"),
        path("screening/lexicon-history/", lexicon_admin.lexicon_history,
             name="review_lexicon_history"),
        path("screening/rescans/", lexicon_admin.rescans, name="review_lexicon_rescans"),
        path("screening/rescans/<int:rescan_id>/", lexicon_admin.rescans,
             name="review_lexicon_rescan"),
    ]


@hooks.register("register_admin_menu_item")
def register_credentials_menu_item():
    class LeadersOnlyMenuItem(MenuItem):
        def is_shown(self, request):
            return LeaderApprovalTask.objects.filter(
                groups__in=request.user.groups.all()).exists()

    return LeadersOnlyMenuItem("签名凭证", reverse("review_credentials"), icon_name="key",
                               order=900)


@hooks.register("construct_homepage_panels")
def unacknowledged_takedowns_panel(request, panels):
    entries = unacknowledged_for(request.user)
    if not entries:
        return

    class TakedownsPanel(Component):
        name = "unacknowledged_takedowns"
        order = 50
        template_name = "review/takedowns_panel.html"

        def get_context_data(self, parent_context=None):
            return {"entries": entries, "csrf_token": parent_context.get("csrf_token")}

    panels.append(TakedownsPanel())


@hooks.register("before_delete_page")
def keep_registered_pages(request, page):
    """Content that was ever published stays, for tracing (the register and retention need
    its revisions): take it down instead. Drafts that never went live can be deleted."""
    pages = Page.objects.descendant_of(page, inclusive=True)
    registered = RegisterEntry.objects.filter(
        content_type=base_content_type(page),
        object_id__in=[str(pk) for pk in pages.values_list("pk", flat=True)])
    if registered.exists():
        messages.error(request, f"《{page.title}》或其下级页面曾经发布并已登记，不能删除："
                                "已发布的内容须紧急撤稿，原稿与登记永久保留以备追溯。")
        return redirect("wagtailadmin_explore", page.get_parent().pk)
    return None


@hooks.register("register_reports_menu_item")
def register_register_report_menu_item():
    class RegisterMenuItem(MenuItem):
        def is_shown(self, request):
            return user_may_see_register(user=request.user)

    return RegisterMenuItem("发布登记", reverse("review_register"), name="publication-register",
                            icon_name="list-ul", order=650)


@hooks.register("register_reports_menu_item")
def register_security_log_menu_item():
    class SecurityLogMenuItem(MenuItem):
        def is_shown(self, request):
            return security_report.user_may_see_security_log(user=request.user)

    return SecurityLogMenuItem("安全审计日志", reverse("review_security_log"),
                               name="security-log", icon_name="lock", order=655)


register_snippet(ScreeningViewSetGroup)


@hooks.register("register_reports_menu_item")
def register_lexicon_rescans_menu_item():
    class LexiconMenuItem(MenuItem):
        def is_shown(self, request):
            return user_may_manage_lexicon(request.user)

    return LexiconMenuItem("词库变更复查", reverse("review_lexicon_rescans"),
                           name="lexicon-rescans", icon_name="search", order=660)


# Wagtail's confirmations of a workflow step, replaced by what the workflow then did
# (review.pipeline.outcomes): a submission the screening returned is no submission.
_WAGTAIL_CONFIRMATIONS = {
    "action-submit": ("Page '%(page_title)s' has been submitted for moderation.",
                      "Page '%(page_title)s' created and submitted for moderation."),
    "action-restart-workflow": ("Workflow on page '%(page_title)s' has been restarted.",),
    "action-workflow-action": ("Page '%(page_title)s' has been updated.",),
}


def _announce_workflow_step(request, page):
    if request.method != "POST":
        return
    for button, confirmations in _WAGTAIL_CONFIRMATIONS.items():
        if request.POST.get(button):
            title = page.get_admin_display_title()
            announce(request, page, replacing=tuple(
                gettext(text) % {"page_title": title} for text in confirmations))
            return


@hooks.register("after_edit_page")
def announce_after_edit(request, page):
    _announce_workflow_step(request, page)


@hooks.register("after_create_page")
def announce_after_create(request, page):
    _announce_workflow_step(request, page)
