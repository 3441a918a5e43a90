"""Rights on resources: the model permission (given to each school's role groups) and the
scope (cms.resources.scope): teachers their own, a school's administrators and leaders their
school's. Every admin view of the snippet asks this policy for the instance it shows."""

from wagtail.permission_policies import ModelPermissionPolicy

from cms.resources.scope import visible_resources


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
