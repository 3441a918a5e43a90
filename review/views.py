"""Admin views: signing credentials, emergency takedown and its acknowledgement."""

import base64
import json
import os

from django import forms
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin.admin_url_finder import AdminURLFinder
from wagtail.admin.views.pages.revisions import RevisionsCompareView as PageRevisionsCompareView
from wagtail.admin.views.pages.workflow import WorkflowActionView
from wagtail.models import Page, TaskState

from review.exceptions import ApprovalError, CannotMask
from review.keys import MIN_PASSPHRASE_LENGTH
from review.pipeline.actions import (
    AcknowledgeTakedownAction,
    ApplySuggestionAction,
    EnrolCredentialAction,
    MaskPersonalNumberAction,
    RevokeCredentialAction,
    TakedownAction,
    may_take_down,
)
from review.pipeline.approvals import enrol_passphrase_credential
from review.pipeline.outcomes import announce
from review.pipeline.passkeys import assertion_options, enrol, registration_options
from review.pipeline.records import SigningCredential
from review.pipeline.tasks import LeaderApprovalTask
from review.pipeline.workflow import prepare_approval as build_prepared
from review.register.models import RegisterEntry
from review.register.security import client_address
from review.screening.pii import mask


class PassphraseEnrolmentForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100, required=False,
                           help_text="便于区分多个凭证，如“办公室电脑”。")
    passphrase = forms.CharField(label="签名口令", widget=forms.PasswordInput,
                                 min_length=MIN_PASSPHRASE_LENGTH,
                                 help_text=f"至少 {MIN_PASSPHRASE_LENGTH} 个字符；只有您知道，"
                                           "系统只保存用它加密后的私钥，遗失后无法找回。")
    confirm = forms.CharField(label="再次输入签名口令", widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("passphrase") and data.get("passphrase") != data.get("confirm"):
            self.add_error("confirm", "两次输入的签名口令不一致。")
        return data


def enrolment_refusal(request) -> HttpResponse | None:
    """What the ``before_enrol_signing_credential`` hooks answer instead of the enrolment
    (the project sends a user without a fresh login and second factor to re-authenticate),
    or None to go on."""
    for hook in hooks.get_hooks("before_enrol_signing_credential"):
        response = hook(request)
        if response is not None:
            return response
    return None


def _json_refusal(response: HttpResponse) -> JsonResponse:
    return JsonResponse({"error": "登记签名凭证前需要重新验证身份（密码和第二因子）。",
                         "reauthenticate": response.get("Location", "")}, status=403)


def credentials(request):
    refusal = enrolment_refusal(request)
    if refusal is not None:
        return refusal
    form = PassphraseEnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        credential = EnrolCredentialAction(
            user=request.user, address=client_address(request),
            make_credential=lambda: enrol_passphrase_credential(
                user=request.user, passphrase=form.cleaned_data["passphrase"],
                name=form.cleaned_data["name"])).execute()
        messages.success(request, f"已登记签名凭证 {credential.key_id[:16]}…；"
                                  "已通知您本人和账号管理员。")
        return redirect("review_credentials")
    own = SigningCredential.objects.filter(user=request.user).order_by("-created_at")
    return render(request, "review/credentials.html", {"form": form, "credentials": own})


PASSKEY_CHALLENGE_SESSION_KEY = "review_passkey_registration_challenge"


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@require_POST
def passkey_registration_options(request):
    refusal = enrolment_refusal(request)
    if refusal is not None:
        return _json_refusal(refusal)
    challenge = os.urandom(32)
    request.session[PASSKEY_CHALLENGE_SESSION_KEY] = base64.b64encode(challenge).decode()
    options = registration_options(user=request.user, challenge=challenge)
    return JsonResponse({"options": json.loads(options)})


@require_POST
def passkey_enrol(request):
    refusal = enrolment_refusal(request)
    if refusal is not None:
        return _json_refusal(refusal)
    stored = request.session.pop(PASSKEY_CHALLENGE_SESSION_KEY, None)
    body = _json_body(request)
    if stored is None or not isinstance(body.get("credential"), dict):
        return _json_error("登记请求已失效，请重新点击“登记安全密钥”。")
    try:
        credential = EnrolCredentialAction(
            user=request.user, address=client_address(request),
            make_credential=lambda: enrol(user=request.user, response=body["credential"],
                                          challenge=base64.b64decode(stored),
                                          name=str(body.get("name") or "")[:100])).execute()
    except ApprovalError as error:
        return _json_error(str(error))
    messages.success(request, f"已登记安全密钥 {credential.key_id[:16]}…")
    return JsonResponse({"key_id": credential.key_id})


@require_POST
def prepare_approval(request, task_state_id: int):
    """The approval the leader's security key is to sign, and the WebAuthn request options."""
    task_state = get_object_or_404(TaskState, pk=task_state_id,
                                   status=TaskState.STATUS_IN_PROGRESS)
    task = task_state.task.specific
    obj = task_state.workflow_state.content_object
    if not isinstance(task, LeaderApprovalTask) or "approve" not in {
            name for name, _, _ in task.get_actions(obj, request.user)}:
        return _json_error("您不能审批这项内容。", status=403)
    keys = request.user.signing_credentials.filter(kind=SigningCredential.Kind.WEBAUTHN,
                                                   revoked_at=None)
    if not keys.exists():
        return _json_error("您还没有登记安全密钥。")
    payload, _ = build_prepared(task_state=task_state, user=request.user)
    return JsonResponse({"approval": payload,
                         "options": json.loads(assertion_options(credentials=keys,
                                                                 payload=payload))})


@require_POST
def revoke(request, credential_id: int):
    credential = get_object_or_404(SigningCredential, pk=credential_id, user=request.user,
                                   revoked_at=None)
    RevokeCredentialAction(credential, user=request.user,
                           address=client_address(request)).execute()
    messages.success(request, "签名凭证已吊销，不能再用于审批签名。")
    return redirect("review_credentials")


class TakedownForm(forms.Form):
    reason = forms.CharField(label="撤稿原因", widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="立即撤下本页，记入发布登记，并通知领导确认。")


def takedown(request, page_id: int):
    page = get_object_or_404(Page, pk=page_id).specific
    if not may_take_down(page, user=request.user):
        raise PermissionDenied
    form = TakedownForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        TakedownAction(page, user=request.user, reason=form.cleaned_data["reason"]).execute()
        messages.success(request, f"已紧急撤下《{page.title}》，已记入发布登记并通知领导。")
        return redirect("wagtailadmin_explore", page.get_parent().pk)
    return render(request, "review/takedown.html", {"page": page, "form": form})


@require_POST
def acknowledge_takedown(request, entry_id: int):
    entry = get_object_or_404(RegisterEntry, pk=entry_id, kind=RegisterEntry.Kind.TAKEDOWN,
                              acknowledgement__isnull=True)
    AcknowledgeTakedownAction(entry, user=request.user,
                              note=request.POST.get("note", "")).execute()
    messages.success(request, f"已确认撤稿 #{entry.seq}。")
    return redirect("wagtailadmin_home")


@require_POST
def mask_personal_information(request, content_type_id: int, object_id: str):
    """The author's one-click mask: a personal number the screener found is replaced by its
    masked form (138****1234) everywhere in the latest draft, saved as a new revision."""
    content_type = get_object_or_404(ContentType, pk=content_type_id)
    model = content_type.model_class()
    obj = get_object_or_404(model, pk=object_id)
    obj = obj.specific if isinstance(obj, Page) else obj
    number = request.POST.get("mask_match", "")
    action = MaskPersonalNumberAction(obj, user=request.user, number=number)
    edit_url = AdminURLFinder(request.user).get_edit_url(obj) or "wagtailadmin_home"
    try:
        masked = action.execute()
    except CannotMask as error:
        messages.error(request, str(error))
        return redirect(edit_url)
    if masked:
        # The number itself is not repeated: messages are kept in the session cookie.
        messages.success(request, f"已打码为 {mask(number)} 并保存为新草稿"
                                  "（编辑页中未保存的改动不会保留）。")
    else:
        messages.warning(request, f"最新草稿中已没有号码 {mask(number)}。")
    return redirect(edit_url)


@require_POST
def apply_suggestion(request, content_type_id: int, object_id: str):
    """The author's one-click replacement of an expression error or a typo by the screener's
    suggestion, saved as a new draft (as the one-click mask is)."""
    content_type = get_object_or_404(ContentType, pk=content_type_id)
    obj = get_object_or_404(content_type.model_class(), pk=object_id)
    obj = obj.specific if isinstance(obj, Page) else obj
    action = ApplySuggestionAction(obj, user=request.user,
                                   match=request.POST.get("replace_match", ""))
    edit_url = AdminURLFinder(request.user).get_edit_url(obj) or "wagtailadmin_home"
    try:
        replaced = action.execute()
    except CannotMask as error:
        messages.error(request, str(error))
        return redirect(edit_url)
    if replaced:
        messages.success(request, f"已将“{action.match[:40]}”替换为“{action.suggestion}”并保存为"
                                  "新草稿（编辑页中未保存的改动不会保留）。")
    else:
        messages.warning(request, f"最新草稿中已没有“{action.match[:40]}”。")
    return redirect(edit_url)


class AnnouncingWorkflowActionView(WorkflowActionView):
    """Wagtail's workflow action view (the dashboard's and the listings' approve and reject
    buttons), confirming what the step led to (review.pipeline.outcomes): Wagtail's says
    nothing at all. Said only when the step did finish its task (a refused or invalid action
    leaves it in progress, and says why elsewhere)."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        task_state = TaskState.objects.filter(pk=self.task_state.pk).first()
        if task_state is not None and task_state.status != TaskState.STATUS_IN_PROGRESS:
            announce(request, Page.objects.get(pk=self.object.pk).specific)
        return response


class ReviewCompareView(PageRevisionsCompareView):
    """Wagtail's page comparison, where "live" of content never published is nothing: a
    reviewer of a new page sees all of it as added (Wagtail compares it with itself, or with
    the author's earlier draft, and shows no difference). Edited content is compared with
    the live version, as Wagtail does."""

    def _get_revision_and_heading(self, revision_id):
        if revision_id == "live" and not self.object.live and self.object.live_revision_id is None:
            return self.object.specific_class(title=""), "无（新内容，尚未发布）"
        return super()._get_revision_and_heading(revision_id)
