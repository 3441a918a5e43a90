"""User management confined by who manages whom (separation of duties, invariant 6).

Wagtail lets anyone with ``add_user`` see every user, grant any group, tick "Administrator"
(superuser) and copy any user. Here:

- a school's (or the bureau's) web administrator manages only their organisation's teachers,
  and grants only the teacher role there;
- the bureau's account administrators (账号管理员) make the web administrators' and leaders'
  accounts of every organisation and grant those roles; they hold no content rights;
- superusers are the system's maintainers: they appoint account administrators, and grant no
  content role (a maintainer who could make a leader could sign through a puppet);
- nobody manages their own account here (their own profile is /admin/account/), so nobody
  grants themselves anything; account administrators hold no content role besides.

Every change is in the security audit log (cms.accounts.audit).
"""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from wagtail.users.views import users as wagtail_users

from cms.accounts.password_views import PasswordSetInAdminMixin
from cms.models import CONTENT_ROLES, Role

User = get_user_model()


def _groups_of_role_where(user, *, role: str, roles_there: tuple[str, ...]):
    """Groups of ``roles_there`` in the organisations where ``user`` holds ``role``."""
    homes = Group.objects.filter(user=user, organisation_role__role=role).values(
        "organisation_role__home_page")
    return Group.objects.filter(organisation_role__home_page__in=homes,
                                organisation_role__role__in=roles_there)


def is_account_administrator(user) -> bool:
    return user.is_active and user.groups.filter(organisation_role__role=Role.ACCOUNTS).exists()


def assignable_groups(user):
    """The role groups ``user`` may grant (and take away)."""
    allowed = Q(pk__in=_groups_of_role_where(user, role=Role.ADMINISTRATOR,
                                             roles_there=(Role.TEACHER,)).values("pk"))
    if is_account_administrator(user):
        allowed |= Q(organisation_role__role__in=CONTENT_ROLES)
    if user.is_superuser:
        allowed |= Q(organisation_role__role=Role.ACCOUNTS)
    return Group.objects.filter(allowed)


def manageable_users(user):
    """Users ``user`` may see and change: everyone whose roles ``user`` could all have
    granted (superusers: everyone), never ``user`` themselves."""
    users = User._default_manager.exclude(pk=user.pk)
    if user.is_superuser:
        return users
    assignable = assignable_groups(user)
    foreign = User._default_manager.filter(
        groups__in=Group.objects.exclude(pk__in=assignable.values("pk"))).values("pk")
    users = users.filter(is_superuser=False).exclude(pk__in=foreign)
    if is_account_administrator(user):
        # Staff without any role yet (made by an account administrator, or left over).
        return users.filter(Q(groups__in=assignable) | Q(groups__isnull=True)).distinct()
    return users.filter(groups__in=assignable).distinct()


def conflicting_roles(roles: set[str]) -> str | None:
    """Why this set of roles may not be held by one person, or None."""
    if Role.ACCOUNTS in roles and roles & set(CONTENT_ROLES):
        return "账号管理员不能同时担任网站管理员、领导或教师：管理账号的人不能审核或签发内容。"
    return None


def confine_user_form(form, user, *, kept_groups=()) -> None:
    if not user.is_superuser:
        form.fields.pop("is_superuser", None)
    if "groups" in form.fields:
        form.fields["groups"].queryset = assignable_groups(user)
        form.fields["groups"].required = not user.is_superuser
    kept_roles = {g.organisation_role.role for g in kept_groups
                  if hasattr(g, "organisation_role")}
    original_clean = form.clean

    def clean():
        data = original_clean()
        chosen = data.get("groups") or []
        roles = kept_roles | {g.organisation_role.role for g in chosen
                              if hasattr(g, "organisation_role")}
        problem = conflicting_roles(roles)
        if problem:
            raise forms.ValidationError(problem)
        return data

    form.clean = clean


def check_bulk_action_on_users(request, action_type, objects, action) -> None:
    """The ``before_bulk_action`` rule for users: in scope, and only grantable roles."""
    if getattr(action, "model", None) is not User:
        return
    allowed = manageable_users(request.user)
    if allowed.filter(pk__in=[o.pk for o in objects]).count() != len(objects):
        raise PermissionDenied
    form = getattr(action, "cleaned_form", None)
    role = form.cleaned_data.get("role") if form is not None else None
    if role is not None:
        if not assignable_groups(request.user).filter(pk=role.pk).exists():
            raise PermissionDenied
        new_role = getattr(getattr(role, "organisation_role", None), "role", None)
        for user in objects:
            held = set(user.groups.values_list("organisation_role__role", flat=True))
            if conflicting_roles(held | {new_role}):
                raise PermissionDenied


class ConfinedObjectMixin:
    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if not manageable_users(self.request.user).filter(pk=obj.pk).exists():
            raise Http404
        return obj


class ConfinedFormMixin:
    def _kept_groups(self):
        instance = getattr(self, "object", None)
        if instance is None or instance.pk is None:
            return []
        return list(instance.groups.exclude(pk__in=assignable_groups(self.request.user))
                    .select_related("organisation_role"))

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        confine_user_form(form, self.request.user, kept_groups=self._kept_groups())
        return form


class IndexView(wagtail_users.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().filter(
            pk__in=manageable_users(self.request.user).values("pk")
        )


class CreateView(ConfinedFormMixin, PasswordSetInAdminMixin, wagtail_users.CreateView):
    password_set_on_creation = True


class EditView(ConfinedObjectMixin, ConfinedFormMixin, PasswordSetInAdminMixin,
               wagtail_users.EditView):
    def save_instance(self):
        # The form only shows the roles the editor may grant; keep the others.
        kept = self._kept_groups()
        instance = super().save_instance()
        instance.groups.add(*kept)
        return instance


class DeleteView(ConfinedObjectMixin, wagtail_users.DeleteView):
    pass


class HistoryView(ConfinedObjectMixin, wagtail_users.HistoryView):
    pass


class UsageView(ConfinedObjectMixin, wagtail_users.UserViewSet.usage_view_class):
    pass


class UserViewSet(wagtail_users.UserViewSet):
    index_view_class = IndexView
    add_view_class = CreateView
    edit_view_class = EditView
    delete_view_class = DeleteView
    history_view_class = HistoryView
    usage_view_class = UsageView
    # Wagtail's copy view saved its form over the user it copied from (any user of any
    # school became whoever the copier named); a new account is made on the add view.
    copy_view_enabled = False
