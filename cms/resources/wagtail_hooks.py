import functools

from django import forms
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.http import Http404
from django.urls import URLPattern, path, reverse
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel, ObjectList
from wagtail.log_actions import LogFormatter
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from cms.forms import OwnFilesModelForm
from cms.models import ColumnPage, Role
from cms.resources import scope, views
from cms.resources.models import Resource, Semester, TeachingGroup
from cms.resources.permissions import (
    ResourcePermissionPolicy,
    SemesterPermissionPolicy,
    TeachingGroupPermissionPolicy,
    visible_resources,
)
from cms.resources.public import resources_listed_by
from review.pipeline.panels import ScreeningFindingsPanel
from review.register.livecheck import signed_objects

register_permission_policy(Resource, ResourcePermissionPolicy(Resource))
register_permission_policy(Semester, SemesterPermissionPolicy(Semester))
teaching_group_policy = TeachingGroupPermissionPolicy(TeachingGroup)
register_permission_policy(TeachingGroup, teaching_group_policy)


def confined(view, visible=lambda user: visible_resources(user=user)):
    """``view`` of one object, answering 404 for an object outside ``visible(user)``."""
    @functools.wraps(view)
    def confined_view(request, *args, pk, **kwargs):
        if not visible(request.user).filter(pk=unquote(str(pk))).exists():
            raise Http404
        return view(request, *args, pk=pk, **kwargs)

    return confined_view


def confine_object_urls(patterns, visible=lambda user: visible_resources(user=user)):
    """Wagtail's snippet views check model permissions only; every view of one object
    (edit, history, delete, …) is confined here."""
    return [URLPattern(pattern.pattern, confined(pattern.callback, visible),
                       pattern.default_args, pattern.name)
            if "pk" in pattern.pattern.regex.groupindex else pattern
            for pattern in patterns]


class ResourceViewSet(SnippetViewSet):
    model = Resource
    icon = "doc-full"
    menu_label = "学期资源登记"
    menu_order = 310
    add_to_admin_menu = False
    list_display = ["registry_number", "title", "kind", "subject", "grade", "semester",
                    "uploader", "status_label"]
    list_filter = ["kind", "semester", "visibility"]
    search_fields = ["title", "registry_number", "subject"]
    copy_view_enabled = False
    # Resources are filed through 我的学期资源 (batch upload with registry numbers).
    create_view_enabled = False

    def get_queryset(self, request):
        return visible_resources(user=request.user).select_related("semester", "uploader")

    def get_urlpatterns(self):
        # Every view of one resource (edit, history, revisions, workflow, preview, lock,
        # delete, …) is confined to the resources the user may see.
        return confine_object_urls(super().get_urlpatterns())

    @property
    def edit_handler(self):
        # A school's resource uses only the school's own documents (cms.file_scope).
        return ObjectList(self.panels, base_form_class=OwnFilesModelForm)

    @property
    def panels(self):
        return [
            ScreeningFindingsPanel(),
            FieldPanel("title"),
            MultiFieldPanel([FieldPanel("kind"), FieldPanel("subject"), FieldPanel("grade"),
                             FieldPanel("semester"), FieldPanel("source_channel"),
                             FieldPanel("visibility")], heading="分类"),
            FieldPanel("description"),
            InlinePanel("files", label="文件", panels=[FieldPanel("document")]),
        ]


register_snippet(ResourceViewSet)


class SemesterViewSet(SnippetViewSet):
    """学期: network-wide; the bureau's web administrators manage them, schools view them."""

    model = Semester
    icon = "date"
    menu_label = "学期"
    menu_name = "semesters"
    add_to_settings_menu = True
    menu_order = 500
    list_display = ["name", "code", "start_date", "end_date"]
    inspect_view_enabled = True
    copy_view_enabled = False
    panels = [FieldPanel("start_year"), FieldPanel("term"), FieldPanel("start_date"),
              FieldPanel("end_date")]


register_snippet(SemesterViewSet)


