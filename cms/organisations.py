"""Tiered management (县、校分级管理): provisioning the bureau portal and school sites.

Every organisation gets its own Wagtail Site, home page, default columns, a document
collection, and three role groups whose rights are confined to its own subtree and
collection. Group membership is what makes a user staff of an organisation.
"""

import re
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from wagtail.models import (
    Collection,
    CollectionViewRestriction,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from cms.columns import (
    PORTAL_DEFAULT_COLUMNS,
    SCHOOL_DEFAULT_COLUMNS,
    TEACHER_COLUMN_KINDS,
)
from cms.exceptions import OrganisationError
from cms.models import (
    CONTENT_ROLES,
    ColumnPage,
    OrganisationHomePage,
    OrganisationRole,
    PortalPage,
    Role,
    SchoolHomePage,
)
from review.models import FirstReviewTask, LeaderApprovalTask, ScreeningTask

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")
HOSTNAME_PATTERN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)

# Page rights on the organisation's own subtree. Nobody is given rights on the tree root.
PAGE_RIGHTS: dict[str, tuple[str, ...]] = {
    Role.ADMINISTRATOR: ("add", "change", "lock", "unlock", "publish"),
    Role.LEADER: ("change",),
    Role.TEACHER: (),
    Role.ACCOUNTS: (),
}
# Teachers contribute to the teaching columns only.
TEACHER_COLUMN_RIGHTS = ("add",)
# Rights on the organisation's document and image collection.
COLLECTION_RIGHTS: dict[str, tuple[str, ...]] = {
    Role.ADMINISTRATOR: ("add", "change", "choose", "delete"),
    Role.LEADER: ("choose",),
    Role.TEACHER: ("add", "choose"),
    Role.ACCOUNTS: (),
}
# Site-independent rights: everyone uses the admin; administrators manage their own
# organisation's teachers, the bureau's account administrators every organisation's staff
# (cms.accounts.users confines both), and read the security audit log.
GLOBAL_RIGHTS: dict[str, tuple[str, ...]] = {
    Role.ADMINISTRATOR: ("wagtailadmin.access_admin", "auth.add_user", "auth.change_user"),
    Role.LEADER: ("wagtailadmin.access_admin",),
    Role.TEACHER: ("wagtailadmin.access_admin",),
    Role.ACCOUNTS: ("wagtailadmin.access_admin", "auth.add_user", "auth.change_user",
                    "auth.delete_user", "review.view_securityevent", "accounts.unlock_account"),
}

# The bureau oversees the network: its web administrators read the security audit log too,
# and ask for changes of site records and external redirects (signed by the bureau leader).
PORTAL_EXTRA_RIGHTS: dict[str, tuple[str, ...]] = {
    Role.ADMINISTRATOR: ("review.view_securityevent", "sitechanges.add_sitechange",
                         "sitechanges.change_sitechange"),
}


@dataclass(frozen=True)
class Organisation:
    home_page: OrganisationHomePage
    site: Site
    collection: Collection
    groups: dict[str, Group]
    workflow: Workflow
    columns: list[ColumnPage]

    @property
    def skeleton(self) -> list[Page]:
        """The pages provisioning creates as drafts: home first, then the columns."""
        return [self.home_page, *self.columns]


def group_name(organisation_name: str, role: str) -> str:
    return f"{organisation_name} {Role(role).label}"


def create_school(*, name: str, slug: str, hostname: str, port: int = 80) -> Organisation:
    return _create_organisation(
        page_class=SchoolHomePage, name=name, slug=slug, hostname=hostname, port=port,
        columns=SCHOOL_DEFAULT_COLUMNS, is_default_site=False,
    )


def create_portal(*, name: str, hostname: str, port: int = 80) -> Organisation:
    """The bureau's portal: the default site, with the county-level roles."""
    if PortalPage.objects.exists():
        raise OrganisationError("门户已存在，不能重复创建。")
    _remove_stock_welcome_site()
    return _create_organisation(
        page_class=PortalPage, name=name, slug="portal", hostname=hostname, port=port,
        columns=PORTAL_DEFAULT_COLUMNS, is_default_site=True,
        roles=(*CONTENT_ROLES, Role.ACCOUNTS), extra_rights=PORTAL_EXTRA_RIGHTS,
    )


