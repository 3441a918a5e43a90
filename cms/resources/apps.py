from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "cms.resources"
    label = "resources"
    verbose_name = "学期资源"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_save

        from cms.models import OrganisationRole
        from cms.resources.approval import grant_rights_on_new_role, keep_public_approval
        from cms.resources.models import Resource

        post_save.connect(keep_public_approval, sender=Resource,
                          dispatch_uid="resources_public_approval")
        # New schools' role groups get their resource rights as they are provisioned.
        post_save.connect(grant_rights_on_new_role, sender=OrganisationRole,
                          dispatch_uid="resources_role_rights")
