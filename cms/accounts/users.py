"""User management confined to the organisation an administrator runs.

Wagtail lets anyone with ``add_user`` see every user, grant any group and tick
"Administrator" (superuser). A school's web administrator may manage only the staff of
their own school, give only their school's roles, and never make a superuser.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import Http404
from wagtail.users.views import users as wagtail_users

from cms.accounts.views import PasswordSetInAdminMixin
from cms.models import Role

User = get_user_model()


def assignable_groups(user):
    """The role groups of the organisations where ``user`` is a web administrator."""
    if user.is_superuser:
        return Group.objects.all()
    administered = Group.objects.filter(
        user=user, organisation_role__role=Role.ADMINISTRATOR
    ).values("organisation_role__home_page")
    return Group.objects.filter(organisation_role__home_page__in=administered)


def manageable_users(user):
    """Users ``user`` may see and edit: staff of the organisations they administer."""
    if user.is_superuser:
        return User._default_manager.all()
    return User._default_manager.filter(
        groups__in=assignable_groups(user), is_superuser=False
    ).distinct()


def confine_user_form(form, user) -> None:
    if user.is_superuser:
        return
    form.fields.pop("is_superuser", None)
    if "groups" in form.fields:
        form.fields["groups"].queryset = assignable_groups(user)
        form.fields["groups"].required = True


def check_bulk_action_on_users(request, action_type, objects, action) -> None:
    """The ``before_bulk_action`` rule for users: in scope, and only in-scope roles."""
    if getattr(action, "model", None) is not User or request.user.is_superuser:
        return
    allowed = manageable_users(request.user)
    if allowed.filter(pk__in=[o.pk for o in objects]).count() != len(objects):
        raise PermissionDenied
    form = getattr(action, "cleaned_form", None)
    role = form.cleaned_data.get("role") if form is not None else None
    if role is not None and not assignable_groups(request.user).filter(pk=role.pk).exists():
        raise PermissionDenied


class ConfinedObjectMixin:
    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if not manageable_users(self.request.user).filter(pk=obj.pk).exists():
            raise Http404
        return obj


class ConfinedFormMixin:
    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        confine_user_form(form, self.request.user)
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
        # The form only shows the editor's own organisation's roles; keep the others.
        kept = list(self.object.groups.exclude(pk__in=assignable_groups(self.request.user)))
        instance = super().save_instance()
        instance.groups.add(*kept)
        return instance


class DeleteView(ConfinedObjectMixin, wagtail_users.DeleteView):
    pass


class HistoryView(ConfinedObjectMixin, wagtail_users.HistoryView):
    pass


class UserViewSet(wagtail_users.UserViewSet):
    index_view_class = IndexView
    add_view_class = CreateView
    edit_view_class = EditView
    delete_view_class = DeleteView
    history_view_class = HistoryView
