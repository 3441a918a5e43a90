"""Wagtail's privacy dialog (页面隐私设置), saying before it saves what the audience guard
(review.pipeline.audience_guard) would do: a loosening of live content is refused with the
reason on the form, a narrowing takes the live pages down (registered) and says so. The
guard itself refuses or takes down whatever path the change comes by; this view only tells
the person first. Served at Wagtail's own address (cms.urls puts it before the admin's)."""

from django.contrib import messages
from wagtail.admin.views.page_privacy import SetPrivacyView
from wagtail.models import PageViewRestriction

from review.pipeline import audience
from review.pipeline.audience_guard import live_pages_under, refusal, rule_of, stored_rules


class GuardedPrivacyView(SetPrivacyView):
    def form_valid(self, form):
        data = form.cleaned_data
        before = stored_rules(self.page)
        after = dict(before)
        if self.restriction is not None:
            after.pop(self.restriction.pk, None)
        groups = [group.name for group in data.get("groups") or ()]
        new_rule = rule_of(PageViewRestriction(restriction_type=data["restriction_type"]),
                           groups=groups)
        if new_rule is not None:
            after[0] = new_rule
        kind = audience.change(old=list(before.values()), new=list(after.values()))
        if reason := refusal(page=self.page, kind=kind):
            form.add_error("restriction_type", reason)
            return self.form_invalid(form)
        live = live_pages_under(self.page).count() if kind == audience.NARROWER else 0
        response = super().form_valid(form)
        if live:
            messages.warning(self.request, f"访问范围已收窄：{live} 个已公开的页面已撤下"
                             "（记入发布登记），须按新的访问范围重新提交审批后发布。")
        return response
