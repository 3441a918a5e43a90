"""Rights on resources: the model permission (given to each school's role groups) and the
scope (cms.resources.scope): teachers their own, a school's administrators and leaders their
school's. Every admin view of the snippet asks this policy for the instance it shows."""

from django.db.models import Q
from wagtail.permission_policies import ModelPermissionPolicy

from cms.resources.models import Resource
from cms.resources.scope import (
    administered_schools,
    administers_network,
    is_staff_of_any_organisation,
    overseen_schools,
    oversees_every_school,
    teaching_schools,
)


def visible_resources(*, user, queryset=None):
    """Resources ``user`` may see: their school's as overseer, else their own."""
    queryset = Resource.objects.all() if queryset is None else queryset
    if oversees_every_school(user=user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(Q(school__in=overseen_schools(user=user))
                           | Q(uploader=user, school__in=teaching_schools(user=user)))


class ResourcePermissionPolicy(ModelPermissionPolicy):
    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_any_permission_for_instance(user, [action], instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        if not any(self.user_has_permission(user, action) for action in actions):
            return False
        if instance is None or instance.pk is None:
            return True
        return visible_resources(user=user).filter(pk=instance.pk).exists()

    def instances_user_has_any_permission_for(self, user, actions):
        if not any(self.user_has_permission(user, action) for action in actions):
            return self.model._default_manager.none()
        return visible_resources(user=user)

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])


MANAGING_ACTIONS = frozenset({"add", "change", "delete"})


class SemesterPermissionPolicy(ModelPermissionPolicy):
    """Semesters are network-wide: the bureau's web administrators and superusers manage
    them; the staff of every school may only view them."""

    def user_has_permission(self, user, action):
        if action in MANAGING_ACTIONS:
            return user.is_active and administers_network(user=user)
        if action == "view":
            return user.is_active and is_staff_of_any_organisation(user=user)
        return False

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return self.user_has_any_permission(user, actions)

    def instances_user_has_any_permission_for(self, user, actions):
        if self.user_has_any_permission(user, actions):
            return self.model._default_manager.all()
        return self.model._default_manager.none()

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])


class TeachingGroupPermissionPolicy(ModelPermissionPolicy):
    """Teaching groups are per school: a school's web administrator manages their school's
    (superusers every school's); the school's administrators and leaders, and the bureau's,
    may view the schools they oversee."""

    def user_has_permission(self, user, action):
        return self.schools_for(user, action).exists()

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def schools_for(self, user, action):
        if not user.is_active:
            return administered_schools(user=user).none()
        if action in MANAGING_ACTIONS:
            return administered_schools(user=user)
        if action == "view":
            return overseen_schools(user=user)
        return administered_schools(user=user).none()

    def instances_user_has_any_permission_for(self, user, actions):
        queryset = self.model._default_manager.none()
        for action in actions:
            queryset = queryset | self.model._default_manager.filter(
                school__in=self.schools_for(user, action))
        return queryset.distinct()

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_any_permission_for_instance(user, [action], instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        if instance is None or instance.pk is None:
            return any(self.schools_for(user, action).exists() for action in actions)
        return self.instances_user_has_any_permission_for(user, actions).filter(
            pk=instance.pk).exists()
