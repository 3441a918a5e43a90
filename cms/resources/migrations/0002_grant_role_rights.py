"""Existing schools' role groups get their rights on resources (new ones get them as they are
provisioned: cms.resources.approval.grant_rights_on_new_role)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy of cms.resources.approval.ROLE_RIGHTS as of this migration.
ROLE_RIGHTS = {
    "teacher": ("add_resource", "change_resource"),
    "administrator": ("change_resource", "add_quotarule", "change_quotarule",
                      "add_teachinggroup", "change_teachinggroup", "delete_teachinggroup"),
    "leader": ("change_resource",),
}


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; this one needs them now.
    app_config = apps.get_app_config("resources")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    OrganisationRole = apps.get_model("cms", "OrganisationRole")
    for role in OrganisationRole.objects.select_related("group"):
        codenames = ROLE_RIGHTS.get(role.role, ())
        role.group.permissions.add(*Permission.objects.filter(
            content_type__app_label="resources", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("resources", "0001_initial"),
        ("cms", "0003_column_structural_change"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