class TeachingGroupForm(WagtailAdminModelForm):
    """Only the schools the user administers, and only their staff as leaders."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schools = teaching_group_policy.schools_for(self.for_user, "change")
        self.fields["school"].queryset = schools
        self.fields["leader"].queryset = (
            get_user_model().objects.filter(groups__organisation_role__home_page__in=schools,
                                            is_active=True)
            .distinct().order_by("username"))


class TeachingGroupViewSet(SnippetViewSet):
    """教研组 and their leaders (教研组长), per school and subject."""

    model = TeachingGroup
    icon = "group"
    menu_label = "教研组"
    menu_name = "teaching-groups"
    add_to_settings_menu = True
    menu_order = 510
    list_display = ["subject", "school", "leader"]
    list_filter = ["subject"]
    inspect_view_enabled = True
    copy_view_enabled = False
    edit_handler = ObjectList([FieldPanel("school", widget=forms.Select),
                               FieldPanel("subject"),
                               FieldPanel("leader", widget=forms.Select)],
                              base_form_class=TeachingGroupForm)

    def get_queryset(self, request):
        return (teaching_group_policy.instances_user_has_any_permission_for(
            request.user, ["view", "change"]).select_related("school", "leader"))

    def get_urlpatterns(self):
        return confine_object_urls(
            super().get_urlpatterns(),
            lambda user: teaching_group_policy.instances_user_has_any_permission_for(
                user, ["view", "change"]))


register_snippet(TeachingGroupViewSet)


@hooks.register("register_admin_urls")
def register_resource_urls():
    return [
        path("resources/mine/", views.my_resources, name="resources_mine"),
        path("resources/report/", views.school_report, name="resources_report"),
        path("resources/report.xlsx", views.school_report_xlsx, name="resources_report_xlsx"),
        path("resources/registry/", views.registry, name="resources_registry"),
        path("resources/registry.xlsx", views.registry_xlsx, name="resources_registry_xlsx"),
        path("resources/quota/", views.quota_rule, name="resources_quota"),
        path("resources/second-preparation/", views.second_preparations,
             name="resources_second_preparations"),
        path("resources/second-preparation/<int:plan_id>/", views.derive_lesson_plan,
             name="resources_derive_lesson_plan"),
    ]


def menu_roles(request) -> dict[str, bool]:
    """What the user is, for showing the menu items: looked up once per request (every admin
    page draws the menus)."""
    cached = getattr(request, "_resources_menu_roles", None)
    if cached is None:
        user = request.user
        teaches = bool(scope.home_ids(user=user, roles=(Role.TEACHER,))
                       - scope.portal_ids(user=user))
        cached = {
            "teaches": teaches,
            "oversees": user.is_superuser or bool(scope.home_ids(user=user,
                                                                  roles=scope.OVERSEEING_ROLES)),
            "second_preparation": teaches or TeachingGroup.objects.filter(leader=user).exists(),
        }
        request._resources_menu_roles = cached
    return cached


class RoleMenuItem(MenuItem):
    def __init__(self, *args, role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.role = role

    def is_shown(self, request):
        return menu_roles(request)[self.role]


@hooks.register("register_admin_menu_item")
def my_resources_menu_item():
    return RoleMenuItem("我的学期资源", reverse("resources_mine"), name="my-resources",
                        icon_name="upload", order=120, role="teaches")


@hooks.register("register_admin_menu_item")
def second_preparation_menu_item():
    return RoleMenuItem("二次备课", reverse("resources_second_preparations"),
                        name="second-preparation", icon_name="doc-full", order=121,
                        role="second_preparation")


@hooks.register("register_reports_menu_item")
def semester_report_menu_item():
    return RoleMenuItem("学期资源完成情况", reverse("resources_report"),
                        name="semester-resources", icon_name="table", order=670, role="oversees")


@hooks.register("register_reports_menu_item")
def registry_menu_item():
    return RoleMenuItem("资源登记册", reverse("resources_registry"),
                        name="resource-registry", icon_name="list-ol", order=680, role="oversees")


@hooks.register("register_log_actions")
def register_resource_log_actions(actions):
    @actions.register_action("resources.approved_internally")
    class ApprovedInternallyFormatter(LogFormatter):
        label = "校内资源审核通过"

        def format_message(self, log_entry):
            data = log_entry.data or {}
            if "registry_number" not in data:  # logged before the data was kept
                return "校内资源经初审通过（不公开）"
            return (f"校内资源 {data['registry_number']}“{data['title']}”经"
                    f"{data['first_reviewer']}初审通过（不公开）")

    @actions.register_action("resources.second_preparation_accepted")
    class SecondPreparationAcceptedFormatter(LogFormatter):
        label = "二次备课已采用"

        def format_message(self, log_entry):
            data = log_entry.data or {}
            message = f"教研组长审核通过，新版本替换共享教案 {data.get('replaces', '')}".rstrip()
            if data.get("comment"):
                message += f"；意见：{data['comment']}"
            return message

    @actions.register_action("resources.second_preparation_returned")
    class SecondPreparationReturnedFormatter(LogFormatter):
        label = "二次备课已退回"

        def format_message(self, log_entry):
            data = log_entry.data
            return f"教研组长退回二次备课（原教案 {data['original']}）；意见：{data['comment']}"


@hooks.register("column_listing_resources")
def public_resources_of_column(*, column: ColumnPage) -> list[Resource]:
    """A school's public resources, listed below the articles of its column for their kind
    (cms.baking.listing), each as signed (a row changed past ``save()`` shows its signed
    revision; one put online without a publication is left out)."""
    return signed_objects(list(resources_listed_by(column=column)))
