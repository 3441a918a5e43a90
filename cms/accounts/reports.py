"""Wagtail's reports, confined to what the viewer may see (invariant 5).

Wagtail lists another school's workflow rows through the snippet branch of its queries (page
models count as "editable models"), fills its filters with every workflow, task and
requester of the network, shows every log entry whose model the viewer has any permission
on (user accounts, for an administrator who may add users) and the last edited page of each
page type. Here the workflow reports list only states of pages the viewer may change (and of
snippets they may change), their filters only what those rows name; the site history and the
page types report are for maintainers and account administrators only.

These views answer on Wagtail's own addresses: cms/urls.py puts them before the admin's.
"""

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.urls import path
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.reports import workflows
from wagtail.admin.views.reports.audit_logging import LogEntriesView
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.models import (
    Page,
    Task,
    TaskState,
    Workflow,
    WorkflowState,
    get_default_page_content_type,
)
from wagtail.permissions import policy_registry
from wagtail.snippets.models import get_editable_models

from cms.accounts.users import is_account_administrator


def visible_workflow_states(user):
    """The workflow states of content ``user`` may change."""
    if user.is_superuser:
        return WorkflowState.objects.all()
    pages = policy_registry.get_by_type(Page).instances_user_has_permission_for(user, "change")
    visible = Q(base_content_type_id=get_default_page_content_type().id,
                object_id__in=pages.values_list(Cast("id", output_field=CharField()), flat=True))
    for model in get_editable_models(user):
        if issubclass(model, Page):
            continue
        instances = policy_registry.get_by_type(model).instances_user_has_permission_for(
            user, "change")
        visible |= Q(content_type__app_label=model._meta.app_label,
                     content_type__model=model._meta.model_name,
                     object_id__in=instances.values_list(Cast("pk", output_field=CharField()),
                                                         flat=True))
    return WorkflowState.objects.filter(visible)


def _requesters(request):
    states = visible_workflow_states(request.user)
    return get_user_model()._default_manager.filter(
        pk__in=states.values("requested_by")).order_by("username")


def _workflows(request):
    return Workflow.objects.filter(
        pk__in=visible_workflow_states(request.user).values("workflow"))


def _tasks(request):
    return Task.objects.filter(pk__in=TaskState.objects.filter(
        workflow_state__in=visible_workflow_states(request.user)).values("task"))


class WorkflowFilterSet(workflows.WorkflowReportFilterSet):
    requested_by = django_filters.ModelChoiceFilter(field_name="requested_by",
                                                    queryset=_requesters, label="提交人")
    workflow = django_filters.ModelChoiceFilter(field_name="workflow", queryset=_workflows,
                                                label="审批流程")


class WorkflowTasksFilterSet(workflows.WorkflowTasksReportFilterSet):
    workflow = django_filters.ModelChoiceFilter(field_name="workflow_state__workflow",
                                                queryset=_workflows, label="审批流程")
    task = django_filters.ModelChoiceFilter(queryset=_tasks, label="审批环节")


class WorkflowView(workflows.WorkflowView):
    filterset_class = WorkflowFilterSet

    def get_queryset(self):
        return super().get_queryset().filter(
            pk__in=visible_workflow_states(self.request.user).values("pk"))


class WorkflowTasksView(workflows.WorkflowTasksView):
    filterset_class = WorkflowTasksFilterSet

    def get_queryset(self):
        return super().get_queryset().filter(
            workflow_state__in=visible_workflow_states(self.request.user).values("pk"))


def may_see_network_history(user) -> bool:
    return user.is_superuser or is_account_administrator(user)


class SiteHistoryView(LogEntriesView):
    def dispatch(self, request, *args, **kwargs):
        if not may_see_network_history(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class PageTypesUsageView(PageTypesUsageReportView):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _report_paths(prefix: str, view, name: str) -> list:
    return [
        path(f"{prefix}/", require_admin_access(view.as_view()), name=f"confined_{name}"),
        path(f"{prefix}/results/", require_admin_access(view.as_view(results_only=True)),
             name=f"confined_{name}_results"),
    ]


# Before Wagtail's admin URLs (cms/urls.py), on the same addresses.
urlpatterns = [
    *_report_paths("admin/reports/workflow", WorkflowView, "workflow"),
    *_report_paths("admin/reports/workflow_tasks", WorkflowTasksView, "workflow_tasks"),
    *_report_paths("admin/reports/site-history", SiteHistoryView, "site_history"),
    *_report_paths("admin/reports/page-types-usage", PageTypesUsageView, "page_types_usage"),
]


def hide_refused_reports(request, menu_items) -> None:
    """``construct_reports_menu``: no menu entries for reports the user would be refused."""
    hidden = set()
    if not may_see_network_history(request.user):
        hidden.add("site-history")
    if not request.user.is_superuser:
        hidden.add("page-types-usage")
    menu_items[:] = [item for item in menu_items if item.name not in hidden]


def confine_page_chooser(pages, request):
    """``construct_page_chooser_queryset``: live pages of any site (to link to), drafts only
    where the user may see them."""
    if request.user.is_superuser:
        return pages
    explorable = policy_registry.get_by_type(Page).explorable_instances(request.user)
    return pages.filter(Q(live=True) | Q(pk__in=explorable.values("pk")))
