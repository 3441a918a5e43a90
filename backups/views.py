"""Capturing content from another website as a document whose original keeps its address."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from wagtail.admin import messages
from wagtail.documents import get_document_model
from wagtail.permissions import policy_registry

from backups.fetch import FetchError
from backups.objectstore import ObjectStoreError
from backups.originals import add_document_from_source


def collections_for(user):
    policy = policy_registry.get_by_type(get_document_model())
    return policy.collections_user_has_permission_for(user, "add")


class CaptureForm(forms.Form):
    url = forms.URLField(label="来源网址", max_length=2000, assume_scheme="https")
    title = forms.CharField(label="标题", max_length=255)
    collection = forms.ModelChoiceField(label="文档集合", queryset=None, empty_label=None)
    file = forms.FileField(
        label="已保存的文件或网页（可选）", required=False,
        help_text="已从该网址保存下来的文件或网页；留空则由系统限时、限大小抓取该网址。")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = collections_for(user)


def capture(request):
    if not collections_for(request.user).exists():
        raise PermissionDenied
    form = CaptureForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            document = add_document_from_source(
                url=form.cleaned_data["url"], title=form.cleaned_data["title"],
                collection=form.cleaned_data["collection"], user=request.user,
                uploaded=form.cleaned_data["file"])
        except (FetchError, ObjectStoreError) as error:
            form.add_error("url" if isinstance(error, FetchError) else None, str(error))
        else:
            messages.success(request, f"已采集“{document.title}”，原件与来源网址已留存。")
            return redirect(reverse("wagtaildocs:edit", args=[document.pk]))
    return TemplateResponse(request, "backups/capture.html", {"form": form})