@transaction.atomic
def _create_organisation(
    *,
    page_class: type[OrganisationHomePage],
    name: str,
    slug: str,
    hostname: str,
    port: int,
    columns: list[tuple[str, str, str]],
    is_default_site: bool,
    roles: tuple[str, ...] = CONTENT_ROLES,
    extra_rights: dict[str, tuple[str, ...]] | None = None,
) -> Organisation:
    name = name.strip()
    hostname = hostname.strip().lower()
    _validate(name=name, slug=slug, hostname=hostname, port=port, roles=roles)

    # The skeleton starts as drafts: like any content it goes live only through the
    # administrator's first review and the leader's signed approval.
    root = Page.get_first_root_node()
    home = root.add_child(instance=page_class(title=name, slug=slug, live=False))
    site = Site.objects.create(hostname=hostname, port=port, root_page=home, site_name=name,
                               is_default_site=is_default_site)
    column_pages = []
    for title, column_slug, kind in columns:
        column = home.add_child(instance=ColumnPage(title=title, slug=column_slug, kind=kind,
                                                    show_in_menus=True, live=False))
        column_pages.append(column)

    collection = Collection.get_first_root_node().add_child(name=name)
    home.collection = collection
    home.save(update_fields=["collection"])
    for page in (home, *column_pages):
        page.save_revision()

    groups = {role: Group.objects.create(name=group_name(name, role)) for role in roles}
    for role, group in groups.items():
        OrganisationRole.objects.create(group=group, home_page=home, role=role)
        _grant_page_rights(group, home, PAGE_RIGHTS[role])
        _grant_collection_rights(group, collection, COLLECTION_RIGHTS[role])
        group.permissions.add(*_permissions(GLOBAL_RIGHTS[role]))
        group.permissions.add(*_permissions((extra_rights or {}).get(role, ())))
    for column in column_pages:
        if column.kind in TEACHER_COLUMN_KINDS:
            _grant_page_rights(groups[Role.TEACHER], column, TEACHER_COLUMN_RIGHTS)

    # Staff only: the public reaches a document as an attachment of a live page.
    restriction = CollectionViewRestriction.objects.create(
        collection=collection, restriction_type=CollectionViewRestriction.GROUPS
    )
    restriction.groups.set(group for role, group in groups.items() if role in CONTENT_ROLES)
    workflow = _create_workflow(name, home, groups)
    return Organisation(home_page=home, site=site, collection=collection, groups=groups,
                        workflow=workflow, columns=column_pages)


def _create_workflow(name: str, home: Page, groups: dict[str, Group]) -> Workflow:
    """Screening, then the administrators' first review, then the leader's signed approval."""
    workflow = Workflow.objects.create(name=f"{name} 发布审批")
    first_review = FirstReviewTask.objects.create(name=f"{name} 网站管理员初审")
    first_review.groups.set([groups[Role.ADMINISTRATOR]])
    approval = LeaderApprovalTask.objects.create(name=f"{name} 领导审批")
    approval.groups.set([groups[Role.LEADER]])
    tasks = [ScreeningTask.objects.create(name=f"{name} 自动内容检查"), first_review, approval]
    for order, task in enumerate(tasks):
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=order)
    WorkflowPage.objects.create(page=home, workflow=workflow)
    return workflow


def _validate(*, name: str, slug: str, hostname: str, port: int, roles: tuple[str, ...]) -> None:
    if not name:
        raise OrganisationError("名称不能为空。")
    if len(name) > 100:
        raise OrganisationError("名称过长（最多100个字符）。")
    if not SLUG_PATTERN.match(slug):
        raise OrganisationError(
            f"标识“{slug}”无效：只能使用小写字母、数字和连字符，且不能以连字符开头或结尾。"
        )
    if not HOSTNAME_PATTERN.match(hostname):
        raise OrganisationError(f"域名“{hostname}”无效：只填写主机名，不带 http:// 、端口或路径。")
    if not 0 < port < 65536:
        raise OrganisationError(f"端口 {port} 无效。")
    if Page.get_first_root_node().get_children().filter(slug=slug).exists():
        raise OrganisationError(f"标识“{slug}”已被使用：该网站已存在。")
    taken = Group.objects.filter(name__in=[group_name(name, role) for role in roles])
    if taken.exists() or Collection.objects.filter(name=name, depth=2).exists():
        raise OrganisationError(f"名称“{name}”已被使用（用户组或文档库已存在）。")
    if Site.objects.filter(hostname=hostname, port=port).exists():
        raise OrganisationError(f"域名 {hostname}:{port} 已被其他站点使用。")


def _grant_page_rights(group: Group, page: Page, actions: tuple[str, ...]) -> None:
    for permission in _permissions(f"wagtailcore.{action}_page" for action in actions):
        GroupPagePermission.objects.create(group=group, page=page, permission=permission)


def _grant_collection_rights(group: Group, collection: Collection,
                             actions: tuple[str, ...]) -> None:
    codenames = [f"{app}.{action}_{model}" for app, model in
                 (("wagtaildocs", "document"), ("wagtailimages", "image")) for action in actions]
    for permission in _permissions(codenames):
        GroupCollectionPermission.objects.create(group=group, collection=collection,
                                                 permission=permission)


def _permissions(dotted_names) -> list[Permission]:
    query = Q()
    wanted = list(dotted_names)
    for dotted in wanted:
        app_label, codename = dotted.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query)) if wanted else []
    if len(found) != len(wanted):
        raise LookupError(f"Missing permissions among {wanted}")
    return found


def _remove_stock_welcome_site() -> None:
    """Wagtail's install creates a 'Welcome' page and a localhost site; the portal replaces it."""
    for site in Site.objects.select_related("root_page"):
        page = site.root_page
        if type(page.specific) is Page and page.depth == 2 and page.numchild == 0:
            site.delete()
            # The deletion is logged under the page's title: Wagtail's English one would be
            # the one English line of the site history.
            page.title = page.draft_title = "安装时自带的欢迎页"
            page.delete()


def organisations_of(user) -> list[OrganisationHomePage]:
    """The portal or school sites the user is staff of, through their role groups."""
    if not user.is_authenticated:
        return []
    pages = Page.objects.filter(
        organisation_roles__group__user=user
    ).distinct().specific()
    return list(pages)


def staff_groups(home_pages) -> "list[Group]":
    return list(Group.objects.filter(organisation_role__home_page__in=home_pages))
