"""Who sees which school's resources. School A's people never see school B's.

* teachers: their own resources, and their own progress;
* a school's web administrators and leaders: everything of their school;
* the bureau's web administrators and leaders (the portal's) and superusers: every school,
  for the county's yearly assessment (县、校分级管理).
"""

from django.contrib.auth import get_user_model

from cms.models import OrganisationRole, PortalPage, Role, SchoolHomePage

OVERSEEING_ROLES = (Role.ADMINISTRATOR, Role.LEADER)


def _memo(user) -> dict:
    """Per user object, so per request (as Django caches permissions on the user): the admin
    menu and the permission policies ask the same questions many times in one page."""
    if not hasattr(user, "_resources_scope"):
        user._resources_scope = {}
    return user._resources_scope


def roles_by_home(*, user) -> dict[int, set[str]]:
    memo = _memo(user)
    if "roles" not in memo:
        roles: dict[int, set[str]] = {}
        for home_id, role in OrganisationRole.objects.filter(group__user=user).values_list(
                "home_page_id", "role"):
            roles.setdefault(home_id, set()).add(role)
        memo["roles"] = roles
    return memo["roles"]


def home_ids(*, user, roles) -> set[int]:
    if not user.is_authenticated:
        return set()
    return {home for home, held in roles_by_home(user=user).items() if held & set(roles)}


def portal_ids(*, user) -> set[int]:
    memo = _memo(user)
    if "portals" not in memo:
        memo["portals"] = set(PortalPage.objects.values_list("pk", flat=True))
    return memo["portals"]


def oversees_every_school(*, user) -> bool:
    if user.is_superuser:
        return True
    return bool(home_ids(user=user, roles=OVERSEEING_ROLES) & portal_ids(user=user))


def overseen_schools(*, user):
    """Schools whose reports and resources ``user`` may see as a whole."""
    if oversees_every_school(user=user):
        return SchoolHomePage.objects.order_by("title")
    return SchoolHomePage.objects.filter(
        pk__in=home_ids(user=user, roles=OVERSEEING_ROLES)).order_by("title")


def teaching_schools(*, user):
    """Schools where ``user`` is a teacher."""
    return SchoolHomePage.objects.filter(
        pk__in=home_ids(user=user, roles=(Role.TEACHER,))).order_by("title")


def administered_schools(*, user):
    """Schools whose web administrator ``user`` is (quota rules, teaching groups)."""
    if user.is_superuser:
        return SchoolHomePage.objects.order_by("title")
    return SchoolHomePage.objects.filter(
        pk__in=home_ids(user=user, roles=(Role.ADMINISTRATOR,))).order_by("title")


def administers_network(*, user) -> bool:
    """Network-wide settings (semesters): the bureau's web administrators and superusers."""
    if user.is_superuser:
        return True
    return bool(home_ids(user=user, roles=(Role.ADMINISTRATOR,)) & portal_ids(user=user))


def is_staff_of_any_organisation(*, user) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(roles_by_home(user=user)))


def school_staff(*, school):
    """Users in any of ``school``'s role groups."""
    return get_user_model().objects.filter(
        groups__organisation_role__home_page=school).distinct()
