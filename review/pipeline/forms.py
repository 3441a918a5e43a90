"""The forms of the review tasks' actions: a rejection always carries a comment, passing
findings left to people carries a reason, and the leader's approval carries a signature."""

from django import forms
from wagtail.forms import TaskStateCommentForm


class RejectForm(TaskStateCommentForm):
    comment = forms.CharField(
        label="退回意见", widget=forms.Textarea(attrs={"rows": 4}), required=True,
        help_text="退回必须说明原因，作者和此前的审核人都会收到。",
    )


class OverrideReasonForm(TaskStateCommentForm):
    comment = forms.CharField(
        label="通过理由", widget=forms.Textarea(attrs={"rows": 4}), required=True,
        help_text="自动检查提示了须人工复核的问题（见编辑页上方的列表）；说明为什么可以通过，"
                  "理由记入日志。",
    )


APPROVE_WITH_REASON = "approve_with_reason"


class LeaderApprovalForm(TaskStateCommentForm):
    """Either the passphrase (the key signs on the server) or a WebAuthn assertion over the
    prepared approval (the key signs in the leader's browser; see review/static/review/)."""

    passphrase = forms.CharField(label="签名口令", widget=forms.PasswordInput, required=False,
                                 help_text="用您的签名口令对本次审批签名，签名即视为领导签字。")
    approval_payload = forms.CharField(widget=forms.HiddenInput, required=False)
    webauthn_assertion = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("passphrase") and not data.get("webauthn_assertion"):
            raise forms.ValidationError("请输入签名口令，或使用安全密钥签名。")
        if data.get("webauthn_assertion") and not data.get("approval_payload"):
            raise forms.ValidationError("缺少所签名的审批内容，请重新签名。")
        return data

